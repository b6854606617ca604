"""Statistics shared by the families: intervals and p-values, multiplicity corrections,
ridge penalties and the simplex-constrained least squares of synthetic-control weights."""

"""Power and sample size: closed-form formulas and the registered power analysis."""

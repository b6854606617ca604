"""The arrays of a sensitivity analysis: complete cases of the outcome, the 0/1 treatment and
the confounder terms, with the columns each confounder term became (for benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import (
    confounder_terms,
    note_dropped,
    numeric_column,
    source_columns,
    treatment_arms,
)
from cerebro.data.validate import (
    require_discrete_treatment,
    require_finite,
    require_units_per_arm,
    require_values,
    require_varying,
)
from cerebro.sensitivity.spec import SensitivitySpec


def needed_columns(spec: SensitivitySpec) -> list[str]:
    terms = [c for t in spec.confounders for c in source_columns(t)]
    named = [spec.treatment, spec.outcome, *terms]
    return list(dict.fromkeys(c for c in named if c is not None))


@dataclass
class Arrays:
    y: np.ndarray
    d: np.ndarray  # 1 = treated
    X: np.ndarray
    term_columns: dict[str, list[int]]  # confounder term → its columns of X
    arms: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def binary_outcome(self) -> bool:
        return bool(np.isin(self.y, (0.0, 1.0)).all())


def prepare(frame: Any, spec: SensitivitySpec) -> Arrays:
    """Complete cases, checked as `cerebro causal` checks them: a two-arm treatment, a varying
    outcome, finite confounder terms, two units per arm."""
    assert spec.treatment is not None and spec.outcome is not None
    require_values(frame[spec.treatment], spec.treatment, "treatment")
    require_values(frame[spec.outcome], spec.outcome, "outcome")
    require_discrete_treatment(frame[spec.treatment], spec.treatment)
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    column = frame[spec.treatment]
    if is_numeric_dtype(column) and not is_bool_dtype(column):
        require_finite(column, spec.treatment, "treatment")  # no 'inf' arm
    a, arms, _ = treatment_arms(frame[spec.treatment], spec.treatment)
    if len(arms) != 2:
        raise UserInputError(
            f"treatment column {spec.treatment!r} has {len(arms)} values; sensitivity analysis "
            "needs a binary treatment (filter the data to two arms)."
        )
    y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
    columns: list[np.ndarray] = []
    term_columns: dict[str, list[int]] = {}
    for term in spec.confounders:
        for column in source_columns(term):
            require_values(frame[column], column, "confounder")
        cols, names, _ = confounder_terms(frame, [term])
        for name, col in zip(names, cols, strict=True):
            require_finite(col, name, "confounder term")
        term_columns[term] = list(range(len(columns), len(columns) + len(cols)))
        columns += cols
    X = np.column_stack(columns) if columns else np.empty((len(y), 0))
    keep = ~np.isnan(a) & ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    findings: list[Finding] = []
    note_dropped(findings, keep, "treatment, outcome or confounder",
                 "missingness does not depend on the outcome given the confounders")  # fmt: skip
    y, a, X = y[keep], a[keep], X[keep]
    require_units_per_arm(a, arms, spec.treatment)
    require_varying(y, spec.outcome, "outcome")
    for term, idx in term_columns.items():
        if any(np.ptp(X[:, j]) == 0 for j in idx):
            raise UserInputError(
                f"confounder {term!r} is constant in the complete rows; drop it from --confounders."
            )
    return Arrays(y, a, X, term_columns, arms, findings)

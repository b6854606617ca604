"""The rows of a structural model (msm, gestimation): treatment of any type, censored outcomes.

Unlike `data.prepare`, which keeps complete cases of a discrete treatment, this keeps
- a continuous treatment as numbers (a dose) when the spec gives its density model,
- rows whose outcome is missing, as censored, when the spec asks for censoring weights
  (`--censoring ipcw`); without it they are dropped with a note, as everywhere else,
- the effect modifier's values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    MAX_ARMS,
    require_finite,
    require_units_per_arm,
    require_values,
    require_varying,
)
from cerebro.observational.spec import CausalSpec


@dataclass
class StructuralData:
    """Rows with complete treatment, confounders and modifier; y is NaN where censored."""

    y: np.ndarray
    a: np.ndarray  # 0/1, arm code 0 … K−1, or the dose
    X: np.ndarray  # confounder terms, no intercept
    names: list[str]
    treatment_type: Literal["binary", "categorical", "continuous"]
    arms: list[str]  # arm labels (empty for a dose)
    v: np.ndarray | None
    binary_outcome: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.y)

    @property
    def design(self) -> np.ndarray:
        return np.column_stack([np.ones(len(self.a)), self.X])

    def subset(self, rows: np.ndarray) -> StructuralData:
        """The rows given (indices or a mask): a bootstrap resample."""
        return StructuralData(
            self.y[rows], self.a[rows], self.X[rows], self.names, self.treatment_type,
            self.arms, None if self.v is None else self.v[rows], self.binary_outcome,
            self.findings,
        )  # fmt: skip


def _distinct(values: Any) -> int:
    return int(values.dropna().nunique())


def _treatment(frame: Any, spec: CausalSpec) -> tuple[np.ndarray, str, list[str]]:
    """The treatment as numbers, its type and its arm labels."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    values = frame[spec.treatment]
    numeric = is_numeric_dtype(values) and not is_bool_dtype(values)
    if spec.treatment_density == "normal":
        if not numeric:
            raise UserInputError(
                f"--treatment-density normal models a numeric dose; {spec.treatment!r} holds "
                "text – drop --treatment-density for arms."
            )
        return numeric_column(values, spec.treatment, "treatment"), "continuous", []
    if numeric and _distinct(values) > MAX_ARMS:
        fix = (
            "add --treatment-density normal to model it as a dose (a normal density given "
            "the confounders)"
            if spec.method == "msm"
            else "g-estimation here takes a binary treatment – use --method msm with "
            "--treatment-density normal for a dose"
        )
        raise UserInputError(
            f"treatment column {spec.treatment!r} is numeric with {_distinct(values)} distinct "
            f"values, a continuous treatment that needs a density model; {fix}."
        )
    if numeric:
        require_finite(values, spec.treatment, "treatment")
    a, arms, _ = treatment_arms(values, spec.treatment, None, None)
    kind = "binary" if len(arms) == 2 else "categorical"
    if kind == "categorical" and spec.method == "gestimation":
        raise UserInputError(
            f"g-estimation here takes a binary treatment; {spec.treatment!r} has {len(arms)} "
            "arms – use --method msm for several arms."
        )
    return a, kind, arms


def prepare_structural(frame: Any, spec: CausalSpec) -> StructuralData:
    """Rows for msm and gestimation, checked as `data.prepare` checks its rows."""
    findings: list[Finding] = []
    require_values(frame[spec.treatment], spec.treatment, "treatment")
    require_values(frame[spec.outcome], spec.outcome, "outcome")
    for term in spec.confounders:
        for column in source_columns(term):
            require_values(frame[column], column, "confounder")
    a, kind, arms = _treatment(frame, spec)
    y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
    columns, names, _ = confounder_terms(frame, spec.confounders)
    for name, column in zip(names, columns, strict=True):
        require_finite(column, name, "confounder term")
    X = np.column_stack(columns) if columns else np.empty((len(y), 0))
    v = None
    if spec.modifier is not None:
        require_values(frame[spec.modifier], spec.modifier, "modifier")
        v = numeric_column(frame[spec.modifier], spec.modifier, "modifier")
    keep = ~np.isnan(a) & ~np.isnan(X).any(axis=1)
    if v is not None:
        keep &= ~np.isnan(v)
    if spec.censoring == "none":
        keep &= ~np.isnan(y)
    note_dropped(
        findings,
        keep,
        "treatment, confounder or modifier" + (", outcome" if spec.censoring == "none" else ""),
        "missingness does not depend on the outcome given the confounders",
    )
    y, a, X = y[keep], a[keep], X[keep]
    v = None if v is None else v[keep]
    observed = ~np.isnan(y)
    if kind != "continuous":
        require_units_per_arm(a[observed], arms, spec.treatment)
    else:
        require_varying(a, spec.treatment, "treatment")
    require_varying(y[observed], spec.outcome, "outcome")
    if v is not None:
        require_varying(v, spec.modifier, "modifier")
    if spec.censoring == "ipcw" and observed.all():
        raise UserInputError(
            f"--censoring ipcw re-weights rows whose outcome is missing, but every row has "
            f"{spec.outcome!r}; drop --censoring."
        )
    constant = [n for n, col in zip(names, X.T, strict=True) if np.ptp(col) == 0]
    if constant:
        raise UserInputError(
            f"confounder {constant[0]!r} is constant in the rows used; drop it from --confounders."
        )
    binary = bool(np.isin(y[observed], (0.0, 1.0)).all())
    return StructuralData(y, a, X, names, kind, arms, v, binary, findings)  # type: ignore[arg-type]

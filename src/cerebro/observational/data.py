"""From a table to the arrays every causal estimator uses: outcome, treatment, confounder terms."""

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
    weight_column,
    without_weightless,
)
from cerebro.data.validate import (
    require_discrete_treatment,
    require_finite,
    require_units_per_arm,
    require_values,
    require_varying,
)
from cerebro.observational.spec import CausalSpec


def needed_columns(spec: CausalSpec) -> list[str]:
    """Every column an adjustment spec names (treatment, outcome, confounders, exact-match
    columns); a design names its own (`DesignSpec.columns`)."""
    terms = [c for t in spec.confounders for c in source_columns(t)]
    weights = None if spec.legacy_ipw_weights else spec.weights
    named = [spec.treatment, spec.outcome, *terms, *spec.exact, spec.modifier, weights]
    return list(dict.fromkeys(c for c in named if c is not None))


@dataclass
class CausalData:
    """Complete cases: outcome y, treatment a (1 = treated), confounder terms X (no intercept)."""

    y: np.ndarray
    a: np.ndarray  # arm code: 0 control / reference, 1 treated (or further arms when > 2)
    X: np.ndarray
    names: list[str]
    arms: list[str]
    binary_outcome: bool
    findings: list[Finding] = field(default_factory=list)
    groups: np.ndarray | None = None  # exact-matching group of each unit
    # rows whose outcome is observed (None: all); `--all-rows` keeps the others, y = 0 there
    observed: np.ndarray | None = None
    weights: np.ndarray | None = None  # observation weights (`--weights COL`), all > 0

    @property
    def control(self) -> str:
        return self.arms[0]

    @property
    def treated(self) -> str:
        return self.arms[1]

    @property
    def design(self) -> np.ndarray:
        """X with an intercept column first."""
        return np.column_stack([np.ones(len(self.y)), self.X])

    def subset(self, keep: np.ndarray) -> CausalData:
        return CausalData(
            self.y[keep], self.a[keep], self.X[keep], self.names, self.arms,
            self.binary_outcome, self.findings,
            None if self.groups is None else self.groups[keep],
            None if self.observed is None else self.observed[keep],
            None if self.weights is None else self.weights[keep],
        )  # fmt: skip


def prepare(frame: Any, spec: CausalSpec) -> CausalData:
    """Complete cases of the treatment, outcome and confounders, checked for what breaks models
    (`cerebro.data.validate`): no empty column, finite values, a treatment with arms rather
    than a dose, at least two complete units per arm, an outcome that varies."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    findings: list[Finding] = []
    require_values(frame[spec.treatment], spec.treatment, "treatment")
    require_values(frame[spec.outcome], spec.outcome, "outcome")
    for term in spec.confounders:
        for column in source_columns(term):
            require_values(frame[column], column, "confounder")
    require_discrete_treatment(
        frame[spec.treatment],
        spec.treatment,
        fix="use --method msm --treatment-density normal to model it as a dose (or give at "
        "most {max_arms} arms)",
        modelled=f"that --method {spec.method} does not model",
    )
    if is_numeric_dtype(frame[spec.treatment]) and not is_bool_dtype(frame[spec.treatment]):
        require_finite(frame[spec.treatment], spec.treatment, "treatment")  # no 'inf' arm
    a, arms, how = treatment_arms(frame[spec.treatment], spec.treatment, spec.treated, spec.control)
    y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
    columns, names, notes = confounder_terms(frame, spec.confounders)
    for name, column in zip(names, columns, strict=True):
        require_finite(column, name, "confounder term")  # x^2, a:b of large values
    X = np.column_stack(columns) if columns else np.empty((len(y), 0))
    all_rows = spec.all_rows and spec.method in ("gcomp", "regression")
    keep = ~np.isnan(a) & ~np.isnan(X).any(axis=1) & (all_rows | ~np.isnan(y))
    weights = None
    if spec.weights is not None and not spec.legacy_ipw_weights:
        weights = weight_column(frame, spec.weights)
    groups = None
    if spec.exact:
        exact = frame[spec.exact]
        keep &= exact.notna().all(axis=1).to_numpy()
        groups = exact.astype(str).agg("|".join, axis=1).to_numpy()
    note_dropped(
        findings,
        keep,
        "treatment, confounder" + ("" if all_rows else " or outcome"),
        "missingness does not depend on the outcome given the confounders",
    )
    if weights is not None:
        keep = without_weightless(weights, keep, str(spec.weights), findings)
    y, a, X = y[keep], a[keep], X[keep]
    if groups is not None:
        groups = np.unique(groups[keep], return_inverse=True)[1]
    observed = None
    if all_rows:
        observed = ~np.isnan(y)
        y = np.where(observed, y, 0.0)  # never read: models fit on the observed rows only
        findings.append(
            Finding(
                "info",
                "all-rows",
                f"--all-rows: {int((~observed).sum()):,} rows without {spec.outcome!r} are kept "
                f"for the {'propensity model' if spec.method == 'regression' else 'standardisation'}"
                "; outcome models use the other rows.",
            )
        )
    seen = slice(None) if observed is None else observed
    require_units_per_arm(a[seen], arms, spec.treatment)
    require_varying(y[seen], spec.outcome, "outcome")
    constant = [n for n, col in zip(names, X.T, strict=True) if np.ptp(col) == 0]
    if constant:
        raise UserInputError(
            f"confounder {constant[0]!r} is constant in the complete rows; drop it from "
            "--confounders."
        )
    findings.append(
        Finding(
            "info",
            "treatment",
            (
                f"treated = {spec.treatment} {arms[1]!r} ({how}), control = {arms[0]!r}: "
                f"{int((a == 1).sum()):,} treated and {int((a == 0).sum()):,} control units."
                if len(arms) == 2
                else f"{len(arms)} arms of {spec.treatment}; reference {arms[0]!r} ({how}): "
                + ", ".join(f"{arm} {int((a == i).sum()):,}" for i, arm in enumerate(arms))
                + " units."
            ),
        )
    )
    if notes:
        findings.append(
            Finding(
                "info",
                "encoding",
                "one-hot encoded categorical confounders: " + "; ".join(notes) + ".",
            )
        )
    binary = bool(np.isin(y[seen], (0.0, 1.0)).all())
    if weights is not None:
        weights = weights[keep]
        if len(arms) > 2:
            raise UserInputError(
                f"--weights needs a binary treatment; {spec.treatment!r} has {len(arms)} arms "
                "(filter the data to two of them)."
            )
    return CausalData(y, a, X, names, arms, binary, findings, groups, observed, weights)


def trim_units(
    data: CausalData, keep: np.ndarray, kept: str, findings: list[Finding]
) -> CausalData:
    """The units `keep` marks, with a `trimming` finding (`kept` says which rule kept them);
    refuses when trimming empties an arm."""
    findings.append(
        Finding(
            "warning" if (~keep).any() else "info",
            "trimming",
            f"{kept}, dropping {int((~keep).sum()):,} of {len(keep):,}; the estimate is for the "
            "trimmed population (the propensity model is refitted on it).",
        )
    )
    trimmed = data.subset(keep)
    counts = [int((trimmed.a == arm).sum()) for arm in range(len(data.arms))]
    for label, count in zip(data.arms, counts, strict=True):
        if count < 2:  # the rule of `require_units_per_arm`, in trimming's words
            left = "no units" if count == 0 else "only 1 unit"
            raise UserInputError(f"trimming left {left} in arm {label!r}; use a smaller --trim.")
    return trimmed

"""From a table to the arrays every causal estimator uses: outcome, treatment, confounder terms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.load import label_text
from cerebro.observational.spec import CausalSpec

_SQUARE = re.compile(r"^\s*([^\^*]+?)\s*(?:\^|\*\*)\s*2\s*$")
_CATEGORICAL = re.compile(r"^\s*C\(\s*(.+?)\s*\)\s*$")
_SPLINE = re.compile(r"^\s*spline\(\s*(.+?)\s*,\s*(\d+)\s*\)\s*$")


def source_columns(term: str) -> list[str]:
    """The data columns a confounder term is built from (``age^2`` → age, ``age:sex`` → age, sex)."""
    if ":" in term:
        return [c for part in term.split(":") for c in source_columns(part)]
    for pattern in (_SQUARE, _CATEGORICAL, _SPLINE):
        match = pattern.match(term)
        if match:
            return [match.group(1)]
    return [term.strip()]


def needed_columns(spec: CausalSpec) -> list[str]:
    """Every column the spec names (treatment, outcome, confounders and design columns)."""
    terms = [c for t in spec.confounders for c in source_columns(t)]
    design = [spec.unit, spec.time, spec.post, spec.cluster, spec.running_variable]
    named = [spec.treatment, spec.outcome, *terms, *spec.exact, *design, *spec.instrument]
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
        )  # fmt: skip


def note_dropped(findings: list[Finding], keep: np.ndarray, what: str, valid_if: str) -> None:
    """A `dropped_missing` warning when complete-case analysis drops rows."""
    dropped = int((~keep).sum())
    if dropped:
        findings.append(
            Finding(
                "warning",
                "dropped_missing",
                f"dropped {dropped:,} of {len(keep):,} rows with a missing {what} (complete-case "
                f"analysis: valid if {valid_if}).",
            )
        )


def numeric_column(values: Any, column: str, role: str) -> np.ndarray:
    """A column as floats (NaN where missing); text that is not a number is a user error."""
    import pandas as pd

    if values.dtype == bool:
        return values.to_numpy(float)
    out = pd.to_numeric(values, errors="coerce").to_numpy(float)
    bad = values.notna().to_numpy() & np.isnan(out)
    if bad.any():
        example = values[bad].iloc[0]
        raise UserInputError(
            f"{role} column {column!r} has non-numeric values (e.g. {example!r}); give numbers."
        )
    return out


def arm_codes(values: Any, arms: list[str]) -> np.ndarray:
    """The position of each value's label in `arms` (NaN where the value is missing)."""
    index = {label: i for i, label in enumerate(arms)}
    present = values.notna().to_numpy()
    codes = np.full(len(values), np.nan)
    codes[present] = [index[label_text(v)] for v in values[present]]
    return codes


def _treatment(values: Any, spec: CausalSpec) -> tuple[np.ndarray, list[str], str]:
    """Arm code per row (0 = control/reference; NaN if missing), the arm labels, and how the
    reference (two values: the treated) arm was chosen."""
    levels = sorted(values.dropna().unique().tolist(), key=str)
    name = spec.treatment
    labels = [label_text(v) for v in levels]
    if len(labels) < 2:
        raise UserInputError(
            f"treatment column {name!r} has {len(labels)} value(s); it needs a treated and a "
            "control arm."
        )
    for flag, value in (("--treated", spec.treated), ("--control", spec.control)):
        if value is not None and value not in labels:
            raise UserInputError(
                f"{flag} {value!r} is not a value of {name!r}; it has {', '.join(labels)}."
            )
    if len(labels) == 2:
        if spec.treated is not None:
            treated, how = spec.treated, "set by --treated"
        elif spec.control is not None:
            treated, how = next(v for v in labels if v != spec.control), "the other than --control"
        elif set(labels) in ({"0", "1"}, {"False", "True"}):
            treated, how = labels[1], "the value 1/True"
        else:
            treated, how = labels[1], "the second value in sorted order; use --treated to choose"
        arms = [next(v for v in labels if v != treated), treated]
    else:
        if spec.treated is not None:
            raise UserInputError(
                f"{name!r} has {len(labels)} values: name the reference arm with --control, "
                "not --treated; every other arm is compared with it."
            )
        reference = spec.control if spec.control is not None else labels[0]
        how = (
            "set by --control"
            if spec.control is not None
            else "first in sorted order; use --control to choose"
        )
        arms = [reference, *[v for v in labels if v != reference]]
    return arm_codes(values, arms), arms, how


def confounder_terms(frame: Any, spec: CausalSpec) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Columns of X (NaN where missing) and their names; notes on categorical encodings.

    Terms: a column (text columns one-hot encoded against their first level), ``x^2``, ``C(x)``
    (numeric treated as categorical), ``spline(x, k)`` (cubic B-spline basis of k columns with
    knots at quantiles, linear beyond the data), and ``a:b`` (products of the parts' columns).
    Also the exogenous controls of the designs (rdd, iv, did covariates).
    """
    columns, names, notes = [], [], []
    for term in spec.confounders:
        parts = [_term_columns(frame, part.strip(), notes) for part in term.split(":")]
        product_columns, product_names = parts[0]
        for cols, labels in parts[1:]:
            product_columns = [a * b for a in product_columns for b in cols]
            product_names = [f"{a}:{b}" for a in product_names for b in labels]
        columns.extend(product_columns)
        names.extend(product_names)
    return columns, names, notes


def _term_columns(frame: Any, term: str, notes: list[str]) -> tuple[list[np.ndarray], list[str]]:
    """The columns of one term without ':' (see `confounder_terms`)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    square, categorical, spline = _SQUARE.match(term), _CATEGORICAL.match(term), _SPLINE.match(term)
    column = source_columns(term)[0]
    values = frame[column]
    is_text = not (is_numeric_dtype(values) or is_bool_dtype(values))
    if categorical or (is_text and not (square or spline)):
        levels = sorted(values.dropna().unique().tolist(), key=str)
        dummies = [
            np.where(values.isna(), np.nan, (values == lv).astype(float)) for lv in levels[1:]
        ]
        note = f"{column} ({len(levels)} levels, reference {levels[0]!r})"
        if note not in notes:
            notes.append(note)
        return dummies, [f"{column}[{lv}]" for lv in levels[1:]]
    x = numeric_column(values, column, "confounder")
    if spline:
        return _spline_basis(x, column, int(spline.group(2)))
    return [x**2 if square else x], [f"{column}^2" if square else column]


def _spline_basis(x: np.ndarray, column: str, k: int) -> tuple[list[np.ndarray], list[str]]:
    """k cubic B-spline columns (scikit-learn's SplineTransformer, quantile knots, no intercept
    column, linear extrapolation); missing values stay missing."""
    from sklearn.preprocessing import SplineTransformer

    if not 3 <= k <= 20:
        raise UserInputError(f"spline({column}, {k}): use between 3 and 20 basis columns.")
    present = ~np.isnan(x)
    if np.unique(x[present]).size < k:
        raise UserInputError(
            f"spline({column}, {k}) needs more distinct values of {column!r} than basis "
            f"columns; it has {np.unique(x[present]).size} – use fewer or plain {column}."
        )
    basis = SplineTransformer(
        n_knots=k - 1, degree=3, knots="quantile", extrapolation="linear", include_bias=False
    ).fit_transform(x[present, None])
    out = np.full((len(x), basis.shape[1]), np.nan)
    out[present] = basis
    return list(out.T), [f"spline({column})[{j + 1}]" for j in range(basis.shape[1])]


def prepare(frame: Any, spec: CausalSpec) -> CausalData:
    """Complete cases of the treatment, outcome and confounders, checked for what breaks models."""
    findings: list[Finding] = []
    a, arms, how = _treatment(frame[spec.treatment], spec)
    y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
    columns, names, notes = confounder_terms(frame, spec)
    X = np.column_stack(columns) if columns else np.empty((len(y), 0))
    keep = ~np.isnan(a) & ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    groups = None
    if spec.exact:
        exact = frame[spec.exact]
        keep &= exact.notna().all(axis=1).to_numpy()
        groups = exact.astype(str).agg("|".join, axis=1).to_numpy()
    note_dropped(
        findings,
        keep,
        "treatment, outcome or confounder",
        "missingness does not depend on the outcome given the confounders",
    )
    y, a, X = y[keep], a[keep], X[keep]
    if groups is not None:
        groups = np.unique(groups[keep], return_inverse=True)[1]
    for arm, label in enumerate(arms):
        if not (a == arm).any():
            raise UserInputError(
                f"treatment arm {label!r} has no complete rows; check {spec.treatment!r} and "
                "the missing values of the other columns."
            )
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
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    return CausalData(y, a, X, names, arms, binary, findings, groups)


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
    empty = [label for arm, label in enumerate(data.arms) if not (trimmed.a == arm).any()]
    if empty:
        raise UserInputError(f"trimming left no units in arm {empty[0]!r}; use a smaller --trim.")
    return trimmed

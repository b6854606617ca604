"""Columns as numbers: a column's role checked and converted once, for every family.

Numeric conversion with a user error naming the column, arm coding of a treatment column,
model terms of confounder/covariate lists (``age^2``, ``C(x)``, ``spline(x, k)``, ``a:b``) and
the complete-case note every family attaches when it drops rows.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.load import label_text
from cerebro.data.validate import require_finite, require_weights

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
    """A column as floats (NaN where missing).

    Text that is not a number, ±inf and magnitudes above `validate.HUGE` (1e150, whose squares
    overflow in sums) are user errors naming the column; see `cerebro.data.validate`.
    """
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
    require_finite(out, column, role)
    return out


def weight_column(frame: Any, column: str) -> np.ndarray:
    """Observation weights (`--weights COL`) as floats: a column of the data, numeric, complete,
    ≥ 0 and not all zero (`validate.require_weights`), each refused in one sentence."""
    if column not in frame.columns:
        raise UserInputError(
            f"weights column {column!r} is not in the data; name a column of observation "
            "weights (e.g. --weights population)."
        )
    values = numeric_column(frame[column], column, "weights")
    require_weights(values, column)
    return values


def without_weightless(
    weights: np.ndarray, keep: np.ndarray, column: str, findings: list[Finding]
) -> np.ndarray:
    """`keep` without the rows of weight 0: they carry no information in a weighted fit, so
    they are left out (fixest's rule – statsmodels' WLS would still count them in N), and the
    user is told."""
    zero = int(((weights == 0) & keep).sum())
    if zero:
        findings.append(
            Finding(
                "info",
                "zero_weights",
                f"{zero:,} rows with weight 0 in {column!r} are left out of the weighted fit.",
            )
        )
    return keep & (weights > 0)


def arm_codes(values: Any, arms: list[str]) -> np.ndarray:
    """The position of each value's label in `arms` (NaN where the value is missing)."""
    index = {label: i for i, label in enumerate(arms)}
    present = values.notna().to_numpy()
    codes = np.full(len(values), np.nan)
    codes[present] = [index[label_text(v)] for v in values[present]]
    return codes


def treatment_arms(
    values: Any, name: str, treated: str | None = None, control: str | None = None
) -> tuple[np.ndarray, list[str], str]:
    """Arm code per row (0 = control/reference; NaN if missing), the arm labels, and how the
    reference (two values: the treated) arm was chosen."""
    levels = sorted(values.dropna().unique().tolist(), key=str)
    labels = [label_text(v) for v in levels]
    if len(labels) < 2:
        raise UserInputError(
            f"treatment column {name!r} has {len(labels)} value(s); it needs a treated and a "
            "control arm."
        )
    for flag, value in (("--treated", treated), ("--control", control)):
        if value is not None and value not in labels:
            raise UserInputError(
                f"{flag} {value!r} is not a value of {name!r}; it has {', '.join(labels)}."
            )
    if len(labels) == 2:
        if treated is not None:
            treated, how = treated, "set by --treated"
        elif control is not None:
            treated, how = next(v for v in labels if v != control), "the other than --control"
        elif set(labels) in ({"0", "1"}, {"False", "True"}):
            treated, how = labels[1], "the value 1/True"
        else:
            treated, how = labels[1], "the second value in sorted order; use --treated to choose"
        arms = [next(v for v in labels if v != treated), treated]
    else:
        if treated is not None:
            raise UserInputError(
                f"{name!r} has {len(labels)} values: name the reference arm with --control, "
                "not --treated; every other arm is compared with it."
            )
        reference = control if control is not None else labels[0]
        how = (
            "set by --control"
            if control is not None
            else "first in sorted order; use --control to choose"
        )
        arms = [reference, *[v for v in labels if v != reference]]
    return arm_codes(values, arms), arms, how


def confounder_terms(frame: Any, terms: list[str]) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Columns of X (NaN where missing) and their names; notes on categorical encodings.

    Terms: a column (text columns one-hot encoded against their first level), ``x^2``, ``C(x)``
    (numeric treated as categorical), ``spline(x, k)`` (cubic B-spline basis of k columns with
    knots at quantiles, linear beyond the data), and ``a:b`` (products of the parts' columns).
    Also the exogenous controls of the designs (rdd, iv, did covariates).
    """
    columns, names, notes = [], [], []
    for term in terms:
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

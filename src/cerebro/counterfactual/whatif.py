"""What-if predictions by the g-formula: the expected outcome if a column were set or changed,
overall and by group, against the expected outcome as observed.

Estimand: E[Y(a)] = E_X[E[Y | A = a(X), X]], a(·) the intervention (a level, a shift, a percent
change or a factor applied to each row's observed value), averaged over the rows (or a group's
rows); "as observed" is the same average at the observed values. Identification: no
unmeasured confounding of the set column(s) given the other model terms, positivity (the new
values lie where the data have support) and a correctly specified outcome model (Robins 1986;
Hernán & Robins 2020, *Causal Inference: What If*, ch. 13). Intervals: bootstrap (rows
resampled, the model refitted, percentile limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.context import progress
from cerebro.core.errors import UserInputError
from cerebro.counterfactual.glm import fit_glm
from cerebro.data.columns import confounder_terms
from cerebro.data.load import label_text

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.counterfactual.spec import Intervention


def intervene(frame: pd.DataFrame, items: list[Intervention]) -> pd.DataFrame:
    """A copy of `frame` with every intervention applied to its column."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    changed = frame.copy()
    for item in items:
        values = frame[item.column]
        numeric = is_numeric_dtype(values) or is_bool_dtype(values)
        if item.how == "category" or not numeric:
            levels = sorted({label_text(v) for v in values.dropna()})
            level = item.text if item.how == "category" else label_text(item.value)
            if numeric:
                raise UserInputError(
                    f"--set {item.source!r}: {item.column!r} is numeric, so give a number "
                    "(a level such as 1, a change such as +10% or -5, or a factor such as *1.1)."
                )
            if item.how not in ("category", "level") or level not in levels:
                raise UserInputError(
                    f"--set {item.source!r}: {item.column!r} is a text column, so name one of "
                    f"its values: {', '.join(levels[:8])}{' …' if len(levels) > 8 else ''}."
                )
            changed[item.column] = values.where(values.isna(), _original(values, level))
            continue
        x = values.astype(float)
        if item.how == "level":
            new = x * 0 + item.value
        elif item.how == "shift":
            new = x + item.value
        elif item.how == "percent":
            new = x * (1 + item.value / 100)
        else:
            new = x * item.value
        changed[item.column] = new
    return changed


def _original(values: Any, level: str) -> Any:
    """The stored value whose label is `level` (so a text column keeps its type)."""
    for v in values.dropna().unique():
        if label_text(v) == level:
            return v
    return level


@dataclass
class WhatIfDesign:
    """Model matrices of the observed and intervened rows (same encoding), outcome, groups."""

    y: np.ndarray
    X: np.ndarray
    X_new: np.ndarray
    names: list[str]
    groups: np.ndarray | None
    labels: list[str]
    keep: np.ndarray


def design(
    frame: pd.DataFrame, y: np.ndarray, terms: list[str], items: list[Intervention], by: str | None
) -> WhatIfDesign:
    """Both model matrices from one encoding of observed and intervened rows stacked together,
    so a text level or a spline basis is coded the same way in both."""
    import pandas as pd

    changed = intervene(frame, items)
    stacked = pd.concat([frame, changed], ignore_index=True)
    columns, names, _ = confounder_terms(stacked, terms)
    n = len(frame)
    full = np.column_stack([np.ones(2 * n), *columns])
    X, X_new = full[:n], full[n:]
    keep = ~(np.isnan(y) | np.isnan(X).any(axis=1) | np.isnan(X_new).any(axis=1))
    groups, labels = None, []
    if by is not None:
        raw = frame[by]
        keep &= raw.notna().to_numpy()
        labels = sorted({label_text(v) for v in raw[keep]})
        index = {label: i for i, label in enumerate(labels)}
        groups = np.array([index.get(label_text(v), -1) if pd.notna(v) else -1 for v in raw])
    return WhatIfDesign(y, X, X_new, names, groups, labels, keep)


def predictions(d: WhatIfDesign, family: str, rows: np.ndarray | None = None) -> np.ndarray:
    """(groups + 1) × 2 means: per group then overall, (as observed, under the intervention)."""
    idx = np.flatnonzero(d.keep) if rows is None else rows
    fit = fit_glm(d.y[idx], d.X[idx], family, what="outcome model")
    observed, changed = fit.mean(d.X[idx]), fit.mean(d.X_new[idx])
    out = []
    if d.groups is not None:
        g = d.groups[idx]
        for k in range(len(d.labels)):
            mask = g == k
            if not mask.any():
                out.append((np.nan, np.nan))
                continue
            out.append((observed[mask].mean(), changed[mask].mean()))
    out.append((observed.mean(), changed.mean()))
    return np.array(out)


def unit_predictions(d: WhatIfDesign, family: str) -> Any:
    """Each row's prediction as observed and under the intervention (empty where a value the
    model needs is missing), in the input's row order."""
    import pandas as pd

    rows = np.flatnonzero(d.keep)
    fit = fit_glm(d.y[rows], d.X[rows], family, what="outcome model")
    observed, changed = np.full(len(d.keep), np.nan), np.full(len(d.keep), np.nan)
    observed[rows], changed[rows] = fit.mean(d.X[rows]), fit.mean(d.X_new[rows])
    return pd.DataFrame(
        {"row": np.arange(len(d.keep)), "as_observed": observed,
         "under_intervention": changed, "change": changed - observed}
    )  # fmt: skip


def write_csv(frame: Any, path: Any) -> None:
    """Predictions as CSV: missing values as empty cells, full float precision."""
    frame.to_csv(path, index=False, float_format="%.17g")


def bootstrap(d: WhatIfDesign, family: str, reps: int, seed: int) -> np.ndarray:
    """reps × (groups + 1) × 2 replicates (rows resampled within the complete rows)."""
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(d.keep)
    out = []
    advance = progress("Bootstrapping the what-if predictions", reps)
    for _ in range(reps):
        sample = rows[rng.integers(0, len(rows), len(rows))]
        advance(1)
        try:
            out.append(predictions(d, family, sample))
        except (UserInputError, np.linalg.LinAlgError):
            continue
    if len(out) < max(10, reps // 2):
        raise UserInputError(
            "most bootstrap samples of the what-if model could not be fitted (separation); "
            "use the linear model (--outcome-model linear) or fewer terms."
        )
    return np.array(out)

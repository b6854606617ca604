"""Drivers of heterogeneity: which features move the predicted CATE, and how.

* `permutation_importance`: for a fitted CATE model τ̂ (any ``predict(X) -> (n,)``), the
  importance of feature j is the mean squared change of the prediction when column j is
  randomly permuted across rows,

      I_j = mean over repeats r and rows i of (τ̂(X with column j permuted by π_r)_i − τ̂(X)_i)²,

  and its share I_j / Σ_k I_k. Columns that encode one feature (one-hot blocks) are permuted
  together with the same permutation (`groups`). I_j is exactly 0 when τ̂ ignores the feature;
  for a linear τ̂ = a + b·x_j it has expectation 2·b²·Var(x_j) (a random permutation changes
  each row's value by the difference of two draws). It measures what the *model* uses, not
  the causal importance of the feature, and correlated features share credit unevenly
  (Breiman 2001, *Machine Learning* 45:5–32; Fisher, Rudin & Dominici 2019, *JMLR* 20:1–81).

* `partial_dependence`: the average prediction when feature j is set to v for every row,
  PD(v) = mean_i τ̂(x_{i,−j}, v), with the 10th and 90th percentiles over rows of the
  individual conditional expectation (ICE) τ̂(x_{i,−j}, v) showing how much the curve differs
  between units (Friedman 2001, *Annals of Statistics* 29:1189–1232; Goldstein et al. 2015,
  *JCGS* 24:44–65). For a CATE linear in x_j, PD is a line with the same slope.

Both evaluate the model on at most `max_rows` rows drawn with the seed (the importance is an
average over rows, so a large random subset estimates it well); every random step is seeded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

Predict = Callable[[np.ndarray], np.ndarray]


def _design(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise UserInputError(
            f"X has shape {X.shape}; pass a 2-D array with rows and feature columns."
        )
    return X


def _subsample(X: np.ndarray, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is not None and X.shape[0] > max_rows:
        rows = np.sort(rng.choice(X.shape[0], size=int(max_rows), replace=False))
        return X[rows]
    return X


def _predict(predict: Predict, X: np.ndarray, expected: int) -> np.ndarray:
    out = np.asarray(predict(X), dtype=float).ravel()
    if out.size != expected:
        raise UserInputError(
            f"The model returned {out.size} predictions for {expected} rows; pass a predict function with one CATE per row."
        )
    return out


def permutation_importance(
    predict: Predict,
    X,
    columns: Sequence[str],
    *,
    n_repeats: int = 5,
    seed: int = 0,
    groups: dict[str, list[int]] | None = None,
    max_rows: int | None = 100_000,
) -> pd.DataFrame:
    """Permutation importance of each feature (or group of columns) for a CATE predictor.

    `columns` names the columns of `X`. `groups` maps a feature name to the column indices
    that encode it (e.g. a one-hot block); those are permuted together, and every column not
    in a group is its own feature. Returns one row per feature, most important first:
    `feature`, `importance` (mean squared change of the prediction, see the module
    docstring), `importance_se` (its standard error over the repeats), `share` (importance /
    total; NaN when the total is 0) and `columns` (the number of columns permuted).
    Deterministic for a given `seed`.
    """
    import pandas as pd

    X = _design(X)
    columns = list(columns)
    if len(columns) != X.shape[1]:
        raise UserInputError(
            f"{len(columns)} column names were given for {X.shape[1]} columns of X; pass one name per column."
        )
    if int(n_repeats) != n_repeats or n_repeats < 1:
        raise UserInputError(f"n_repeats={n_repeats} is not a positive whole number; pass e.g. 5.")
    features: dict[str, list[int]] = {}
    used: set[int] = set()
    for name, idx in (groups or {}).items():
        idx = [int(i) for i in idx]
        if not idx or any(i < 0 or i >= X.shape[1] for i in idx):
            raise UserInputError(
                f"Group {name!r} has column indices {idx} outside 0..{X.shape[1] - 1}; pass valid indices."
            )
        if used.intersection(idx):
            raise UserInputError(
                f"Group {name!r} repeats a column of another group; put each column in one group."
            )
        used.update(idx)
        features[name] = idx
    for j, name in enumerate(columns):
        if j not in used:
            features[name] = [j]
    rng = np.random.default_rng(seed)
    Xs = _subsample(X, max_rows, rng)
    m = Xs.shape[0]
    base = _predict(predict, Xs, m)
    names, means, ses, widths = [], [], [], []
    for name, idx in features.items():
        per_repeat = np.empty(int(n_repeats))
        for r in range(int(n_repeats)):
            perm = rng.permutation(m)
            Xp = Xs.copy()
            Xp[:, idx] = Xs[perm][:, idx]
            per_repeat[r] = float(np.mean((_predict(predict, Xp, m) - base) ** 2))
        names.append(name)
        means.append(per_repeat.mean())
        ses.append(per_repeat.std(ddof=1) / np.sqrt(n_repeats) if n_repeats > 1 else np.nan)
        widths.append(len(idx))
    means_arr = np.asarray(means)
    total = means_arr.sum()
    share = means_arr / total if total > 0 else np.full(means_arr.size, np.nan)
    out = pd.DataFrame(
        {
            "feature": names,
            "importance": means_arr,
            "importance_se": ses,
            "share": share,
            "columns": widths,
        }
    )
    return out.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def partial_dependence(
    predict: Predict,
    X,
    column_index: int,
    grid: int | Sequence[float] = 20,
    *,
    max_rows: int | None = 5_000,
    seed: int = 0,
    percentiles: tuple[float, float] = (0.05, 0.95),
) -> pd.DataFrame:
    """Partial dependence of the predicted CATE on column `column_index`, with ICE spread.

    `grid` is either explicit values or a number of points: the column's distinct values when
    it has at most that many, else that many evenly spaced quantiles between `percentiles`
    (the tails are left out because the model has little data there). Returns `value`,
    `cate_mean` (PD(v), the mean prediction with the column set to v for every row),
    `ice_p10` and `ice_p90` (10th/90th percentiles of the per-row predictions). At most
    `max_rows` rows (drawn with `seed`) are used.
    """
    import pandas as pd

    X = _design(X)
    j = int(column_index)
    if not 0 <= j < X.shape[1]:
        raise UserInputError(
            f"column_index={column_index} is outside 0..{X.shape[1] - 1}; pass a column of X."
        )
    if np.ndim(grid) == 0:
        points = int(grid)
        if points < 2:
            raise UserInputError(f"grid={grid} has fewer than 2 points; pass e.g. 20.")
        col = X[:, j]
        distinct = np.unique(col[np.isfinite(col)])
        if distinct.size <= points:
            values = distinct
        else:
            lo, hi = percentiles
            values = np.unique(np.quantile(col, np.linspace(lo, hi, points)))
    else:
        values = np.asarray(grid, dtype=float).ravel()
        if values.size == 0:
            raise UserInputError("The grid is empty; pass some values of the feature.")
    rng = np.random.default_rng(seed)
    Xs = _subsample(X, max_rows, rng)
    m = Xs.shape[0]
    stacked = np.repeat(Xs[np.newaxis], values.size, axis=0)  # (grid, m, p): one predict call
    stacked[:, :, j] = values[:, np.newaxis]
    ice = _predict(predict, stacked.reshape(-1, X.shape[1]), values.size * m).reshape(
        values.size, m
    )
    return pd.DataFrame(
        {
            "value": values,
            "cate_mean": ice.mean(axis=1),
            "ice_p10": np.quantile(ice, 0.10, axis=1),
            "ice_p90": np.quantile(ice, 0.90, axis=1),
        }
    )

"""Response tiers: segments of units by predicted uplift, and what each tier looks like.

`tiers` cuts the predicted uplift (CATE) into equal-count tiers by rank – the highest scores
form the top tier – with rows of equal score always in the same tier (a tie group goes to the
tier in which its middle row falls, as in `evaluation.uplift_by_bin`). `tier_profile`
describes each tier: its size, mean predicted uplift, the uplift actually observed in it (a
difference in means with a Welch interval, valid when treatment was randomised and the
scores are out-of-sample) and the mean of each numeric feature / the share of the most
common level of each text feature, so a reader can see *who* responds.

Reference: Radcliffe (2007) for decile-based uplift segments; Welch (1947) for the interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.uplift.evaluation import bin_rows, check_inputs, welch_table

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_LABELS = ("very low", "low", "medium", "high", "very high")


def _labels_for(n_tiers: int, labels) -> tuple[str, ...]:
    if labels is None or (tuple(labels) == DEFAULT_LABELS and n_tiers != len(DEFAULT_LABELS)):
        return tuple(f"tier {i}" for i in range(1, n_tiers + 1))  # tier n_tiers is the highest
    labels = tuple(str(x) for x in labels)
    if len(labels) != n_tiers:
        raise UserInputError(
            f"{len(labels)} tier labels were given for n_tiers={n_tiers}; pass one label per tier, lowest first."
        )
    if len(set(labels)) != len(labels):
        raise UserInputError(f"The tier labels {list(labels)} repeat a name; pass distinct labels.")
    return labels


def tiers(score, n_tiers: int = 5, labels=DEFAULT_LABELS) -> np.ndarray:
    """Tier label of each row, lowest first in `labels`: equal-count tiers of the ranking by
    predicted uplift, highest scores in the last label ("very high"); equal scores share a
    tier. With `n_tiers` other than 5 and the default labels the tiers are called "tier 1"
    (lowest) … "tier n". Returns an object array in the input's row order.
    """
    if int(n_tiers) != n_tiers or n_tiers < 1:
        raise UserInputError(f"n_tiers={n_tiers} is not a positive whole number; pass e.g. 5.")
    n_tiers = int(n_tiers)
    names = _labels_for(n_tiers, labels)
    score = np.asarray(score, dtype=float).ravel()
    if score.size == 0:
        raise UserInputError("No scores were given; pass one predicted uplift per row.")
    if not np.all(np.isfinite(score)):
        raise UserInputError(
            "The predicted uplift has missing or infinite values; score every row first."
        )
    bin_from_top = bin_rows(score, n_tiers)  # 1 = highest
    return np.asarray(names, dtype=object)[n_tiers - bin_from_top]


def _column(frame, value, name: str) -> np.ndarray:
    if isinstance(value, str):
        if value not in frame.columns:
            raise UserInputError(
                f"Column {value!r} is not in the data; pass one of {list(frame.columns)}."
            )
        return frame[value].to_numpy()
    return np.asarray(value)


def tier_profile(
    frame: pd.DataFrame,
    tiers,
    y,
    t,
    columns,
    *,
    score=None,
    alpha: float = 0.05,
    order=None,
) -> pd.DataFrame:
    """Profile of each response tier, highest tier first.

    Columns: `tier`, `n`, `n_treated`, `n_control`, `predicted` (mean of `score`, when given),
    `observed` (treated − control difference in mean outcome within the tier), `se` (Welch),
    `ci_low`/`ci_high` (1 − alpha, Student's t with Welch–Satterthwaite df; NaN when an arm has
    fewer than two rows), then one column per feature in `columns`: the tier's mean for a
    numeric (or boolean) column, named as the column (``"<column> (mean)"`` if that name is
    taken by the columns above), and for any other column the share of
    its most common level in the whole data, named ``"<column>=<level>"``.

    `y` and `t` are arrays (or column names of `frame`); `tiers` is the output of `tiers` (any
    labels); `order` lists the tier labels from highest to lowest (default: the labels sorted
    by mean `score` when given, else by first appearance). The observed uplift estimates the
    average effect among the tier's units when treatment was randomised and the scores were
    not fitted on these rows.
    """
    import pandas as pd

    y_arr, t_arr, _ = check_inputs(_column(frame, y, "outcome"), _column(frame, t, "treatment"))
    labels = np.asarray(tiers, dtype=object).ravel()
    if labels.size != y_arr.size or len(frame) != y_arr.size:
        raise UserInputError(
            f"The data have {len(frame)} rows, the tiers {labels.size} and the outcome {y_arr.size}; pass one of each per row."
        )
    s_arr = None
    if score is not None:
        s_arr = np.asarray(score, dtype=float).ravel()
        if s_arr.size != y_arr.size:
            raise UserInputError(
                f"The score has {s_arr.size} values for {y_arr.size} rows; pass one per row."
            )
    codes, uniques = pd.factorize(pd.Series(labels), sort=False)
    uniques = list(uniques)
    k = len(uniques)
    if order is None:
        if s_arr is not None:
            means = np.bincount(codes, weights=s_arr, minlength=k) / np.bincount(codes, minlength=k)
            order_idx = list(np.argsort(-means, kind="stable"))
        else:
            order_idx = list(range(k))
    else:
        missing = [u for u in uniques if u not in list(order)]
        if missing:
            raise UserInputError(
                f"The tier {missing[0]!r} is not in order={list(order)}; list every tier."
            )
        order_idx = [uniques.index(u) for u in order if u in uniques]
    tab = welch_table(y_arr, t_arr, codes, k, alpha)
    out = {
        "tier": [uniques[i] for i in order_idx],
        "n": tab["n"][order_idx].astype(np.int64),
        "n_treated": tab["n_treated"][order_idx].astype(np.int64),
        "n_control": tab["n_control"][order_idx].astype(np.int64),
    }
    if s_arr is not None:
        out["predicted"] = (np.bincount(codes, weights=s_arr, minlength=k) / tab["n"])[order_idx]
    for key in ("observed", "se", "ci_low", "ci_high"):
        out[key] = tab[key][order_idx]
    counts = tab["n"]
    for col in columns:
        if col not in frame.columns:
            raise UserInputError(
                f"Feature {col!r} is not in the data; pass one of {list(frame.columns)}."
            )
        series = frame[col]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            ok = np.isfinite(values)
            sums = np.bincount(codes[ok], weights=values[ok], minlength=k)
            n_ok = np.bincount(codes[ok], minlength=k)
            key = col if col not in out else f"{col} (mean)"  # e.g. a feature called "n"
            with np.errstate(invalid="ignore", divide="ignore"):
                out[key] = (sums / n_ok)[order_idx]
        else:
            top = series.value_counts(dropna=True)
            if top.empty:
                continue
            level = top.index[0]
            hits = np.bincount(codes, weights=(series == level).to_numpy(dtype=float), minlength=k)
            out[f"{col}={level}"] = (hits / counts)[order_idx]
    return pd.DataFrame(out)

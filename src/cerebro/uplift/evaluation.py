"""Evaluation of uplift (CATE) scores on held-out data: curves, areas, bins and calibration.

Everything here takes three arrays of one evaluation sample: the outcome ``y`` (0/1 or
continuous), the treatment ``t`` (1 treated, 0 control) and a ``score`` (the predicted uplift
of each row, from a model that never saw the row – out-of-fold or a held-out set). Rows are
ranked by descending score; **rows with equal scores enter together**: every curve has one
point per distinct score (plus the origin) and a bin never splits a tie.

Definitions (Radcliffe 2007; Gutierrez & Gérardy 2017). For the top of the ranking down to a
threshold, let N be the number of rows, N_T / N_C the treated / control rows among them and
Y_T / Y_C the sums of their outcomes. Then

* uplift (cumulative gain) curve: G(N) = (Y_T/N_T − Y_C/N_C) · N, the incremental outcomes
  if the top N rows were all treated, estimated by the difference in means among them;
* Qini curve: Q(N) = Y_T − Y_C · N_T/N_C, the incremental outcomes among the treated of the
  top N (the control sum rescaled to the treated count).

While one arm is still empty at the top of the ranking its mean (or the ratio N_T/N_C) counts
as 0, the convention of scikit-uplift (``sklift.metrics.uplift_curve`` / ``qini_curve``); it
only affects the first few points.

Areas. With A(curve) the trapezoidal area under the points (N, curve) and B the area under the
straight line from the origin to the curve's last point (the random ranking),

    AUUC = (A(uplift curve) − B) / (A(perfect uplift curve) − B_perfect)
    Qini coefficient = (A(Qini curve) − B) / (A(perfect Qini curve) − B_perfect)

which are scikit-uplift's ``uplift_auc_score`` and ``qini_auc_score`` (the curves end at the
same point whatever the ranking, so B = B_perfect). The perfect rankings for a binary outcome
are scikit-uplift's: for the Qini curve treated responders first, control responders last
(score y·t − y·(1 − t); ``negative_effect=True``); for the uplift curve treated responders,
then control non-responders, then control responders and treated non-responders, the
larger group first (treated non-responders on a tie). For a continuous outcome (which scikit-uplift rejects) both
use the ranking by y·(2t − 1): treated rows by descending outcome, then control rows by
ascending outcome – the same ranking as the binary Qini one. A ranking equal to the perfect
one scores exactly 1, a random ranking about 0 and a reversed one below 0.

The curves sort the scores once (an integer sort of packed keys, exact for ties) and take
cumulative sums, so 5M rows take a fraction of a second.

References: N. J. Radcliffe (2007), Using control groups to target on predicted lift,
*Direct Marketing Analytics Journal* 3:14–21; P. Gutierrez and J.-Y. Gérardy (2017), Causal
inference and uplift modelling: a review of the literature, *PMLR* 67:1–13; scikit-uplift
0.5 documentation (metrics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.stats.intervals import welch_df

if TYPE_CHECKING:
    import pandas as pd

CURVE_COLUMNS = ("fraction", "n", "n_treated", "n_control", "uplift_gain", "qini_gain", "score")
BIN_COLUMNS = (
    "bin",
    "n_treated",
    "n_control",
    "predicted",
    "observed",
    "se",
    "ci_low",
    "ci_high",
)


# --------------------------------------------------------------------------------------------
# input checks


def check_inputs(
    y: np.ndarray, t: np.ndarray, score: np.ndarray | None = None, *, name: str = "score"
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate and convert (y, t, score): 1-D, same length, finite, t in {0, 1}, both arms.

    Returns float64 y, int8 t and float64 score (−0.0 folded to 0.0 so that equal values have
    equal bits).
    """
    y = np.asarray(y, dtype=float).ravel()
    t_raw = np.asarray(t).ravel()
    if y.size == 0:
        raise UserInputError(
            "The evaluation data are empty; pass at least one treated and one control row."
        )
    if t_raw.size != y.size:
        raise UserInputError(
            f"The treatment has {t_raw.size} values but the outcome has {y.size}; pass arrays of one length."
        )
    if not np.all(np.isfinite(y)):
        raise UserInputError(
            "The outcome has missing or infinite values; drop or fill those rows first."
        )
    if t_raw.dtype.kind in "bui" and (t_raw.size == 0 or (t_raw.min() >= 0 and t_raw.max() <= 1)):
        t_int = t_raw.astype(np.int8)  # small: gathers in sorted order stay in cache
    else:
        try:
            t_num = t_raw.astype(float)
        except (TypeError, ValueError):
            raise UserInputError(
                "The treatment must be coded 1 (treated) and 0 (control); recode it first."
            ) from None
        valid = (t_num == 0) | (t_num == 1)
        if not np.all(valid):
            bad = t_raw[~valid][0]
            bad = bad.item() if isinstance(bad, np.generic) else bad
            raise UserInputError(
                f"The treatment has the value {bad!r}; code it 1 (treated) and 0 (control)."
            )
        t_int = t_num.astype(np.int8)
    n_treated = int(t_int.sum())
    if n_treated == 0 or n_treated == t_int.size:
        arm = "control" if n_treated else "treated"
        raise UserInputError(
            f"The evaluation data have no {arm} rows; evaluate on data with both arms."
        )
    if score is None:
        return y, t_int, None
    score = np.asarray(score, dtype=float).ravel()
    if score.size != y.size:
        raise UserInputError(
            f"The {name} has {score.size} values but the outcome has {y.size}; pass one prediction per row."
        )
    if not np.all(np.isfinite(score)):
        raise UserInputError(
            f"The {name} has missing or infinite values; score every row with a finite prediction."
        )
    return y, t_int, score + 0.0  # + 0.0 turns −0.0 into 0.0 (same value, same key)


def is_binary(y: np.ndarray) -> bool:
    """True when every outcome is 0 or 1."""
    return bool(np.all((y == 0) | (y == 1)))


# --------------------------------------------------------------------------------------------
# one sort, tie groups, cumulative sums


def descending_order(score: np.ndarray) -> np.ndarray:
    """Indices that sort `score` from high to low (see `_sort_descending`)."""
    return _sort_descending(score)[0]


def _sort_descending(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, score[order]): indices that sort `score` from high to low (ties in an arbitrary but fixed order).

    ``np.argsort`` on 5M floats takes ~0.8 s here while ``np.sort`` of 64-bit integers takes
    ~0.13 s, so the order comes from sorting packed keys: the score mapped to an
    order-preserving integer (descending), its low bits replaced by the row index. Distinct
    scores that share the kept high bits (relative difference below ~2^-29 at 5M rows) may
    then be out of order; those few blocks are re-sorted exactly, so the result is always a
    true descending order. `score` must be finite with no −0.0 (see `check_inputs`).
    """
    n = score.size
    idx_bits = max(1, int(n - 1).bit_length())
    if idx_bits > 28:  # too few score bits would be left: plain argsort
        order = np.argsort(-score, kind="stable")
        return order, score[order]
    # IEEE-754 bits as int64: flipping all but the sign bit of non-negative numbers and
    # nothing of negative ones, then the sign bit, gives a signed key in descending order.
    key = np.where(score >= 0, np.int64(0x7FFFFFFFFFFFFFFF), np.int64(0))
    np.bitwise_xor(score.view(np.int64), key, out=key)
    key ^= np.int64(-(2**63))
    key >>= idx_bits
    key <<= idx_bits
    key |= np.arange(n, dtype=np.int64)
    key.sort()
    order = key & np.int64((1 << idx_bits) - 1)
    ordered = score[order]
    bad = np.flatnonzero(ordered[1:] > ordered[:-1])
    if bad.size:
        # re-sort exactly the blocks of equal kept bits that hold an inversion; `key` is
        # sorted, so each block is found by two binary searches on its key range
        low_mask = np.int64((1 << idx_bits) - 1)
        block_low = np.unique(key[bad] & ~low_mask)
        lefts = np.searchsorted(key, block_low, side="left")
        lengths = np.searchsorted(key, block_low | low_mask, side="right") - lefts
        block = np.repeat(np.arange(lengths.size), lengths)
        pos = np.arange(int(lengths.sum())) + np.repeat(
            lefts - (np.cumsum(lengths) - lengths), lengths
        )
        sub = np.lexsort((-ordered[pos], block))
        order[pos] = order[pos][sub]
        ordered[pos] = ordered[pos][sub]
    return order.astype(np.intp, copy=False), ordered


@dataclass(frozen=True)
class Ranking:
    """Rows ranked by descending score, with the tie groups (one per distinct score).

    `order` sorts the rows; group g holds sorted positions ``starts[g] .. ends[g]`` (inclusive)
    and has score ``values[g]``; `group_of_position` maps a sorted position to its group.
    """

    order: np.ndarray
    values: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @property
    def n(self) -> int:
        return int(self.order.size)

    @property
    def sizes(self) -> np.ndarray:
        return self.ends - self.starts + 1


def rank_scores(score: np.ndarray) -> Ranking:
    """Sort once and find the tie groups."""
    order, ordered = _sort_descending(score)
    change = np.flatnonzero(ordered[1:] != ordered[:-1])
    ends = np.empty(change.size + 1, dtype=np.int64)
    ends[:-1] = change
    ends[-1] = ordered.size - 1
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = change + 1
    return Ranking(order=order, values=ordered[ends], starts=starts, ends=ends)


@dataclass(frozen=True)
class Cumulative:
    """Cumulative counts and outcome sums at the end of each tie group (descending score)."""

    n: np.ndarray
    n_t: np.ndarray
    sum_t: np.ndarray
    sum_c: np.ndarray
    values: np.ndarray

    @property
    def n_c(self) -> np.ndarray:
        return self.n - self.n_t


def cumulate(y: np.ndarray, t: np.ndarray, ranking: Ranking) -> Cumulative:
    """Cumulative N, N_T, Y_T, Y_C at every tie-group end."""
    t_s = t[ranking.order]
    y_s = y[ranking.order]
    ends = ranking.ends
    n_t = np.cumsum(t_s, dtype=np.int64)
    sum_all = np.cumsum(y_s)
    y_s *= t_s
    sum_t = np.cumsum(y_s, out=y_s)
    if ends.size < t_s.size:  # ties: keep the group ends only
        n_t, sum_t, sum_all = n_t[ends], sum_t[ends], sum_all[ends]
    return Cumulative(
        n=ends + 1,
        n_t=n_t,
        sum_t=sum_t,
        sum_c=sum_all - sum_t,
        values=ranking.values,
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den with 0 where den is 0 (scikit-uplift's convention for an empty arm)."""
    num = np.asarray(num, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def _uplift_gain(c: Cumulative) -> np.ndarray:
    """(Y_T/N_T − Y_C/N_C)·N at every point (no origin)."""
    return (_ratio(c.sum_t, c.n_t) - _ratio(c.sum_c, c.n - c.n_t)) * c.n


def _qini_gain(c: Cumulative) -> np.ndarray:
    """Y_T − Y_C·N_T/N_C at every point (no origin)."""
    return c.sum_t - c.sum_c * _ratio(c.n_t, c.n - c.n_t)


def _with_origin(x: np.ndarray, first: float = 0.0) -> np.ndarray:
    """`x` as float with `first` in front (np.concatenate; np.r_ is slow on large arrays)."""
    out = np.empty(len(x) + 1)
    out[0] = first
    out[1:] = x
    return out


def _area_above_diagonal(x: np.ndarray, gain: np.ndarray) -> float:
    """Trapezoidal area under (x, gain) minus the triangle under the chord to the last point."""
    area = float(np.dot(np.diff(x), gain[1:] + gain[:-1])) / 2.0
    return area - float(x[-1] * gain[-1]) / 2.0


def _group_cumulative(sizes, treated, sums_t, sums_c) -> Cumulative:
    """Cumulative sums from per-group totals in ranking order (empty groups dropped)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    keep = sizes > 0
    return Cumulative(
        n=np.cumsum(sizes[keep]),
        n_t=np.cumsum(np.asarray(treated, dtype=np.int64)[keep]),
        sum_t=np.cumsum(np.asarray(sums_t, dtype=float)[keep]),
        sum_c=np.cumsum(np.asarray(sums_c, dtype=float)[keep]),
        values=np.arange(int(keep.sum()), 0, -1, dtype=float),
    )


def _perfect_cumulative(y: np.ndarray, t: np.ndarray, c: Cumulative, curve: str) -> Cumulative:
    """Cumulative sums of the perfect ranking (see the module docstring); `c` is any ranking's
    cumulative sums of the same rows (its last point holds the totals)."""
    if is_binary(y):
        n, n_t = int(c.n[-1]), int(c.n_t[-1])
        tr, cr = round(float(c.sum_t[-1])), round(float(c.sum_c[-1]))
        tn, cn = n_t - tr, n - n_t - cr
        # groups as (size, treated, treated outcome sum, control outcome sum)
        g_tr, g_tn, g_cr, g_cn = (tr, tr, tr, 0), (tn, tn, 0, 0), (cr, 0, 0, cr), (cn, 0, 0, 0)
        if curve == "qini":
            middle = (tn + cn, tn, 0, 0)
            groups = [g_tr, middle, g_cr]
        else:
            groups = [g_tr, g_cn, g_cr, g_tn] if cr > tn else [g_tr, g_cn, g_tn, g_cr]
        cols = list(zip(*groups, strict=True))
        return _group_cumulative(*cols)
    perfect_score = y * (2 * t - 1)
    return cumulate(y, t, rank_scores(perfect_score + 0.0))


def _normalised_area(x, gain, x_perfect, gain_perfect) -> float:
    actual = _area_above_diagonal(x, gain)
    best = _area_above_diagonal(x_perfect, gain_perfect)
    if best == 0 or not math.isfinite(best):
        return float("nan")
    return actual / best


# --------------------------------------------------------------------------------------------
# public API


def uplift_curve(y, t, score) -> pd.DataFrame:
    """Uplift (cumulative gain) and Qini curves of a score, one row per distinct score.

    Rows are ranked by descending score and rows with equal scores enter together, so the
    table has one row per distinct score plus the origin (all zeros). Columns: `fraction`
    (N/n), `n`, `n_treated`, `n_control`, `uplift_gain` = (Y_T/N_T − Y_C/N_C)·N, `qini_gain` =
    Y_T − Y_C·N_T/N_C (module docstring; an empty arm's mean counts as 0, scikit-uplift's
    convention), and `score`, the lowest score included (NaN at the origin).

    Gains are in outcome units (e.g. incremental conversions). Estimand: the incremental
    outcomes from treating the top N rows, assuming randomised treatment (or a known
    propensity folded into the outcome beforehand). Radcliffe (2007).
    """
    import pandas as pd

    y, t, score = check_inputs(y, t, score)
    c = cumulate(y, t, rank_scores(score))
    uplift, qini = _uplift_gain(c), _qini_gain(c)
    n = _with_origin(c.n).astype(np.int64)
    n_t = _with_origin(c.n_t).astype(np.int64)
    return pd.DataFrame(
        copy=False,  # 5M-row curves: no block consolidation copy
        data={
            "fraction": n / y.size,
            "n": n,
            "n_treated": n_t,
            "n_control": n - n_t,
            "uplift_gain": _with_origin(uplift),
            "qini_gain": _with_origin(qini),
            "score": _with_origin(c.values, np.nan),
        },
    )


def thin_curve(curve: pd.DataFrame, points: int = 101) -> pd.DataFrame:
    """At most `points` rows of a curve table: for each fraction 0, 1/(points−1), …, 1 the
    first row at or beyond it (rows are kept whole, never interpolated), for plots and JSON."""
    fraction = curve["fraction"].to_numpy()
    if len(curve) <= points:
        return curve.reset_index(drop=True)
    targets = np.linspace(0.0, 1.0, points)
    rows = np.unique(np.minimum(np.searchsorted(fraction, targets - 1e-12), len(curve) - 1))
    return curve.iloc[rows].reset_index(drop=True)


def _auuc_from(y, t, c: Cumulative) -> float:
    p = _perfect_cumulative(y, t, c, "uplift")
    return _normalised_area(
        _with_origin(c.n),
        _with_origin(_uplift_gain(c)),
        _with_origin(p.n),
        _with_origin(_uplift_gain(p)),
    )


def _qini_from(y, t, c: Cumulative, negative_effect: bool = True) -> float:
    qini = _qini_gain(c)
    x, g = _with_origin(c.n), _with_origin(qini)
    if negative_effect:
        p = _perfect_cumulative(y, t, c, "qini")
        return _normalised_area(x, g, _with_origin(p.n), _with_origin(_qini_gain(p)))
    # scikit-uplift's curve without negative effects: rise to the total gain at once
    total = float(qini[-1])
    n = float(c.n[-1])
    if not total > 0:  # no positive gain to reach: the perfect curve is undefined
        return float("nan")
    return _normalised_area(x, g, np.array([0.0, total, n]), np.array([0.0, total, total]))


def auuc(y, t, score) -> float:
    """Normalised area under the uplift curve (scikit-uplift's ``uplift_auc_score``).

    (area under the uplift curve − area under the random-ranking chord) divided by the same
    for the perfect ranking; 1 for the perfect ranking, about 0 for a random one, negative
    for a ranking worse than random. NaN when the perfect curve has no area (e.g. every
    outcome equal). Ties enter together (module docstring). Gutierrez & Gérardy (2017).
    """
    y, t, score = check_inputs(y, t, score)
    return _auuc_from(y, t, cumulate(y, t, rank_scores(score)))


def qini_coefficient(y, t, score, *, negative_effect: bool = True) -> float:
    """Qini coefficient normalised by the perfect Qini curve (scikit-uplift's ``qini_auc_score``).

    (area under the Qini curve − area under the chord) / (the same for the perfect ranking).
    With ``negative_effect=True`` (the default, as in scikit-uplift) the perfect ranking puts
    treated responders first and control responders last; with False the perfect curve rises
    straight to the total gain (Radcliffe 2007; NaN when the total gain is not positive). 1 = perfect, ≈ 0 = random, < 0 = worse than
    random. Ties enter together.
    """
    y, t, score = check_inputs(y, t, score)
    return _qini_from(y, t, cumulate(y, t, rank_scores(score)), negative_effect)


def _top_rows(ranking: Ranking, fraction: float) -> int:
    """Number of rows in the top `fraction` (floor, at least 1), extended to a whole tie group."""
    k = max(1, int(ranking.n * fraction))
    group = int(np.searchsorted(ranking.ends, k - 1))  # group holding sorted position k-1
    return int(ranking.ends[group]) + 1


def _uplift_at_from(y, t, ranking: Ranking, fraction: float) -> float:
    k = _top_rows(ranking, fraction)
    rows = ranking.order[:k]
    treated = t[rows] == 1
    if treated.all() or not treated.any():
        return float("nan")
    return float(y[rows][treated].mean() - y[rows][~treated].mean())


def uplift_at(y, t, score, fraction: float = 0.1) -> float:
    """Difference in mean outcome (treated − control) among the top `fraction` of rows.

    The top is ⌊fraction·n⌋ rows (at least 1) extended to include the whole tie group of the
    last one; without ties this is scikit-uplift's ``uplift_at_k(strategy="overall")``.
    NaN when an arm is absent from the top.
    """
    if not 0 < fraction <= 1:
        raise UserInputError(f"fraction={fraction} is not in (0, 1]; pass a share such as 0.1.")
    y, t, score = check_inputs(y, t, score)
    return _uplift_at_from(y, t, rank_scores(score), fraction)


def _bins_of_positions(ranking: Ranking, bins: int) -> np.ndarray:
    """Bin (1 = highest scores) of each sorted position; a tie group goes where its middle falls."""
    middle = ranking.starts + ranking.sizes / 2.0
    group_bin = np.minimum(bins, np.floor(middle * bins / ranking.n).astype(np.int64) + 1)
    return np.repeat(group_bin, ranking.sizes)


def bin_rows(score, bins: int = 10) -> np.ndarray:
    """Bin of each row (1 = highest scores) in the input order: equal-count bins of the
    ranking, ties kept together (a tie group goes to the bin where its middle row falls)."""
    score = np.asarray(score, dtype=float).ravel() + 0.0
    ranking = rank_scores(score)
    out = np.empty(score.size, dtype=np.int64)
    out[ranking.order] = _bins_of_positions(ranking, bins)
    return out


def welch_table(y, t, groups: np.ndarray, n_groups: int, alpha: float) -> dict[str, np.ndarray]:
    """Per group (ids 0..n_groups−1): counts, means, difference, Welch SE and t interval.

    The interval uses Student's t with Welch–Satterthwaite degrees of freedom; it is NaN when
    an arm has fewer than two rows, and a point when both arms have no spread.
    """
    from scipy import stats

    n_t = np.bincount(groups, weights=t, minlength=n_groups)
    n_all = np.bincount(groups, minlength=n_groups).astype(float)
    n_c = n_all - n_t
    s_t = np.bincount(groups, weights=y * t, minlength=n_groups)
    s_c = np.bincount(groups, weights=y * (1 - t), minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        m_t = s_t / n_t
        m_c = s_c / n_c
        # two-pass variances (centred sums) for accuracy with large means
        dev = y - np.where(t == 1, m_t[groups], m_c[groups])
        ss_t = np.bincount(groups, weights=dev * dev * t, minlength=n_groups)
        ss_c = np.bincount(groups, weights=dev * dev * (1 - t), minlength=n_groups)
        v_t = np.where(n_t > 1, ss_t / (n_t - 1), np.nan)
        v_c = np.where(n_c > 1, ss_c / (n_c - 1), np.nan)
        a, b = v_t / n_t, v_c / n_c
        se = np.sqrt(a + b)
        df = welch_df(a, n_t, b, n_c)
        crit = np.where(se > 0, stats.t.isf(alpha / 2, np.where(se > 0, df, 1.0)), 0.0)
    diff = m_t - m_c
    return {
        "n": n_all,
        "n_treated": n_t,
        "n_control": n_c,
        "mean_treated": m_t,
        "mean_control": m_c,
        "observed": diff,
        "se": se,
        "df": df,
        "ci_low": diff - crit * se,
        "ci_high": diff + crit * se,
    }


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha={alpha} is not in (0, 1); pass e.g. 0.05 for 95% intervals.")


def _check_bins(bins: int) -> None:
    if int(bins) != bins or bins < 1:
        raise UserInputError(f"bins={bins} is not a positive whole number; pass e.g. 10.")


def _bin_table(y, t, score, ranking: Ranking, bins: int, alpha: float) -> pd.DataFrame:
    import pandas as pd

    bin_sorted = _bins_of_positions(ranking, bins)
    row_bin = np.empty(ranking.n, dtype=np.int64)
    row_bin[ranking.order] = bin_sorted
    ids = row_bin - 1
    tab = welch_table(y, t, ids, bins, alpha)
    predicted = np.bincount(ids, weights=score, minlength=bins) / np.maximum(tab["n"], 1)
    present = tab["n"] > 0
    frame = pd.DataFrame(
        {
            "bin": np.arange(1, bins + 1),
            "n_treated": tab["n_treated"].astype(np.int64),
            "n_control": tab["n_control"].astype(np.int64),
            "predicted": predicted,
            "observed": tab["observed"],
            "se": tab["se"],
            "ci_low": tab["ci_low"],
            "ci_high": tab["ci_high"],
        }
    )
    return frame[present].reset_index(drop=True)


def uplift_by_bin(y, t, score, bins: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Observed versus predicted uplift in equal-count bins of the score (the calibration table).

    Bin 1 holds the highest scores. Bins have equal counts of rows up to ties: a tie group is
    never split and goes to the bin in which its middle row falls (so with heavy ties some
    bins are larger and empty bins are dropped). Per bin: `n_treated`, `n_control`,
    `predicted` = mean score, `observed` = difference in mean outcome treated − control, its
    Welch standard error `se` = √(s_T²/n_T + s_C²/n_C) and a 1 − alpha interval with Student's t
    on Welch–Satterthwaite degrees of freedom (`ci_low`, `ci_high`; NaN when an arm has fewer
    than two rows).

    Estimand of `observed`: the average treatment effect among the bin's rows, under
    randomised treatment (constant propensity). Welch (1947); Radcliffe (2007) for the
    decile table.
    """
    _check_bins(bins)
    _check_alpha(alpha)
    y, t, score = check_inputs(y, t, score)
    return _bin_table(y, t, score, rank_scores(score), int(bins), alpha)


def _calibration_from_table(table: pd.DataFrame) -> tuple[float, float]:
    se = table["se"].to_numpy()
    ok = np.isfinite(se) & (se > 0)
    x = table["predicted"].to_numpy()[ok]
    obs = table["observed"].to_numpy()[ok]
    w = 1.0 / se[ok] ** 2
    if x.size < 2:
        return float("nan"), float("nan")
    xbar = np.sum(w * x) / np.sum(w)
    sxx = float(np.sum(w * (x - xbar) ** 2))
    if not sxx > 0:
        return float("nan"), float("nan")
    slope = float(np.sum(w * (x - xbar) * obs) / sxx)
    return slope, float(1.0 / math.sqrt(sxx))


def calibration_slope(y, t, score, bins: int = 10) -> tuple[float, float]:
    """Slope (and SE) of observed on predicted uplift across the bins of `uplift_by_bin`.

    Weighted least squares of each bin's observed difference in means on its mean score with
    inverse-variance weights 1/se²; the SE treats the bins' variances as known, so it is
    1/√Σw(x − x̄_w)² (a fixed-effect meta-regression; bins are disjoint, hence independent).
    A well-calibrated score has slope 1; a slope below 1 means the predictions spread too
    much (over-confident), above 1 too little; 0 means the score ranks nothing. If the true
    CATE is linear in the score the bin averages keep that line exactly, so binning does not
    attenuate the slope. It is the binned version of the "best linear predictor" calibration
    test of Chernozhukov, Demirer, Duflo & Fernández-Val (2018, NBER w24678). NaN when fewer
    than two bins have a finite positive SE or every bin has the same mean score.
    """
    table = uplift_by_bin(y, t, score, bins=bins)
    return _calibration_from_table(table)


def compare_models(
    y, t, scores: dict[str, np.ndarray], *, bins: int = 10, top: float = 0.1
) -> pd.DataFrame:
    """One row per model: `auuc`, `qini`, `uplift_at_top` (difference in means among the top
    `top` share, see `uplift_at`), `top_bin_predicted` / `top_bin_observed` / `top_bin_se`
    (bin 1 of `uplift_by_bin`), `calibration_slope` and `calibration_se`. Each score is sorted
    once; rows keep the order of `scores`. Every score must be out-of-sample for these rows.
    """
    import pandas as pd

    if not scores:
        raise UserInputError("No model scores were given; pass a dict of name -> predicted uplift.")
    _check_bins(bins)
    y, t, _ = check_inputs(y, t)
    rows = []
    for name, raw in scores.items():
        _, _, score = check_inputs(y, t, raw, name=f"score of {name!r}")
        ranking = rank_scores(score)
        c = cumulate(y, t, ranking)
        table = _bin_table(y, t, score, ranking, int(bins), 0.05)
        slope, slope_se = _calibration_from_table(table)
        first = table.iloc[0]
        rows.append(
            {
                "model": name,
                "auuc": _auuc_from(y, t, c),
                "qini": _qini_from(y, t, c),
                "uplift_at_top": _uplift_at_from(y, t, ranking, top),
                "top_bin_predicted": float(first["predicted"]),
                "top_bin_observed": float(first["observed"]),
                "top_bin_se": float(first["se"]),
                "calibration_slope": slope,
                "calibration_se": slope_se,
            }
        )
    return pd.DataFrame(rows)

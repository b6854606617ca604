"""Two-arm tests of conversion rates from counts: z, chi-square, Fisher, Cochran–Mantel–Haenszel.

Arguments are successes and trials per arm, control first: ``x_control, n_control, x_variant,
n_variant``. Units are assumed independent (no clustering) with one rate per arm. The estimate
is the difference of proportions p_v − p_c, except for CMH (the Mantel–Haenszel odds ratio);
"greater" means the variant's rate is higher. Internally the 2×2 table has the variant in the
first row and successes in the first column, so odds ratios read variant against control.

References: Agresti, *Categorical Data Analysis* (3rd ed., 2013), §3.1 (2×2 tests) and §6.4
(CMH); Newcombe (1998), "Interval estimation for the difference between independent
proportions: comparison of eleven methods", Statistics in Medicine 17, 873–890.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.experiments.comparison import Comparison
from cerebro.stats import special
from cerebro.stats.intervals import p_value_from_statistic, wald_interval

ALTERNATIVES = ("two-sided", "greater", "less")
# Largest smallest margin of the 2×2 table for the exact conditional odds-ratio CI. scipy's
# root search costs about 0.25 ms per value of the conditional support: ~0.5 s at 2,000, but
# 5 s at 20,000 per arm and p = 0.5, 200 s at 10⁶ per arm and p = 0.1 (measured, scipy 1.17).
_EXACT_ODDS_CI_MARGIN = 2_000


def _check_arm(name: str, x: float, n: float) -> None:
    if not n > 0:
        raise UserInputError(f"the {name} arm has {n} units; every arm needs at least one.")
    if not 0 <= x <= n:
        raise UserInputError(
            f"the {name} arm has {x} successes out of {n}; successes must lie in [0, n]."
        )


def _check(x_c: int, n_c: int, x_v: int, n_v: int, alpha: float, alternative: str) -> None:
    _check_arm("control", x_c, n_c)
    _check_arm("variant", x_v, n_v)
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha must be strictly between 0 and 1, got {alpha} (e.g. 0.05).")
    if alternative not in ALTERNATIVES:
        raise UserInputError(
            f"alternative {alternative!r} is unknown; use one of {', '.join(ALTERNATIVES)}."
        )


def _table(x_c: int, n_c: int, x_v: int, n_v: int) -> np.ndarray:
    """The 2×2 table: rows variant, control; columns successes, failures."""
    return np.array([[x_v, n_v - x_v], [x_c, n_c - x_c]])


def _wald(x_c: int, n_c: int, x_v: int, n_v: int) -> tuple[float, float]:
    """Difference p_v − p_c and its unpooled (Wald) standard error."""
    p_c, p_v = x_c / n_c, x_v / n_v
    return p_v - p_c, float(np.sqrt(p_c * (1 - p_c) / n_c + p_v * (1 - p_v) / n_v))


def two_proportion_ztest(
    x_control: int,
    n_control: int,
    x_variant: int,
    n_variant: int,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> Comparison:
    """Two-proportion z-test: pooled variance for the test, unpooled Wald CI for the difference.

    The test uses the variance under H0: p_v = p_c, estimated from the pooled rate (as
    statsmodels' `proportions_ztest`); the CI describes the difference where it is, so it uses
    each arm's own rate (the standard convention, Agresti 2013, §3.1). With no successes or no
    failures in either arm the statistic is 0 and the p-value 1.
    """
    _check(x_control, n_control, x_variant, n_variant, alpha, alternative)
    diff, se = _wald(x_control, n_control, x_variant, n_variant)
    pooled = (x_control + x_variant) / (n_control + n_variant)
    se_null = np.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_variant))
    statistic = diff / se_null if se_null > 0 else 0.0
    low, high = wald_interval(diff, se, alpha, alternative)
    return Comparison(
        estimate=diff,
        se=se,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p_value_from_statistic(statistic, alternative),
        statistic=float(statistic),
        df=None,
        test="two-proportion z-test",
        measure="difference in proportions",
    )


def chi_square_test(
    x_control: int,
    n_control: int,
    x_variant: int,
    n_variant: int,
    alpha: float = 0.05,
    yates: bool = False,
    alternative: str = "two-sided",
) -> Comparison:
    """Pearson chi-square test of independence on the 2×2 table (two-sided only).

    Without Yates' correction the statistic is the square of the pooled z statistic. The
    estimate and CI are the z-test's: p_v − p_c with the unpooled Wald interval. With no
    successes or no failures in either arm the statistic is 0 and the p-value 1.
    """
    _check(x_control, n_control, x_variant, n_variant, alpha, alternative)
    if alternative != "two-sided":
        raise UserInputError(
            f"the chi-square test is two-sided only, got alternative {alternative!r}; "
            "use the z-test for a one-sided test."
        )
    statistic, p_value = 0.0, 1.0
    if 0 < x_control + x_variant < n_control + n_variant:
        statistic = _pearson(_table(x_control, n_control, x_variant, n_variant), yates)
        p_value = float(special.chdtrc(1, statistic))
    diff, se = _wald(x_control, n_control, x_variant, n_variant)
    low, high = wald_interval(diff, se, alpha, "two-sided")
    return Comparison(
        estimate=diff,
        se=se,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p_value),
        statistic=float(statistic),
        df=1.0,
        test="Pearson chi-square test" + (" (Yates)" if yates else ""),
        measure="difference in proportions",
    )


def chi_square_omnibus(successes: Sequence[int], totals: Sequence[int]) -> tuple[float, int, float]:
    """Chi-square test that all k arms share one rate, on the k×2 table: (statistic, df, p)."""
    x, n = np.asarray(successes), np.asarray(totals)
    if x.ndim != 1 or x.shape != n.shape or len(x) < 2:
        raise UserInputError(
            f"the omnibus test needs successes and totals for two or more arms, got {len(x)} "
            f"successes and {len(n)} totals."
        )
    for i, (x_i, n_i) in enumerate(zip(x, n, strict=True)):
        _check_arm(f"#{i + 1}", x_i, n_i)
    df = len(x) - 1
    if x.sum() in (0, n.sum()):
        return 0.0, df, 1.0
    statistic = _pearson(np.column_stack([x, n - x]), yates=False)
    return statistic, df, float(special.chdtrc(df, statistic))


# Pearson's statistic is written out rather than taken from `scipy.stats.chi2_contingency`:
# importing scipy.stats costs ~0.8 s, which was a third of a whole CLI run on 1.5M rows
# (measured with -X importtime); the tests check both agree.
def _pearson(table: np.ndarray, yates: bool) -> float:
    """Pearson's chi-square statistic of a two-way table with no empty margin.

    Yates' correction (2×2 only) shrinks each |observed − expected| by 0.5, never past zero.
    """
    table = np.asarray(table, dtype=float)
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    gap = np.abs(table - expected)
    if yates:
        gap = np.maximum(gap - 0.5, 0.0)
    return float((gap**2 / expected).sum())


def fisher_exact_test(
    x_control: int,
    n_control: int,
    x_variant: int,
    n_variant: int,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> Comparison:
    """Fisher's exact test, with the Newcombe hybrid-score CI for p_v − p_c.

    The p-value conditions on both margins (valid at any sample size, conservative because
    the conditional distribution is discrete). `se` is the Wald standard error, for reference;
    the CI is Newcombe's, which keeps its coverage for small counts. `statistic` and `extra`
    carry the conditional maximum-likelihood odds ratio and its exact conditional CI; when
    every margin of the table exceeds 2,000 (and no cell is 0) the exact CI is too slow to
    compute, and Woolf's (normal on the log sample odds ratio) is within about 0.1% of it, so
    that is reported instead, as `extra["odds_ratio_ci_method"]` says.
    """
    _check(x_control, n_control, x_variant, n_variant, alpha, alternative)
    from scipy import stats

    table = _table(x_control, n_control, x_variant, n_variant)
    _, p_value = stats.fisher_exact(table, alternative=alternative)
    diff, se = _wald(x_control, n_control, x_variant, n_variant)
    # A one-sided bound at 1 − alpha is one end of the two-sided interval at 1 − 2·alpha.
    two_sided = alternative == "two-sided"
    low, high = newcombe_interval(
        x_control, n_control, x_variant, n_variant, alpha if two_sided else 2 * alpha
    )
    if alternative == "greater":
        high = np.inf
    elif alternative == "less":
        low = -np.inf
    odds = stats.contingency.odds_ratio(table, kind="conditional")
    margins = np.r_[table.sum(0), table.sum(1)]
    exact = margins.min() <= _EXACT_ODDS_CI_MARGIN or (table == 0).any()
    kind = "conditional" if exact else "sample"
    odds_ci = stats.contingency.odds_ratio(table, kind=kind).confidence_interval(
        1 - alpha, alternative=alternative
    )
    return Comparison(
        estimate=diff,
        se=se,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p_value),
        statistic=float(odds.statistic),
        df=None,
        test="Fisher's exact test",
        measure="difference in proportions",
        extra={
            "odds_ratio": float(odds.statistic),
            "odds_ratio_ci_low": float(odds_ci.low),
            "odds_ratio_ci_high": float(odds_ci.high),
            "odds_ratio_ci_method": "exact conditional" if exact else "Woolf (log odds ratio)",
        },
    )


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval for one proportion."""
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


# statsmodels' `confint_proportions_2indep(..., method="newcomb")` gives the same interval
# (the tests check it); it is not called here because importing statsmodels.stats.proportion
# adds ~0.3 s to every run that uses Fisher's test, for a closed form of four lines.
def newcombe_interval(
    x_control: int, n_control: int, x_variant: int, n_variant: int, alpha: float = 0.05
) -> tuple[float, float]:
    """Newcombe's hybrid-score interval for p_v − p_c from two Wilson intervals (his method 10)."""
    z = special.ndtri(1 - alpha / 2)
    p_c, p_v = x_control / n_control, x_variant / n_variant
    l_c, u_c = _wilson(x_control, n_control, z)
    l_v, u_v = _wilson(x_variant, n_variant, z)
    diff = p_v - p_c
    low = diff - np.sqrt((p_v - l_v) ** 2 + (u_c - p_c) ** 2)
    high = diff + np.sqrt((u_v - p_v) ** 2 + (p_c - l_c) ** 2)
    return float(low), float(high)


def _strata(tables: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    """Strata as a (2, 2, K) array in statsmodels' layout, each as `_table` orders it."""
    counts = np.asarray(tables, dtype=float)
    if counts.ndim == 3 and counts.shape[1:] == (2, 2):  # rows control, variant
        counts = np.column_stack(
            [counts[:, 0, 0], counts[:, 0].sum(1), counts[:, 1, 0], counts[:, 1].sum(1)]
        )
    if counts.ndim != 2 or counts.shape[1] != 4 or len(counts) < 1:
        raise UserInputError(
            f"strata must be an array of shape (K, 2, 2) or rows (x_control, n_control, "
            f"x_variant, n_variant), got shape {np.shape(tables)}."
        )
    for k, (x_c, n_c, x_v, n_v) in enumerate(counts, start=1):
        _check_arm(f"control (stratum {k})", x_c, n_c)
        _check_arm(f"variant (stratum {k})", x_v, n_v)
    return np.stack([_table(*row) for row in counts], axis=-1)


def cmh_test(
    tables: np.ndarray | Sequence[Sequence[int]], alpha: float = 0.05, correction: bool = False
) -> Comparison:
    """Cochran–Mantel–Haenszel test of a common odds ratio of 1 across strata.

    `tables` is either rows ``(x_control, n_control, x_variant, n_variant)``, one per stratum,
    or an array of shape (K, 2, 2) whose stratum k is ``[[x_c, n_c − x_c], [x_v, n_v − x_v]]``
    (rows control, variant; columns successes, failures). Estimand: the odds ratio of success,
    variant against control, assumed common to all strata; estimated by Mantel–Haenszel with
    the Robins–Breslow–Greenland CI. The test is two-sided (chi-square, 1 df), with the
    continuity correction if `correction`. `extra` has the Breslow–Day test of homogeneous odds
    ratios (Agresti 2013, §6.4). Computed by statsmodels' `StratifiedTable`.
    """
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha must be strictly between 0 and 1, got {alpha} (e.g. 0.05).")
    from statsmodels.stats.contingency_tables import StratifiedTable

    stratified = StratifiedTable(_strata(tables))
    null = stratified.test_null_odds(correction=correction)
    low, high = stratified.oddsratio_pooled_confint(alpha=alpha)
    homogeneity = stratified.test_equal_odds()
    return Comparison(
        estimate=float(stratified.oddsratio_pooled),
        se=None,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(null.pvalue),
        statistic=float(null.statistic),
        df=1.0,
        test="Cochran–Mantel–Haenszel test",
        measure="Mantel–Haenszel odds ratio",
        extra={"breslow_day_p_value": float(homogeneity.pvalue)},
    )


def suggest_fisher(x_control: int, n_control: int, x_variant: int, n_variant: int) -> bool:
    """True when an expected count of the 2×2 table is below 5 (Cochran's rule)."""
    _check_arm("control", x_control, n_control)
    _check_arm("variant", x_variant, n_variant)
    n = n_control + n_variant
    successes = x_control + x_variant
    expected = np.outer([n_control, n_variant], [successes, n - successes]) / n
    return bool((expected < 5).any())

"""Two-arm tests of conversion rates from counts: z, chi-square, Fisher, Cochran–Mantel–Haenszel.

Arguments are successes and trials per arm, control first: ``x_control, n_control, x_variant,
n_variant``. The estimate is always the difference of proportions p_v − p_c; each test adds its
own p-value (and Fisher and CMH an odds ratio).

References: Agresti, *Categorical Data Analysis* (3rd ed., 2013), §3.1 and §6.4 (CMH);
Newcombe (1998), "Interval estimation for the difference between independent proportions",
Statistics in Medicine 17; Fleiss, Levin & Paik (2003).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError
from cerebro.experiments.comparison import Comparison, p_value_from_statistic, wald_interval

ALTERNATIVES = ("two-sided", "greater", "less")


def _check(x_c: int, n_c: int, x_v: int, n_v: int, alpha: float, alternative: str) -> None:
    for name, x, n in (("control", x_c, n_c), ("variant", x_v, n_v)):
        if n <= 0:
            raise UserInputError(f"the {name} arm has {n} units; every arm needs at least one.")
        if not 0 <= x <= n:
            raise UserInputError(
                f"the {name} arm has {x} successes out of {n}; successes must lie in [0, n]."
            )
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha must be strictly between 0 and 1, got {alpha} (e.g. 0.05).")
    if alternative not in ALTERNATIVES:
        raise UserInputError(
            f"alternative {alternative!r} is unknown; use one of {', '.join(ALTERNATIVES)}."
        )


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

    The pooled variance is the variance under H0: p_v = p_c (as statsmodels'
    `proportions_ztest`); the CI describes the difference where it is, so it uses each arm's
    own rate (Agresti 2013, §3.1.2).
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
) -> Comparison:
    """Pearson chi-square test of independence on the 2×2 table (two-sided only).

    Without Yates' correction the statistic is the square of the pooled z statistic.
    """
    _check(x_control, n_control, x_variant, n_variant, alpha, "two-sided")
    table = np.array([[x_variant, n_variant - x_variant], [x_control, n_control - x_control]])
    from scipy import stats  # imported where used: scipy.stats costs ~0.5 s to import

    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=yates)
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
    """Chi-square test that all k arms share one rate: (statistic, df, p-value)."""
    x, n = np.asarray(successes), np.asarray(totals)
    from scipy import stats

    statistic, p_value, df, _ = stats.chi2_contingency(
        np.column_stack([x, n - x]), correction=False
    )
    return float(statistic), int(df), float(p_value)


def fisher_exact_test(
    x_control: int,
    n_control: int,
    x_variant: int,
    n_variant: int,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> Comparison:
    """Fisher's exact test, with the Newcombe hybrid-score CI for p_v − p_c.

    The p-value conditions on both margins (exact for any sample size). Also reported: the
    conditional maximum-likelihood odds ratio with its exact CI.
    """
    _check(x_control, n_control, x_variant, n_variant, alpha, alternative)
    table = np.array([[x_variant, n_variant - x_variant], [x_control, n_control - x_control]])
    from scipy import stats

    _, p_value = stats.fisher_exact(table, alternative=alternative)
    diff, se = _wald(x_control, n_control, x_variant, n_variant)
    low, high = newcombe_interval(x_control, n_control, x_variant, n_variant, alpha)
    if alternative == "greater":
        low, high = (
            newcombe_interval(x_control, n_control, x_variant, n_variant, 2 * alpha)[0],
            np.inf,
        )
    elif alternative == "less":
        low, high = (
            -np.inf,
            newcombe_interval(x_control, n_control, x_variant, n_variant, 2 * alpha)[1],
        )
    odds = stats.contingency.odds_ratio(table, kind="conditional")
    ci = odds.confidence_interval(1 - alpha, alternative=alternative)
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
            "odds_ratio_ci_low": float(ci.low),
            "odds_ratio_ci_high": float(ci.high),
        },
    )


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def newcombe_interval(
    x_control: int, n_control: int, x_variant: int, n_variant: int, alpha: float = 0.05
) -> tuple[float, float]:
    """Newcombe's hybrid-score interval for p_v − p_c, from the two Wilson intervals (method 10)."""
    z = special.ndtri(1 - alpha / 2)
    p_c, p_v = x_control / n_control, x_variant / n_variant
    l_c, u_c = _wilson(x_control, n_control, z)
    l_v, u_v = _wilson(x_variant, n_variant, z)
    diff = p_v - p_c
    low = diff - np.sqrt((p_v - l_v) ** 2 + (u_c - p_c) ** 2)
    high = diff + np.sqrt((u_v - p_v) ** 2 + (p_c - l_c) ** 2)
    return float(low), float(high)


def cmh_test(
    tables: Sequence[tuple[int, int, int, int]], alpha: float = 0.05, correction: bool = False
) -> Comparison:
    """Cochran–Mantel–Haenszel test of a common odds ratio of 1 across strata.

    `tables` holds ``(x_control, n_control, x_variant, n_variant)`` per stratum. The estimate is
    the Mantel–Haenszel pooled odds ratio (variant vs control) with its Robins–Breslow–Greenland
    CI; `extra` has the Breslow–Day test of homogeneous odds ratios (Agresti 2013, §6.4).
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    arrays = []
    for x_c, n_c, x_v, n_v in tables:
        _check(x_c, n_c, x_v, n_v, alpha, "two-sided")
        arrays.append([[x_v, n_v - x_v], [x_c, n_c - x_c]])
    stratified = StratifiedTable(np.array(arrays, dtype=float).transpose(1, 2, 0))
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
    n = n_control + n_variant
    successes = x_control + x_variant
    expected = np.outer([n_control, n_variant], [successes, n - successes]) / n
    return bool((expected < 5).any())

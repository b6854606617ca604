"""Confidence intervals and p-values of Wald statistics: the one quantile source (scipy.special)
and the one meaning of `alpha` (the interval's level is 1 − alpha; one-sided intervals put all of
alpha in one tail) that every family uses.

scipy.special's distribution functions (taken through `cerebro.stats.special`, which skips the
public package's import) rather than scipy.stats: the same numbers (they are what
scipy.stats.t and .norm call), without scipy.stats' ~0.5 s import on every CLI start.
Reference: Casella & Berger (2002), *Statistical Inference*, §9.2 (Wald intervals) and §8.3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.stats import special


def normal_interval(value: Any, se: Any, alpha: float, crit: float | None = None) -> tuple:
    """(low, high, two-sided p) of value ± z·se, z the (1 − alpha/2) normal quantile or `crit`;
    p is NaN where se ≤ 0. Scalars give floats, arrays work elementwise."""
    z = special.ndtri(1 - alpha / 2) if crit is None else crit
    value, se = np.asarray(value, float), np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * special.ndtr(-np.abs(value) / se), np.nan)
    low, high = value - z * se, value + z * se
    if low.ndim == 0:
        return float(low), float(high), float(p)
    return low, high, p


def equal_tailed(draws: np.ndarray, alpha: float, axis: int = 0) -> tuple[Any, Any]:
    """The equal-tailed 1 − alpha interval (alpha/2 and 1 − alpha/2 quantiles) of posterior
    draws or bootstrap replicates along `axis`: floats for a 1-D input, arrays otherwise."""
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=axis)
    return low, high


def interval_from(
    value: float, se: float, alpha: float, replicates: np.ndarray | None = None
) -> tuple[float, float, float, float]:
    """(SE, CI low, CI high, p): analytic, or from bootstrap replicates (their SD and
    percentile limits; p from the normal approximation with the bootstrap SE)."""
    if replicates is None:
        return (se, *normal_interval(value, se, alpha))
    se_boot = float(np.std(replicates, ddof=1))
    low, high = equal_tailed(replicates, alpha)
    return se_boot, float(low), float(high), normal_interval(value, se_boot, alpha)[2]


def wald_interval(
    estimate: float, se: float, alpha: float, alternative: str, df: float | None = None
) -> tuple[float, float]:
    """Confidence interval estimate ± quantile × se, one- or two-sided, t (df) or normal."""
    q = quantile(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha, df)
    if alternative == "two-sided":
        return estimate - q * se, estimate + q * se
    if alternative == "greater":
        return estimate - q * se, np.inf
    return -np.inf, estimate + q * se


def p_value_from_statistic(statistic: float, alternative: str, df: float | None = None) -> float:
    """p-value of a t (df given) or z statistic for the alternative variant - control."""
    if alternative == "two-sided":
        return float(2 * cdf(-abs(statistic), df))
    if alternative == "greater":
        return float(cdf(-statistic, df))
    return float(cdf(statistic, df))


def cdf(x: float, df: float | None) -> float:
    """CDF of Student's t with `df` degrees of freedom, or of the standard normal if None."""
    return special.stdtr(df, x) if df is not None and np.isfinite(df) else special.ndtr(x)


def quantile(q: float, df: float | None) -> float:
    """Quantile of Student's t (`df`) or of the standard normal (None)."""
    return special.stdtrit(df, q) if df is not None and np.isfinite(df) else special.ndtri(q)


def welch_df(var_a: Any, n_a: Any, var_b: Any, n_b: Any) -> Any:
    """Welch–Satterthwaite degrees of freedom of a difference of two means, from the variances
    of the two means (s²/n) and the sample sizes; arrays work elementwise (Welch 1947)."""
    return (var_a + var_b) ** 2 / (var_a**2 / (n_a - 1) + var_b**2 / (n_b - 1))

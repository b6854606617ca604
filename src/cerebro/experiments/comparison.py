"""`Comparison`: the outcome of one variant-versus-control test, whatever the test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special


@dataclass
class Comparison:
    """One variant against the control on one metric.

    `estimate` is the effect on the scale named by `measure` (variant minus control for
    differences); `ci_low`/`ci_high` are at level 1 - alpha (one-sided tests give one infinite
    bound); `df` is None for normal-theory tests; `extra` carries test-specific numbers
    (e.g. the odds ratio and its CI for Fisher's test).
    """

    estimate: float
    se: float | None
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    df: float | None
    test: str
    measure: str
    extra: dict[str, Any] = field(default_factory=dict)


def wald_interval(
    estimate: float, se: float, alpha: float, alternative: str, df: float | None = None
) -> tuple[float, float]:
    """Confidence interval estimate ± quantile × se, one- or two-sided, t (df) or normal."""
    q = _quantile(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha, df)
    if alternative == "two-sided":
        return estimate - q * se, estimate + q * se
    if alternative == "greater":
        return estimate - q * se, np.inf
    return -np.inf, estimate + q * se


def p_value_from_statistic(statistic: float, alternative: str, df: float | None = None) -> float:
    """p-value of a t (df given) or z statistic for the alternative variant - control."""
    if alternative == "two-sided":
        return float(2 * _cdf(-abs(statistic), df))
    if alternative == "greater":
        return float(_cdf(-statistic, df))
    return float(_cdf(statistic, df))


# scipy.special's distribution functions rather than scipy.stats: the same numbers (they are
# what scipy.stats.t and .norm call), without scipy.stats' ~0.5 s import on every CLI start.
def _cdf(x: float, df: float | None) -> float:
    """CDF of Student's t with `df` degrees of freedom, or of the standard normal if None."""
    return special.stdtr(df, x) if df is not None and np.isfinite(df) else special.ndtr(x)


def _quantile(q: float, df: float | None) -> float:
    """Quantile of Student's t (`df`) or of the standard normal (None)."""
    return special.stdtrit(df, q) if df is not None and np.isfinite(df) else special.ndtri(q)

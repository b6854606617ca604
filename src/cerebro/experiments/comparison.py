"""`Comparison`: the outcome of one variant-versus-control test, whatever the test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats


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
    dist = stats.t(df) if df is not None and np.isfinite(df) else stats.norm()
    if alternative == "two-sided":
        q = dist.ppf(1 - alpha / 2)
        return estimate - q * se, estimate + q * se
    q = dist.ppf(1 - alpha)
    if alternative == "greater":
        return estimate - q * se, np.inf
    return -np.inf, estimate + q * se


def p_value_from_statistic(statistic: float, alternative: str, df: float | None = None) -> float:
    """p-value of a t (df given) or z statistic for the alternative variant - control."""
    dist = stats.t(df) if df is not None and np.isfinite(df) else stats.norm()
    if alternative == "two-sided":
        return float(2 * dist.sf(abs(statistic)))
    if alternative == "greater":
        return float(dist.sf(statistic))
    return float(dist.cdf(statistic))

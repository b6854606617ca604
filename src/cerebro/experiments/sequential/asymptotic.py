"""Asymptotic confidence sequences with GrowthBook's tuning: always-valid intervals and p-values
for an estimate that is approximately normal, and the power of a test read through them.

Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2023), "Time-uniform central limit theory and
asymptotic confidence sequences" (arXiv:2103.06476), give for a mean of n units with per-unit
variance s² the normal-mixture boundary

    half-width = s · √( 2(nρ² + 1)/(n²ρ²) · log(√(nρ² + 1)/α) ),

valid uniformly over n. ρ sets where the sequence is tightest; GrowthBook chooses it from a
"tuning parameter" N* (the sample at which the sequence should be narrowest):
ρ² = (−2 log α + log(−2 log α + 1))/N*. Applied to the relative lift, n counts the units of
both arms and s² = n · Var(lift) (the delta-method variance); the always-valid p-value is
1/E with the e-value E = exp(ρ² n t² / (2(nρ² + 1))) / √(nρ² + 1), t = lift/SE (their eq. 155,
as GrowthBook computes it). For planning, the sequence's half-width equals z_{1−α/2} × an
inflated standard error: Var is multiplied by `always_valid_factor`.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def tuning_rho2(alpha: float, tuning: float) -> float:
    """ρ² of the normal mixture whose sequence is tightest near `tuning` units (GrowthBook)."""
    a = -2 * np.log(alpha)
    return float((a + np.log(a + 1)) / tuning)


def half_width(
    se: np.ndarray | float, n: np.ndarray | float, alpha: float, tuning: float
) -> np.ndarray:
    """Half-width of the confidence sequence of an estimate with standard error `se` from `n`
    units (both arms together)."""
    r2, n = tuning_rho2(alpha, tuning), np.asarray(n, dtype=float)
    return np.asarray(se) * np.sqrt(
        2 * (n * r2 + 1) / (n * r2) * np.log(np.sqrt(n * r2 + 1) / alpha)
    )


def always_valid_p(
    estimate: np.ndarray | float, se: np.ndarray | float, n: np.ndarray | float, alpha: float,
    tuning: float,
) -> np.ndarray:  # fmt: skip
    """The sequence's p-value min(1, 1/E) at each look (not yet minimised over looks)."""
    r2, n = tuning_rho2(alpha, tuning), np.asarray(n, dtype=float)
    t2 = (np.asarray(estimate) / np.asarray(se)) ** 2
    log_e = r2 * n * t2 / (2 * (n * r2 + 1)) - 0.5 * np.log(n * r2 + 1)
    return np.minimum(1.0, np.exp(-log_e))


def always_valid_factor(n: np.ndarray | float, alpha: float, tuning: float) -> np.ndarray:
    """Factor on the variance of an estimate from `n` units that makes z_{1−α/2} × its SE the
    confidence sequence's half-width (two-sided); what planning an always-valid test needs."""
    z = special.ndtri(1 - alpha / 2)
    return (half_width(1.0, n, alpha, tuning) / z) ** 2

"""Two-arm comparisons of means and ratio metrics from `Moments`, with optional CUPED.

Each arm's moments hold the columns ``[numerator, denominator, covariate_1, …]``. A plain mean
is the ratio with a constant denominator of 1, so one code path serves means, ratio metrics
(delta method) and cluster-level data (numerator = cluster total, denominator = cluster size).

Estimand: the difference variant − control of the metric's mean (or ratio of means).
With covariates the metric is CUPED-adjusted, ``m_a = r_a − θᵀ(x̄_a − x̄)``, where θ is the
pooled within-arm regression slope of the (linearised) metric on the covariates – the ANCOVA
estimator, unbiased under randomisation. Variance modes:

- ``welch``: per-arm sample variances, Welch–Satterthwaite degrees of freedom.
- ``student``: pooled variance, n_c + n_v − 2 − k degrees of freedom; with covariates this is
  exactly the OLS (ANCOVA) standard error of the treatment coefficient.
- ``normal``: per-arm variances, normal reference (large-sample z; used for ratio metrics).
- ``cluster``: units are clusters; CR1 cluster-robust variance with Stata/statsmodels'
  small-sample factor G/(G−1)·(N−1)/(N−K) and G−1 degrees of freedom.

References: Deng, Xu, Kohavi & Walker (2013), "Improving the sensitivity of online controlled
experiments by utilizing pre-experiment data" (CUPED); Deng, Knoblich & Lu (2018), "Applying the
delta method in metric analytics"; Cameron & Miller (2015), "A practitioner's guide to
cluster-robust inference".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.experiments.comparison import Comparison
from cerebro.experiments.moments import Moments
from cerebro.stats.intervals import p_value_from_statistic, wald_interval, welch_df

VarianceMode = Literal["welch", "student", "normal", "cluster"]

_TEST_NAMES = {
    "welch": "Welch t-test",
    "student": "Student t-test",
    "normal": "z-test (normal approximation)",
    "cluster": "cluster-robust t-test (CR1)",
}


def no_variation(name: str) -> UserInputError:
    return UserInputError(
        f"{name} has no variation within the arms compared (each arm's values are all the "
        "same), so there is nothing to test; check the column."
    )


@dataclass(frozen=True)
class ArmEstimate:
    """The (adjusted) metric of one arm and the variance of that estimate."""

    n: float
    value: float
    raw: float
    variance: float


def _linearisation(m: Moments) -> tuple[float, np.ndarray]:
    """Ratio r = μ_num/μ_den and its gradient with respect to (μ_num, μ_den)."""
    mu_num, mu_den = m.mean[0], m.mean[1]
    if mu_den == 0:
        raise UserInputError(
            "the denominator of a ratio metric averages 0 in an arm; pick a denominator "
            "that is positive (e.g. sessions)."
        )
    r = mu_num / mu_den
    return r, np.array([1.0 / mu_den, -r / mu_den])


def _cuped_slope(
    control: Moments, variant: Moments, h_c: np.ndarray, h_v: np.ndarray
) -> np.ndarray:
    """Pooled within-arm slope θ of the linearised metric on the covariates."""
    within = control.comoment[2:, 2:] + variant.comoment[2:, 2:]
    cross = control.comoment[2:, :2] @ h_c + variant.comoment[2:, :2] @ h_v
    scale = np.sqrt(np.diag(within))
    if np.any(scale <= 0):
        raise UserInputError(
            "a covariate is constant within the arms compared, so CUPED cannot use it; "
            "drop it from --covariates."
        )
    # Solve on the correlation scale so that covariates in very different units stay stable.
    corr = within / np.outer(scale, scale)
    if np.linalg.cond(corr) > 1e10:
        raise UserInputError(
            "the covariates are collinear (one is a combination of the others); "
            "drop the redundant ones from --covariates."
        )
    return np.linalg.solve(corr, cross / scale) / scale


def compare_means(
    control: Moments,
    variant: Moments,
    *,
    mode: VarianceMode = "welch",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    rows: tuple[float, float] | None = None,
    name: str = "the outcome",
) -> tuple[Comparison, ArmEstimate, ArmEstimate]:
    """Compare the metric of `variant` with `control` (see the module docstring).

    `rows` (rows in control, rows in variant) is needed in ``cluster`` mode, where the
    moments describe clusters and the CR1 factor counts rows.
    """
    k = len(control.mean) - 2
    n_c, n_v = control.n, variant.n
    if min(n_c, n_v) < 2:
        raise UserInputError("each arm needs at least 2 units to estimate a variance.")
    r_c, h_c = _linearisation(control)
    r_v, h_v = _linearisation(variant)
    if k:
        theta = _cuped_slope(control, variant, h_c, h_v)
        x_c, x_v = control.mean[2:], variant.mean[2:]
        pooled = (n_c * x_c + n_v * x_v) / (n_c + n_v)
        value_c = r_c - theta @ (x_c - pooled)
        value_v = r_v - theta @ (x_v - pooled)
    else:
        theta = np.zeros(0)
        value_c, value_v = r_c, r_v
    g_c, g_v = np.concatenate([h_c, -theta]), np.concatenate([h_v, -theta])
    ss_c = float(g_c @ control.comoment @ g_c)
    ss_v = float(g_v @ variant.comoment @ g_v)
    diff = value_v - value_c
    if not (np.isfinite(ss_c) and np.isfinite(ss_v)):
        raise UserInputError(
            f"{name} has infinite or undefined values; remove or cap them before testing."
        )
    # A constant outcome has no noise to test against (and 0/0 below). Sums of many equal
    # values may leave a rounding residue, so spreads below 1e-12 of the level count as none.
    level = max(abs(r_c), abs(r_v))
    if not ss_c + ss_v > (n_c + n_v) * (1e-12 * level) ** 2:
        raise no_variation(name)

    df: float | None
    if mode == "student":
        df = n_c + n_v - 2 - k
        pooled_var = (ss_c + ss_v) / df
        leverage = 1 / n_c + 1 / n_v
        if k:
            d = variant.mean[2:] - control.mean[2:]
            within = control.comoment[2:, 2:] + variant.comoment[2:, 2:]
            leverage += float(d @ np.linalg.solve(within, d))
        se = float(np.sqrt(pooled_var * leverage))
        var_c, var_v = pooled_var / n_c, pooled_var / n_v
    elif mode == "cluster":
        if rows is None:
            raise ValueError("cluster mode needs the row counts of both arms")
        g = n_c + n_v
        n_rows = rows[0] + rows[1]
        factor = g / (g - 1) * (n_rows - 1) / (n_rows - 2 - k)
        var_c, var_v = factor * ss_c / n_c**2, factor * ss_v / n_v**2
        se = float(np.sqrt(var_c + var_v))
        df = g - 1
    else:
        var_c, var_v = ss_c / (n_c - 1) / n_c, ss_v / (n_v - 1) / n_v
        se = float(np.sqrt(var_c + var_v))
        df = welch_df(var_c, n_c, var_v, n_v) if mode == "welch" else None

    if not se > 0:
        raise no_variation(name)
    statistic = diff / se
    ci_low, ci_high = wald_interval(diff, se, alpha, alternative, df)
    extra: dict[str, float | list[float]] = {}
    if k:
        # Variance reduction compares the same per-arm variance formula with and without θ.
        def per_arm(sc: float, sv: float) -> float:
            return sc / (n_c - 1) / n_c + sv / (n_v - 1) / n_v

        h_only_c = np.concatenate([h_c, np.zeros(k)])
        h_only_v = np.concatenate([h_v, np.zeros(k)])
        unadjusted = per_arm(
            float(h_only_c @ control.comoment @ h_only_c),
            float(h_only_v @ variant.comoment @ h_only_v),
        )
        extra["variance_reduction"] = float(1 - per_arm(ss_c, ss_v) / unadjusted)
        extra["cuped_theta"] = [float(t) for t in theta]
    comparison = Comparison(
        estimate=float(diff),
        se=se,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        p_value=p_value_from_statistic(statistic, alternative, df),
        statistic=float(statistic),
        df=None if df is None else float(df),
        test=_TEST_NAMES[mode] + (" with CUPED" if k else ""),
        measure="difference",
        extra=extra,
    )
    return (
        comparison,
        ArmEstimate(n_c, float(value_c), float(r_c), float(var_c)),
        ArmEstimate(n_v, float(value_v), float(r_v), float(var_v)),
    )


def relative_lift(
    control: ArmEstimate,
    variant: ArmEstimate,
    alpha: float,
    alternative: str,
    df: float | None = None,
) -> tuple[float, float, float, float, float]:
    """Relative lift (m_v − m_c)/m_c with its delta-method SE, CI and p-value (independent arms).

    Var ≈ Var(m_v)/m_c² + m_v²·Var(m_c)/m_c⁴ (Deng, Knoblich & Lu 2018, section 3). The p-value
    tests a relative lift of 0 with the same statistic and degrees of freedom as the interval,
    as GrowthBook reports it (lift/SE against Student's t with the absolute test's df); it can
    differ from the absolute test's p-value because the ratio's SE also carries the control
    mean's noise.
    Returns (lift, se, ci_low, ci_high, p_value); NaNs when the control metric is 0.
    """
    if control.value == 0:
        return (np.nan,) * 5  # type: ignore[return-value]
    lift = variant.value / control.value - 1
    var = (
        variant.variance / control.value**2 + variant.value**2 * control.variance / control.value**4
    )
    se = float(np.sqrt(var))
    low, high = wald_interval(lift, se, alpha, alternative, df)
    p_value = p_value_from_statistic(lift / se, alternative, df) if se > 0 else np.nan
    return float(lift), se, float(low), float(high), float(p_value)

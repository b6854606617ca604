"""Sensitivity of an effect estimate to an unobserved confounder Z: omitted-variable bias.

**Linear model** (Cinelli & Hazlett 2020, "Making sense of sensitivity: extending omitted
variable bias", JRSS-B 82(1)). The outcome regression Y ~ D + X gives the estimate τ̂ of D with
its classical SE and residual degrees of freedom `dof`. A confounder Z that explains a share
R²_{D~Z|X} (`r2dz`) of the treatment's residual variance and R²_{Y~Z|D,X} (`r2yz`) of the
outcome's moves the estimate by at most

    |bias| = se · √(dof) · √(r2yz · r2dz / (1 − r2dz)),

and the SE of the regression that includes Z is se · √((1 − r2yz)/(1 − r2dz)) · √(dof/(dof − 1)).
The robustness value RV_q is the equal strength r2dz = r2yz that removes a share q of the
estimate; RV_{q,α} the equal strength at which the (1 − α) interval first reaches (1 − q)·τ̂.
A benchmark covariate Xj with partial R² r2dxj (with D given the other X) and r2yxj (with Y
given D and the other X) bounds a confounder `kd` / `ky` times as strong (their §6.1).

**Any AIPW/DML estimate** (Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis 2022, "Long story
short: omitted variable bias in causal machine learning", NBER w30302). With σ² = E[(Y − g)²]
the outcome model's residual variance and ν² = E[α²] that of the Riesz representer α (for the
ATE, α = D/e − (1 − D)/(1 − e)), a confounder whose gain in explained variance is Cf_Y for the
outcome and Cf_D for the Riesz representer moves θ by at most |ρ| · √(Cf_Y · Cf_D/(1 − Cf_D)) · σν;
the confidence bounds add the one-sided normal quantile times the SE of each bound, from the
influence functions of θ, σ² and ν² (as DoubleML computes them). An observed covariate Xj is a
benchmark (their benchmarking by "gain statistics"): refit without it and measure the explained variance
it adds, Cf_Y,j = (σ²_short − σ²_long)/σ²_long for the outcome and Cf_D,j = (ν²_long −
ν²_short)/ν²_short for the Riesz representer; a confounder `kd` (`ky`) times as strong has
Cf_D = kd·Cf_D,j and Cf_Y = ky·Cf_Y,j.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from cerebro.stats.intervals import quantile


def partial_r2(t: float, dof: float) -> float:
    """Share of the outcome's residual variance a regressor explains: t²/(t² + dof)."""
    return float(t**2 / (t**2 + dof))


def robustness_value(t: float, dof: float, q: float = 1.0, alpha: float | None = None,
                     se_ratio: float = 1.0) -> float:  # fmt: skip
    """RV_q (alpha None) or RV_{q,alpha} of an estimate with classical t-statistic `t`.

    `se_ratio` is the reported SE over the classical one (1 for the classical SE that sensemakr
    uses; a robust SE scales the critical value f_crit by it, which is exact because the SE of
    the regression with Z scales by the same factor √((1 − r2yz)/(1 − r2dz)) under both).
    """
    fq = q * abs(t) / np.sqrt(dof)
    if alpha is None:
        return float(0.5 * (np.sqrt(fq**4 + 4 * fq**2) - fq**2))
    f_crit = se_ratio * abs(quantile(alpha / 2, dof - 1)) / np.sqrt(dof - 1)
    fqa = fq - f_crit
    if fqa <= 0:
        return 0.0
    if fq > 1 / f_crit:  # the interval reaches the target only with r2yz = 1 (their §4.2)
        return float((fq**2 - f_crit**2) / (1 + fq**2))
    return float(0.5 * (np.sqrt(fqa**4 + 4 * fqa**2) - fqa**2))


@dataclass(frozen=True)
class Adjusted:
    """The estimate and interval of the regression that would include a confounder Z."""

    r2dz: float
    r2yz: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float


def bias_adjusted(estimate: float, se: float, dof: float, r2dz: float, r2yz: float,
                  alpha: float, se_ratio: float = 1.0) -> Adjusted:  # fmt: skip
    """The estimate moved towards zero by the largest bias of a confounder (r2dz, r2yz), its
    SE and t(dof − 1) interval. `se` is the classical SE (it measures sd(Y⊥)/sd(D⊥)/√dof);
    `se_ratio` scales the reported SE (robust / classical)."""
    bias = se * np.sqrt(dof) * np.sqrt(r2yz * r2dz / (1 - r2dz))
    value = estimate - np.sign(estimate) * bias
    new_se = se_ratio * se * np.sqrt((1 - r2yz) / (1 - r2dz)) * np.sqrt(dof / (dof - 1))
    half = quantile(1 - alpha / 2, dof - 1) * new_se
    return Adjusted(r2dz, r2yz, float(value), float(new_se), float(value - half),
                    float(value + half))  # fmt: skip


def benchmark_strength(r2dxj: float, r2yxj: float, kd: float, ky: float) -> tuple[float, float]:
    """(r2dz, r2yz) of a confounder `kd` times as strong as covariate Xj with the treatment and
    `ky` times with the outcome (Cinelli & Hazlett 2020, §6.1 and their eq. 13 for r2yz, which
    accounts for Z being orthogonal to Xj). Raises ValueError when kd is impossible."""
    r2dz = kd * r2dxj / (1 - r2dxj)
    if r2dz >= 1:
        raise ValueError(f"kd = {kd:g} implies a confounder explaining all of the treatment")
    r2zxj = kd * r2dxj**2 / ((1 - kd * r2dxj) * (1 - r2dxj))
    if r2zxj >= 1:
        raise ValueError(f"kd = {kd:g} is impossible for this benchmark")
    r2yz = ((np.sqrt(ky) + np.sqrt(r2zxj)) / np.sqrt(1 - r2zxj)) ** 2 * r2yxj / (1 - r2yxj)
    return float(r2dz), float(min(r2yz, 1.0))


def group_partial_r2(rss_without: float, rss_with: float) -> float:
    """Partial R² of a group of regressors: the share of the residual sum of squares without
    them that they remove (equal to t²/(t² + dof) for one regressor)."""
    return float((rss_without - rss_with) / rss_without)


@dataclass(frozen=True)
class RieszElements:
    """What the long-story-short bounds need from an AIPW/DML fit: θ, its influence function
    ψ_θ (variance Σψ²/n²), σ² and ν² with their influence functions."""

    theta: float
    psi_theta: np.ndarray
    sigma2: float
    psi_sigma2: np.ndarray
    nu2: float
    psi_nu2: np.ndarray


def riesz_elements_ate(y: np.ndarray, a: np.ndarray, e: np.ndarray, g0: np.ndarray,
                       g1: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:  # fmt: skip
    """σ² and ν² of the ATE with their influence functions, from the propensity e and the
    outcome models g0, g1: α = a/e − (1 − a)/(1 − e), m(W; α) = 1/e + 1/(1 − e)
    (Chernozhukov et al. 2022, §3; DoubleML's IRM)."""
    residual = y - np.where(a == 1, g1, g0)
    riesz = a / e - (1 - a) / (1 - e)
    m_alpha = 1 / e + 1 / (1 - e)
    sigma2 = float(np.mean(residual**2))
    nu2 = float(np.mean(2 * m_alpha - riesz**2))
    return {
        "sigma2": (sigma2, residual**2 - sigma2),
        "nu2": (nu2, 2 * m_alpha - riesz**2 - nu2),
    }


@dataclass(frozen=True)
class Bounds:
    """θ's bounds under confounding of strength (cf_y, cf_d) and their confidence bounds."""

    cf_y: float
    cf_d: float
    lower: float
    upper: float
    ci_low: float
    ci_high: float
    bias: float


def dml_bounds(el: RieszElements, cf_y: float, cf_d: float, alpha: float,
               rho: float = 1.0) -> Bounds:  # fmt: skip
    """θ ∓ |ρ|·√(cf_y·cf_d/(1 − cf_d))·σν and the one-sided (1 − alpha) confidence bounds from the
    influence functions of θ, σ² and ν² (as DoubleML's `sensitivity_analysis` with
    level = 1 − alpha)."""
    n = len(el.psi_theta)
    strength = abs(rho) * np.sqrt(cf_y * cf_d / (1 - cf_d))
    S = np.sqrt(max(el.sigma2 * el.nu2, 0.0))
    bias = strength * S
    psi_S = (el.nu2 * el.psi_sigma2 + el.sigma2 * el.psi_nu2) / (2 * S) if S > 0 else 0.0
    z = special.ndtri(1 - alpha)
    se_low = np.sqrt(np.sum((el.psi_theta - strength * psi_S) ** 2)) / n
    se_high = np.sqrt(np.sum((el.psi_theta + strength * psi_S) ** 2)) / n
    lower, upper = el.theta - bias, el.theta + bias
    return Bounds(cf_y, cf_d, float(lower), float(upper), float(lower - z * se_low),
                  float(upper + z * se_high), float(bias))  # fmt: skip


@dataclass(frozen=True)
class DMLBenchmark:
    """What dropping a covariate Xj does to an AIPW/DML fit (Chernozhukov et al. 2022)."""

    cf_y: float  # share of the long model's residual outcome variance Xj explains
    cf_d: float  # gain in the Riesz representer's variance, relative to the short model's
    rho: float  # Δθ over its largest value √(Δσ²·Δν²), clipped to [−1, 1] (1 if no gain)
    delta_theta: float  # θ_short − θ_long


def dml_benchmark(long: RieszElements, short: RieszElements) -> DMLBenchmark:
    """The gain statistics of a benchmark covariate: `long` is the fit with it, `short` the refit
    without it (same folds, same learners). The nonparametric R² of the outcome model is
    1 − σ²/Var(Y), so Cf_Y = (R²_long − R²_short)/(1 − R²_long) = (σ²_s − σ²_l)/σ²_l (Var(Y)
    cancels); the Riesz representer's is ν²_s/ν²_l, so Cf_D = (ν²_l − ν²_s)/ν²_s. Both are
    clipped to [0, 1] (a covariate whose removal lowers σ² or raises ν² – noise in a flexible
    fit – adds nothing), as DoubleML's `gain_statistics`."""
    gain_y, gain_d = short.sigma2 - long.sigma2, long.nu2 - short.nu2
    cf_y = float(np.clip(gain_y / long.sigma2, 0.0, 1.0))
    cf_d = float(np.clip(gain_d / short.nu2, 0.0, 1.0))
    delta = short.theta - long.theta
    scale = np.sqrt(gain_y * gain_d) if gain_y > 0 and gain_d > 0 else 0.0
    rho = min(abs(delta) / scale, 1.0) if scale > 0 else 1.0
    return DMLBenchmark(cf_y, cf_d, float(np.sign(delta) * rho), float(delta))


def dml_benchmark_strengths(name: str, bench: DMLBenchmark, kd: list[float],
                            ky: list[float]) -> list[tuple[str, float, float]]:  # fmt: skip
    """(label, cf_d, cf_y) of confounders kd/ky times as strong as the benchmark `name`.
    Raises ValueError when kd·Cf_D,j reaches 1 (a confounder explaining all of the Riesz
    representer); Cf_Y is capped at 1, as R²_Y of the linear benchmark."""
    out = []
    for kd_i, ky_i in zip(kd, ky, strict=True):
        cf_d = kd_i * bench.cf_d
        if cf_d >= 1:
            raise ValueError(
                f"kd = {kd_i:g} times {name}'s Cf_D = {bench.cf_d:.3g} reaches 1 (a confounder "
                "explaining all of the Riesz representer)"
            )
        label = f"{kd_i:g}x {name}" if kd_i == ky_i else f"{kd_i:g}x/{ky_i:g}x {name}"
        out.append((label, float(cf_d), float(min(ky_i * bench.cf_y, 1.0))))
    return out


def dml_robustness_value(el: RieszElements, alpha: float | None = None, null: float = 0.0) -> float:
    """The equal strength cf_y = cf_d at which the bound (alpha None) or its confidence bound
    first reaches `null` (0 when the estimate's own interval already does)."""

    def gap(r: float) -> float:
        b = dml_bounds(el, r, r, alpha or 0.5)
        if el.theta >= null:
            return (b.lower if alpha is None else b.ci_low) - null
        return null - (b.upper if alpha is None else b.ci_high)

    if gap(0.0) <= 0:
        return 0.0
    lo, hi = 0.0, 1.0 - 1e-12
    if gap(hi) > 0:
        return 1.0
    for _ in range(80):  # bisection: gap decreases in r
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
    return float(0.5 * (lo + hi))

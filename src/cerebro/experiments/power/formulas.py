"""Power, sample size and minimum detectable effect for two-arm comparisons (pure numerics).

Every function here is about one comparison: a variant against the control, with
``n_variant = ratio × n_control``. Sample sizes are per control group and *exact* (real
numbers that solve the power equation); callers round them up. Nothing here prints, reads
files or knows about specs – `cerebro.experiments.power.analysis` builds the user-facing
result on top.

Test statistics and their power (δ the true difference variant − control, n = n_control):

* Normal approximation, heterogeneous variances. The test rejects when
  |D̂| > z·σ₀/√n, where σ₀²/n is the variance of D̂ under the null; under the alternative
  D̂ ~ N(δ, σ₁²/n). Power (two-sided) is
  Φ((δ√n − z_{1−α/2} σ₀)/σ₁) + Φ((−δ√n − z_{1−α/2} σ₀)/σ₁),
  one-sided keeps the tail in the tested direction with z_{1−α}. With both tails this is
  `statsmodels.stats.power.normal_power_het`.
* Proportions, ``pooled`` (default): σ₀² = p̄q̄(1 + 1/r) with p̄ = (p_c + r p_v)/(1 + r),
  σ₁² = p_c q_c + p_v q_v / r – the pooled two-proportion z-test (Fleiss, Levin & Paik,
  *Statistical Methods for Rates and Proportions*, 3rd ed., 2003, ch. 4, without continuity
  correction; `statsmodels.stats.proportion.power_proportions_2indep`).
* Proportions, ``unpooled``: σ₀ = σ₁ = √(p_c q_c + p_v q_v / r) (Chow, Shao & Wang,
  *Sample Size Calculations in Clinical Research*, 2nd ed., 2008, §4.2).
* Proportions, ``arcsine``: Cohen's h = 2 asin√p_v − 2 asin√p_c with σ₀ = σ₁ = √(1 + 1/r)
  (Cohen, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., 1988, ch. 6;
  `NormalIndPower` with `proportion_effectsize`).
* Proportions, ``evan_miller``: σ₀ = √(p_c q_c (1 + 1/r)) (the control's variance in both arms
  under the null), σ₁ as unpooled, and only the tail in the effect's direction – Evan Miller's
  sample-size calculator (evanmiller.org, "Sample Size Calculator"; his closed form
  ((z_{1−α/2} σ₀ + z_{1−β} σ₁)/δ)² is what the solver then returns exactly).
* Means, ``normal``: σ₀ = σ₁ = σ√(1 + 1/r) (z-test, known variance).
* Means, ``delta``: the z-test of the *relative* lift δ/m (m the control mean, `baseline`) with
  its delta-method variance σ²/(m² n_v) + σ² (m + δ)²/(m⁴ n_c), evaluated at the alternative
  under both hypotheses – GrowthBook's power calculator (packages' `powerEst`, `findMde`). In
  units of the absolute difference, σ₀ = σ₁ = σ√(1/r + (1 + δ/m)²).
* Means, ``t`` (default for means): Student's two-sample t-test with a common σ; the statistic
  is noncentral t with df = n_c + n_v − 2 and noncentrality (δ/σ)√(n_c n_v/(n_c + n_v))
  (Chow, Shao & Wang §3.2; statsmodels `TTestIndPower`).

CUPED (Deng, Xu, Kohavi & Walker 2013) with pre-period correlation ρ leaves the estimand
unchanged and multiplies the outcome variance by ``variance_factor = 1 − ρ²``; for the normal
formulas this divides the required n by exactly 1 − ρ².
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Alternative = Literal["two-sided", "greater", "less"]
ProportionFormula = Literal["pooled", "unpooled", "arcsine", "evan_miller"]
MeanFormula = Literal["t", "normal", "delta"]

_RTOL = 1e-12


def critical_z(alpha: float, alternative: str) -> float:
    """z_{1−α/2} for a two-sided test, z_{1−α} for a one-sided one."""
    from scipy import stats  # imported where used (import cost)

    return float(stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha))


def normal_power(
    shift: np.ndarray | float,
    std_null: np.ndarray | float,
    std_alt: np.ndarray | float,
    alpha: float,
    alternative: str,
    far_tail: bool = True,
) -> np.ndarray | float:
    """Power of a z-test whose statistic is D̂/(σ₀/√n) when D̂ ~ N(δ, σ₁²/n).

    `shift` is δ√n; `std_null` and `std_alt` are σ₀ and σ₁. Both tails count for a two-sided
    test (the far tail is tiny unless δ is close to 0); without `far_tail` only the tail in the
    direction of δ does, as in the textbook closed form.
    """
    from scipy import stats  # imported where used (import cost)

    crit = critical_z(alpha, alternative)
    shift, std_null, std_alt = np.asarray(shift), np.asarray(std_null), np.asarray(std_alt)
    if not far_tail and alternative == "two-sided":
        return normal_power(np.abs(shift), std_null, std_alt, alpha / 2, "greater")
    power = np.zeros(np.broadcast(shift, std_null, std_alt).shape)
    if alternative in ("two-sided", "greater"):
        power = power + stats.norm.sf((crit * std_null - shift) / std_alt)
    if alternative in ("two-sided", "less"):
        power = power + stats.norm.cdf((-crit * std_null - shift) / std_alt)
    return power[()] if power.ndim == 0 else power


def t_power(
    d: np.ndarray | float,
    n_control: np.ndarray | float,
    ratio: float,
    alpha: float,
    alternative: str,
    one_sample: bool = False,
) -> np.ndarray | float:
    """Power of Student's two-sample t-test for a standardised difference d = δ/σ; with
    `one_sample`, of the one-sample t-test of n_control units (df n − 1, noncentrality d√n)."""
    from scipy import stats  # imported where used (import cost)

    n_control = np.asarray(n_control, dtype=float)
    if one_sample:
        df, nc = n_control - 1, np.asarray(d) * np.sqrt(n_control)
    else:
        n_variant = ratio * n_control
        df = n_control + n_variant - 2
        nc = np.asarray(d) * np.sqrt(n_control * n_variant / (n_control + n_variant))
    # P(T ≤ −c) is computed as P(T' ≥ c) with T' = −T ~ nct(df, −nc): scipy's nct.cdf returns
    # nan far in the lower tail, its sf does not.
    power = np.zeros(np.broadcast(nc, df).shape)
    if alternative == "two-sided":
        crit = stats.t.isf(alpha / 2, df)
        power = power + stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc)
    elif alternative == "greater":
        power = power + stats.nct.sf(stats.t.isf(alpha, df), df, nc)
    else:
        power = power + stats.nct.sf(stats.t.isf(alpha, df), df, -nc)
    return power[()] if power.ndim == 0 else power


@dataclass(frozen=True)
class Design:
    """What every calculation shares: test level, sidedness, allocation and CUPED factor.

    `alpha` is the level of one comparison (already divided for multiplicity);
    `ratio` is n_variant / n_control; `variance_factor` is 1 − ρ² with CUPED, else 1;
    `one_sample`: one mean against a known value (the means formulas only; n is that sample's).
    """

    alpha: float = 0.05
    alternative: Alternative = "two-sided"
    ratio: float = 1.0
    variance_factor: float = 1.0
    one_sample: bool = False
    # GrowthBook's tuning N* of an always-valid test: variances grow by `always_valid_factor`
    tuning: float | None = None

    def mean_std(self, sd: float) -> float:
        """√n × the standard error of the estimated difference (or of the one-sample mean)."""
        groups = 1.0 if self.one_sample else 1 + 1 / self.ratio
        return sd * math.sqrt(self.variance_factor * groups)


def proportion_stds(
    p_control: float,
    p_variant: np.ndarray | float,
    ratio: float,
    formula: ProportionFormula,
) -> tuple[np.ndarray | float, np.ndarray | float, np.ndarray | float]:
    """(effect, σ₀, σ₁) per √n_control for the chosen proportion formula."""
    p_v = np.asarray(p_variant, dtype=float)
    q_c = 1 - p_control
    if formula == "arcsine":
        h = 2 * np.arcsin(np.sqrt(p_v)) - 2 * np.arcsin(math.sqrt(p_control))
        std = math.sqrt(1 + 1 / ratio)
        return h, std, std
    alt = np.sqrt(p_control * q_c + p_v * (1 - p_v) / ratio)
    if formula == "unpooled":
        return p_v - p_control, alt, alt
    if formula == "evan_miller":
        return p_v - p_control, np.sqrt(p_control * q_c * (1 + 1 / ratio)), alt
    pooled = (p_control + ratio * p_v) / (1 + ratio)
    null = np.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
    return p_v - p_control, null, alt


def power_proportions(
    n_control: np.ndarray | float,
    p_control: float,
    p_variant: np.ndarray | float,
    design: Design,
    formula: ProportionFormula = "pooled",
) -> np.ndarray | float:
    """Power to detect p_control → p_variant with n_control users in the control arm."""
    effect, std_null, std_alt = proportion_stds(p_control, p_variant, design.ratio, formula)
    scale = math.sqrt(design.variance_factor)
    shift = np.asarray(effect) * np.sqrt(np.asarray(n_control, dtype=float))
    return normal_power(
        shift,
        np.asarray(std_null) * scale,
        np.asarray(std_alt) * scale,
        design.alpha,
        design.alternative,
        far_tail=formula != "evan_miller",
    )


def power_means(
    n_control: np.ndarray | float,
    diff: np.ndarray | float,
    sd: float,
    design: Design,
    formula: MeanFormula = "t",
    baseline: float | None = None,
) -> np.ndarray | float:
    """Power to detect a difference `diff` in means (common standard deviation `sd`); the
    ``delta`` formula tests the relative lift diff/baseline (`baseline` the control mean)."""
    sd_eff = sd * math.sqrt(design.variance_factor)
    if formula == "t":
        d = np.asarray(diff) / sd_eff
        return t_power(
            d, n_control, design.ratio, design.alpha, design.alternative, design.one_sample
        )
    if formula == "delta":
        assert baseline is not None
        std = sd_eff * np.sqrt(1 / design.ratio + (1 + np.asarray(diff) / baseline) ** 2)
    else:
        std = design.mean_std(sd)
    if design.tuning is not None:
        from cerebro.experiments.sequential.asymptotic import always_valid_factor

        units = np.asarray(n_control, dtype=float) * (1 + design.ratio)
        std = std * np.sqrt(always_valid_factor(units, design.alpha, design.tuning))
    shift = np.asarray(diff) * np.sqrt(np.asarray(n_control, dtype=float))
    return normal_power(shift, std, std, design.alpha, design.alternative)


def _solve_increasing(
    func: Callable[[float], float], target: float, low: float, high: float, limit: float
) -> float:
    """The x in [low, limit] where the increasing `func` reaches `target` (nan if it never does).

    `high` is a first guess for the upper end of the bracket; it doubles until it brackets.
    """
    from scipy import optimize  # imported where used (import cost)

    if func(low) >= target:
        return low
    high = min(max(high, low * 2), limit)
    while func(high) < target:
        if high >= limit:
            return math.nan
        low, high = high, min(high * 2, limit)
    return float(optimize.brentq(lambda x: func(x) - target, low, high, xtol=1e-12, rtol=_RTOL))


def min_n_control(ratio: float, formula: str) -> float:
    """Smallest control-arm size the power functions accept (the t-test needs df ≥ 1)."""
    return 3 / (1 + ratio) if formula == "t" else 1e-9


def _n_for_power(
    power_at: Callable[[float], float],
    power: float,
    design: Design,
    formula: str,
    effect: float,
    std_null: float,
    std_alt: float,
) -> float:
    """The control-arm n at which the increasing `power_at` reaches `power`.

    The search starts at the smallest n the test accepts and is bracketed from the one-tail
    closed form ((z_α σ₀ + z_β σ₁)/δ)², the usual textbook formula, which is close but ignores
    the other tail and the t distribution.
    """
    from scipy import stats  # imported where used (import cost)

    z_alpha = critical_z(design.alpha, design.alternative)
    guess = ((z_alpha * std_null + stats.norm.ppf(power) * std_alt) / effect) ** 2
    return _solve_increasing(power_at, power, min_n_control(design.ratio, formula), guess, 1e15)


def sample_size_proportions(
    p_control: float,
    p_variant: float,
    power: float,
    design: Design,
    formula: ProportionFormula = "pooled",
) -> float:
    """Exact (unrounded) control-arm n at which the test reaches `power`."""
    effect, std_null, std_alt = proportion_stds(p_control, p_variant, design.ratio, formula)
    scale = math.sqrt(design.variance_factor)
    return _n_for_power(
        lambda n: float(power_proportions(n, p_control, p_variant, design, formula)),
        power,
        design,
        formula,
        abs(float(effect)),
        float(std_null) * scale,
        float(std_alt) * scale,
    )


def sample_size_means(
    diff: float,
    sd: float,
    power: float,
    design: Design,
    formula: MeanFormula = "t",
    baseline: float | None = None,
) -> float:
    """Exact (unrounded) control-arm n at which the test of a mean difference reaches `power`."""
    std = design.mean_std(sd)

    def power_at(n: float) -> float:
        return float(power_means(n, diff, sd, design, formula, baseline))

    return _n_for_power(power_at, power, design, formula, abs(diff), std, std)


def direction(alternative: str) -> int:
    """+1 when the detectable effect is an increase (two-sided, greater), −1 for `less`."""
    return -1 if alternative == "less" else 1


def mde_proportions(
    n_control: float,
    p_control: float,
    power: float,
    design: Design,
    formula: ProportionFormula = "pooled",
) -> float:
    """Smallest change p_variant − p_control detected with `power` (nan if none is).

    An increase for two-sided and `greater` tests, a decrease for `less`.
    """
    sign = direction(design.alternative)
    room = (1 - p_control) if sign > 0 else p_control

    def power_at(change: float) -> float:
        return float(
            power_proportions(n_control, p_control, p_control + sign * change, design, formula)
        )

    change = _solve_increasing(power_at, power, room * 1e-12, room * 1e-3, room)
    return sign * change


def mde_means(
    n_control: float,
    sd: float,
    power: float,
    design: Design,
    formula: MeanFormula = "t",
    baseline: float | None = None,
) -> float:
    """Smallest mean difference detected with `power` (positive unless the test is `less`)."""
    from scipy import stats  # imported where used (import cost)

    sign = direction(design.alternative)
    std = design.mean_std(sd)
    z_alpha = critical_z(design.alpha, design.alternative)
    guess = (z_alpha + stats.norm.ppf(power)) * std / math.sqrt(n_control)

    def power_at(change: float) -> float:
        return float(power_means(n_control, sign * change, sd, design, formula, baseline))

    change = _solve_increasing(power_at, power, guess * 1e-9, guess, guess * 1e12)
    return sign * change

"""Conjugate Bayesian A/B/n analysis: posteriors, lifts, P(beat control), P(best), expected loss.

Models (Gelman et al., *Bayesian Data Analysis*, 3rd ed., 2013, §2.4 and §3.3):

- conversions: θ_arm ~ Beta(a, b) a priori (default Beta(1, 1)), so θ_arm | data ~
  Beta(a + successes, b + failures);
- continuous metrics: y ~ Normal(μ_arm, σ²_arm) with a Normal–Inverse-Gamma prior
  NIG(μ0, κ0, α0, β0); the marginal posterior of μ_arm is a Student t with 2·α_n degrees of
  freedom, centre μ_n and scale² β_n / (α_n κ_n). The default is the reference prior
  p(μ, σ²) ∝ 1/σ² (κ0 = 0, α0 = −½, β0 = 0), whose posterior is t_{n−1}(ȳ, s²/n) – the answer
  every user can check by hand. Arms have their own variances (no pooling).

Estimands, per variant v against the control c: the lift θ_v − θ_c and the relative lift
θ_v/θ_c − 1 (posterior mean and equal-tailed credible interval), P(θ_v > θ_c), and the expected
loss of shipping the variant E[max(θ_c − θ_v, 0)] (and of keeping the control E[max(θ_v −
θ_c, 0)]); across all arms, P(arm is best) and E[max_j θ_j − θ_i] (Stucchio 2015, "Bayesian A/B
testing at VWO"). Higher is better.

Exact versus Monte Carlo: P(beat), P(best), the expected losses and every posterior mean and
interval of a single arm are one-dimensional integrals or closed forms, computed by composite
Gauss–Legendre quadrature to ~1e-10 (`tests/test_bayes.py` checks them against Evan Miller's
exact sum and scipy). Intervals of the absolute and relative lift have no closed form: they come
from seeded Monte Carlo draws, each reported with its Monte Carlo standard error (batch means).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.stats import special


@functools.cache
def _gauss_legendre() -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre: 48 nodes on each piece between breakpoints placed at quantiles
    of every posterior, so that narrow and wide posteriors are both resolved. Made on first use:
    `numpy.polynomial` and the eigenvalue solve cost ≈ 6 ms on every start-up otherwise."""
    return np.polynomial.legendre.leggauss(48)


_BREAKS = np.array([1e-13, 1e-10, 1e-7, 1e-5, 1e-3, 0.02, 0.1, 0.25, 0.5])
_BREAKS = np.concatenate([_BREAKS, 1 - _BREAKS[::-1][1:]])
_BATCHES = 20  # batch means for the Monte Carlo standard error of an interval end
REFERENCE_PRIOR = (0.0, 0.0, -0.5, 0.0)  # NIG (μ0, κ0, α0, β0) giving t_{n−1}(ȳ, s²/n)


@dataclass(frozen=True)
class BetaPosterior:
    """Beta(a, b) posterior of a conversion rate."""

    a: float
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        return special.betaincinv(self.a, self.b, q)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return special.betainc(self.a, self.b, np.clip(x, 0.0, 1.0))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(x, 1e-300, 1 - 1e-16)
        log = (
            (self.a - 1) * np.log(x) + (self.b - 1) * np.log1p(-x) - special.betaln(self.a, self.b)
        )
        return np.exp(log)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.beta(self.a, self.b, size)


@dataclass(frozen=True)
class TPosterior:
    """Student-t posterior of a mean: centre `loc`, scale `scale`, `df` degrees of freedom."""

    loc: float
    scale: float
    df: float

    @property
    def mean(self) -> float:
        return self.loc

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        return self.loc + self.scale * special.stdtrit(self.df, q)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return special.stdtr(self.df, (np.asarray(x) - self.loc) / self.scale)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x) - self.loc) / self.scale
        nu = self.df
        log = (
            special.gammaln((nu + 1) / 2)
            - special.gammaln(nu / 2)
            - 0.5 * np.log(nu * np.pi)
            - (nu + 1) / 2 * np.log1p(z**2 / nu)
        )
        return np.exp(log) / self.scale

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.loc + self.scale * rng.standard_t(self.df, size)


@dataclass(frozen=True)
class NormalPosterior:
    """Normal posterior of a mean, N(`loc`, `scale`²) – the large-sample Gaussian model."""

    loc: float
    scale: float

    @property
    def mean(self) -> float:
        return self.loc

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        return self.loc + self.scale * special.ndtri(q)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return special.ndtr((np.asarray(x) - self.loc) / self.scale)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x) - self.loc) / self.scale
        return np.exp(-0.5 * z**2) / (self.scale * np.sqrt(2 * np.pi))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.normal(self.loc, self.scale, size)


Posterior = BetaPosterior | TPosterior | NormalPosterior


def beta_posterior(
    successes: int, trials: int, prior: tuple[float, float] = (1.0, 1.0)
) -> BetaPosterior:
    """Posterior of a conversion rate after `successes` in `trials` under a Beta prior."""
    a, b = prior
    if not (a > 0 and b > 0):
        raise UserInputError(f"the Beta prior needs two positive numbers, got {prior}; e.g. 1,1.")
    if trials < 1 or not 0 <= successes <= trials:
        raise UserInputError(
            f"{successes} successes in {trials} trials is not a valid count; every arm needs "
            "trials ≥ 1 and 0 ≤ successes ≤ trials."
        )
    return BetaPosterior(a + successes, b + trials - successes)


def t_posterior(
    n: float, mean: float, var: float, prior: tuple[float, float, float, float] = REFERENCE_PRIOR
) -> TPosterior:
    """Marginal posterior of a mean under a Normal–Inverse-Gamma prior (μ0, κ0, α0, β0).

    `var` is the sample variance (ddof 1). BDA3 §3.3: κ_n = κ0 + n, μ_n = (κ0 μ0 + n ȳ)/κ_n,
    α_n = α0 + n/2, β_n = β0 + (n − 1)s²/2 + κ0 n (ȳ − μ0)² / (2 κ_n).
    """
    mu0, kappa0, alpha0, beta0 = prior
    if kappa0 < 0 or beta0 < 0:
        raise UserInputError(f"the Normal prior needs κ0 ≥ 0 and β0 ≥ 0, got {prior}.")
    if n < 3:
        raise UserInputError(
            f"an arm has {n:.0f} values; the Bayesian t model needs at least 3 per arm."
        )
    kappa = kappa0 + n
    loc = (kappa0 * mu0 + n * mean) / kappa
    alpha = alpha0 + n / 2
    beta = beta0 + (n - 1) * var / 2 + kappa0 * n * (mean - mu0) ** 2 / (2 * kappa)
    if alpha <= 0.5 or beta <= 0:
        raise UserInputError(
            "the posterior of a mean is improper (no variation in an arm and no prior "
            "information); give a proper Normal prior or check the outcome."
        )
    return TPosterior(loc, float(np.sqrt(beta / (alpha * kappa))), 2 * alpha)


def _support(posteriors: Sequence[Posterior]) -> np.ndarray:
    """Every posterior's quantiles at `_BREAKS`, pooled and sorted: the quadrature's pieces."""
    cuts = np.unique(np.concatenate([np.asarray(p.ppf(_BREAKS), float) for p in posteriors]))
    return cuts[np.isfinite(cuts)]


def _grid(posteriors: Sequence[Posterior]) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights covering every posterior's support, broken at their quantiles."""
    cuts = _support(posteriors)
    low, high = cuts[:-1], cuts[1:]
    half = (high - low)[:, None] / 2
    unit_nodes, unit_weights = _gauss_legendre()
    nodes = (low[:, None] + high[:, None]) / 2 + half * unit_nodes
    return nodes.ravel(), (half * unit_weights).ravel()


def prob_best(posteriors: Sequence[Posterior]) -> np.ndarray:
    """P(arm i has the largest θ) for every arm: ∫ f_i(x) Π_{j≠i} F_j(x) dx."""
    x, w = _grid(posteriors)
    cdfs = np.array([p.cdf(x) for p in posteriors])
    out = np.empty(len(posteriors))
    for i, p in enumerate(posteriors):
        others = np.prod(np.delete(cdfs, i, axis=0), axis=0)
        out[i] = float(np.sum(w * p.pdf(x) * others))
    return out


def expected_max(posteriors: Sequence[Posterior]) -> float:
    """E[max_j θ_j] = L + ∫_L^U (1 − Π_j F_j(x)) dx over the joint support [L, U]."""
    x, w, low = *_grid(posteriors), _support(posteriors)[0]
    joint = np.prod([p.cdf(x) for p in posteriors], axis=0)
    return low + float(np.sum(w * (1 - joint)))


@dataclass
class Interval:
    """Posterior mean and equal-tailed credible interval; `mc_se` is None when exact."""

    mean: float
    low: float
    high: float
    mc_se: float | None = None


def _mc_interval(draws: np.ndarray, cred: float) -> Interval:
    """Mean and interval of Monte Carlo draws, with a batch-means standard error of the ends."""
    tails = [(1 - cred) / 2, (1 + cred) / 2]
    low, high = np.quantile(draws, tails)
    batches = np.array([np.quantile(b, tails) for b in np.array_split(draws, _BATCHES)])
    se = float(batches.std(axis=0, ddof=1).max() / np.sqrt(_BATCHES))
    return Interval(float(draws.mean()), float(low), float(high), se)


@dataclass
class VariantComparison:
    """One variant against the control."""

    variant: int
    lift: Interval
    rel_lift: Interval | None
    p_beat: float
    loss_ship: float  # E[max(θ_c − θ_v, 0)]: what shipping the variant costs if it is worse
    loss_keep: float  # E[max(θ_v − θ_c, 0)]: what keeping the control costs if it is worse
    decision: str
    reason: str
    # the Gaussian model's risks in units of the relative lift, (keep the control, ship the
    # variant) = (E[max(Δ, 0)], E[max(−Δ, 0)]) – GrowthBook's `risk`
    rel_risk: tuple[float, float] | None = None


@dataclass
class BayesReport:
    """Everything the conjugate analysis reports, arms in the order given (control first)."""

    posteriors: list[Posterior]
    arm_intervals: list[Interval]
    p_best: np.ndarray
    loss_choose: np.ndarray  # E[max_j θ_j − θ_i]
    comparisons: list[VariantComparison]
    threshold: float
    rope: tuple[float, float] | None
    draws: int
    exact: list[str] = field(
        default_factory=lambda: [
            "arm posterior means and intervals",
            "P(beats control)",
            "P(best)",
            "expected losses",
        ]
    )
    monte_carlo: list[str] = field(default_factory=lambda: ["lift and relative-lift intervals"])


def decide(
    lift: Interval,
    loss_ship: float,
    loss_keep: float,
    threshold: float,
    rope: tuple[float, float] | None,
) -> tuple[str, str]:
    """ship / keep testing / stop, with the reason in one sentence.

    With a ROPE (region of practical equivalence on the absolute lift): Kruschke's rule on the
    credible interval (Kruschke 2018, "Rejecting or accepting parameter values in Bayesian
    estimation"). Otherwise the expected-loss rule: ship when shipping risks less than
    `threshold`, stop when keeping the control does, keep testing while both risk more.
    """
    if rope is not None:
        low, high = rope
        if lift.low > high:
            return (
                "ship",
                f"the whole credible interval of the lift lies above the ROPE [{low:g}, {high:g}]",
            )
        if lift.high < low:
            return (
                "stop",
                f"the whole credible interval of the lift lies below the ROPE [{low:g}, {high:g}]",
            )
        if low <= lift.low and lift.high <= high:
            return (
                "stop",
                f"the credible interval of the lift lies inside the ROPE [{low:g}, {high:g}]: no practical difference",
            )
        return (
            "keep testing",
            f"the credible interval of the lift overlaps the ROPE [{low:g}, {high:g}]",
        )
    if loss_ship < threshold and loss_keep < threshold:
        return (
            "stop",
            f"either choice risks less than the threshold {threshold:.3g}: no difference worth waiting for",
        )
    if loss_ship < threshold:
        return (
            "ship",
            f"shipping risks an expected loss of {loss_ship:.3g} < threshold {threshold:.3g}",
        )
    if loss_keep < threshold:
        return (
            "stop",
            f"keeping the control risks an expected loss of {loss_keep:.3g} < threshold {threshold:.3g}",
        )
    return "keep testing", f"both choices still risk more than the threshold {threshold:.3g}"


def compare_posteriors(
    posteriors: Sequence[Posterior],
    cred: float = 0.95,
    threshold: float | None = None,
    rope: tuple[float, float] | None = None,
    draws: int = 200_000,
    seed: int = 0,
) -> BayesReport:
    """Every arm against the first (the control), and all arms jointly."""
    if len(posteriors) < 2:
        raise UserInputError("a Bayesian comparison needs at least two arms.")
    if not 0 < cred < 1:
        raise UserInputError(f"the credible level must lie in (0, 1), got {cred} (e.g. 0.95).")
    if draws < 1000:
        raise UserInputError(
            f"draws must be at least 1000 for a usable Monte Carlo error, got {draws}."
        )
    if rope is not None and not rope[0] < rope[1]:
        raise UserInputError(f"the ROPE needs low < high, got {rope} (e.g. -0.001,0.001).")
    control = posteriors[0]
    if threshold is None:
        threshold = 1e-3 * abs(control.mean) or 1e-3 * float(
            control.ppf(0.975) - control.ppf(0.025)
        )
    if threshold <= 0:
        raise UserInputError(f"the expected-loss threshold must be positive, got {threshold}.")
    tails = [(1 - cred) / 2, (1 + cred) / 2]
    arm_intervals = [
        Interval(p.mean, *(float(v) for v in p.ppf(np.array(tails)))) for p in posteriors
    ]
    p_best = prob_best(posteriors)
    top = expected_max(posteriors)
    loss_choose = np.array([top - p.mean for p in posteriors])
    rng = np.random.default_rng(seed)
    theta_c = control.sample(rng, draws)
    comparisons = []
    for i, p in enumerate(posteriors[1:], start=1):
        theta_v = p.sample(rng, draws)
        lift = _mc_interval(theta_v - theta_c, cred)
        lift.mean = p.mean - control.mean  # exact
        rel = None
        if np.all(theta_c > 0) or np.all(theta_c < 0):
            rel = _mc_interval(theta_v / theta_c - 1, cred)
        pair = [control, p]
        p_beat = float(prob_best(pair)[1])
        best_of_two = expected_max(pair)
        loss_ship, loss_keep = best_of_two - p.mean, best_of_two - control.mean
        decision, reason = decide(lift, loss_ship, loss_keep, threshold, rope)
        comparisons.append(
            VariantComparison(i, lift, rel, p_beat, loss_ship, loss_keep, decision, reason)
        )
    return BayesReport(
        list(posteriors), arm_intervals, p_best, loss_choose, comparisons, threshold, rope, draws
    )

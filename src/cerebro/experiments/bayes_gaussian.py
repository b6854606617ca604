"""The Gaussian model of the relative lift: GrowthBook's Bayesian engine, as an option.

Estimand, per variant v against the control c: the relative lift Δ = μ_v/μ_c − 1. Each arm's
mean is summarised by its sample mean and variance (p(1 − p) for a conversion rate, the sample
variance with n − 1 otherwise); the likelihood of Δ is normal with the delta-method variance
σ²_v/(n_v m_c²) + m_v² σ²_c/(n_c m_c⁴) (Deng, Knoblich & Lu 2018), and the prior on Δ is flat
or N(m0, s0²), so the posterior is normal and everything is closed form:
chance to win P(Δ > 0) = Φ(μ/σ), risk of keeping the control E[max(Δ, 0)] and of shipping
E[max(−Δ, 0)], where E[max(X, 0)] = μΦ(μ/σ) + σφ(μ/σ) (GrowthBook's `gbstats`, "Bayesian
statistics" docs). The expected losses the decision rule compares with the threshold are these
risks times |m_c| (absolute units, like the conjugate model's). P(best) across arms comes from
the arms' normal posteriors N(m, σ²/n).

Assumptions: sample sizes large enough for the normal approximation of each mean and of the
ratio (the control mean well away from 0). It is an approximation; the conjugate Beta and t
models are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.experiments.bayes import (
    BayesReport,
    Interval,
    NormalPosterior,
    VariantComparison,
    decide,
    expected_max,
    prob_best,
)
from cerebro.stats import special


@dataclass(frozen=True)
class ArmSummary:
    """One arm's size, mean and variance of one unit's value."""

    n: float
    mean: float
    var: float


def positive_part_mean(mu: float, sd: float) -> float:
    """E[max(X, 0)] for X ~ N(mu, sd²)."""
    z = mu / sd
    return float(mu * special.ndtr(z) + sd * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi))


def _effect_posterior(
    c: ArmSummary, v: ArmSummary, prior: tuple[float, float] | None
) -> tuple[float, float]:
    """Posterior mean and SD of the relative lift (flat prior, or normal prior `prior`)."""
    rel = v.mean / c.mean - 1
    var = v.var / (v.n * c.mean**2) + v.mean**2 * c.var / (c.n * c.mean**4)
    if prior is None:
        return rel, float(np.sqrt(var))
    m0, s0 = prior
    precision = 1 / var + 1 / s0**2
    return float((rel / var + m0 / s0**2) / precision), float(np.sqrt(1 / precision))


def gaussian_report(
    arms: Sequence[ArmSummary],
    cred: float,
    threshold: float | None,
    rope: tuple[float, float] | None,
    prior: tuple[float, float] | None = None,
) -> BayesReport:
    """Every arm against the first (the control) under the Gaussian model of the relative lift."""
    control = arms[0]
    if control.mean == 0:
        raise UserInputError(
            "the Gaussian model is of the relative lift, and the control's mean is 0; use the "
            "conjugate model (drop --model gaussian)."
        )
    if any(a.n < 2 or a.var <= 0 for a in arms):
        raise UserInputError(
            "the Gaussian model needs at least 2 units and some variation in every arm; use "
            "the conjugate model (drop --model gaussian)."
        )
    if prior is not None and not prior[1] > 0:
        raise UserInputError(
            f"--prior for --model gaussian is the relative lift's prior mean,sd with sd > 0, "
            f"got {prior[0]:g},{prior[1]:g}."
        )
    posteriors = [NormalPosterior(a.mean, float(np.sqrt(a.var / a.n))) for a in arms]
    threshold = 1e-3 * abs(control.mean) if threshold is None else threshold
    z = float(special.ndtri((1 + cred) / 2))
    comparisons = []
    for i, arm in enumerate(arms[1:], start=1):
        mu, sd = _effect_posterior(control, arm, prior)
        rel = Interval(mu, mu - z * sd, mu + z * sd)
        scale = abs(control.mean)
        lift = Interval(mu * control.mean, rel.low * control.mean, rel.high * control.mean)
        if control.mean < 0:
            lift = Interval(lift.mean, lift.high, lift.low)
        risk_keep, risk_ship = positive_part_mean(mu, sd), positive_part_mean(-mu, sd)
        decision, reason = decide(lift, risk_ship * scale, risk_keep * scale, threshold, rope)
        comparisons.append(
            VariantComparison(
                i,
                lift,
                rel,
                float(special.ndtr(mu / sd)),
                risk_ship * scale,
                risk_keep * scale,
                decision,
                reason,
                (risk_keep, risk_ship),
            )
        )
    tails = np.array([(1 - cred) / 2, (1 + cred) / 2])
    top = expected_max(posteriors)
    return BayesReport(
        list(posteriors),
        [Interval(p.mean, *(float(x) for x in p.ppf(tails))) for p in posteriors],
        prob_best(posteriors),
        np.array([top - p.mean for p in posteriors]),
        comparisons,
        threshold,
        rope,
        0,
        exact=["everything (closed form)"],
        monte_carlo=[],
    )

"""`abtest --type bayesian --model hurdle_lognormal`: the MCMC model of `bayes_model.py` on an
A/B/n test's arms, with convergence diagnostics surfaced as findings."""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.bayes_model import (
    ESS_FLOOR,
    PARAMETERS,
    RHAT_LIMIT,
    DrawsReport,
    HurdleFit,
    HurdlePrior,
    compare_draws,
    convergence_problems,
    fit_hurdle,
    hurdle_stats,
)

_MEANING = {
    "p": "P(value > 0)",
    "mu": "mean of log value | > 0",
    "sigma": "SD of log value | > 0",
    "mean": "mean value per unit",
}


def _parameter_rows(
    name: str, arms: list[str], fit: HurdleFit, cred: float
) -> list[dict[str, Any]]:
    tails = [(1 - cred) / 2, (1 + cred) / 2]
    rows = []
    for parameter in PARAMETERS:
        draws = fit.flat(parameter)
        for i, arm in enumerate(arms):
            low, high = np.quantile(draws[:, i], tails)
            rows.append(
                {
                    "outcome": name,
                    "arm": arm,
                    "parameter": parameter,
                    "meaning": _MEANING[parameter],
                    "posterior_mean": float(draws[:, i].mean()),
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "r_hat": float(fit.rhat[parameter][i]),
                    "ess": float(fit.ess[parameter][i]),
                }
            )
    return rows


def hurdle_report(
    outcome: Any, arms: list[str], spec: ABTestSpec, findings: list[Finding]
) -> tuple[DrawsReport, str, list[dict[str, Any]]]:
    """Fit the hurdle model to one outcome; the report, a model sentence and parameter rows."""
    name = outcome.metric.name
    if outcome.is_binary:
        raise UserInputError(
            f"{name} is binary (0/1): the hurdle log-normal model is for amounts; drop --model "
            "to use the exact Beta–Binomial model."
        )
    prior = HurdlePrior.parse(spec.prior)
    stats = [hurdle_stats(outcome.rows_of(i), name, arm) for i, arm in enumerate(arms)]
    fit = fit_hurdle(stats, prior, chains=spec.chains, samples=spec.mcmc_samples, seed=spec.seed)
    cred = 1 - spec.alpha
    report = compare_draws(
        fit.flat("mean"),
        cred=cred,
        threshold=spec.loss_threshold,
        rope=tuple(spec.rope) if spec.rope else None,
    )
    problems = convergence_problems(fit, arms)
    worst_rhat = max(float(r.max()) for r in fit.rhat.values())
    least_ess = min(float(e.min()) for e in fit.ess.values())
    if problems:
        findings.append(
            Finding(
                "warning",
                "mcmc_convergence",
                f"{name}: the MCMC fit may not have converged ({'; '.join(problems[:4])}); "
                "do not trust its numbers – raise --mcmc-samples or --chains, or check the data.",
            )
        )
    else:
        findings.append(
            Finding(
                "info",
                "mcmc_convergence",
                f"{name}: MCMC converged – largest split R-hat {worst_rhat:.3f} (≤ {RHAT_LIMIT}), "
                f"smallest bulk ESS {least_ess:,.0f} (≥ {ESS_FLOOR}), no divergent transitions.",
            )
        )
    zero_share = [1 - s.positives / s.n for s in stats]
    findings.append(
        Finding(
            "info",
            "hurdle_zeros",
            f"{name}: share of zeros per arm "
            + ", ".join(f"{a} {z:.1%}" for a, z in zip(arms, zero_share, strict=True))
            + "; the model compares mean value per unit = P(value > 0) × mean of the positive values.",
        )
    )
    se = max(report.p_beat_mc_se, default=0.0)
    ends = max((c.lift.mc_se or 0.0) for c in report.comparisons)
    model = (
        f"hurdle log-normal model fitted by NUTS (NumPyro), {spec.chains} chains × "
        f"{spec.mcmc_samples:,} draws after 1,000 warm-up, seed {spec.seed}; priors Beta("
        f"{prior.a:g}, {prior.b:g}) on P(> 0), Normal({fit.centre:.3g}, {prior.mu_sd:g}²) on μ, "
        f"HalfNormal({prior.sigma_sd:g}) on σ; every number is a posterior-draw average "
        f"(Monte Carlo error of P(beat) ≤ {se:.2g}, of lift interval ends ≤ {ends:.2g})"
    )
    return report, model, _parameter_rows(name, arms, fit, cred)

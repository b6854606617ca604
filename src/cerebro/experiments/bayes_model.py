"""Model-based Bayesian A/B test for zero-heavy revenue: a hurdle log-normal model fitted by NUTS.

Model, per arm k (independent across arms):

    y = 0 with probability 1 − p_k,
    log y ~ Normal(μ_k, σ_k²) given y > 0,

so the estimand, revenue per unit, is m_k = p_k · exp(μ_k + σ_k²/2). Priors (weakly informative):
p_k ~ Beta(a, b) (default Beta(1, 1)), μ_k ~ Normal(μ̄, τ_μ²) centred on the pooled mean of
log y over all arms (τ_μ = 10 on the log scale by default; the centre is common to every arm, so it
favours none), σ_k ~ HalfNormal(τ_σ) (τ_σ = 5). A proper prior on σ matters: under the
reference prior p(σ²) ∝ 1/σ² the posterior of exp(σ²/2) – hence of m – has no finite mean, which
is why this model is fitted by MCMC rather than in closed form.

The likelihood depends on the data only through each arm's count n_k, positives z_k, and the mean
and sum of squared deviations of log y among positives, so fitting cost does not grow with rows.
Fitted with NumPyro's NUTS (Hoffman & Gelman 2014; Phan et al. 2019) in double precision, several
chains; split R-hat and effective sample size (Vehtari et al. 2021) of every parameter come back
with the draws so the caller can surface them. Hurdle models for semicontinuous data: Duan et al.
(1983), "A comparison of alternative models for the demand for medical care", JBES 1(2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.experiments.bayes import (
    BayesReport,
    Interval,
    VariantComparison,
    _mc_interval,
    decide,
)
from cerebro.stats.mcmc import ESS_FLOOR, RHAT_LIMIT, import_numpyro

PARAMETERS = ("p", "mu", "sigma", "mean")


@dataclass(frozen=True)
class HurdleStats:
    """An arm's sufficient statistics: units, positive values, mean and SS of their logs."""

    n: int
    positives: int
    log_mean: float
    log_ss: float  # Σ (log y − mean log y)² over the positive values


def hurdle_stats(values: np.ndarray, name: str, arm: str) -> HurdleStats:
    """Sufficient statistics of one arm's values, refusing what the model cannot describe."""
    y = np.asarray(values, float)
    if np.any(y < 0):
        raise UserInputError(
            f"{name} has negative values in arm {arm!r} (e.g. {y[y < 0][0]:g}); the hurdle "
            "log-normal model needs values ≥ 0 – use --type bayesian without --model, or welch."
        )
    logs = np.log(y[y > 0])
    if len(logs) < 2:
        raise UserInputError(
            f"{name} has {len(logs)} positive value(s) in arm {arm!r}; the hurdle log-normal "
            "model needs at least 2 per arm to describe their size."
        )
    mean = float(logs.mean())
    return HurdleStats(len(y), len(logs), mean, float(((logs - mean) ** 2).sum()))


@dataclass(frozen=True)
class HurdlePrior:
    """Beta(a, b) on p, Normal(centre, mu_sd²) on μ, HalfNormal(sigma_sd) on σ."""

    a: float = 1.0
    b: float = 1.0
    mu_sd: float = 10.0
    sigma_sd: float = 5.0

    @classmethod
    def parse(cls, numbers: Sequence[float] | None) -> HurdlePrior:
        if numbers is None:
            return cls()
        if len(numbers) != 4 or not all(x > 0 for x in numbers):
            raise UserInputError(
                "--model hurdle_lognormal takes --prior as four positive numbers a,b,mu_sd,"
                f"sigma_sd (Beta(a, b) on P(y > 0); e.g. 1,1,10,5), got {list(numbers)}."
            )
        return cls(*(float(x) for x in numbers))


@dataclass
class HurdleFit:
    """Posterior draws, shape (chains, draws per chain, arms), and their diagnostics."""

    draws: dict[str, np.ndarray]
    rhat: dict[str, np.ndarray]
    ess: dict[str, np.ndarray]
    centre: float
    divergences: int

    def flat(self, name: str) -> np.ndarray:
        """Draws of one parameter, (chains·draws, arms), chains one after another."""
        x = self.draws[name]
        return x.reshape(-1, x.shape[-1])


def _model(n, positives, log_mean, log_ss, centre, prior: HurdlePrior):  # type: ignore[no-untyped-def]
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from jax.scipy.special import xlog1py, xlogy

    with numpyro.plate("arm", n.shape[0]):
        p = numpyro.sample("p", dist.Beta(prior.a, prior.b))
        mu = numpyro.sample("mu", dist.Normal(centre, prior.mu_sd))
        sigma = numpyro.sample("sigma", dist.HalfNormal(prior.sigma_sd))
    numpyro.factor("zero_or_not", jnp.sum(xlogy(positives, p) + xlog1py(n - positives, -p)))
    # Σ log Normal(log y | μ, σ) over positives, written with the sufficient statistics
    # (the Jacobian −Σ log y and 2π terms are constant in the parameters and left out).
    sq = log_ss + positives * (log_mean - mu) ** 2
    numpyro.factor("log_sizes", jnp.sum(-positives * jnp.log(sigma) - sq / (2 * sigma**2)))
    numpyro.deterministic("mean", p * jnp.exp(mu + sigma**2 / 2))


def _numpyro():  # type: ignore[no-untyped-def]
    return import_numpyro("--model hurdle_lognormal")


def fit_hurdle(
    stats: Sequence[HurdleStats],
    prior: HurdlePrior | None = None,
    chains: int = 4,
    samples: int = 2000,
    warmup: int = 1000,
    seed: int = 0,
) -> HurdleFit:
    """NUTS draws of (p, μ, σ, m) for every arm, with split R-hat and bulk ESS per parameter."""
    if chains < 2:
        raise UserInputError(f"--chains must be at least 2 so that R-hat exists, got {chains}.")
    if samples < 100 or warmup < 100:
        raise UserInputError(
            f"--mcmc-samples and warm-up need at least 100 draws per chain, got {samples}."
        )
    _numpyro()
    import jax
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    from numpyro.infer import MCMC, NUTS

    prior = prior or HurdlePrior()
    positives = np.array([s.positives for s in stats], float)
    log_mean = np.array([s.log_mean for s in stats])
    centre = float(np.sum(positives * log_mean) / positives.sum())
    mcmc = MCMC(
        NUTS(_model),
        num_warmup=warmup,
        num_samples=samples,
        num_chains=chains,
        chain_method="vectorized",  # one process, no device juggling; fine for a few parameters
        progress_bar=False,
    )
    mcmc.run(
        jax.random.PRNGKey(seed),
        np.array([s.n for s in stats], float),
        positives,
        log_mean,
        np.array([s.log_ss for s in stats]),
        centre,
        prior,
        extra_fields=("diverging",),
    )
    raw = mcmc.get_samples(group_by_chain=True)
    draws = {k: np.asarray(raw[k], float) for k in PARAMETERS}
    return HurdleFit(
        draws,
        {k: np.asarray(split_gelman_rubin(v)) for k, v in draws.items()},
        {k: np.asarray(effective_sample_size(v)) for k, v in draws.items()},
        centre,
        int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum()),
    )


@dataclass(frozen=True)
class DrawsPosterior:
    """A posterior known through (MCMC) draws; `mean` as for the closed-form posteriors."""

    draws: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.draws.mean())


def _batch_se(x: np.ndarray, batches: int = 20) -> float:
    """Batch-means standard error of the mean of autocorrelated draws (chains in order)."""
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return float(means.std(ddof=1) / np.sqrt(batches))


@dataclass
class DrawsReport(BayesReport):
    """A `BayesReport` whose every number is a Monte Carlo estimate, with errors beside it."""

    p_beat_mc_se: list[float] = field(default_factory=list)


def compare_draws(
    draws: np.ndarray,
    cred: float = 0.95,
    threshold: float | None = None,
    rope: tuple[float, float] | None = None,
) -> DrawsReport:
    """Every arm against the first from joint posterior draws of shape (draws, arms).

    The estimands are those of `bayes.compare_posteriors`; here all are posterior-draw averages,
    and the Monte Carlo error of P(beat) and of interval ends is estimated by batch means.
    """
    if draws.ndim != 2 or draws.shape[1] < 2:
        raise UserInputError("a Bayesian comparison needs at least two arms.")
    control = draws[:, 0]
    if threshold is None:
        threshold = 1e-3 * abs(float(control.mean()))
    if not threshold > 0:
        raise UserInputError(f"the expected-loss threshold must be positive, got {threshold}.")
    tails = [(1 - cred) / 2, (1 + cred) / 2]
    arm_intervals = [
        Interval(float(d.mean()), *(float(v) for v in np.quantile(d, tails))) for d in draws.T
    ]
    best = draws.argmax(axis=1)
    p_best = np.bincount(best, minlength=draws.shape[1]) / len(draws)
    loss_choose = (draws.max(axis=1)[:, None] - draws).mean(axis=0)

    comparisons, p_beat_se = [], []
    for i in range(1, draws.shape[1]):
        diff = draws[:, i] - control
        lift = _mc_interval(diff, cred)
        rel = _mc_interval(draws[:, i] / control - 1, cred) if np.all(control > 0) else None
        beat = (diff > 0).astype(float)
        loss_ship, loss_keep = float(np.maximum(-diff, 0).mean()), float(np.maximum(diff, 0).mean())
        decision, reason = decide(lift, loss_ship, loss_keep, threshold, rope)
        comparisons.append(
            VariantComparison(
                i, lift, rel, float(beat.mean()), loss_ship, loss_keep, decision, reason
            )
        )
        p_beat_se.append(_batch_se(beat))
    return DrawsReport(
        [DrawsPosterior(d) for d in draws.T],
        arm_intervals,
        p_best,
        loss_choose,
        comparisons,
        threshold,
        rope,
        len(draws),
        exact=[],
        monte_carlo=["every posterior summary (MCMC draws)"],
        p_beat_mc_se=p_beat_se,
    )


def convergence_problems(fit: HurdleFit, arms: Sequence[str]) -> list[str]:
    """One phrase per parameter and arm whose R-hat or ESS fails the usual thresholds."""
    problems = []
    for name in PARAMETERS:
        for arm, rhat, ess in zip(arms, fit.rhat[name], fit.ess[name], strict=True):
            if not rhat <= RHAT_LIMIT:
                problems.append(f"R-hat of {name}[{arm}] = {rhat:.3f} > {RHAT_LIMIT}")
            if not ess >= ESS_FLOOR:
                problems.append(f"ESS of {name}[{arm}] = {ess:.0f} < {ESS_FLOOR}")
    if fit.divergences:
        problems.append(f"{fit.divergences} divergent transitions")
    return problems

"""One NUTS fit and one SVI fit for either MMM (national or geo): the model function and how it
is sampled are arguments, the rest – chains, diagnostics, the draws a posterior keeps – is the
same code for both.

NUTS: Hoffman & Gelman (2014), NumPyro's implementation, chains in parallel where JAX has a
device per chain (`cerebro.stats.mcmc.run_chains`); split R-hat, bulk and tail ESS (Vehtari et
al. 2021). SVI: a multivariate-normal guide (Kucukelbir et al. 2017), then independent draws
from it (one "chain"; no R-hat).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebro.mmm.compiled import run_compiled
from cerebro.stats.mcmc import convergence, import_numpyro, run_chains


@dataclass
class Draws:
    """Posterior draws (chains, draws, …) by parameter, with diagnostics."""

    draws: dict[str, np.ndarray]
    rhat: dict[str, np.ndarray]
    ess_bulk: dict[str, np.ndarray]
    ess_tail: dict[str, np.ndarray]
    divergences: int
    seconds: float
    steps_per_draw: float = float("nan")  # mean leapfrog steps per kept draw (NUTS)

    def flat(self) -> dict[str, np.ndarray]:
        """Every parameter's draws with chains one after another on axis 0."""
        return {k: v.reshape(v.shape[0] * v.shape[1], *v.shape[2:]) for k, v in self.draws.items()}


@dataclass(frozen=True)
class Sampling:
    """A NumPyro model `model(form, inputs)` and how to sample it.

    `sampled_only`: sites that only reparameterise (the posterior keeps what they determine, so
    a saved model does not depend on how the sampler moved); `diagnosed`: of those, the ones
    whose R-hat and ESS still count; `dense_mass(form, inputs)`: NUTS's mass matrix – True
    (dense), False (diagonal) or blocks of site names (dense within each, diagonal elsewhere);
    `svi_from_median`: start SVI at the prior medians with clipped Adam steps."""

    model: Callable[..., None]
    command: str  # named in the error when NumPyro is missing
    sampled_only: tuple[str, ...]
    dense_mass: Callable[[Any, Any], bool | list[tuple[str, ...]]]
    diagnosed: tuple[str, ...] = ()
    svi_from_median: bool = False
    max_tree_depth: int | tuple[int, int] = 10  # NUTS; (warm-up, sampling) caps them apart

    def parameters(self, samples: dict[str, Any]) -> dict[str, np.ndarray]:
        """The draws of the parameters a posterior keeps (names `mean_terms` reads)."""
        out = {k: np.asarray(v, float) for k, v in samples.items() if k not in self.sampled_only}
        if "coef" not in out:  # no baseline features: an empty coefficient vector per draw
            out["coef"] = np.zeros((*out["intercept"].shape[:2], 0))
        return out


def fit_nuts(
    sampling: Sampling,
    form: Any,
    inputs: Any,
    *,
    chains: int,
    draws: int,
    warmup: int,
    seed: int,
    target_accept: float,
) -> Draws:
    """NUTS draws of every parameter, several chains (in parallel where JAX has the devices).

    The sampler is compiled once per model structure and data shapes and kept
    (`cerebro.mmm.compiled`): a later fit of the same shapes – the next replication of a
    study, the service's next job – reuses it, and many fits in one process no longer grow its
    memory by a compiled sampler each. Fits with lift tests take NumPyro's `MCMC.run` as
    before."""
    import_numpyro(sampling.command)
    if getattr(inputs, "tests", None) is not None:
        # lift tests: the one-off path (a calibrated fit rarely repeats with the same tests, so
        # a kept sampler would not be reused; its draws stay those of NumPyro's MCMC.run)
        from numpyro.infer import NUTS

        kernel = NUTS(sampling.model, target_accept_prob=target_accept,
                      dense_mass=sampling.dense_mass(form, inputs),
                      max_tree_depth=sampling.max_tree_depth)  # fmt: skip
        samples, stats, seconds = run_chains(
            kernel, (form, inputs), chains=chains, draws=draws, warmup=warmup, seed=seed
        )
    else:
        samples, stats, seconds = run_compiled(
            sampling.model,
            form,
            inputs,
            dense_mass=sampling.dense_mass(form, inputs),
            target_accept=target_accept,
            chains=chains,
            draws=draws,
            warmup=warmup,
            seed=seed,
            max_tree_depth=sampling.max_tree_depth,
        )
    params = sampling.parameters(samples)
    diagnosed = {k: np.asarray(samples[k], float) for k in sampling.diagnosed if k in samples}
    rhat, bulk, tail = convergence({**params, **diagnosed})
    return Draws(params, rhat, bulk, tail, stats["divergences"], seconds, stats["steps_per_draw"])


def fit_svi(
    sampling: Sampling, form: Any, inputs: Any, *, steps: int, draws: int, seed: int
) -> Draws:
    """A multivariate-normal variational fit, then `draws` draws from it (one "chain")."""
    import time

    import_numpyro(sampling.command)
    import jax
    from numpyro.infer import SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoMultivariateNormal
    from numpyro.infer.initialization import init_to_median, init_to_uniform
    from numpyro.optim import Adam, ClippedAdam

    start = time.perf_counter()
    model = sampling.model
    # the geo model starts at the prior medians with clipped steps: plain Adam from the default
    # start went off to ROIs 10–1000 times the truth at 40 geos (exp of a pooled log effect
    # overshoots)
    init = init_to_median if sampling.svi_from_median else init_to_uniform
    optimiser = ClippedAdam(0.01) if sampling.svi_from_median else Adam(0.01)
    guide = AutoMultivariateNormal(model, init_loc_fn=init)
    svi = SVI(model, guide, optimiser, Trace_ELBO())
    fitted = svi.run(jax.random.PRNGKey(seed), steps, form, inputs, progress_bar=False)
    latent = guide.sample_posterior(
        jax.random.PRNGKey(seed + 1), fitted.params, sample_shape=(draws,)
    )
    derived = Predictive(model, posterior_samples=latent)(
        jax.random.PRNGKey(seed + 2), form, inputs
    )
    observed = ("y", "lift")
    sampled = {
        k: np.asarray(v)[None] for k, v in {**latent, **derived}.items() if k not in observed
    }
    params = sampling.parameters(sampled)
    empty = {k: np.full(v.shape[2:], np.nan) for k, v in params.items()}
    return Draws(params, empty, empty, dict(empty), 0, time.perf_counter() - start)


def fit_as_specified(spec: Any, sampling: Sampling, form: Any, inputs: Any) -> tuple[Draws, int]:
    """Run the inference the spec names – `svi` (one "chain") or `nuts` with its chains, draws,
    warm-up and target acceptance – for either model (national or geo); (draws, chains)."""
    if spec.inference == "svi":
        fit = fit_svi(
            sampling, form, inputs, steps=spec.svi_steps, draws=spec.draws, seed=spec.seed
        )
        return fit, 1
    fit = fit_nuts(
        sampling,
        form,
        inputs,
        chains=spec.chains,
        draws=spec.draws,
        warmup=spec.warmup,
        seed=spec.seed,
        target_accept=spec.target_accept,
    )
    return fit, spec.chains

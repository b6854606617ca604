"""The geo-hierarchical MMM in NumPyro (Meridian-style): per-geo baselines, channel effects
partially pooled across geos.

For geo g and week t, on the scale of `cerebro.mmm.geo` (KPI and spend per unit of the geo's
size, divided by their means):

    μ_{g,t} = intercept_g + Σ_j coef_j · feature_{g,t,j} + Σ_c β_{g,c} · s_c(adstock_c(x_{g,·,c}))_t
    y_{g,t} ~ Normal(μ_{g,t}, σ_g)       (Student-t with `likelihood="student_t"`)

- baseline: a level per geo (mean of μ_{g,·} over the fitted weeks ~ Normal(mean y_g, 1); the
  intercept derived from it, as in the national model), trend, Fourier seasonality and control
  coefficients shared by all geos (priors as national), noise σ_g ~ HalfNormal(0.5) per geo;
- adstock and saturation parameters per channel, shared by all geos (as Meridian does), with the
  national priors;
- channel effects (weekly contribution at the channel's average per-capita spend, steady state,
  in units of the mean per-capita KPI) partially pooled on the log scale, non-centred so that
  NUTS does not meet the funnel of a small pooling scale (Betancourt & Girolami 2015):

      log effect_{g,c} = μ_c + τ_c · z_{g,c},   z_{g,c} ~ Normal(0, 1),
      μ_c ~ Normal(log(0.2 · share_c), 1),      τ_c ~ HalfNormal(0.5),

  β_{g,c} = effect_{g,c} / s_c(Σ_l w_l). `pooling="none"`: each log effect_{g,c} ~
  Normal(log(0.2 · share_c), 1) on its own (no pooling, for comparison).

References: Jin et al. (2017) for the transforms; Sun, Wang, Jin, Chan & Koehler (2017),
"Geo-level Bayesian hierarchical media mix modeling", Google; Google's Meridian (2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebro.mmm.geo import GeoData
from cerebro.mmm.model import EFFECT_LOG_SD, MEDIA_SHARE_MEDIAN, Draws, feature_scales
from cerebro.mmm.posterior import SATURATION_PARAMETERS, ModelForm
from cerebro.mmm.transforms import convolve_lags, saturate
from cerebro.stats.mcmc import convergence, import_numpyro, run_chains

TAU_SD = 0.5  # HalfNormal scale of the geo spread of log effects (×1.6 between geos at 1 SD)
SAMPLED_ONLY = ("level", "effect_z", "effect_mu", "log_effect")
DENSE_MASS = False  # diagonal: the dense matrix of ~G·C dimensions costs more than it saves


@dataclass(frozen=True)
class GeoInputs:
    x: np.ndarray  # scaled spend (T, G, C)
    features: np.ndarray  # (T, G, P)
    feature_sd: np.ndarray  # (P,)
    y: np.ndarray  # (n_fit, G)
    centre: np.ndarray  # (G,)
    median: np.ndarray  # prior median effect per channel (C,)
    pooled: bool = True
    shifted: np.ndarray | None = None  # x shifted by 0 … L − 1 weeks (L, T, G, C)


def shifted_lags(x: np.ndarray, lags: int) -> np.ndarray:
    """x (T, …) shifted l weeks later for l = 0 … lags − 1 (zeros before the first week)."""
    lags = min(lags, len(x))
    return np.stack([np.concatenate([np.zeros((lag, *x.shape[1:])), x[: len(x) - lag]])
                     for lag in range(lags)])  # fmt: skip


def geo_inputs(data: GeoData, pooling: str = "partial", lags: int | None = None) -> GeoInputs:
    """The model's arrays; `lags` (the adstock's number of weights) precomputes the shifted
    spend the model's adstock reads."""
    n = data.first.n_fit
    x = np.stack([p.spend_scaled() for p in data.parts], axis=1)
    features = np.stack([p.baseline_features() for p in data.parts], axis=1)
    y = np.stack([p.target[:n] for p in data.parts], axis=1)
    share = x[:n].sum(axis=(0, 1)) / x[:n].sum()
    return GeoInputs(
        x=x,
        features=features,
        feature_sd=feature_scales(data.first),
        y=y,
        centre=y.mean(axis=0),
        median=MEDIA_SHARE_MEDIAN * share,
        pooled=pooling == "partial",
        shifted=None if lags is None else shifted_lags(x, lags),
    )


def geo_media(
    form: ModelForm, params: dict[str, Any], x: Any, xp: Any = np, shifted: Any = None
) -> Any:
    """β_{g,c} · s_c(adstock_c(x_{g,·,c})) for x (T, G, C): `ModelForm.media` with the lag
    weights (L, C) given a geo axis. With `shifted` (`shifted_lags(x, L)`, constants) the
    adstock is one contraction: XLA on CPU does not fold the shifted copies `convolve_lags`
    builds from a constant x, and rebuilding them each gradient cost 4.5 of 6 ms per gradient
    at 40 geos × 156 weeks × 6 channels (0.75 ms as a contraction)."""
    weights = form.weights(params, xp)
    if shifted is not None:
        lags = shifted.shape[0]
        adstocked = xp.einsum("ltgc,lc->tgc", shifted, weights[:lags])
    else:
        adstocked = convolve_lags(x, weights[:, None, :], xp)
    named = {k: params[site] for k, site in SATURATION_PARAMETERS[form.saturation].items()}
    return params["beta"] * saturate(form.saturation, adstocked, named, xp)


def _channel_params(form: ModelForm) -> dict[str, Any]:
    """Shared transform parameters (inside the channel plate); national priors."""
    import numpyro
    import numpyro.distributions as dist

    params: dict[str, Any] = {}
    if form.adstock in ("geometric", "delayed"):
        params["alpha"] = numpyro.sample("alpha", dist.Beta(1.0, 3.0))
    if form.adstock == "delayed":
        params["theta"] = (form.l_max - 1) * numpyro.sample("theta_share", dist.Beta(2.0, 2.0))
    if form.adstock.startswith("weibull"):
        params["weibull_lam"] = numpyro.sample("weibull_lam", dist.Gamma(2.0, 1.0))
        params["weibull_k"] = numpyro.sample("weibull_k", dist.Gamma(2.0, 1.0))
    if form.saturation == "hill":
        params["slope"] = numpyro.sample("slope", dist.Gamma(3.0, 2.0))
        params["kappa"] = numpyro.sample("kappa", dist.Gamma(2.0, 2.0))
    elif form.saturation == "logistic":
        params["lam"] = numpyro.sample("lam", dist.Gamma(3.0, 1.0))
    else:
        params["lam"] = numpyro.sample("lam", dist.Gamma(2.0, 2.0))
    return params


def geo_model(form: ModelForm, inputs: GeoInputs) -> None:
    """The NumPyro model of the module docstring."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    x = jnp.asarray(inputs.x)  # (T, G, C)
    features = jnp.asarray(inputs.features)  # (T, G, P)
    n_fit, geos = inputs.y.shape
    channels = x.shape[2]
    log_median = jnp.log(jnp.asarray(inputs.median))
    with numpyro.plate("channel", channels):
        params = _channel_params(form)
        if inputs.pooled:
            mu = numpyro.sample("effect_mu", dist.Normal(log_median, EFFECT_LOG_SD))
            tau = numpyro.sample("effect_tau", dist.HalfNormal(TAU_SD))
    with numpyro.plate("geo_channel", geos, dim=-2), numpyro.plate("channel_", channels, dim=-1):
        if inputs.pooled:
            z = numpyro.sample("effect_z", dist.Normal(0.0, 1.0))
            log_effect = mu + tau * z
        else:
            log_effect = numpyro.sample("log_effect", dist.Normal(log_median, EFFECT_LOG_SD))
    effect = numpyro.deterministic("effect", jnp.exp(log_effect))  # (G, C)
    params["beta"] = numpyro.deterministic("beta", effect / form.steady_saturation(params, jnp))
    if form.adstock == "delayed":
        numpyro.deterministic("theta", params["theta"])
    if features.shape[2]:
        coef = numpyro.sample("coef", dist.Normal(0.0, jnp.asarray(inputs.feature_sd)).to_event(1))
        baseline = jnp.einsum("tgp,p->tg", features, coef)
    else:
        baseline = jnp.zeros(x.shape[:2])
    shifted = None if inputs.shifted is None else jnp.asarray(inputs.shifted)
    media = geo_media(form, params, x, jnp, shifted).sum(axis=-1)  # (T, G)
    with numpyro.plate("geo", geos):
        level = numpyro.sample("level", dist.Normal(jnp.asarray(inputs.centre), 1.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
    # the level per geo is sampled and the intercept derived (the national model's reason: a
    # free intercept trades off against every always-on channel)
    intercept = numpyro.deterministic("intercept", level - (baseline + media)[:n_fit].mean(axis=0))
    mean = (intercept + baseline + media)[:n_fit]
    y = jnp.asarray(inputs.y)
    if form.likelihood == "student_t":
        nu = numpyro.sample("nu", dist.Gamma(2.0, 0.1))
        numpyro.sample("y", dist.StudentT(nu, mean, sigma), obs=y)
    else:
        numpyro.sample("y", dist.Normal(mean, sigma), obs=y)


def _parameters(samples: dict[str, Any]) -> dict[str, np.ndarray]:
    out = {k: np.asarray(v, float) for k, v in samples.items() if k not in SAMPLED_ONLY}
    if "coef" not in out:
        out["coef"] = np.zeros((*out["intercept"].shape[:-1], 0))
    return out


def fit_geo_nuts(
    form: ModelForm,
    inputs: GeoInputs,
    *,
    chains: int,
    draws: int,
    warmup: int,
    seed: int,
    target_accept: float,
) -> Draws:
    """NUTS draws of the geo model (chains in parallel where JAX has the devices)."""
    import_numpyro("cerebro mmm --geo-column")
    from numpyro.infer import NUTS

    samples, stats, seconds = run_chains(
        NUTS(geo_model, target_accept_prob=target_accept, dense_mass=DENSE_MASS),
        (form, inputs),
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=seed,
    )
    diagnosed = {k: np.asarray(v, float) for k, v in samples.items() if k in ("effect_z",)}
    params = _parameters(samples)
    rhat, bulk, tail = convergence({**params, **diagnosed})
    return Draws(params, rhat, bulk, tail, stats["divergences"], seconds, stats["steps_per_draw"])


def fit_geo_svi(form: ModelForm, inputs: GeoInputs, *, steps: int, draws: int, seed: int) -> Draws:
    """A multivariate-normal variational fit of the geo model, then `draws` draws."""
    import time

    import_numpyro("cerebro mmm --geo-column")
    import jax
    from numpyro.infer import SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoMultivariateNormal
    from numpyro.infer.initialization import init_to_median
    from numpyro.optim import ClippedAdam

    start = time.perf_counter()
    # started at the prior medians, with clipped steps: plain Adam from the default start went
    # off to ROIs 10–1000 times the truth at 40 geos (exp of a pooled log effect overshoots)
    guide = AutoMultivariateNormal(geo_model, init_loc_fn=init_to_median)
    svi = SVI(geo_model, guide, ClippedAdam(0.01), Trace_ELBO())
    fitted = svi.run(jax.random.PRNGKey(seed), steps, form, inputs, progress_bar=False)
    latent = guide.sample_posterior(
        jax.random.PRNGKey(seed + 1), fitted.params, sample_shape=(draws,)
    )
    derived = Predictive(geo_model, posterior_samples=latent)(
        jax.random.PRNGKey(seed + 2), form, inputs
    )
    sampled = {k: np.asarray(v)[None] for k, v in {**latent, **derived}.items() if k != "y"}
    params = _parameters(sampled)
    empty = {k: np.full(v.shape[2:], np.nan) for k, v in params.items()}
    return Draws(params, empty, empty, dict(empty), 0, time.perf_counter() - start)

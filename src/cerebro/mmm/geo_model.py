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
  Normal(log(0.2 · share_c), 1) on its own (no pooling, for comparison); `pooling="complete"`:
  log effect_{g,c} = μ_c in every geo (complete pooling, for comparison);
- an ROI prior on channel c: roi_c ~ LogNormal(its mean and sd) is the channel's national ROI
  over the fitted weeks, all geos' β_{·,c} rescaled by one factor to meet it (`_roi_scaled`);
- lift tests: measured lift ~ Normal(model lift summed over the test's geos, SE)
  (`cerebro.mmm.geo_calibration`).

References: Jin et al. (2017) for the transforms; Sun, Wang, Jin, Chan & Koehler (2017),
"Geo-level Bayesian hierarchical media mix modeling", Google; Google's Meridian (2024).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.mmm.geo import GeoData
from cerebro.mmm.geo_calibration import GeoLiftTests
from cerebro.mmm.inference import Sampling
from cerebro.mmm.model import (
    EFFECT_LOG_SD,
    MEDIA_SHARE_MEDIAN,
    channel_transform_params,
    feature_scales,
    lognormal_from_moments,
)
from cerebro.mmm.posterior import SATURATION_PARAMETERS, ModelForm
from cerebro.mmm.transforms import convolve_lags, saturate

TAU_SD = 0.5  # HalfNormal scale of the geo spread of log effects (×1.6 between geos at 1 SD)
SAMPLED_ONLY = ("level", "effect_z", "effect_mu", "log_effect")
# diagonal: a dense matrix of ~G·C dimensions costs more than it saves, and a dense block for
# the shared parameters alone (`global_sites`) took fewer steps but mixed worse (min ESS 102
# against 392 at 40 geos, 4 × 300 + 300; docs/mmm.md, "Speed of the geo model")
DENSE_MASS = False


@dataclass(frozen=True)
class GeoInputs:
    x: np.ndarray  # scaled spend (T, G, C)
    features: np.ndarray  # (T, G, P)
    feature_sd: np.ndarray  # (P,)
    y: np.ndarray  # (n_fit, G)
    centre: np.ndarray  # (G,)
    median: np.ndarray  # prior median effect per channel (C,)
    pooling: str = "partial"  # partial, none or complete
    shifted: np.ndarray | None = None  # x shifted by 0 … L − 1 weeks (L, T, G, C)
    kpi_scale: np.ndarray | None = None  # KPI units per model unit, per geo (G,)
    spend: np.ndarray | None = None  # national spend over the fitted weeks, raw (C,)
    roi_index: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    roi_mu: np.ndarray = field(default_factory=lambda: np.zeros(0))  # log-normal of national ROI
    roi_sigma: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tests: GeoLiftTests | None = None  # lift tests, observed in KPI units / Σ_g kpi_scale_g
    test_shifted: np.ndarray | None = None  # each test's channel's spend with its change,
    # shifted by 0 … L − 1 weeks (tests, L, T, G)


def shifted_lags(x: np.ndarray, lags: int) -> np.ndarray:
    """x (T, …) shifted l weeks later for l = 0 … lags − 1 (zeros before the first week)."""
    lags = min(lags, len(x))
    return np.stack([np.concatenate([np.zeros((lag, *x.shape[1:])), x[: len(x) - lag]])
                     for lag in range(lags)])  # fmt: skip


def geo_inputs(
    data: GeoData,
    pooling: str = "partial",
    lags: int | None = None,
    roi_prior: dict[str, tuple[float, float]] | None = None,
    tests: GeoLiftTests | None = None,
) -> GeoInputs:
    """The model's arrays; `lags` (the adstock's number of weights) precomputes the shifted
    spend the model's adstock reads; `roi_prior` maps channels to (mean, sd) of their national
    ROI; `tests` are lift tests (they need `lags`)."""
    n = data.first.n_fit
    priors = roi_prior or {}
    index = np.array([data.first.channels.index(c) for c in priors], int)
    means = np.array([priors[c][0] for c in priors], float)
    sds = np.array([priors[c][1] for c in priors], float)
    mu, sigma = lognormal_from_moments(means, sds) if len(index) else (means, sds)
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
        pooling=pooling,
        shifted=None if lags is None else shifted_lags(x, lags),
        kpi_scale=np.array([p.kpi_scale for p in data.parts]),
        spend=sum(p.spend[:n].sum(axis=0) for p in data.parts),
        roi_index=index,
        roi_mu=mu,
        roi_sigma=sigma,
        tests=tests if tests is not None and len(tests) else None,
        test_shifted=np.stack([shifted_lags(t, lags) for t in tests.scaled_spend(data)])
        if tests is not None and len(tests) and lags is not None
        else None,
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


def _roi_scaled(beta: Any, shape: Any, inputs: GeoInputs) -> Any:
    """beta with the channels that have an ROI prior rescaled, all geos alike, so that their
    national ROI over the fitted weeks (Σ_g KPI scale_g · β_{g,c} · Σ_t s_c(adstock)_{t,g} ÷
    national spend_c) is a draw of roi_c ~ LogNormal(the prior's mean and sd): Meridian's ROI
    parameterisation (Google, 2024) at the national level, the geos' partially pooled effects
    setting only how the channel's return is split across geos."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    index = jnp.asarray(inputs.roi_index)
    with numpyro.plate("roi_channel", len(inputs.roi_index)):
        roi = numpyro.sample(
            "roi", dist.LogNormal(jnp.asarray(inputs.roi_mu), jnp.asarray(inputs.roi_sigma))
        )
    kpi_scale = jnp.asarray(inputs.kpi_scale)[:, None]
    implied = (kpi_scale * beta * shape).sum(axis=0)[index] / jnp.asarray(inputs.spend)[index]
    return beta * jnp.ones(beta.shape[1]).at[index].set(roi / implied)


def _observe_lifts(form: ModelForm, params: dict[str, Any], unit: Any, inputs: GeoInputs) -> None:
    """Each lift test: measured lift ~ Normal(model lift, its SE) (`cerebro.mmm.geo_calibration`),
    in units of Σ_g kpi_scale_g; the tested channel's adstock and saturation with the changed
    spend, against `unit` (the same without the change)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    tests = inputs.tests.tests
    assert inputs.kpi_scale is not None and inputs.test_shifted is not None
    weights = form.weights(params, jnp)  # (L, C)
    scale = jnp.asarray(inputs.kpi_scale / inputs.kpi_scale.sum())  # (G,)
    lifts = []
    for i, c in enumerate(tests.channel):
        shifted = jnp.asarray(inputs.test_shifted[i])  # (L, T, G)
        stock = jnp.einsum("ltg,l->tg", shifted, weights[: shifted.shape[0], c])
        named = {k: params[site][c] for k, site in SATURATION_PARAMETERS[form.saturation].items()}
        gap = (saturate(form.saturation, stock, named, jnp) - unit[:, :, c])[
            tests.first[i] : tests.last[i] + 1
        ]
        lifts.append((scale * params["beta"][:, c] * gap).sum())
    total = float(inputs.kpi_scale.sum())
    numpyro.sample(
        "lift",
        dist.Normal(jnp.stack(lifts), jnp.asarray(tests.se / total)),
        obs=jnp.asarray(tests.lift / total),
    )


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
        params = channel_transform_params(form)
        if inputs.pooling != "none":
            mu = numpyro.sample("effect_mu", dist.Normal(log_median, EFFECT_LOG_SD))
        if inputs.pooling == "partial":
            tau = numpyro.sample("effect_tau", dist.HalfNormal(TAU_SD))
    if inputs.pooling == "complete":  # one effect per channel in every geo
        log_effect = jnp.broadcast_to(mu, (geos, channels))
    with numpyro.plate("geo_channel", geos, dim=-2), numpyro.plate("channel_", channels, dim=-1):
        if inputs.pooling == "partial":
            z = numpyro.sample("effect_z", dist.Normal(0.0, 1.0))
            log_effect = mu + tau * z
        elif inputs.pooling == "none":
            log_effect = numpyro.sample("log_effect", dist.Normal(log_median, EFFECT_LOG_SD))
    effect = numpyro.deterministic("effect", jnp.exp(log_effect))  # (G, C)
    beta = effect / form.steady_saturation(params, jnp)
    if form.adstock == "delayed":
        numpyro.deterministic("theta", params["theta"])
    if features.shape[2]:
        coef = numpyro.sample("coef", dist.Normal(0.0, jnp.asarray(inputs.feature_sd)).to_event(1))
        baseline = jnp.einsum("tgp,p->tg", features, coef)
    else:
        baseline = jnp.zeros(x.shape[:2])
    shifted = None if inputs.shifted is None else jnp.asarray(inputs.shifted)
    # s_c(adstock_c(x_{g,·,c})) once: the media terms and an ROI prior's scale both read it
    unit = geo_media(form, {**params, "beta": 1.0}, x, jnp, shifted)  # (T, G, C)
    if len(inputs.roi_index):
        beta = _roi_scaled(beta, unit[:n_fit].sum(axis=0), inputs)
    params["beta"] = numpyro.deterministic("beta", beta)
    media = (beta * unit).sum(axis=-1)  # (T, G)
    if inputs.test_shifted is not None:
        _observe_lifts(form, params, unit, inputs)
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


def global_sites(form: ModelForm, inputs: GeoInputs) -> list[tuple[str, ...]]:
    """One dense block of NUTS's mass matrix: the sampled parameters every geo shares (adstock,
    saturation, pooled effect mean and spread, baseline coefficients …: every site outside the
    geo plates, read off a trace of the model); the per-geo ones keep a diagonal."""
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(geo_model, 0)).get_trace(form, inputs)
    per_geo = {"geo", "geo_channel"}
    return [
        tuple(
            name
            for name, site in trace.items()
            if site["type"] == "sample"
            and not site["is_observed"]
            and not per_geo & {frame.name for frame in site["cond_indep_stack"]}
        )
    ]


GEO = Sampling(
    geo_model,
    command="cerebro mmm --geo-column",
    sampled_only=SAMPLED_ONLY,
    dense_mass=lambda form, inputs: DENSE_MASS,
    diagnosed=("effect_z",),
    svi_from_median=True,
)

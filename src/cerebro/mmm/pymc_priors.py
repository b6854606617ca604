"""PyMC-Marketing's default MMM as a prior set of `cerebro mmm` (``--priors pymc-marketing``).

The model ``pymc_marketing.mmm.multidimensional.MMM`` (0.19.x) builds when given only its
adstock, saturation, controls and yearly seasonality – read from its source and described in
our words in `bench/mmm/NOTES.md` ("The default model") – written with Cerebro's own parts
(adstock → saturation → coefficient of `ModelForm.media`, the mean of `mean_terms`, the NUTS of
`cerebro.mmm.inference`), so that both tools fit the same posterior and their speed can be
compared on it:

- scaling: the KPI divided by its maximum, each channel's spend by its own maximum (over the
  fitted weeks), controls **not** scaled; yearly Fourier terms sin/cos(2πk · day of year /
  365.25) on the calendar (PyMC-Marketing's ``yearly_seasonality``);
- priors: intercept ~ Normal(0, 2); each control ~ Normal(0, 2) (Cerebro's trend too, which a
  PyMC-Marketing user adds as a control column); Fourier coefficients ~ Laplace(0, 1); adstock
  alpha ~ Beta(1, 3), delayed peak theta ~ HalfNormal(1); Hill slope and kappa ~
  HalfNormal(1.5), beta ~ HalfNormal(1.5); logistic lam ~ Gamma(3, 1), beta ~ HalfNormal(2);
  Michaelis–Menten lam ~ HalfNormal(1), ceiling beta ~ Gamma(mean 2, sd 1) (shape 4, rate 2);
  noise sigma ~ HalfNormal(2);
- likelihood: KPI / max ~ Normal(μ, sigma).

How the sampler moves (`reparameterise`, the default) changes nothing in the posterior: it
samples the level ℓ = mean of μ over the fitted weeks instead of the intercept (intercept = ℓ −
mean of the other terms, a shear with Jacobian 1, the intercept's Normal(0, 2) density added as
a factor), and each channel's effect at its average spend e_c = beta_c · s_c(x̄_c · Σ_l w_l)
instead of beta_c (the beta prior's density at e_c / s_c added with the Jacobian 1 / s_c). The
data fix ℓ and e_c well, while the intercept trades off against every always-on channel and
beta against the saturation parameters – ridges that cost NUTS many leapfrog steps per draw
(measured in BENCHMARKS.md, "Same model").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cerebro.mmm.data import MMMData
from cerebro.mmm.inference import Sampling
from cerebro.mmm.posterior import SATURATION_PARAMETERS, ModelForm, mean_terms
from cerebro.mmm.transforms import saturate

SCALE_SD = 2.0  # intercept, controls, logistic beta, sigma: Normal/HalfNormal(0, 2)
FOURIER_SCALE = 1.0  # Laplace(0, 1)
HILL_SD = 1.5  # Hill slope, kappa and beta: HalfNormal(1.5)
SAMPLED_ONLY = ("level", "effect")


def pymc_marketing_data(data: MMMData) -> MMMData:
    """`data` with PyMC-Marketing's scaling: KPI and each channel divided by its maximum over
    the fitted weeks, controls as they are, Fourier terms on the calendar."""
    n = data.n_fit
    k = len(data.control_names)
    scaled = replace(
        data,
        kpi_scale=float(data.kpi[:n].max()),
        spend_scale=data.spend[:n].max(axis=0),
        control_mean=np.zeros(k),
        control_sd=np.ones(k),
        calendar=True,
    )
    if scaled.seasonality is not None:
        scaled.year_phase(2)  # one sentence now if the dates are not dates
    return scaled


@dataclass(frozen=True)
class PymcInputs:
    """Arrays the model reads: scaled spend (T, C), features (T, P), which features are
    Fourier terms (P,), the fitted weeks' scaled KPI, each channel's mean scaled spend."""

    x: np.ndarray
    features: np.ndarray
    fourier: np.ndarray
    y: np.ndarray
    x_mean: np.ndarray
    reparameterise: bool = True


def pymc_inputs(data: MMMData, reparameterise: bool = True) -> PymcInputs:
    n = data.n_fit
    x = data.spend_scaled()
    fourier = np.array([name.startswith("season_") for name in data.feature_names()], bool)
    return PymcInputs(
        x=x,
        features=data.baseline_features(),
        fourier=fourier,
        y=data.target[:n],
        x_mean=x[:n].mean(axis=0),
        reparameterise=reparameterise,
    )


def beta_prior(saturation: str) -> Any:
    """PyMC-Marketing's default prior of the channel coefficient (the curve's ceiling)."""
    import numpyro.distributions as dist

    if saturation == "hill":
        return dist.HalfNormal(HILL_SD)
    if saturation == "logistic":
        return dist.HalfNormal(SCALE_SD)
    return dist.Gamma(4.0, 2.0)  # Michaelis–Menten alpha: mean 2, sd 1


def transform_params(form: ModelForm) -> dict[str, Any]:
    """Each channel's adstock and saturation parameters with PyMC-Marketing's default priors,
    sampled inside the caller's channel plate."""
    import numpyro
    import numpyro.distributions as dist

    params: dict[str, Any] = {"alpha": numpyro.sample("alpha", dist.Beta(1.0, 3.0))}
    if form.adstock == "delayed":
        params["theta"] = numpyro.sample("theta", dist.HalfNormal(1.0))
    if form.saturation == "hill":
        params["slope"] = numpyro.sample("slope", dist.HalfNormal(HILL_SD))
        params["kappa"] = numpyro.sample("kappa", dist.HalfNormal(HILL_SD))
    elif form.saturation == "logistic":
        params["lam"] = numpyro.sample("lam", dist.Gamma(3.0, 1.0))
    else:
        params["lam"] = numpyro.sample("lam", dist.HalfNormal(1.0))
    return params


def _coefficients(inputs: PymcInputs) -> Any:
    """The baseline coefficients, one site: Laplace(0, 1) for Fourier terms, Normal(0, 2) for
    the others (their log densities added as a factor over a flat site)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    p = inputs.features.shape[1]
    if not p:
        return jnp.zeros(0)
    coef = numpyro.sample("coef", dist.ImproperUniform(constraints.real, (), (p,)))
    fourier = jnp.asarray(inputs.fourier)
    density = jnp.where(
        fourier,
        dist.Laplace(0.0, FOURIER_SCALE).log_prob(coef),
        dist.Normal(0.0, SCALE_SD).log_prob(coef),
    )
    numpyro.factor("coef_prior", density.sum())
    return coef


def pymc_marketing_model(form: ModelForm, inputs: PymcInputs) -> None:
    """The NumPyro model (module docstring); `obs` is the fitted weeks' KPI / max."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    x = jnp.asarray(inputs.x)
    n_fit, channels = len(inputs.y), x.shape[1]
    params: dict[str, Any] = {"coef": _coefficients(inputs)}
    with numpyro.plate("channel", channels):
        params.update(transform_params(form))
        if inputs.reparameterise:
            effect = numpyro.sample("effect", dist.ImproperUniform(constraints.positive, (), ()))
        else:
            params["beta"] = numpyro.sample("beta", beta_prior(form.saturation))
    if inputs.reparameterise:
        carry = jnp.sum(form.weights(params, jnp), axis=0)  # Σ_l w_l per channel
        named = {k: params[s] for k, s in SATURATION_PARAMETERS[form.saturation].items()}
        at_mean = saturate(form.saturation, jnp.asarray(inputs.x_mean) * carry, named, jnp)
        beta = numpyro.deterministic("beta", effect / at_mean)
        numpyro.factor("beta_prior", (beta_prior(form.saturation).log_prob(beta)
                                      - jnp.log(at_mean)).sum())  # fmt: skip
        params["beta"] = beta
        params["intercept"] = 0.0
        baseline, media = mean_terms(form, params, x, jnp.asarray(inputs.features), jnp)
        rest = (baseline + media.sum(axis=-1))[:n_fit]
        level = numpyro.sample("level", dist.ImproperUniform(constraints.real, (), ()))
        intercept = numpyro.deterministic("intercept", level - rest.mean())
        numpyro.factor("intercept_prior", dist.Normal(0.0, SCALE_SD).log_prob(intercept))
        mu = rest + intercept
    else:
        params["intercept"] = numpyro.sample("intercept", dist.Normal(0.0, SCALE_SD))
        baseline, media = mean_terms(form, params, x, jnp.asarray(inputs.features), jnp)
        mu = (baseline + media.sum(axis=-1))[:n_fit]
    sigma = numpyro.sample("sigma", dist.HalfNormal(SCALE_SD))
    numpyro.sample("y", dist.Normal(mu, sigma), obs=jnp.asarray(inputs.y))


PYMC_MARKETING = Sampling(
    pymc_marketing_model,
    command="cerebro mmm",
    sampled_only=SAMPLED_ONLY,
    dense_mass=lambda form, inputs: True,
    # warm-up trees at most 2^8 − 1 steps: early in the warm-up, before the step size and mass
    # matrix adapt, trees ran to the 1023-step cap – 87k of a chain's 136k warm-up steps in its
    # first 100 iterations; capped at depth 8 the warm-up took 64k steps, same ESS (2 chains,
    # 1000 + 1000 on the benchmark data). Sampling keeps depth 10.
    max_tree_depth=(8, 10),
)

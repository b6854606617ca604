"""Media transforms of a media mix model: carryover (adstock), then diminishing returns (saturation).

Each function is written once for any array module: it uses only operators and the functions of
`xp` (numpy by default; `jax.numpy` inside the NumPyro model), so the numbers drawn in the model,
the posterior summaries and the later budget optimiser all come from the same code.

Shapes. Time is axis 0 of the media ``x`` (T, …); a parameter broadcasts against the trailing
axes of ``x``: ``x`` of shape (T, C) with ``alpha`` of shape (C,) transforms C channels at once,
``x`` of shape (T, 1, C) with ``alpha`` of shape (D, C) does so for D posterior draws.

Conventions and parameter names follow PyMC-Marketing's ``pymc_marketing.mmm.transformers``
(adstock applied "after": the effect of spend at week t is felt at t, t+1, …, t + l_max − 1),
so that its functions and these agree on a grid. The model structure – adstock, then
saturation, then a coefficient – is Jin, Wang, Sun, Chan & Koehler (2017), "Bayesian methods for
media mix modeling with carryover and shape effects", Google Inc.

Adstock: with lag weights w_0 … w_{L−1} (L = ``l_max``),

    adstock(x)_t = Σ_{l=0}^{L−1} w_l · x_{t−l},   x_{t−l} = 0 before the first week.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ADSTOCKS = ("geometric", "delayed", "weibull_pdf", "weibull_cdf")
SATURATIONS = ("hill", "logistic", "michaelis_menten")


def _lag(xp: Any, l_max: int, like: Any) -> Any:
    """The lags 0 … l_max − 1 as a column (L, 1, …) that broadcasts with parameters like `like`."""
    lags = xp.arange(l_max, dtype=float)
    return lags.reshape((l_max,) + (1,) * xp.ndim(like))


def convolve_lags(x: Any, weights: Any, xp: Any = np) -> Any:
    """Σ_l weights[l] · x shifted l weeks later (zeros before the first week).

    `weights` has the lags on axis 0, shape (L, …) broadcasting with x's trailing axes.

    Inside the model (JAX) the shifted copies of the spend are constants, stacked once, and the
    sum is one product and one reduction: XLA fuses that, and the gradient costs about half of
    a chain of L multiply-adds (0.12 → 0.05 ms per gradient on the 156 × 6 benchmark). numpy
    adds the lags one at a time instead, so that all posterior draws at once (weights of shape
    (L, D, C)) never hold an (L, T, D, C) array.
    """
    n = x.shape[0]
    lags = min(weights.shape[0], n)
    shifted = [x] + [
        xp.concatenate([xp.zeros((lag, *x.shape[1:]), dtype=x.dtype), x[: n - lag]])
        for lag in range(1, lags)
    ]
    if xp is not np:
        stacked = xp.stack(shifted)
        return (weights[:lags].reshape((lags, 1, *weights.shape[1:])) * stacked).sum(axis=0)
    out = weights[0] * x
    for lag in range(1, lags):
        out = out + weights[lag] * shifted[lag]
    return out


def geometric_weights(alpha: Any, l_max: int, normalize: bool = False, xp: Any = np) -> Any:
    """w_l = alpha^l (l = 0 … l_max − 1); with `normalize`, divided by Σ_l alpha^l (they sum to 1).

    alpha in [0, 1) is the share of an effect retained from one week to the next.
    """
    alpha = xp.asarray(alpha, dtype=float)
    w = alpha ** _lag(xp, l_max, alpha)
    return w / xp.sum(w, axis=0) if normalize else w


def delayed_weights(
    alpha: Any, theta: Any, l_max: int, normalize: bool = False, xp: Any = np
) -> Any:
    """w_l = alpha^((l − theta)²): the effect peaks theta weeks after the spend (0 ≤ theta < l_max)
    and decays on both sides at rate alpha in (0, 1); `normalize` divides by the sum."""
    alpha = xp.asarray(alpha, dtype=float)
    theta = xp.asarray(theta, dtype=float)
    w = alpha ** ((_lag(xp, l_max, alpha + theta) - theta) ** 2)
    return w / xp.sum(w, axis=0) if normalize else w


def binomial_weights(alpha: Any, l_max: int, normalize: bool = False, xp: Any = np) -> Any:
    """w_l = (1 − l/(l_max + 1))^(1/alpha − 1) (l = 0 … l_max − 1); `normalize` divides by the
    sum. alpha in (0, 1]: near 1 the effect lasts the whole window, near 0 it is gone after the
    first week. Not a model choice (yet); here so the transforms cover PyMC-Marketing's grid."""
    alpha = xp.asarray(alpha, dtype=float)
    w = (1 - _lag(xp, l_max, alpha) / (l_max + 1)) ** (1 / alpha - 1)
    return w / xp.sum(w, axis=0) if normalize else w


def weibull_pdf_weights(lam: Any, k: Any, l_max: int, xp: Any = np, normalize: bool = False) -> Any:
    """Weibull-PDF lag weights: f(t) = (k/lam)(t/lam)^(k−1) exp(−(t/lam)^k) at t = l + 1
    (l = 0 … l_max − 1), rescaled to [0, 1] by (f − min f)/(max f − min f) over the lags;
    `normalize` then divides by their sum (PyMC-Marketing's option; the model does not use it).

    lam > 0 is the scale (in weeks), k > 0 the shape (k > 1: a delayed peak)."""
    lam = xp.asarray(lam, dtype=float)
    k = xp.asarray(k, dtype=float)
    t = _lag(xp, l_max, lam + k) + 1.0
    f = (k / lam) * (t / lam) ** (k - 1) * xp.exp(-((t / lam) ** k))
    low, high = xp.min(f, axis=0), xp.max(f, axis=0)
    w = (f - low) / (high - low)
    return w / xp.sum(w, axis=0) if normalize else w


def weibull_cdf_weights(lam: Any, k: Any, l_max: int, xp: Any = np, normalize: bool = False) -> Any:
    """Weibull-CDF lag weights, l_max + 1 of them: w_0 = 1 and w_l = Π_{i=1}^{l} S(i) for
    l = 1 … l_max, where S(t) = exp(−(t/lam)^k) is the Weibull survival function – each week
    keeps the share S of the previous week's effect, the share changing with the lag.
    `normalize` divides by their sum (PyMC-Marketing's option; the model does not use it)."""
    lam = xp.asarray(lam, dtype=float)
    k = xp.asarray(k, dtype=float)
    t = _lag(xp, l_max, lam + k) + 1.0
    survival = xp.exp(-((t / lam) ** k))
    ones = xp.ones((1, *survival.shape[1:]), dtype=survival.dtype)
    w = xp.cumprod(xp.concatenate([ones, survival]), axis=0)
    return w / xp.sum(w, axis=0) if normalize else w


def adstock_weights(kind: str, params: dict[str, Any], l_max: int, normalize: bool, xp: Any = np):
    """The lag weights of adstock `kind` ('geometric', 'delayed', 'weibull_pdf', 'weibull_cdf')
    from its parameters (alpha; alpha, theta; lam, k); `normalize` applies to the first two."""
    if kind == "geometric":
        return geometric_weights(params["alpha"], l_max, normalize, xp)
    if kind == "delayed":
        return delayed_weights(params["alpha"], params["theta"], l_max, normalize, xp)
    if kind == "weibull_pdf":
        return weibull_pdf_weights(params["lam"], params["k"], l_max, xp)
    if kind == "weibull_cdf":
        return weibull_cdf_weights(params["lam"], params["k"], l_max, xp)
    raise ValueError(f"unknown adstock {kind!r}; one of {ADSTOCKS}")


def geometric_adstock(
    x: Any, alpha: Any, l_max: int = 12, normalize: bool = False, xp: Any = np
) -> Any:
    """Geometric adstock: Σ_l alpha^l x_{t−l} over l < l_max (normalised: divided by Σ alpha^l)."""
    return convolve_lags(x, geometric_weights(alpha, l_max, normalize, xp), xp)


def delayed_adstock(
    x: Any, alpha: Any, theta: Any, l_max: int = 12, normalize: bool = False, xp: Any = np
) -> Any:
    """Delayed adstock: Σ_l alpha^((l − theta)²) x_{t−l} over l < l_max."""
    return convolve_lags(x, delayed_weights(alpha, theta, l_max, normalize, xp), xp)


def weibull_adstock(
    x: Any, lam: Any, k: Any, l_max: int = 12, form: str = "pdf", xp: Any = np
) -> Any:
    """Weibull adstock in its PDF or CDF form (see `weibull_pdf_weights`, `weibull_cdf_weights`)."""
    weights = adstock_weights(f"weibull_{form}", {"lam": lam, "k": k}, l_max, False, xp)
    return convolve_lags(x, weights, xp)


def hill(x: Any, slope: Any, kappa: Any, xp: Any = np) -> Any:
    """Hill saturation x^slope / (kappa^slope + x^slope), for x ≥ 0: 0 at 0, 1/2 at x = kappa
    (the half-saturation point), → 1 as x grows; slope > 0 sets the S-shape (> 1: S-shaped).

    Computed as the logistic function of slope · (log x − log kappa), the same number: one log
    and one exp per element where the power form takes a log and an exp for x^slope and a
    division, and its gradient is cheaper still – 0.63 times the time of the power form for the
    geo model's media terms and likelihood (40 geos × 156 weeks × 6 channels,
    `bench/mmm/profile_geo.py`). x = 0 is set apart: log 0 is −inf, and its derivative times
    the zero derivative of a dark week's adstock would be NaN – a NaN gradient that NUTS
    reports as a divergent transition. The value is unchanged (0 at x = 0)."""
    x = xp.asarray(x, dtype=float)
    positive = x > 0
    z = slope * (xp.log(xp.where(positive, x, 1.0)) - xp.log(kappa))
    return xp.where(positive, _sigmoid(z, xp), 0.0)


def _sigmoid(z: Any, xp: Any) -> Any:
    """1 / (1 + e^(−z)) without overflow in the value or the gradient."""
    if xp is np:
        from scipy.special import expit

        return expit(z)
    import jax

    return jax.nn.sigmoid(z)


def logistic(x: Any, lam: Any, xp: Any = np) -> Any:
    """Logistic saturation (1 − e^(−lam x)) / (1 + e^(−lam x)) = tanh(lam x / 2): 0 at 0, → 1."""
    e = xp.exp(-lam * xp.asarray(x, dtype=float))
    return (1 - e) / (1 + e)


def michaelis_menten(x: Any, alpha: Any, lam: Any, xp: Any = np) -> Any:
    """Michaelis–Menten saturation alpha · x / (lam + x): → alpha, half of it at x = lam."""
    x = xp.asarray(x, dtype=float)
    return alpha * x / (lam + x)


def saturate(kind: str, x: Any, params: dict[str, Any], xp: Any = np) -> Any:
    """Saturation `kind` of x with ceiling 1 (the model's coefficient scales it): hill (slope,
    kappa), logistic (lam), michaelis_menten (lam; alpha = 1)."""
    if kind == "hill":
        return hill(x, params["slope"], params["kappa"], xp)
    if kind == "logistic":
        return logistic(x, params["lam"], xp)
    if kind == "michaelis_menten":
        return michaelis_menten(x, 1.0, params["lam"], xp)
    raise ValueError(f"unknown saturation {kind!r}; one of {SATURATIONS}")

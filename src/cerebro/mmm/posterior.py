"""The fitted model as posterior draws, and everything computed from them.

`mean_terms` is the model's mean written once for any array module: the NumPyro model calls it
with one draw of every parameter (`jax.numpy`), `MMMPosterior` with all draws at once (numpy).
Contributions, ROI, marginal ROI, response curves and predictions are posterior-draw functions
of it, so the numbers in a result, in a saved model and in a later budget optimiser agree.

Model (Jin et al. 2017, with the scaling of `cerebro.mmm.data`): for week t,

    μ_t = intercept + Σ_j coef_j · feature_{t,j} + Σ_c beta_c · s_c(adstock_c(x_c)_t),

x_c the channel's spend divided by its mean, s_c the saturation (ceiling 1) and the KPI scaled
by its mean is Normal(μ_t, σ) (or Student-t) – or, with ``log_kpi``, its log is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.mmm.data import MMMData
from cerebro.mmm.transforms import adstock_weights, convolve_lags, saturate

# Model parameter (sample site) of each transform parameter.
ADSTOCK_PARAMETERS = {
    "geometric": {"alpha": "alpha"},
    "delayed": {"alpha": "alpha", "theta": "theta"},
    "weibull_pdf": {"lam": "weibull_lam", "k": "weibull_k"},
    "weibull_cdf": {"lam": "weibull_lam", "k": "weibull_k"},
}
SATURATION_PARAMETERS = {
    "hill": {"slope": "slope", "kappa": "kappa"},
    "logistic": {"lam": "lam"},
    "michaelis_menten": {"lam": "lam"},
}
MARGINAL_STEP = 0.01  # marginal ROI: every week's spend of the channel raised by 1%


@dataclass(frozen=True)
class ModelForm:
    """The choices that fix the model's mean and noise (a spec's modelling fields)."""

    adstock: str
    saturation: str
    l_max: int
    normalize: bool
    likelihood: str

    def channel_sites(self) -> list[str]:
        """Per-channel parameters: the transforms', then the coefficient beta."""
        return [
            *ADSTOCK_PARAMETERS[self.adstock].values(),
            *SATURATION_PARAMETERS[self.saturation].values(),
            "beta",
        ]

    def weights(self, params: dict[str, Any], xp: Any = np) -> Any:
        named = {k: params[site] for k, site in ADSTOCK_PARAMETERS[self.adstock].items()}
        return adstock_weights(self.adstock, named, self.l_max, self.normalize, xp)

    def steady_saturation(self, params: dict[str, Any], xp: Any = np) -> Any:
        """s(Σ_l w_l): the saturation reached when the channel spends its average (1 on the
        scaled axis) every week, once the carryover has built up."""
        steady = xp.sum(self.weights(params, xp), axis=0)
        named = {k: params[site] for k, site in SATURATION_PARAMETERS[self.saturation].items()}
        return saturate(self.saturation, steady, named, xp)

    def media(self, params: dict[str, Any], x: Any, xp: Any = np) -> Any:
        """beta_c · s_c(adstock_c(x_c)) for every channel (same shape as x · beta)."""
        adstocked = convolve_lags(x, self.weights(params, xp), xp)
        named = {k: params[site] for k, site in SATURATION_PARAMETERS[self.saturation].items()}
        return params["beta"] * saturate(self.saturation, adstocked, named, xp)


def mean_terms(form: ModelForm, params: dict[str, Any], x: Any, features: Any, xp: Any = np):
    """(baseline, media) of the mean μ: baseline (T[, D]) and media terms (T[, D], C).

    One draw: x (T, C), params of shape () / (P,) / (C,). All draws: x (T, 1, C), params with a
    leading draw axis D."""
    coef = params["coef"]
    if "trend_delta" in params:  # piecewise trend: its columns follow the other features
        coef = xp.concatenate([coef, params["trend_delta"]], axis=-1)
    baseline = params["intercept"] + xp.tensordot(features, coef, axes=([1], [coef.ndim - 1]))
    return baseline, form.media(params, x, xp)


@dataclass
class MMMPosterior:
    """Posterior draws of a fitted MMM with its data and scaling; what `--save` writes.

    `draws[name]` has the draws on axis 0 (chains one after another), then the parameter's own
    axes (channels for per-channel parameters, features for `coef`). `chains` is the number of
    chains (1 for SVI). All outputs are in KPI units and per draw.
    """

    form: ModelForm
    data: MMMData
    draws: dict[str, np.ndarray]
    chains: int
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def n_draws(self) -> int:
        return len(self.draws["intercept"])

    def _terms(self, spend: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        x = self.data.spend_scaled(spend)[:, None, :]
        return mean_terms(self.form, self.draws, x, self.data.baseline_features())

    def predict(self, spend: np.ndarray | None = None) -> np.ndarray:
        """Expected KPI (median with `log_kpi`), (draws, weeks), for the data's spend or `spend`."""
        baseline, media = self._terms(spend)
        mu = (baseline + media.sum(axis=-1)).T
        return self.data.kpi_scale * (np.exp(mu) if self.data.log_kpi else mu)

    def contributions(self, spend: np.ndarray | None = None) -> np.ndarray:
        """Each channel's contribution to the KPI, (draws, weeks, channels): the prediction
        minus the prediction with that channel's spend at zero."""
        baseline, media = self._terms(spend)
        if not self.data.log_kpi:
            return self.data.kpi_scale * np.moveaxis(media, 0, 1)
        mu = baseline + media.sum(axis=-1)
        full = np.exp(mu)[..., None]
        return self.data.kpi_scale * np.moveaxis(full - full * np.exp(-media), 0, 1)

    def baseline(self) -> np.ndarray:
        """The KPI without any media, (draws, weeks)."""
        base, _ = self._terms()
        return self.data.kpi_scale * (np.exp(base) if self.data.log_kpi else base).T

    def roi(self) -> np.ndarray:
        """Contribution ÷ spend over the fitted weeks, (draws, channels)."""
        n = self.data.n_fit
        return self.contributions()[:, :n].sum(axis=1) / self.data.money_spend[:n].sum(axis=0)

    def marginal_roi(self, step: float = MARGINAL_STEP) -> np.ndarray:
        """Extra contribution per extra unit of spend when one channel's spend in every fitted
        week rises by `step` (1%), (draws, channels): a forward difference of the response."""
        n = self.data.n_fit
        now = self.contributions()[:, :n].sum(axis=1)
        out = np.empty_like(now)
        for c in range(len(self.data.channels)):
            spend = self.data.spend.copy()
            spend[:, c] *= 1 + step
            more = self.contributions(spend)[:, :n, c].sum(axis=1)
            extra = step * self.data.spend[:n, c].sum() * self.data.cost[c]  # in money
            out[:, c] = (more - now[:, c]) / extra
        return out

    def adstock_weights(self) -> np.ndarray:
        """Lag weights, (draws, lags, channels)."""
        return np.moveaxis(self.form.weights(self.draws), 0, 1)

    def response_curve(self, channel: int, weekly_spend: np.ndarray) -> np.ndarray:
        """Weekly contribution of `channel` at a constant weekly spend (money; steady state,
        after the carryover has built up), (draws, grid points); additive model in KPI units;
        with `log_kpi`, on the average fitted week's level without the channel."""
        c = channel
        carry = self.adstock_weights()[:, :, c].sum(axis=1)  # Σ_l w_l
        scale = self.data.money_scale[c]  # the grid is money
        x = np.asarray(weekly_spend, float)[None, :] / scale * carry[:, None]
        one = {
            site: v[:, c, None]
            for site, v in self.draws.items()
            if site in self.form.channel_sites()
        }
        named = {k: one[s] for k, s in SATURATION_PARAMETERS[self.form.saturation].items()}
        term = one["beta"] * saturate(self.form.saturation, x, named)
        if not self.data.log_kpi:
            return self.data.kpi_scale * term
        baseline, media = self._terms()
        level = np.exp(baseline + media.sum(axis=-1) - media[..., c])[: self.data.n_fit]
        return self.data.kpi_scale * level.mean(axis=0)[:, None] * np.expm1(term)

    def forecast(
        self,
        spend: np.ndarray,
        controls: np.ndarray | None = None,
        controls_at: str = "mean",
    ) -> np.ndarray:
        """Expected KPI (median with `log_kpi`), (draws, weeks), for the H weeks after the data
        under the spend plan `spend` (H, channels): trend and seasonality continued, controls
        as given (H, K) or at their fitted mean (`controls_at="mean"`) or last value
        (``"last"``), and the adstock carry-over of the last weeks' spend into the plan
        (`cerebro.mmm.forecast`)."""
        from cerebro.mmm.forecast import PlanWindow

        spend = np.asarray(spend, float)
        return PlanWindow(self, len(spend), controls, controls_at).kpi(spend)

    def plan_response(
        self,
        spend: np.ndarray,
        controls: np.ndarray | None = None,
        controls_at: str = "mean",
    ) -> np.ndarray:
        """Total incremental KPI of the plan `spend` over its H weeks after the data, (draws,):
        `forecast` with the plan minus `forecast` with no media in those weeks (the history's
        carry-over is in both and cancels in the additive model)."""
        from cerebro.mmm.forecast import PlanWindow

        spend = np.asarray(spend, float)
        return PlanWindow(self, len(spend), controls, controls_at).response(spend)

"""Augmented synthetic control with a ridge outcome model (Ben-Michael, Feller & Rothstein 2021).

Ben-Michael, Feller & Rothstein (2021, JASA 116:1789–1803) correct the synthetic control's
bias from imperfect pre-period fit with an outcome model. With ridge regression of the
post-period outcomes on the pre-period outcomes (centred at the donor mean of each period) the
estimator is again a weighting estimator, with weights

    w_aug = w_sc + (x₁ − X₀ w_sc)ᵀ (X₀X₀ᵀ + λI)⁻¹ X₀,

where X₀ is the (features × donors) matrix of centred pre-period outcomes (and, optionally,
normalised covariates), x₁ the treated unit's. The correction moves the weights off the
simplex (they may be negative: extrapolation, penalised by λ) and sums to zero, so Σ w_aug = 1.
λ is chosen by leave-one-pre-period-out cross-validation with the one-standard-error rule over
a geometric grid from the largest squared singular value of X₀ downwards, as the augsynth R
package (progfunc = "Ridge") and pysyncon's AugSynth do.
Identification: the linear factor / autoregressive model of ASCM §3; the ridge extrapolation
is what buys the bias reduction when the treated unit lies outside the donors' convex hull.
"""

from __future__ import annotations

import numpy as np

from cerebro.stats.ridge import cross_validate, lambda_grid, ridge_corrections
from cerebro.stats.synth_weights import SynthFit, simplex_lstsq


def _design(
    Y0pre: np.ndarray,
    y1pre: np.ndarray,
    cov0: np.ndarray | None,
    cov1: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Features × donors design and treated features: centred outcomes, then covariates
    centred, divided by their donor SD and multiplied by the overall SD of the centred outcomes
    (so both blocks are on one scale, as augsynth does)."""
    centre = Y0pre.mean(axis=0)
    X0 = (Y0pre - centre).T
    x1 = y1pre - centre
    if cov0 is None or cov0.shape[1] == 0:
        return X0, x1, X0.shape[0]
    c_centre = cov0.mean(axis=0)
    c_sd = cov0.std(axis=0, ddof=1)
    c_sd = np.where(c_sd > 0, c_sd, 1.0)
    scale = X0.std(ddof=1)
    Z0 = ((cov0 - c_centre) / c_sd * scale).T
    z1 = (cov1 - c_centre) / c_sd * scale
    return np.vstack([X0, Z0]), np.concatenate([x1, z1]), X0.shape[0]


def fit_augmented(
    outcomes: np.ndarray,
    treated: int | np.ndarray,
    n_pre: int,
    donors: np.ndarray | None = None,
    covariates: np.ndarray | None = None,
    lam: float | None = None,
) -> SynthFit:
    """Ridge-augmented synthetic control of one (possibly averaged) treated unit.

    outcomes (units × periods); covariates (units × k) or None; lam fixes λ (None: CV).
    `extra` holds the SC (simplex) weights, λ, and the CV curve.
    """
    Y = np.asarray(outcomes, float)
    rows = np.atleast_1d(np.asarray(treated, int))
    if donors is None:
        donors = np.setdiff1d(np.arange(Y.shape[0]), rows)
    donors = np.asarray(donors, int)
    y1, Y0 = Y[rows].mean(axis=0), Y[donors]
    cov0 = cov1 = None
    if covariates is not None:
        C = np.asarray(covariates, float)
        cov0, cov1 = C[donors], C[rows].mean(axis=0)
    X0, x1, n_out = _design(Y0[:, :n_pre], y1[:n_pre], cov0, cov1)
    extra: dict = {}
    if lam is None:
        lambdas = lambda_grid(X0)
        lam, mean, se = cross_validate(X0, x1, n_out, lambdas)
        extra["cv"] = {"lambda": lambdas, "error": mean, "se": se}
    w_sc = simplex_lstsq(X0, x1)
    w = w_sc + ridge_corrections(X0, x1 - X0 @ w_sc, np.array([lam]))[0]
    extra.update(sc_weights=w_sc, lam=float(lam))
    synthetic = w @ Y0
    gaps = y1 - synthetic
    loss = float(np.mean(gaps[:n_pre] ** 2))
    return SynthFit(w, np.empty(0), synthetic, gaps, n_pre, loss, loss, extra)

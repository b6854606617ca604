"""Lift of a geo test: the treated geos' average against a counterfactual built from the donors.

The estimand (GeoLift's, after augsynth): the treated geos are averaged into one series
y₁(t); a counterfactual ŷ₁(t) of what that average would have been without the campaign is
built from the donor geos' series; then, over the n_post test dates,

    ATT         = mean_t (y₁(t) − ŷ₁(t))               (per treated geo and date),
    incremental = ATT × n_treated × n_post              (units the campaign added in total),
    lift        = incremental / (n_treated Σ_t ŷ₁(t))   (relative to the counterfactual total).

Three counterfactuals:

- ``synthetic_control`` – simplex weights w (w ≥ 0, Σw = 1) on the donors minimising the
  pre-period squared gap (Abadie, Diamond & Hainmueller 2010, with every pre-period outcome as
  a predictor). With ``fixed_effects=True`` (GeoLift's default, augsynth ``fixedeff=TRUE``)
  every geo's pre-period mean is removed first, so the weights match shapes, not levels, and
  ŷ₁(t) = μ₁ + Σ_j w_j (Y_j(t) − μ_j) – the de-meaned synthetic control of Doudchenko & Imbens
  (2016) and Ferman & Pinto (2021). This is GeoLift's ``GeoLift()`` with ``model = "none"``.
- ``augmented_synthetic_control`` – the same simplex weights corrected by a ridge regression
  of the treated pre-period path on the donors' (Ben-Michael, Feller & Rothstein 2021, JASA
  116:1789–1803): w_aug = w + (x₁ − X₀w)ᵀ(X₀X₀ᵀ + λI)⁻¹X₀ on period-centred outcomes, λ by
  augsynth's leave-one-period-out cross-validation with the one-standard-error rule. This is
  augsynth ``progfunc = "ridge", scm = TRUE`` (GeoLift's ``model = "ridge"``), with fixed
  effects as above by default.
- ``tbr`` – time-based regression (Kerman, Wang & Vaver 2017, "Estimating ad effectiveness
  using geo experiments in a time-based regression framework", Google): OLS of the treated
  average on the donors' average over the pre-period, y₁(t) = a + b ȳ₀(t) + ε(t), projected
  into the test window; its predictive interval for the cumulative effect is `tbr_interval`.
- ``matched_markets`` – a ratio estimator on given (matched) control geos: ŷ₁(t) = r · ȳ₀(t)
  with r = Σ_pre y₁ / Σ_pre ȳ₀ (the controls' plain average scaled to the treated level over
  the pre-period); `cerebro.geo.matched` chooses the controls. Its `weights` are r / n_controls.

Assumptions: no spill-over from treated to donor geos; the donors' combination that tracked
the treated average before the test keeps tracking it (a stable linear factor structure for the
synthetic controls, a stable linear relation for TBR); the treatment starts at column n_pre.

The weight solver is `cerebro.stats.synth_weights.simplex_lstsq` and the ridge correction
`cerebro.stats.ridge.ridge_corrections`; this module adds GeoLift's fixed effects,
augsynth's exact λ grid and cross-validation folds, and the lift arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.stats.ridge import cross_validate, lambda_grid, ridge_corrections
from cerebro.stats.synth_weights import simplex_lstsq

METHODS = ("augmented_synthetic_control", "synthetic_control", "tbr", "matched_markets")


@dataclass
class LiftFit:
    """One fitted counterfactual for the treated geos' average over pre + test dates.

    `observed`, `counterfactual` cover the first n_pre + n_post dates; `weights` (one per donor,
    in the order of `donors`) are None for TBR. `l2_imbalance` is augsynth's ‖X₀w − x₁‖ on the
    (de-meaned) pre-period outcomes and `scaled_l2_imbalance` that divided by the imbalance of
    equal donor weights (GeoLift's "Scaled L2 Imbalance": 0 perfect, 1 no better than a plain
    average of the donors).
    """

    method: str
    treated: np.ndarray
    donors: np.ndarray
    n_pre: int
    n_post: int
    observed: np.ndarray
    counterfactual: np.ndarray
    weights: np.ndarray | None
    l2_imbalance: float
    scaled_l2_imbalance: float
    lam: float | None = None
    fixed_effects: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_treated(self) -> int:
        return len(self.treated)

    @property
    def gap(self) -> np.ndarray:
        """Observed − counterfactual on every date (the per-date ATT)."""
        return self.observed - self.counterfactual

    @property
    def att(self) -> float:
        """Mean test-window gap: the effect per treated geo and date."""
        return float(np.mean(self.gap[self.n_pre :]))

    @property
    def incremental(self) -> float:
        return self.att * self.n_treated * self.n_post

    @property
    def counterfactual_total(self) -> float:
        """Counterfactual units over treated geos and test dates."""
        return float(np.sum(self.counterfactual[self.n_pre :]) * self.n_treated)

    @property
    def lift(self) -> float:
        """Incremental units relative to the counterfactual total (GeoLift divides by |total|)."""
        total = self.counterfactual_total
        return self.incremental / abs(total) if total != 0 else float("nan")

    @property
    def pre_rmse(self) -> float:
        return float(np.sqrt(np.mean(self.gap[: self.n_pre] ** 2)))

    @property
    def cumulative(self) -> np.ndarray:
        """Cumulative incremental units over the test dates (all treated geos)."""
        return np.cumsum(self.gap[self.n_pre :]) * self.n_treated


# ---------------------------------------------------------------------------------------------
# Counterfactual paths: fit on the first n_fit columns, predict every column.


def _demean(
    y1: np.ndarray, Y0: np.ndarray, n_fit: int, fixed_effects: bool
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Series minus each series' mean over the fitted columns (zeros without fixed effects)."""
    if not fixed_effects:
        return y1, Y0, 0.0, np.zeros(Y0.shape[0])
    mu1 = float(y1[:n_fit].mean())
    mu0 = Y0[:, :n_fit].mean(axis=1)
    return y1 - mu1, Y0 - mu0[:, None], mu1, mu0


def covariate_rows(
    X0: np.ndarray, x1: np.ndarray, c1: np.ndarray, C0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """GeoLift's covariates X as rows balanced beside the pre-period outcomes (augsynth's
    ``Y ~ D | X`` without residualising): each covariate (a per-geo pre-period mean) centred at
    the donors' mean, divided by its SD over the donors and multiplied by the SD of the
    donors' centred outcome matrix, so that a covariate weighs like one pre-period date.

    X0 (dates × donors) and x1 the outcomes the weights fit; c1 (k,) the treated geos' average,
    C0 (donors × k) the donors'. Returns X0 and x1 with the k covariate rows appended.
    """
    centre = C0.mean(axis=0)
    spread = C0.std(axis=0, ddof=1)
    if not (spread > 0).all():
        raise UserInputError(
            f"covariate {int(np.flatnonzero(~(spread > 0))[0]) + 1} (in --covariates order) "
            "takes one value over the control geos, so it cannot be balanced; leave it out."
        )
    outcome_spread = float((X0 - X0.mean(axis=1, keepdims=True)).std(ddof=1))
    rows0 = (outcome_spread * (C0 - centre) / spread).T
    row1 = outcome_spread * (c1 - centre) / spread
    return np.vstack([X0, rows0]), np.concatenate([x1, row1])


def synth_path(
    y1: np.ndarray,
    Y0: np.ndarray,
    n_fit: int,
    *,
    ridge: bool = False,
    fixed_effects: bool = True,
    lam: float | None = None,
    covariates: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(Augmented) synthetic control of y1 from the rows of Y0, fitted on columns < n_fit,
    with `covariates` (treated average, donors × k) balanced too (`covariate_rows`).

    Returns (counterfactual for every column, donor weights, info with λ, the simplex weights,
    the L2 imbalances and, for ridge with λ chosen here, the CV curve).
    """
    z1, Z0, mu1, _ = _demean(y1, Y0, n_fit, fixed_effects)
    outcomes0 = X0 = Z0[:, :n_fit].T  # periods × donors
    outcomes1 = x1 = z1[:n_fit]
    if covariates is not None:
        X0, x1 = covariate_rows(X0, x1, *covariates)
    w_sc = simplex_lstsq(X0, x1)
    info: dict[str, Any] = {"sc_weights": w_sc}
    w = w_sc
    if ridge:
        # Period-centring (augsynth's X_cent) leaves the simplex fit unchanged (Σw = 1) but is
        # what the ridge regression is run on.
        centre = X0.mean(axis=1)
        Xc, x1c = X0 - centre[:, None], x1 - centre
        if not Xc.any():
            raise UserInputError(
                "the control geos move identically over the fitted dates (after removing each "
                "geo's level), so the ridge augmentation has nothing to fit; use the "
                "synthetic_control method or other controls."
            )
        if lam is None:
            # augsynth's grid and CV (holdout_length = 1, min_1se): the last pre-period is
            # never held out.
            lambdas = lambda_grid(Xc.T, first=0)
            lam, mean, se = cross_validate(Xc, x1c, Xc.shape[0] - 1, lambdas)
            info["cv"] = {"lambda": lambdas, "error": mean, "se": se}
        w = w_sc + ridge_corrections(Xc, x1c - Xc @ w_sc, np.array([lam]))[0]
        info["lam"] = float(lam)
    counterfactual = mu1 + w @ Z0
    if covariates is not None:
        info["covariate_l2_imbalance"] = float(
            np.linalg.norm(X0[len(outcomes1) :] @ w - x1[len(outcomes1) :])
        )
    # the imbalance GeoLift reports is on the pre-period outcomes only
    X0, x1 = outcomes0, outcomes1
    l2 = float(np.linalg.norm(X0 @ w - x1))
    uniform = float(np.linalg.norm(X0.mean(axis=1) - x1))
    info["l2_imbalance"] = l2
    info["scaled_l2_imbalance"] = l2 / uniform if uniform > 0 else float("nan")
    return counterfactual, w, info


def fixed_synth_path(
    y1: np.ndarray, Y0: np.ndarray, n_fit: int, w: np.ndarray, fixed_effects: bool = True
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The synthetic control with given donor weights `w` (≥ 0, Σ = 1): the counterfactual
    μ₁ + Σⱼ wⱼ(Yⱼₜ − μⱼ) with each geo's mean μ over columns < n_fit removed when
    `fixed_effects` (GeoLift's default), else Σⱼ wⱼYⱼₜ; and the pre-period imbalances."""
    z1, Z0, mu1, _ = _demean(y1, Y0, n_fit, fixed_effects)
    X0, x1 = Z0[:, :n_fit].T, z1[:n_fit]
    l2 = float(np.linalg.norm(X0 @ w - x1))
    uniform = float(np.linalg.norm(X0.mean(axis=1) - x1))
    info = {
        "fixed_weights": True,
        "l2_imbalance": l2,
        "scaled_l2_imbalance": l2 / uniform if uniform > 0 else float("nan"),
    }
    return mu1 + w @ Z0, w, info


def tbr_path(y1: np.ndarray, Y0: np.ndarray, n_fit: int) -> tuple[np.ndarray, dict[str, Any]]:
    """TBR: OLS of y1 on the donors' average over columns < n_fit, predicted for every column.

    info holds the coefficients (a, b), the residual SD σ̂ (n_fit − 2 degrees of freedom) and
    (XᵀX)⁻¹ for the predictive interval.
    """
    x = Y0.mean(axis=0)
    design = np.column_stack([np.ones_like(x), x])
    D = design[:n_fit]
    coef, *_ = np.linalg.lstsq(D, y1[:n_fit], rcond=None)
    fitted = design @ coef
    resid = y1[:n_fit] - fitted[:n_fit]
    dof = n_fit - 2
    sigma = float(np.sqrt(resid @ resid / dof)) if dof > 0 else float("nan")
    info = {
        "intercept": float(coef[0]),
        "slope": float(coef[1]),
        "sigma": sigma,
        "dof": dof,
        "xtx_inv": np.linalg.pinv(D.T @ D),
        "control": x,
    }
    return fitted, info


def counterfactual_path(
    y1: np.ndarray,
    Y0: np.ndarray,
    n_fit: int,
    method: str,
    *,
    fixed_effects: bool = True,
    lam: float | None = None,
    covariates: tuple[np.ndarray, np.ndarray] | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """The counterfactual of `method` fitted on columns < n_fit (what the conformal refits use);
    `covariates` (treated average, donors × k) enter the synthetic controls only; `weights`
    fixes the synthetic control's donor weights (nothing is fitted but the geo levels)."""
    if weights is not None:
        return fixed_synth_path(y1, Y0, n_fit, weights, fixed_effects)
    if method == "tbr":
        path, info = tbr_path(y1, Y0, n_fit)
        return path, None, info
    if method == "matched_markets":
        # Ratio estimator on the (already matched) controls: their plain average scaled so that
        # its total over the fitted dates equals the treated average's.
        x = Y0.mean(axis=0)
        scale = float(y1[:n_fit].sum() / x[:n_fit].sum()) if x[:n_fit].sum() != 0 else 1.0
        w = np.full(Y0.shape[0], scale / Y0.shape[0])
        return scale * x, w, {"scale": scale}
    ridge = method == "augmented_synthetic_control"
    path, w, info = synth_path(
        y1, Y0, n_fit, ridge=ridge, fixed_effects=fixed_effects, lam=lam, covariates=covariates
    )
    return path, w, info


# ---------------------------------------------------------------------------------------------


def check_design(
    Y: np.ndarray, treated: Any, n_pre: int, n_post: int | None, donors: Any, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Validated (Y, treated rows, donor rows, n_post); one sentence on what is wrong."""
    if method not in METHODS:
        raise UserInputError(f"method {method!r} is not one of {', '.join(METHODS)}.")
    Y = np.asarray(Y, float)
    if Y.ndim != 2:
        raise UserInputError("the outcome must be a geos × dates matrix.")
    n_geos, n_dates = Y.shape
    treated = np.atleast_1d(np.asarray(treated, int))
    if len(treated) == 0:
        raise UserInputError("no treated geos given; name at least one.")
    if treated.min() < 0 or treated.max() >= n_geos or len(set(treated)) < len(treated):
        raise UserInputError("treated geos must be distinct rows of the outcome matrix.")
    if n_post is None:
        n_post = n_dates - n_pre
    if not 2 <= n_pre < n_dates:
        raise UserInputError(
            f"the test starts at date {n_pre + 1} of {n_dates}; it needs at least 2 dates "
            "before it and 1 in it."
        )
    if not 1 <= n_post <= n_dates - n_pre:
        raise UserInputError(
            f"the test window of {n_post} dates does not fit after the {n_pre} pre-test dates "
            f"of a {n_dates}-date panel."
        )
    if donors is None:
        donors = np.setdiff1d(np.arange(n_geos), treated)
    donors = np.atleast_1d(np.asarray(donors, int))
    if len(np.intersect1d(donors, treated)):
        raise UserInputError("a geo cannot be both treated and a control; list it once.")
    if len(donors) < 1:
        raise UserInputError("the analysis needs at least one control geo; add untreated geos.")
    if method == "tbr" and n_pre < 3:
        raise UserInputError("time-based regression needs at least 3 pre-test dates.")
    if method == "augmented_synthetic_control" and n_pre < 3:
        raise UserInputError(
            "the augmented synthetic control cross-validates its ridge penalty over the "
            "pre-test dates and needs at least 3 of them."
        )
    if not np.isfinite(Y[np.concatenate([treated, donors]), : n_pre + n_post]).all():
        raise UserInputError("the outcome has missing or infinite values; fill or drop them.")
    return Y, treated, donors, int(n_post)


def fit_lift(
    Y: np.ndarray,
    treated: np.ndarray,
    n_pre: int,
    n_post: int | None = None,
    *,
    method: str = "augmented_synthetic_control",
    donors: np.ndarray | None = None,
    fixed_effects: bool = True,
    lam: float | None = None,
    covariates: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> LiftFit:
    """Fit the counterfactual of the treated geos' average and compute ATT, incremental, lift.

    Y (geos × dates); `treated` row indices (averaged); dates < n_pre are the pre-period and the
    next `n_post` (default: all remaining) the test window – later dates are ignored, as GeoLift
    drops everything after ``treatment_end_time``. `donors` row indices (default every other
    row). `fixed_effects` removes each geo's pre-period mean (synthetic-control methods);
    `lam` fixes the ridge penalty of the augmented method (None: augsynth's CV). `covariates`
    (geos × k, one value per geo – GeoLift takes each covariate's pre-period mean) are balanced
    beside the pre-period outcomes by the synthetic controls (`covariate_rows`). `weights` (one
    per donor, ≥ 0, Σ = 1) fix the synthetic control instead of fitting it.
    """
    Y, treated, donors, n_post = check_design(Y, treated, n_pre, n_post, donors, method)
    if weights is not None and (method != "synthetic_control" or len(weights) != len(donors)):
        raise UserInputError("fixed weights need --method synthetic_control and one per control.")
    T = n_pre + n_post
    y1 = Y[treated, :T].mean(axis=0)
    Y0 = Y[donors, :T]
    path, w, info = counterfactual_path(
        y1, Y0, n_pre, method, fixed_effects=fixed_effects, lam=lam,
        covariates=split_covariates(covariates, treated, donors), weights=weights,
    )  # fmt: skip
    if method in ("tbr", "matched_markets"):
        gap = y1[:n_pre] - path[:n_pre]
        l2 = float(np.linalg.norm(gap))
        naive = y1[:n_pre] - y1[:n_pre].mean() - (Y0[:, :n_pre].mean(0) - Y0[:, :n_pre].mean())
        scaled = l2 / float(np.linalg.norm(naive)) if np.linalg.norm(naive) > 0 else float("nan")
    else:
        l2, scaled = info.pop("l2_imbalance"), info.pop("scaled_l2_imbalance")
    return LiftFit(
        method=method,
        treated=treated,
        donors=donors,
        n_pre=n_pre,
        n_post=n_post,
        observed=y1,
        counterfactual=path,
        weights=w,
        l2_imbalance=l2,
        scaled_l2_imbalance=scaled,
        lam=info.get("lam"),
        fixed_effects=fixed_effects,
        extra=info,
    )


def split_covariates(
    covariates: np.ndarray | None, treated: np.ndarray, donors: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """(treated geos' average, donors' rows) of a geos × k covariate matrix."""
    if covariates is None:
        return None
    C = np.asarray(covariates, float)
    return C[treated].mean(axis=0), C[donors]


def tbr_interval(fit: LiftFit, level: float = 0.9) -> tuple[float, float]:
    """Kerman et al. (2017) predictive interval for the cumulative effect (all treated geos).

    The cumulative counterfactual Σ_t ŷ(t) over the test window has prediction error
    Σ_t ε(t) − Σ_t x_tᵀ(β̂ − β), with variance σ²(n_post + sᵀ(XᵀX)⁻¹s), s = Σ_t x_t; with the
    flat prior of their paper the posterior of the cumulative effect is Student t with
    n_pre − 2 degrees of freedom around the point estimate. Assumes uncorrelated, homoscedastic
    pre-period errors (check the residuals; weekly seasonality violates it mildly).
    """
    if fit.method != "tbr":
        raise ValueError("tbr_interval needs a TBR fit")
    from cerebro.stats.intervals import quantile

    info = fit.extra
    x = info["control"][fit.n_pre : fit.n_pre + fit.n_post]
    s = np.array([fit.n_post, x.sum()])
    var = info["sigma"] ** 2 * (fit.n_post + s @ info["xtx_inv"] @ s)
    half = quantile(0.5 + level / 2, info["dof"]) * np.sqrt(var) * fit.n_treated
    return fit.incremental - half, fit.incremental + half

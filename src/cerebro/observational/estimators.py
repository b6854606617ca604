"""Point-treatment effect estimators on `CausalData`, each returning both potential-outcome means
with their joint influence functions, so that the difference, the ratio and their SEs follow.

Notation: a = 1 treated, e(x) the propensity score, m_a(x) the outcome model in arm a. Target
population by estimand: ATE everyone, ATT the treated, ATC the controls (c_i its indicator).

- gcomp (standardisation / parametric g-formula; Hernán & Robins, *What If*, ch. 13): outcome
  models fitted per arm, μ_a = Σ c_i m_a(x_i) / Σ c_i.
- ipw (ch. 12): weights 1/e, 1/(1 − e) (ATE), 1 and e/(1 − e) (ATT), (1 − e)/e and 1 (ATC);
  Hájek (normalised) or Horvitz–Thompson means.
- aipw (doubly robust; Robins, Rotnitzky & Zhao 1994; Lunceford & Davidian 2004; for ATT/ATC
  Moodie et al. 2018): consistent if either the propensity or the outcome model is right.
- stratification (ch. 15): differences in means within propensity-score quantile strata,
  averaged with the target's stratum shares.

Standard errors come from the influence functions (M-estimation sandwich). For IPW they include
the estimation of the propensity score (stacked estimating equations), which makes them smaller
than the "robust" weighted-regression SE that treats weights as known (conservative, the one
What If reports). For AIPW the nuisance estimation is first-order negligible (Neyman
orthogonality). For stratification the strata are taken as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.observational.data import CausalData
from cerebro.observational.models import GLMFit, fit_glm
from cerebro.stats.sensitivity import riesz_elements_ate


@dataclass
class ArmMeans:
    """Potential-outcome means (control, treated) and their influence functions (n, 2)."""

    mu: np.ndarray
    influence: np.ndarray
    notes: list[str] = field(default_factory=list)
    # ATE of AIPW/DML: σ² and ν² with their influence functions, for sensitivity bounds
    riesz: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)

    @property
    def cov(self) -> np.ndarray:
        n = len(self.influence)
        return self.influence.T @ self.influence / n**2


def target(data: CausalData, estimand: str) -> np.ndarray:
    """Indicator of the population the estimand averages over."""
    if estimand == "att":
        return data.a
    if estimand == "atc":
        return 1 - data.a
    return np.ones_like(data.a)


@dataclass
class CrossFittedScores:
    """Out-of-fold propensities of a machine-learning classifier. They have no parametric
    influence function, so estimators treat them as known (see `propensity`)."""

    e: np.ndarray

    def mean(self, X: np.ndarray) -> np.ndarray:
        if len(X) != len(self.e):
            raise ValueError("cross-fitted scores belong to the rows they were fitted on")
        return self.e


def propensity(
    data: CausalData, model: str = "logistic", seed: int = 0, folds: int = 5, clip: float = 0.01,
    jobs: int = 1,
) -> GLMFit | CrossFittedScores:  # fmt: skip
    """P(treated | confounders): a logistic regression on the confounder terms, or LightGBM
    predictions out of `folds` seeded folds clipped to [clip, 1 − clip].

    With the boosted model IPW's SE treats the scores as known (its M-estimation correction needs
    a parametric model); AIPW's does not need the correction (Neyman orthogonality, and the
    scores are cross-fitted as double machine learning asks: Chernozhukov et al. 2018).
    """
    if model == "logistic":
        return fit_glm(data.design, data.a, logistic=True)
    from cerebro.ml.crossfit import cross_fit, fold_ids

    ids = fold_ids(len(data.y), folds, seed)
    e = cross_fit("lightgbm", data.X, data.a, ids, True, seed, jobs=jobs)
    return CrossFittedScores(np.clip(e, clip, 1 - clip))


def _weights(e: np.ndarray, estimand: str) -> tuple[np.ndarray, ...]:
    """Weights of treated and control units and their derivatives in e."""
    one = np.ones_like(e)
    if estimand == "ate":
        return 1 / e, 1 / (1 - e), -1 / e**2, 1 / (1 - e) ** 2
    if estimand == "att":
        return one, e / (1 - e), 0 * one, 1 / (1 - e) ** 2
    return (1 - e) / e, one, -1 / e**2, 0 * one


def ipw_weights(e: np.ndarray, a: np.ndarray, estimand: str, truncate: float | None) -> np.ndarray:
    """Each unit's weight (treated ones w1, controls w0), capped at a percentile if asked."""
    w1, w0 = _weights(e, estimand)[:2]
    w = np.where(a == 1, w1, w0)
    return np.minimum(w, np.percentile(w, truncate)) if truncate else w


def ipw(
    data: CausalData,
    ps: GLMFit | CrossFittedScores,
    estimand: str = "ate",
    kind: str = "hajek",
    truncate: float | None = None,
) -> ArmMeans:
    """Inverse-probability-weighted means with propensity estimation in their influence (none
    for cross-fitted scores, which are treated as known)."""
    X, a, y = data.design, data.a, data.y
    e = ps.mean(X)
    w1, w0, d1, d0 = _weights(e, estimand)
    w = np.where(a == 1, w1, w0)
    dw = np.where(a == 1, d1, d0)
    if truncate:
        cap = np.percentile(w, truncate)
        dw = np.where(w > cap, 0.0, dw)  # capped weights do not move with e
        w = np.minimum(w, cap)
    parametric = isinstance(ps, GLMFit)
    if parametric:
        if_gamma = ps.influence(X, a)
        de = (e * (1 - e))[:, None] * X  # de/dγ per unit
    c = target(data, estimand)
    mu, infl = np.empty(2), np.empty((len(y), 2))
    for arm in (0, 1):
        in_arm = (a == arm).astype(float)
        k = in_arm * w if kind == "hajek" else c
        mu[arm] = np.sum(in_arm * w * y) / np.sum(k)
        g = in_arm * w * y - mu[arm] * k
        if parametric:
            dg = (in_arm * dw * (y - mu[arm] if kind == "hajek" else y))[:, None] * de
            g = g + if_gamma @ dg.mean(axis=0)
        infl[:, arm] = g / k.mean()
    return ArmMeans(mu, infl)


def outcome_models(data: CausalData) -> list[GLMFit]:
    """One outcome model per arm (as many arms as the data have), refusing arms too small;
    fitted on the rows whose outcome is observed (`data.observed`, all by default)."""
    X = data.design
    fits = []
    for arm, label in enumerate(data.arms):
        rows = data.a == arm
        if data.observed is not None:
            rows = rows & data.observed
        if rows.sum() <= X.shape[1]:
            raise UserInputError(
                f"arm {label!r} has {int(rows.sum())} units for {X.shape[1]} outcome-model "
                "terms; use fewer confounder terms or --method ipw."
            )
        fits.append(fit_glm(X, data.y, data.binary_outcome, rows))
    return fits


def _with_treatment(data: CausalData, arm: float, terms: list[int]) -> np.ndarray:
    """Design of the one-model g-formula with treatment set to `arm`: [1, X, a, a·X_terms]."""
    a = np.full(len(data.y), arm)
    return np.column_stack([data.design, a, a[:, None] * data.X[:, terms]])


def gcomp(
    data: CausalData, estimand: str = "ate", interactions: list[str] | None = None
) -> ArmMeans:
    """Standardised means: outcome models averaged over the target population.

    `interactions` None fits one model per arm (every confounder interacts with treatment;
    any number of arms); a list fits one model y ~ a + X + a·X_terms with those terms only
    (two arms; What If's Program 13.2 uses qsmk·smokeintensity), the empty list an additive model.
    With `data.observed` (`--all-rows`) the models are fitted on the rows whose outcome is
    observed and the standardisation averages over every row (Program 13.2's 1,629).
    """
    X, y = data.design, data.y
    c = target(data, estimand)
    share = c.mean()
    if interactions is None:
        fits = outcome_models(data)
        designs = [X] * len(fits)
    else:
        unknown = [t for t in interactions if t not in data.names]
        if unknown:
            raise UserInputError(
                f"interaction term {unknown[0]!r} is not a confounder term; use one of "
                f"{', '.join(data.names)}."
            )
        terms = [data.names.index(t) for t in interactions]
        observed = np.column_stack([X, data.a, data.a[:, None] * data.X[:, terms]])
        fit = fit_glm(observed, y, data.binary_outcome, data.observed)
        fits = [fit, fit]
        designs = [_with_treatment(data, arm, terms) for arm in (0.0, 1.0)]
        if_beta = fit.influence(observed, y)
    mu, infl = np.empty(len(fits)), np.empty((len(y), len(fits)))
    for arm, (fit, Z) in enumerate(zip(fits, designs, strict=True)):
        m = fit.mean(Z)
        mu[arm] = np.sum(c * m) / np.sum(c)
        gradient = ((c * fit.slope(Z))[:, None] * Z).mean(axis=0) / share
        beta_influence = fit.influence(X, y) if interactions is None else if_beta
        infl[:, arm] = c * (m - mu[arm]) / share + beta_influence @ gradient
    return ArmMeans(mu, infl)


def aipw(data: CausalData, ps: GLMFit | CrossFittedScores, estimand: str = "ate") -> ArmMeans:
    """Augmented IPW means (doubly robust), influence functions treating nuisances as known."""
    X = data.design
    m0, m1 = (fit.mean(X) for fit in outcome_models(data))
    return aipw_scores(data, ps.mean(X), m0, m1, estimand)


def aipw_scores(
    data: CausalData, e: np.ndarray, m0: np.ndarray, m1: np.ndarray, estimand: str = "ate"
) -> ArmMeans:
    """AIPW means from given nuisance predictions (parametric fits, or cross-fitted learners)."""
    a, y = data.a, data.y
    if estimand == "ate":
        phi1 = m1 + a * (y - m1) / e
        phi0 = m0 + (1 - a) * (y - m0) / (1 - e)
        mu = np.array([phi0.mean(), phi1.mean()])
        riesz = riesz_elements_ate(y, a, e, m0, m1)
        return ArmMeans(mu, np.column_stack([phi0 - mu[0], phi1 - mu[1]]), riesz=riesz)
    if estimand == "att":
        p = a.mean()
        phi1, base1 = a * y, a
        phi0, base0 = a * m0 + (1 - a) * e / (1 - e) * (y - m0), a
    else:
        p = (1 - a).mean()
        phi0, base0 = (1 - a) * y, 1 - a
        phi1, base1 = (1 - a) * m1 + a * (1 - e) / e * (y - m1), 1 - a
    mu = np.array([phi0.mean() / p, phi1.mean() / p])
    infl = np.column_stack([(phi0 - base0 * mu[0]) / p, (phi1 - base1 * mu[1]) / p])
    return ArmMeans(mu, infl)


def stratified(
    data: CausalData, ps: GLMFit | CrossFittedScores, estimand: str = "ate", strata: int = 5
) -> ArmMeans:
    """Means within propensity-score quantile strata, weighted by the target's shares."""
    a, y = data.a, data.y
    e = ps.mean(data.design)
    edges = np.quantile(e, np.linspace(0, 1, strata + 1)[1:-1])
    s = np.searchsorted(edges, e, side="right")
    c = target(data, estimand)
    n = len(y)
    mu, infl, notes = np.zeros(2), np.zeros((n, 2)), []
    usable = [k for k in range(strata) if all(((s == k) & (a == arm)).any() for arm in (0, 1))]
    if len(usable) < strata:
        lost = np.isin(s, [k for k in range(strata) if k not in usable])
        notes.append(
            f"{strata - len(usable)} propensity stratum/strata had units of one arm only and "
            f"were dropped ({int(lost.sum())} units): the estimate covers the rest."
        )
    shares = np.array([c[s == k].sum() for k in usable])
    shares = shares / shares.sum()
    for share, k in zip(shares, usable, strict=True):
        for arm in (0, 1):
            cell = (s == k) & (a == arm)
            mean = y[cell].mean()
            mu[arm] += share * mean
            infl[cell, arm] = n * share * (y[cell] - mean) / cell.sum()
    return ArmMeans(mu, infl, notes)


def regression(data: CausalData, se: str = "hc1") -> tuple[float, float]:
    """Coefficient of the treatment in y ~ a + confounders and its SE: OLS, or weighted least
    squares with the observation weights `data.weights` (fitted as OLS on √w·y, √w·[1, a, X]);
    `se` is hc0–hc3 (heteroskedasticity-robust) or classical (model-based), statsmodels'
    conventions (`stats.ols`)."""
    from cerebro.stats.ols import ols

    X = np.column_stack([data.design[:, :1], data.a, data.X])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise UserInputError(
            "the confounder terms are collinear (one is a combination of others); drop a "
            "redundant term from --confounders."
        )
    y = data.y
    if data.weights is not None:
        root = np.sqrt(data.weights)
        y, X = root * y, root[:, None] * X
    fit = ols(y, X, cov_type="classical" if se == "classical" else se.upper())
    return float(fit.coef[1]), float(fit.se[1])


def crump_bound(e: np.ndarray) -> float:
    """Crump, Hotz, Imbens & Mitnik (2009)'s trimming threshold α: keep α ≤ e ≤ 1 − α.

    With g = 1/(e(1 − e)): α = 0 if max g ≤ 2 E[g]; else α = ½ − √(¼ − 1/γ) where γ solves
    γ = 2 E[g | g ≤ γ] (the rule that minimises the variance of the efficient ATE estimator).
    """
    g = np.sort(1 / (e * (1 - e)))
    if g[-1] <= 2 * g.mean():
        return 0.0
    running = 2 * np.cumsum(g) / np.arange(1, len(g) + 1)
    k = int(np.flatnonzero((g <= running) & (running < np.r_[g[1:], np.inf]))[0])
    gamma = running[k]
    return float(0.5 - np.sqrt(0.25 - 1 / gamma))

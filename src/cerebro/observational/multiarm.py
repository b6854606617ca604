"""Multi-valued treatments: every arm against the reference arm by IPW, g-computation or AIPW.

With arms k = 0 (reference), 1, …, K−1 the estimand is the ATE of each arm versus the
reference, E[Y(k)] − E[Y(0)], over the whole population (Imbens 2000, "The role of the
propensity score in estimating dose-response functions", Biometrika 87; Cattaneo 2010,
"Efficient semiparametric estimation of multi-valued treatment effects", J Econometrics 155).
The generalised propensity e_k(x) = P(A = k | x) is a multinomial logit (statsmodels MNLogit).

- ipw: μ_k = Σ 1[A=k] y / e_k ÷ Σ 1[A=k] / e_k (Hájek) or ÷ n (Horvitz–Thompson), SE from stacked
  estimating equations including the multinomial logit's estimation;
- gcomp: `estimators.gcomp` itself – one outcome model per arm, μ_k = mean of m_k(x);
- aipw: μ_k = mean of m_k(x) + 1[A=k](y − m_k(x)) / e_k(x) (Cattaneo 2010's efficient score);
- dml: the same score with cross-fitted learners: e_k one-vs-rest classifiers normalised to sum
  to one, then clipped; m_k fitted on arm k of the training folds (Chernozhukov et al. 2018 §5.1,
  "multiple treatment levels").
With two arms every number equals the binary estimators' (tested to 1e-8).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.data.validate import require_finite_result
from cerebro.observational.data import CausalData
from cerebro.observational.estimators import ArmMeans, outcome_models

MULTI_METHODS = ("ipw", "gcomp", "aipw", "dml")


@dataclass
class Multinomial:
    """Generalised propensity scores (n, K) and the influence of the logit coefficients."""

    probabilities: np.ndarray
    influence: np.ndarray  # (n, (K−1)·p), arm-major


def multinomial_propensity(data: CausalData) -> Multinomial:
    """Multinomial logit of the arm on the confounder terms, with its M-estimation pieces."""
    import statsmodels.api as sm

    X, codes = data.design, data.a.astype(int)
    n, p = X.shape
    k = len(data.arms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MNLogit(codes, X).fit(disp=False, method="newton", maxiter=200)
    probabilities = np.asarray(fit.predict(X), float)
    require_finite_result(
        probabilities,
        "the multinomial propensity model's scores",
        "the model did not converge – use fewer arms (merge small ones) or fewer confounder terms.",
    )
    if probabilities.min() < 1e-10:
        raise UserInputError(
            "the propensity model predicts some arm with probability ≈ 0 for some units "
            "(no overlap); coarsen or drop the confounder that separates the arms."
        )
    onehot = np.eye(k)[codes][:, 1:]
    e = probabilities[:, 1:]
    score = ((onehot - e)[:, :, None] * X[:, None, :]).reshape(n, -1)
    # Hessian of the mean log-likelihood: blocks E[e_b (δ_bc − e_c) x x']
    weights = e[:, :, None] * (np.eye(k - 1)[None] - e[:, None, :])  # (n, K−1, K−1)
    hessian = np.einsum("nbc,ni,nj->bicj", weights, X, X).reshape((k - 1) * p, (k - 1) * p) / n
    return Multinomial(probabilities, score @ np.linalg.inv(hessian).T)


def ipw_multi(
    data: CausalData, ps: Multinomial, kind: str = "hajek", truncate: float | None = None
) -> ArmMeans:
    """Weighted arm means; `truncate` caps each unit's weight 1/e_own(x) at that percentile
    (capped weights do not move with the propensity, so their derivative is zero)."""
    X, y, codes = data.design, data.y, data.a.astype(int)
    n, k = len(y), len(data.arms)
    own_weight = 1 / ps.probabilities[np.arange(n), codes]
    cap = np.percentile(own_weight, truncate) if truncate else np.inf
    mu, infl = np.empty(k), np.empty((n, k))
    for arm in range(k):
        e = ps.probabilities[:, arm]
        own = (codes == arm).astype(float)
        free = own_weight <= cap
        w = own * np.minimum(1 / e, cap)
        denominator = w if kind == "hajek" else np.ones(n)
        mu[arm] = np.sum(w * y) / np.sum(denominator)
        g = w * y - mu[arm] * denominator
        centred = y - mu[arm] if kind == "hajek" else y
        # ∂g/∂γ_b = −1[A=arm]·centred·(δ_arm,b − e_b)/e_arm · x  for b = 1 … K−1
        delta = (np.arange(1, k) == arm).astype(float)[None, :] - ps.probabilities[:, 1:]
        dg = -(w * free * centred)[:, None, None] * delta[:, :, None] * X[:, None, :]
        infl[:, arm] = (g + ps.influence @ dg.reshape(n, -1).mean(axis=0)) / denominator.mean()
    return ArmMeans(mu, infl)


def aipw_multi(data: CausalData, ps: Multinomial) -> ArmMeans:
    X = data.design
    m = np.column_stack([fit.mean(X) for fit in outcome_models(data)])
    own = np.eye(len(data.arms))[data.a.astype(int)]
    phi = m + own * (data.y[:, None] - m) / ps.probabilities
    mu = phi.mean(axis=0)
    return ArmMeans(mu, phi - mu)


def dml_multi(
    data: CausalData, learner: str, folds: int, seed: int, clip: float, jobs: int = 1
) -> tuple[ArmMeans, int]:
    """Cross-fitted AIPW means of every arm; also how many propensities were clipped."""
    from cerebro.ml.crossfit import Nuisance, cross_fit_all, fold_ids

    codes, k = data.a.astype(int), len(data.arms)
    ids = fold_ids(len(data.y), folds, seed)
    nuisances = [Nuisance((codes == arm).astype(float), True) for arm in range(k)] + [
        Nuisance(data.y, data.binary_outcome, codes == arm) for arm in range(k)
    ]
    fitted = cross_fit_all(learner, data.X, nuisances, ids, seed, jobs)
    e = np.column_stack(fitted[:k])
    e /= e.sum(axis=1, keepdims=True)
    clipped = int(np.sum((e < clip) | (e > 1 - clip)))
    e = np.clip(e, clip, 1 - clip)
    m = np.column_stack(fitted[k:])
    own = np.eye(k)[codes]
    phi = m + own * (data.y[:, None] - m) / e
    mu = phi.mean(axis=0)
    return ArmMeans(mu, phi - mu), clipped

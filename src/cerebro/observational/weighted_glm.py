"""Weighted linear and logistic regression with the robust (sandwich) covariance.

`weighted_fit(X, y, w, logistic)` solves Σ wᵢ xᵢ (yᵢ − μ(xᵢ'β)) = 0 – weighted least squares,
or the weighted logistic likelihood by Newton's method – and returns β with the sandwich

    V = B⁻¹ M B⁻¹ / n,   B = Σ wᵢ μ'ᵢ xᵢxᵢ' / n,   M = Σ (wᵢ xᵢ rᵢ)(wᵢ xᵢ rᵢ)' / n,

which treats the weights as known: the "robust" variance of a GEE with an independence working
correlation that What If's programs report for marginal structural models and g-estimation
(Hernán & Robins 2020, ch. 12 and 14; it is conservative for IP-weighted MSMs, Robins, Hernán &
Brumback 2000). It equals statsmodels' WLS with ``cov_type="HC0"`` and GEE with weights
(tested). `influence` gives each row's influence on β̂ for stacking into other estimators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.data.validate import require_finite_result


@dataclass
class WeightedFit:
    """Coefficients, the bread B⁻¹ and the per-row scores wᵢxᵢrᵢ of a weighted GLM."""

    beta: np.ndarray
    logistic: bool
    bread_inv: np.ndarray
    scores: np.ndarray

    def mean(self, X: np.ndarray) -> np.ndarray:
        eta = X @ self.beta
        return 1 / (1 + np.exp(-eta)) if self.logistic else eta

    @property
    def influence(self) -> np.ndarray:
        """(n, p): β̂ − β ≈ Σ influence / n."""
        return self.scores @ self.bread_inv.T

    @property
    def vcov(self) -> np.ndarray:
        n = len(self.scores)
        return self.influence.T @ self.influence / n**2

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))


def _logistic_newton(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted logistic MLE by Newton steps with step halving (converges from β = 0)."""
    beta = np.zeros(X.shape[1])

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(w * (y * eta - np.logaddexp(0, eta))))

    current = loglik(beta)
    for _ in range(100):
        mu = 1 / (1 + np.exp(-(X @ beta)))
        hessian = (X * (w * mu * (1 - mu))[:, None]).T @ X
        step = np.linalg.solve(hessian, X.T @ (w * (y - mu)))
        scale = 1.0
        while scale > 1e-8:
            candidate = beta + scale * step
            value = loglik(candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, previous, current = candidate, current, value
        if np.max(np.abs(scale * step)) < 1e-10 or abs(current - previous) < 1e-13:
            break
    return beta


def weighted_fit(
    X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, logistic: bool = False
) -> WeightedFit:
    """Fit on every row given (pass the rows to use; X with its intercept column)."""
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    gram = (X * w[:, None]).T @ X
    if np.linalg.matrix_rank(gram) < X.shape[1]:
        raise UserInputError(
            "the model's terms are collinear (one is a combination of others, or a category is "
            "empty); drop a redundant term from --confounders."
        )
    beta = _logistic_newton(X, y, w) if logistic else np.linalg.solve(gram, X.T @ (w * y))
    fit = WeightedFit(beta, logistic, np.eye(X.shape[1]), np.zeros_like(X))
    mu = fit.mean(X)
    slope = mu * (1 - mu) if logistic else np.ones(len(y))
    require_finite_result(
        np.r_[beta, mu],
        f"the weighted {'logistic' if logistic else 'linear'} model's fit",
        "the model did not converge – rescale large confounders, or drop terms that nearly "
        "repeat others.",
    )
    if logistic and slope.min() < 1e-12:
        raise UserInputError(
            "the logistic model separates the data perfectly (some values predict the "
            "treatment, outcome or censoring exactly); coarsen or drop that confounder."
        )
    fit.bread_inv = np.linalg.inv((X * (w * slope)[:, None]).T @ X / len(y))
    fit.scores = X * (w * (y - mu))[:, None]
    return fit

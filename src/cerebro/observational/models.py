"""Generalised linear nuisance models with the influence functions of their coefficients.

Propensity scores are logistic regressions of the treatment on the confounder terms; outcome
models are linear (continuous outcomes) or logistic (binary outcomes). Both are unpenalised
maximum-likelihood fits (statsmodels GLM, as in Hernán & Robins' programs), so estimates agree
with the textbook. Each fit carries what M-estimation needs (Stefanski & Boos 2002): with n the
size of the whole sample, β̂ − β ≈ (1/n) Σ_i IF_i, IF_i = M⁻¹ x_i (y_i − μ_i) for the rows the
model was fitted on (0 elsewhere), M = Σ_rows x x' μ'(η) / n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.data.validate import require_finite_result


@dataclass
class GLMFit:
    """Coefficients of a linear or logistic model and the inverse of its scaled Hessian M."""

    beta: np.ndarray
    logistic: bool
    m_inv: np.ndarray
    rows: np.ndarray  # boolean mask of the rows it was fitted on

    def mean(self, X: np.ndarray) -> np.ndarray:
        eta = X @ self.beta
        return 1 / (1 + np.exp(-eta)) if self.logistic else eta

    def slope(self, X: np.ndarray) -> np.ndarray:
        """dμ/dη at each row (1 for the linear model)."""
        if not self.logistic:
            return np.ones(len(X))
        mu = self.mean(X)
        return mu * (1 - mu)

    def influence(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(n, p) influence of each unit on β̂ (zero for rows the model did not see)."""
        resid = np.where(self.rows, y - self.mean(X), 0.0)
        return (X * resid[:, None]) @ self.m_inv.T


def fit_glm(X: np.ndarray, y: np.ndarray, logistic: bool, rows: np.ndarray | None = None) -> GLMFit:
    """Maximum-likelihood fit on `rows` (default all) of the design X (intercept included)."""
    import statsmodels.api as sm  # heavy: only when a causal model is fitted

    rows = np.ones(len(y), bool) if rows is None else rows
    Xr, yr = X[rows], y[rows]
    # rank of the p × p cross-product: the same verdict as X's own rank for any design a model
    # can be fitted on, without an SVD of n × p (0.04 s against 0.5 s at 1M × 21)
    if np.linalg.matrix_rank(Xr.T @ Xr) < X.shape[1]:
        raise UserInputError(
            "the confounder terms are collinear (one is a combination of others, or a "
            "category is empty in an arm); drop a redundant term from --confounders."
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation is reported below, in our words
        # Logit's Newton steps use the p × p Hessian; GLM's IRLS solves a pseudo-inverse of the
        # n × p weighted design each step – the same MLE, 1.9 s against 6.9 s at 1M × 21.
        model = (
            sm.Logit(yr, Xr).fit(method="newton", maxiter=100, disp=0)
            if logistic
            else sm.OLS(yr, Xr).fit()
        )
        beta = np.asarray(model.params, float)
    fit = GLMFit(beta, logistic, np.eye(X.shape[1]), rows)
    weights = fit.slope(Xr)
    # NaN passes no comparison (NaN < 1e-12 is False): a diverged fit is refused first
    require_finite_result(
        np.r_[beta, weights],
        f"the {'logistic' if logistic else 'linear'} model's fit",
        "the model did not converge – rescale large confounders, or drop terms that nearly "
        "repeat others.",
    )
    if logistic and weights.min() < 1e-12:
        raise UserInputError(
            "the logistic model separates the data perfectly (some confounder values predict "
            "the treatment or outcome exactly); coarsen or drop that confounder, or trim."
        )
    fit.m_inv = np.linalg.inv((Xr * weights[:, None]).T @ Xr / len(y))
    return fit

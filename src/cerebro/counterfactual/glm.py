"""The two models every counterfactual question here is built on: least squares and logistic
regression, fitted fast enough to refit a thousand times in a bootstrap, with the per-row
influence function of their coefficients for delta-method intervals.

For a canonical-link GLM the estimating equation is Σ xᵢ(yᵢ − μᵢ) = 0, so the influence
function of β̂ is A⁻¹ xᵢ(yᵢ − μᵢ), A = (1/n) Σ w(μᵢ) xᵢxᵢᵀ (w = 1 linear, μ(1 − μ) logistic);
Σψᵢψᵢᵀ/n² is the robust (sandwich, HC0) covariance (Stefanski & Boos 2002, "The calculus of
M-estimation", Am. Stat. 56:29).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError


@dataclass
class GLMFit:
    """Coefficients of a linear (identity) or logistic (logit) model and their influence."""

    family: str  # "linear" or "logistic"
    coef: np.ndarray
    sigma: float  # residual SD (linear); 0 for logistic
    influence: np.ndarray | None = None  # (n, k) per-row influence of coef (and σ: column k)

    def link(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link: the mean at linear predictor η."""
        return eta if self.family == "linear" else special.expit(eta)

    def mean(self, X: np.ndarray, coef: np.ndarray | None = None) -> np.ndarray:
        return self.link(X @ (self.coef if coef is None else coef))


def fit_glm(
    y: np.ndarray, X: np.ndarray, family: str, *, influence: bool = False, what: str = "model"
) -> GLMFit:
    """Fit y on X (intercept included by the caller). `influence` adds the per-row influence
    functions of the coefficients (and of σ for a linear model, as the last column)."""
    if family == "linear":
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ coef
        sigma = float(np.sqrt(np.mean(resid**2)))
        fit = GLMFit("linear", coef, sigma)
        weights = np.ones(len(y))
    else:
        coef = _logistic_newton(y, X, what)
        mu = special.expit(X @ coef)
        resid = y - mu
        fit = GLMFit("logistic", coef, 0.0)
        weights = mu * (1 - mu)
    if influence:
        n = len(y)
        bread = (X * weights[:, None]).T @ X / n
        psi = np.linalg.solve(bread, (X * resid[:, None]).T).T
        if family == "linear":
            # σ̂ = √mean(e²): ψσ = (eᵢ² − σ²)/(2σ); β̂ enters only at second order
            psi = np.column_stack([psi, (resid**2 - fit.sigma**2) / (2 * fit.sigma)])
        fit.influence = psi
    return fit


def _logistic_newton(y: np.ndarray, X: np.ndarray, what: str, tol: float = 1e-10) -> np.ndarray:
    """Maximum likelihood by Newton–Raphson with step halving; refuses separation."""
    coef = np.zeros(X.shape[1])
    loglik, done = -np.inf, False
    for _ in range(100):
        eta = X @ coef
        mu = special.expit(eta)
        grad = X.T @ (y - mu)
        hess = (X * (mu * (1 - mu))[:, None]).T @ X
        try:
            step = np.linalg.solve(hess + 1e-12 * np.eye(len(coef)), grad)
        except np.linalg.LinAlgError:
            break
        for _ in range(30):
            new = coef + step
            eta_new = X @ new
            ll = float(np.sum(y * eta_new - np.logaddexp(0, eta_new)))
            if ll >= loglik - 1e-12:
                break
            step /= 2
        coef, done = new, np.max(np.abs(step)) < tol * (1 + np.max(np.abs(coef)))
        loglik = ll
        if done:
            break
    eta = X @ coef
    # under separation the likelihood rises without bound as some |η| → ∞
    if not (done and np.all(np.isfinite(eta))) or np.max(np.abs(eta)) > 30:
        raise UserInputError(
            f"the logistic {what} does not converge: its terms separate the 0/1 values "
            "perfectly (separation); drop the column that does it, or use the linear model."
        )
    return coef

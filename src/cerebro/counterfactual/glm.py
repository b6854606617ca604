"""The models every counterfactual question here is built on – least squares, logistic
regression (the shared `cerebro.stats.logistic.fit_logistic`) and probit regression – with the
per-row influence function of their coefficients for delta-method intervals.

For a canonical-link GLM the estimating equation is Σ xᵢ(yᵢ − μᵢ) = 0, so the influence
function of β̂ is A⁻¹ xᵢ(yᵢ − μᵢ), A = (1/n) Σ w(μᵢ) xᵢxᵢᵀ (w = 1 linear, μ(1 − μ) logistic);
for the probit the score is xᵢλᵢ, λ = φ(η)(y − Φ)/(Φ(1 − Φ)), and A uses the expected
information w = φ²/(Φ(1 − Φ)). Σψᵢψᵢᵀ/n² is the robust (sandwich, HC0) covariance (Stefanski &
Boos 2002, "The calculus of M-estimation", Am. Stat. 56:29).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError
from cerebro.stats.logistic import fit_logistic


@dataclass
class GLMFit:
    """Coefficients of a linear (identity), logistic (logit) or probit model and their influence."""

    family: str  # "linear", "logistic" or "probit"
    coef: np.ndarray
    sigma: float  # residual SD (linear); 0 for logistic
    influence: np.ndarray | None = None  # (n, k) per-row influence of coef (and σ: column k)

    def link(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link: the mean at linear predictor η."""
        if self.family == "probit":
            return special.ndtr(eta)
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
    elif family == "probit":
        coef = _probit_fit(y, X, what)
        fit = GLMFit("probit", coef, 0.0)
        resid, weights = _probit_score(y, X @ coef)
    else:
        coef = fit_logistic(
            X, y, what=f"the logistic {what}",
            separation="a term predicts the 0/1 values exactly; drop it, or use the linear model",
        ).beta  # fmt: skip
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


def _probit_score(y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(λ, w): the score is Σ xᵢλᵢ with λ = φ(η)(y − Φ)/(Φ(1 − Φ)), the expected information
    X'diag(w)X with w = φ²/(Φ(1 − Φ))."""
    p = np.clip(special.ndtr(eta), 1e-300, 1 - 1e-16)
    density = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
    return density * (y - p) / (p * (1 - p)), density**2 / (p * (1 - p))


def _probit_fit(y: np.ndarray, X: np.ndarray, what: str, tol: float = 1e-10) -> np.ndarray:
    """Probit maximum likelihood by Fisher scoring with step halving; refuses separation.
    (Logistic models are fitted by the shared `cerebro.stats.logistic.fit_logistic`.)"""
    coef = np.zeros(X.shape[1])
    loglik, done = -np.inf, False
    for _ in range(100):
        score, weights = _probit_score(y, X @ coef)
        info = (X * weights[:, None]).T @ X
        try:
            step = np.linalg.solve(info + 1e-12 * np.eye(len(coef)), X.T @ score)
        except np.linalg.LinAlgError:
            break
        for _ in range(30):
            new = coef + step
            eta = X @ new
            ll = float(np.sum(y * special.log_ndtr(eta) + (1 - y) * special.log_ndtr(-eta)))
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
            f"the probit {what} does not converge: its terms separate the 0/1 values perfectly "
            "(separation); drop the column that does it, or use the linear model."
        )
    return coef

"""Weighted logistic regression by Newton–Raphson, for every family that fits a binary model.

Maximum likelihood of ``logit P(y = 1 | x) = x'β`` with case weights w (frequency or IP
weights; the score Σ wᵢ xᵢ (yᵢ − pᵢ) = 0 is the one statsmodels' GLM solves with
``freq_weights``). Used for pooled logistic hazards on person-time rows (Hernán & Robins, *What
If*, ch. 17), propensity and time-varying treatment models (ch. 21), where the tables are long
(177k person-months for NHEFS) and a model is refitted in every bootstrap replicate, so the fit
works on the p × p Hessian only. `y` may be a fraction (a weighted share of events in a
collapsed cell), as the score allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError


@dataclass(frozen=True)
class LogisticFit:
    """Coefficients, the inverse of the (weighted) information, and the iterations used."""

    beta: np.ndarray
    cov: np.ndarray  # inverse of X' W diag(p(1-p)) X: the model-based covariance with weights known
    iterations: int

    def mean(self, X: np.ndarray) -> np.ndarray:
        return expit(X @ self.beta)


def expit(eta: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(−η)) without overflow warnings for large |η| (scipy's ufunc)."""
    from scipy.special import expit as logistic

    return logistic(eta)


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    what: str = "the logistic model",
    separation: str = "some covariate values predict the outcome exactly; coarsen or drop that "
    "covariate",
    max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticFit:
    """Weighted logistic MLE of y on X (X holds its own intercept column).

    Refuses, in one sentence naming `what`, a design whose columns are collinear, a fit that
    does not converge and a perfectly separated outcome (fitted probabilities 0 or 1; the
    sentence ends with `separation`, its likely cause and fix).
    """
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    if np.linalg.matrix_rank((X * w[:, None]).T @ X) < X.shape[1]:
        raise UserInputError(
            f"the terms of {what} are collinear (one is a combination of others, or a category "
            "is empty); drop a redundant term."
        )
    beta = np.zeros(X.shape[1])
    # a start at the weighted mean keeps the first Newton step small for rare events (hazards)
    share = float(np.clip(np.sum(w * y) / np.sum(w), 1e-6, 1 - 1e-6))
    intercept = np.flatnonzero(np.all(X == 1, axis=0))
    if intercept.size:
        beta[intercept[0]] = np.log(share / (1 - share))
    step, iterations = np.inf, 0
    while iterations < max_iter:
        iterations += 1
        p = expit(X @ beta)
        score = X.T @ (w * (y - p))
        info = (X * (w * p * (1 - p))[:, None]).T @ X
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    p = expit(X @ beta)
    diverged = not np.all(np.isfinite(beta)) or np.max(np.abs(step)) > 1e-6 * (
        1 + np.max(np.abs(beta))
    )
    # separation: the MLE runs off to infinity while fitted probabilities reach 0 or 1
    if (diverged or np.max(np.abs(beta)) > 25) and np.nanmin(p * (1 - p)) < 1e-8:
        raise UserInputError(f"{what} separates the data perfectly: {separation}.")
    if diverged:
        raise UserInputError(
            f"{what} did not converge; rescale large covariates or drop terms that nearly repeat "
            "others."
        )
    info = (X * (w * p * (1 - p))[:, None]).T @ X
    return LogisticFit(beta, np.linalg.inv(info), iterations)

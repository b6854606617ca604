"""Ridge augmentation of synthetic-control weights (Ben-Michael, Feller & Rothstein 2021, JASA
116:1789–1803): the correction (x₁ − X₀w)ᵀ(X₀X₀ᵀ + λI)⁻¹X₀ for a grid of λ by one SVD, the
geometric λ grid of augsynth/pysyncon, and leave-one-pre-period-out cross-validation with the
one-standard-error rule. Shared by synthetic control (quasi) and geo lift."""

from __future__ import annotations

import numpy as np

from cerebro.stats.synth_weights import simplex_lstsq


def ridge_corrections(B: np.ndarray, residual: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """residualᵀ (BBᵀ + λI)⁻¹ B for every λ, by one SVD of B: (len(λ) × donors)."""
    U, s, Vt = np.linalg.svd(B, full_matrices=False)
    proj = residual @ U  # (r,)
    shrink = s[None, :] / (s[None, :] ** 2 + lambdas[:, None])
    return (proj[None, :] * shrink) @ Vt


def lambda_grid(B: np.ndarray, min_ratio: float = 1e-8, n: int = 20, first: int = -1) -> np.ndarray:
    """Geometric grid σ₁(B)² · r^k, k = first … first + n, r = min_ratio^(1/n), largest first.

    augsynth's grid starts at k = 0 (`first=0`, used by the geo tests that reproduce GeoLift);
    pysyncon's AugSynth starts one step above it (`first=-1`, the default here, whose λ the
    synthetic-control tests match)."""
    top = np.linalg.svd(B, compute_uv=False)[0] ** 2
    ratio = min_ratio ** (1 / n)
    return top * ratio ** (np.arange(n + 1) + float(first))


def cross_validate(
    X0: np.ndarray, x1: np.ndarray, n_out: int, lambdas: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Leave-one-pre-period-out CV of the augmented weights' prediction of the treated unit's
    held-out pre-period outcome: rows 0 … n_out − 1 are held out in turn (rows ≥ n_out, e.g.
    covariates, never; augsynth passes n_out = T₀ − 1, never holding out the last period).
    Returns (λ by the one-SE rule, mean error per λ, its SE)."""
    errors = np.empty((n_out, len(lambdas)))
    for i in range(n_out):
        keep = np.arange(X0.shape[0]) != i
        B, b = X0[keep], x1[keep]
        w = simplex_lstsq(B, b)
        w_aug = w[None, :] + ridge_corrections(B, b - B @ w, lambdas)
        errors[i] = (x1[i] - w_aug @ X0[i]) ** 2
    mean = errors.mean(axis=0)
    se = errors.std(axis=0, ddof=1) / np.sqrt(n_out)
    best = int(np.argmin(mean))
    chosen = float(lambdas[mean <= mean[best] + se[best]].max())
    return chosen, mean, se

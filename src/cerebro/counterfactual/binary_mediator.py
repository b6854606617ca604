"""Sensitivity of the NIE of a 0/1 mediator to mediator–outcome confounding (ρ).

Imai, Keele & Yamamoto (2010, Stat. Sci. 25:51, §5.2) and R's `mediation::medsens` for a probit
mediator and a linear outcome: the mediator is M = 1{M* > 0}, M* = μ(T, X) + ε₂ with ε₂ ~ N(0, 1),
and the outcome Y = α + βT + γM + κTM + ξX + ε₃ with sd(ε₃) = σ; an unmeasured confounder of M
and Y makes ε₂ and ε₃ correlate at ρ. Then, given what is observed (Heckman 1979),

    E[ε₃ | T, M, X] = ρσλ,  λ = φ(μ)/Φ(μ) if M = 1, −φ(μ)/Φ(−μ) if M = 0 (generalised residual),
    Var(ε₃ | T, M, X) = σ²w,  w = 1 − ρ²λ(λ + μ),

so for a given ρ the outcome coefficients solve the weighted least squares of Y − ρσλ on the
outcome design with weights 1/w, and σ² is the mean of the weighted squared residuals. Both
depend on σ only through Y − ρσλ, so with a, b the weighted residuals of Y and of ρλ, σ solves
(1 − C)σ² + 2Bσ − A = 0 (A, B, C the weighted means of a², ab, b²) – in closed form, where
medsens iterates. (medsens also passes w itself as `lm` weights, the variance factor instead of
its inverse; the coefficients stay consistent either way, its σ does not.) The NIE is then
(γ(ρ) + κ(ρ))·mean(Φ(μ₁) − Φ(μ₀)), μ_t the mediator's linear predictor under T = t; at ρ = 0 it
is the NIE of the fitted models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from cerebro.counterfactual.mediation import MediationData, MediationFit


def generalised_residual(m: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """E[ε₂ | M] of the probit latent error: φ(μ)/Φ(μ) for M = 1, −φ(μ)/Φ(−μ) for M = 0 (by
    logs, stable in the tails)."""
    log_density = -0.5 * mu**2 - 0.5 * np.log(2 * np.pi)
    up = np.exp(log_density - special.log_ndtr(mu))
    down = -np.exp(log_density - special.log_ndtr(-mu))
    return np.where(m == 1, up, down)


def outcome_at_rho(data: MediationData, fit: MediationFit, rho: float) -> tuple[np.ndarray, float]:
    """(outcome coefficients, σ) of the linear outcome model when the errors correlate at ρ;
    σ NaN when no σ > 0 fits (ρ incompatible with the data)."""
    mu = data.mediator_design() @ fit.mediator.coef
    lam = generalised_residual(data.m, mu)
    w = 1 - rho**2 * lam * (lam + mu)
    X = data.outcome_design(data.t, data.m)
    root = 1 / np.sqrt(w)
    targets = np.column_stack([data.y, rho * lam]) * root[:, None]
    coef, *_ = np.linalg.lstsq(X * root[:, None], targets, rcond=None)
    resid = targets - (X * root[:, None]) @ coef  # weighted residuals of Y and of ρλ
    a, b = resid[:, 0], resid[:, 1]
    A, B, C = np.mean(a**2), np.mean(a * b), np.mean(b**2)
    if C >= 1:
        return coef[:, 0], float("nan")
    sigma = float((-B + np.sqrt(B**2 + (1 - C) * A)) / (1 - C))
    return coef[:, 0] - sigma * coef[:, 1], sigma


def nie_at_rho(data: MediationData, fit: MediationFit, rho: float) -> float:
    """NIE = Q(1, 1) − Q(1, 0) of the probit mediator and linear outcome at error correlation ρ."""
    coef, sigma = outcome_at_rho(data, fit, rho)
    if not np.isfinite(sigma):
        return float("nan")
    Xm = data.mediator_design()
    shift = []
    for t in (0.0, 1.0):
        Xm[:, 1] = t
        shift.append(special.ndtr(Xm @ fit.mediator.coef))
    slope = coef[2] + (coef[3] if data.interaction else 0.0)
    return float(slope * np.mean(shift[1] - shift[0]))


def curve(data: MediationData, fit: MediationFit, grid: np.ndarray) -> tuple[np.ndarray, float]:
    """NIE(ρ) on `grid` and the ρ where it is zero (NaN if it keeps its sign)."""
    from scipy import optimize

    values = np.array([nie_at_rho(data, fit, r) for r in grid])
    finite = np.isfinite(values)
    change = np.flatnonzero(finite[:-1] & finite[1:] & (np.diff(np.sign(values)) != 0))
    if not change.size:
        return values, float("nan")
    j = change[np.argmin(np.abs(grid[change]))]  # the sign change nearest ρ = 0
    zero = optimize.brentq(lambda r: nie_at_rho(data, fit, r), grid[j], grid[j + 1], xtol=1e-10)
    return values, float(zero)

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

from dataclasses import dataclass
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


@dataclass
class _Pieces:
    """What does not depend on ρ: μ, λ, the outcome design and the mediator's shift
    mean(Φ(μ₁) − Φ(μ₀))."""

    mu: np.ndarray
    lam: np.ndarray
    X: np.ndarray
    shift: float


def _pieces(data: MediationData, fit: MediationFit) -> _Pieces:
    Xm = data.mediator_design()
    mu = Xm @ fit.mediator.coef
    probs = []
    for t in (0.0, 1.0):
        Xm[:, 1] = t
        probs.append(special.ndtr(Xm @ fit.mediator.coef))
    return _Pieces(mu, generalised_residual(data.m, mu), data.outcome_design(data.t, data.m),
                   float(np.mean(probs[1] - probs[0])))  # fmt: skip


def outcome_at_rho(data: MediationData, fit: MediationFit, rho: float,
                   pieces: _Pieces | None = None) -> tuple[np.ndarray, float]:  # fmt: skip
    """(outcome coefficients, σ) of the linear outcome model when the errors correlate at ρ;
    σ NaN when no σ > 0 fits (ρ incompatible with the data)."""
    p = pieces or _pieces(data, fit)
    w = 1 - rho**2 * p.lam * (p.lam + p.mu)
    root = 1 / np.sqrt(w)
    Xw, targets = p.X * root[:, None], np.column_stack([data.y, rho * p.lam]) * root[:, None]
    gram = Xw.T @ Xw
    if np.linalg.cond(gram) < 1e10:  # k × k normal equations: faster than a QR of n × k
        coef = np.linalg.solve(gram, Xw.T @ targets)
    else:  # ill-conditioned covariates: least squares
        coef = np.linalg.lstsq(Xw, targets, rcond=None)[0]
    resid = targets - Xw @ coef  # weighted residuals of Y and of ρλ
    a, b = resid[:, 0], resid[:, 1]
    A, B, C = np.mean(a**2), np.mean(a * b), np.mean(b**2)
    if C >= 1:
        return coef[:, 0], float("nan")
    sigma = float((-B + np.sqrt(B**2 + (1 - C) * A)) / (1 - C))
    return coef[:, 0] - sigma * coef[:, 1], sigma


def nie_at_rho(data: MediationData, fit: MediationFit, rho: float,
               pieces: _Pieces | None = None) -> float:  # fmt: skip
    """NIE = Q(1, 1) − Q(1, 0) of the probit mediator and linear outcome at error correlation ρ."""
    p = pieces or _pieces(data, fit)
    coef, sigma = outcome_at_rho(data, fit, rho, p)
    if not np.isfinite(sigma):
        return float("nan")
    slope = coef[2] + (coef[3] if data.interaction else 0.0)
    return float(slope * p.shift)


def curve(data: MediationData, fit: MediationFit, grid: np.ndarray) -> tuple[np.ndarray, float]:
    """NIE(ρ) on `grid` and the ρ where it is zero (NaN if it keeps its sign)."""
    from scipy import optimize

    p = _pieces(data, fit)
    values = np.array([nie_at_rho(data, fit, r, p) for r in grid])
    finite = np.isfinite(values)
    change = np.flatnonzero(finite[:-1] & finite[1:] & (np.diff(np.sign(values)) != 0))
    if not change.size:
        return values, float("nan")
    j = change[np.argmin(np.abs(grid[change]))]  # the sign change nearest ρ = 0
    zero = optimize.brentq(lambda r: nie_at_rho(data, fit, r, p), grid[j], grid[j + 1],
                           xtol=1e-10)  # fmt: skip
    return values, float(zero)

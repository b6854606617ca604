"""G-estimation of a structural nested mean model (Hernán & Robins, *What If*, ch. 14).

The model: E[Y^a − Y^{a=0} | A = a, L] = ψ₁a (one parameter) or a(ψ₁ + ψ₂V) (two, V the
effect modifier). With H(ψ) = Y − a(ψ₁ + ψ₂V), conditional exchangeability says H(ψ†) –
the outcome with the treatment's effect removed – is independent of A given L. G-estimation
finds the ψ that makes it so:

- closed form (Technical Point 14.2): with e(L) = P(A = 1 | L) from a logistic model, solve
  Σ w (A − e(L)) z (Y − A z'ψ) = 0, z = 1 or (1, V): ψ = [Σ w (A − e) A z z']⁻¹ Σ w (A − e) z Y.
  Its SE is the sandwich of the stacked estimating equations (treatment model + ψ), so the
  estimation of e(L) is accounted for; censoring weights are taken as known.
- grid search (§14.5, Program 14.2): for each ψ on a grid, fit logit P(A = 1 | L, H(ψ)) =
  L'γ + αH(ψ) and test α = 0 by its robust Wald test; ψ̂ is where α crosses 0 (found by root
  finding between grid points) and the confidence interval is the set of ψ not rejected at
  level `alpha` (an interval from a test inversion, not ψ̂ ± 1.96 SE).

w is 1, or 1/P(C = 0 | A, L) for the uncensored rows with `--censoring ipcw` (Program 14.2's
censoring weights); the treatment model is then fitted with the same weights. Identification
rests on conditional exchangeability, positivity and consistency; the closed form and the grid
agree (to the grid's precision) because the SNMM is linear in ψ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from cerebro.core.context import progress
from cerebro.observational.weighted_glm import weighted_fit
from cerebro.stats.intervals import p_value_from_statistic


@dataclass
class ClosedForm:
    """ψ̂ and its covariance from the stacked sandwich."""

    psi: np.ndarray
    vcov: np.ndarray


def closed_form(
    X: np.ndarray, a: np.ndarray, y: np.ndarray, w: np.ndarray, v: np.ndarray | None
) -> ClosedForm:
    """Solve the g-estimating equation with z = 1 or (1, v); X the treatment model's design
    (intercept first), rows the uncensored units, w their censoring weights (or ones)."""
    model = weighted_fit(X, a, w, logistic=True)
    e = model.mean(X)
    n = len(y)
    z = np.ones((n, 1)) if v is None else np.column_stack([np.ones(n), v])
    r = w * (a - e)
    lhs = (z * (r * a)[:, None]).T @ z
    psi = np.linalg.solve(lhs, (z * r[:, None]).T @ y)
    resid = y - a * (z @ psi)
    scores = z * (r * resid)[:, None]  # U_i(ψ, γ)
    # derivatives of the mean estimating function: in ψ (−lhs/n) and in γ through e(L)
    d_psi = -lhs / n
    d_gamma = -(z * (w * resid * e * (1 - e))[:, None]).T @ X / n
    influence = -(scores + model.influence @ d_gamma.T) @ np.linalg.inv(d_psi).T
    return ClosedForm(psi, influence.T @ influence / n**2)


@dataclass
class Grid:
    """The grid search: α(ψ), its robust SE and p-value at each ψ, the root and the interval."""

    psi: np.ndarray
    alpha_coef: np.ndarray
    se: np.ndarray
    p_value: np.ndarray
    estimate: float
    ci: tuple[float, float] | None  # None: the set not rejected is empty or touches the grid's ends
    contiguous: bool
    p_zero: float  # the test of ψ = 0 (no effect) by the same inversion

    def rows(self, level: float) -> dict[str, list]:
        return {
            "psi": self.psi.tolist(), "alpha": self.alpha_coef.tolist(), "se": self.se.tolist(),
            "p_value": self.p_value.tolist(), "rejected": (self.p_value < level).tolist(),
        }  # fmt: skip


def _alpha_at(psi: float, X: np.ndarray, a: np.ndarray, y: np.ndarray, w: np.ndarray):
    """α̂ of H(ψ) in the weighted logistic treatment model and its robust SE."""
    design = np.column_stack([X, y - psi * a])
    fit = weighted_fit(design, a, w, logistic=True)
    return float(fit.beta[-1]), float(fit.se[-1])


def grid_search(
    X: np.ndarray, a: np.ndarray, y: np.ndarray, w: np.ndarray, grid: np.ndarray, level: float
) -> Grid:
    """Test α(ψ) = 0 at each grid point; the CI is the non-rejected set, ψ̂ the root of α."""
    advance = progress("g-estimation grid", len(grid))
    coefs, ses = np.empty(len(grid)), np.empty(len(grid))
    for i, psi in enumerate(grid):
        coefs[i], ses[i] = _alpha_at(float(psi), X, a, y, w)
        advance(1)
    p = np.array(
        [p_value_from_statistic(c / s, "two-sided") for c, s in zip(coefs, ses, strict=True)]
    )
    crossing = np.flatnonzero(np.sign(coefs[:-1]) != np.sign(coefs[1:]))
    if len(crossing):
        k = int(crossing[0])
        estimate = float(
            optimize.brentq(lambda s: _alpha_at(s, X, a, y, w)[0], grid[k], grid[k + 1], xtol=1e-10)
        )
    else:
        estimate = float(grid[np.argmin(np.abs(coefs))])
    kept = np.flatnonzero(p >= level)
    ci = None
    contiguous = True
    if len(kept) and kept[0] > 0 and kept[-1] < len(grid) - 1:
        ci = (float(grid[kept[0]]), float(grid[kept[-1]]))
        contiguous = bool(np.all(np.diff(kept) == 1))
    zero = _alpha_at(0.0, X, a, y, w)
    p_zero = p_value_from_statistic(zero[0] / zero[1], "two-sided")
    return Grid(grid, coefs, ses, p, estimate, ci, contiguous, p_zero)

"""Panels with a known effect for synthetic control (tests, docs, benchmarks).

Untreated outcomes follow a linear factor model (ADH 2010, eq. 1):

    Y_it(0) = δ_t + θ_t·x_i + μ_iᵀ f_t + ε_it,    ε_it ~ N(0, noise²),

with a unit covariate x_i (which enters through θ_t, so it is a genuine predictor), loadings
μ_i and common factors f_t (random walks, so units trend apart). With ``in_hull`` the treated
units' (x, μ) are convex combinations of three donors' – a synthetic control exists, with
those weights – otherwise every unit is drawn alike (treated units exchangeable with donors:
the setting in which the placebo permutation test is exact). Treated units receive
``effect`` (a number, or one value per post-period) from period ``n_pre`` on.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def factor_outcomes(
    n_units: int,
    n_periods: int,
    n_factors: int,
    noise: float,
    rng: np.random.Generator,
    in_hull: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Untreated outcomes (units × periods), the covariate x, and the convex weights of the
    first `in_hull` units on donors (None if 0); every draw from `rng`."""
    x = rng.normal(size=n_units)
    loadings = rng.normal(size=(n_units, n_factors))
    weights = None
    if in_hull:
        weights = np.zeros((in_hull, n_units))
        for i in range(in_hull):
            chosen = rng.choice(np.arange(in_hull, n_units), size=3, replace=False)
            weights[i, chosen] = rng.dirichlet(np.ones(3))
        x[:in_hull] = weights @ x
        loadings[:in_hull] = weights @ loadings
    factors = np.cumsum(rng.normal(scale=0.5, size=(n_periods, n_factors)), axis=0)
    delta = np.cumsum(rng.normal(scale=0.3, size=n_periods)) + 10
    theta = 2 + 0.5 * np.sin(np.arange(n_periods) / 5)
    Y = delta[None, :] + np.outer(x, theta) + loadings @ factors.T
    Y += rng.normal(scale=noise, size=Y.shape)
    return Y, x, weights


def synthetic_panel(
    n_units: int = 30,
    n_periods: int = 30,
    n_pre: int = 20,
    effect: float | np.ndarray = 0.0,
    n_treated: int = 1,
    n_factors: int = 2,
    noise: float = 0.5,
    in_hull: bool = True,
    seed: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """A long panel (unit, period, y, x, treated) and the truth.

    Units are named u00, u01, …; the first `n_treated` are treated from period `n_pre`
    (periods 0 … n_periods − 1). truth: ``att`` (average effect over the post-period),
    ``effect`` (per post-period), ``treated_units``, ``treat_start``, ``weights`` (the convex
    donor weights of each treated unit, when in_hull), ``outcomes`` (units × periods, with
    the effect) and ``untreated`` (without it).
    """
    import pandas as pd

    if not 2 <= n_pre < n_periods:
        raise ValueError("n_pre must leave at least 2 pre-periods and 1 post-period")
    rng = np.random.default_rng(seed)
    Y0, x, weights = factor_outcomes(
        n_units, n_periods, n_factors, noise, rng, n_treated if in_hull else 0
    )
    tau = np.broadcast_to(np.asarray(effect, float), (n_periods - n_pre,)).copy()
    Y = Y0.copy()
    Y[:n_treated, n_pre:] += tau
    names = [f"u{i:02d}" for i in range(n_units)]
    frame = pd.DataFrame(
        {
            "unit": np.repeat(names, n_periods),
            "period": np.tile(np.arange(n_periods), n_units),
            "y": Y.ravel(),
            "x": np.repeat(x, n_periods) + rng.normal(scale=0.05, size=n_units * n_periods),
            "treated": (
                (np.arange(n_units)[:, None] < n_treated) & (np.arange(n_periods)[None, :] >= n_pre)
            )
            .astype(int)
            .ravel(),
        }
    )
    truth = {
        "att": float(tau.mean()),
        "effect": tau,
        "treated_units": names[:n_treated],
        "treat_start": n_pre,
        "weights": weights,
        "outcomes": Y,
        "untreated": Y0,
    }
    return frame, truth


def example() -> tuple[dict[str, object], object]:
    """A small seeded panel (12 units, 16 periods, one treated from period 10, effect 1, noise
    0.2) and its options."""
    frame, _ = synthetic_panel(n_units=12, n_periods=16, n_pre=10, effect=1.0, noise=0.2, seed=1)
    options = {"outcome": "y", "unit": "unit", "time": "period", "treated_unit": ["u00"],
               "treat_start": 10}  # fmt: skip
    return options, frame

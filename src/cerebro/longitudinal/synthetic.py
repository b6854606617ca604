"""Long data with time-varying confounding affected by past treatment, and known truth.

A customer's engagement L_k (a baseline segment score V) drives who gets the campaign A_k
(low engagement is targeted: logit Pr[A_k = 1] = 0.2 − 0.25 L_k + 0.4 A_{k−1} + 0.2 V), the
campaign raises next period's engagement (L_{k+1} = 0.3 + 0.7 L_k + 0.8 A_k + 0.3 V + ε), and
the final outcome Y = 2 + 0.3 Σ A_k + 0.8 Σ L_k + 0.5 V + ε depends on both. L_k is a
confounder of later treatment and a mediator of earlier treatment: adjusting for it in a
regression blocks part of the effect (the naive estimate of "always − never" is
0.3 K instead of the truth), while the g-formula and IP weighting recover the truth.

`true_mean(strategy)` computes E[Y^g] exactly for static strategies (linear recursion of the
engagement's mean) and by a million-unit simulation for dynamic ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cerebro.longitudinal.strategies import Strategy, parse_strategy

EFFECT_A, EFFECT_L, CARRY, LIFT, TARGET = 0.3, 0.8, 0.7, 0.8, -0.25


def _draw(n: int, K: int, rng: np.random.Generator, strategy: Strategy | None):
    V = rng.normal(size=n)
    L, A = np.empty((n, K)), np.empty((n, K))
    L[:, 0] = 0.5 * V + rng.normal(size=n)
    for k in range(K):
        if strategy is None:
            prev = A[:, k - 1] if k else np.zeros(n)
            logit = 0.2 + TARGET * L[:, k] + 0.4 * prev + 0.2 * V
            A[:, k] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
        else:
            A[:, k] = strategy.assign({"engagement": L[:, k], "segment": V}, n)
        if k + 1 < K:
            L[:, k + 1] = 0.3 + CARRY * L[:, k] + LIFT * A[:, k] + 0.3 * V + rng.normal(size=n)
    Y = 2 + EFFECT_A * A.sum(1) + EFFECT_L * L.sum(1) + 0.5 * V + rng.normal(size=n)
    return V, L, A, Y


def simulate(n: int = 1000, periods: int = 3, seed: int = 0) -> pd.DataFrame:
    """Long rows: id, period, campaign, engagement, segment, revenue (last period only)."""
    V, L, A, Y = _draw(n, periods, np.random.default_rng(seed), None)
    last = np.full((n, periods), np.nan)
    last[:, -1] = Y
    return pd.DataFrame({
        "id": np.repeat(np.arange(n), periods), "period": np.tile(np.arange(periods), n),
        "campaign": A.ravel().astype(int), "engagement": L.ravel(),
        "segment": np.repeat(V, periods), "revenue": last.ravel(),
    })  # fmt: skip


def true_mean(strategy: str, periods: int = 3) -> float:
    """E[Y^g] under the data-generating process."""
    g = parse_strategy(strategy)
    if g.static is None:
        _, L, A, _ = _draw(1_000_000, periods, np.random.default_rng(12345), g)
        return float(np.mean(2 + EFFECT_A * A.sum(1) + EFFECT_L * L.sum(1)))
    mean_l, total = 0.0, 0.0
    for _ in range(periods):
        total += EFFECT_A * g.static + EFFECT_L * mean_l
        mean_l = 0.3 + CARRY * mean_l + LIFT * g.static
    return 2 + total


def example() -> tuple[dict[str, Any], pd.DataFrame]:
    fields = {"unit": "id", "time": "period", "treatment": "campaign",
              "confounders": ["engagement"], "baseline": ["segment"], "outcome": "revenue",
              "strategies": ["always", "treat when engagement < 0", "never"],
              "simulations": 2000, "bootstrap": 20}  # fmt: skip
    return fields, simulate(n=300, periods=3, seed=2)

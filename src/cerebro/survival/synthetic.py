"""Survival data with known counterfactual curves, and the contract example.

Discrete periods k = 1 … K; a baseline confounder x ~ N(0, 1) raises both the chance of
treatment (logit 0.8x) and the hazard; the hazard in each period is
expit(−4 + 0.6x + effect·a). The true counterfactual survival S^a(k) = E_x[(1 − h_a(x))^k] is
computed by numerical integration over x, so the estimators' targets are exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _hazard(x: np.ndarray, a: float, effect: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(-4.0 + 0.6 * x + effect * a)))


def simulate(n: int = 2000, periods: int = 24, effect: float = -0.5, censor: float = 0.01,
             seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """One row per unit: follow-up `time`, `event`, treatment `a`, confounder `x`; random
    censoring with per-period probability `censor` (independent of everything)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-0.8 * x))).astype(int)
    h = _hazard(x, a, effect)
    event_time = rng.geometric(h)
    censor_time = rng.geometric(censor, n) if censor > 0 else np.full(n, periods + 1)
    end = np.minimum(np.minimum(event_time, censor_time), periods)
    event = ((event_time <= censor_time) & (event_time <= periods)).astype(int)
    return pd.DataFrame({"time": end, "event": event, "a": a, "x": x})


def true_survival(k: int, a: int, effect: float = -0.5) -> float:
    """S^a(k) = E_x[(1 − h_a(x))^k], x ~ N(0, 1), by Gauss–Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(weights * (1 - _hazard(nodes, a, effect)) ** k) / np.sqrt(2 * np.pi))


def example() -> tuple[dict[str, Any], pd.DataFrame]:
    fields = {"time": "time", "event": "event", "treatment": "a", "confounders": ["x"],
              "horizon": 12, "bootstrap": 20}  # fmt: skip
    return fields, simulate(n=400, periods=24, seed=1)

"""A small seeded observational example for the contract test: confounded binary treatment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def causal() -> tuple[dict[str, Any], pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 1_000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-(0.5 * x1 - 0.3 * x2)))).astype(int)
    y = 1.0 * a + x1 + 0.5 * x2 + rng.normal(size=n)
    frame = pd.DataFrame({"a": a, "y": y, "x1": x1, "x2": x2})
    return {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"], "method": "aipw"}, frame


GRAPH_EXAMPLE = """digraph {
  u [observed="no"];
  x -> t; x -> y; t -> m; m -> y; u -> t; u -> y; z -> t;
}"""


def graph() -> tuple[dict[str, Any], pd.DataFrame]:
    """Data from `GRAPH_EXAMPLE` (u latent): back-door set none, front-door set {m}, instrument
    z; the implications (z ⊥ x, z ⊥ m | t, x ⊥ m | t, …) hold in the data."""
    return {"dag": GRAPH_EXAMPLE, "treatment": "t", "outcome": "y"}, graph_data()


def graph_data(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, z, u = rng.normal(size=(3, n))
    t = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * x + 0.8 * z + 1.2 * u)))).astype(int)
    m = 1.0 * t + rng.normal(size=n)
    y = 0.7 * m + 0.5 * x + 1.5 * u + rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": z, "t": t, "m": m, "y": y})

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

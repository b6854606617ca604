"""A small seeded example for the contract test: a confounded binary treatment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def sensitivity() -> tuple[dict[str, Any], pd.DataFrame]:
    rng = np.random.default_rng(1)
    n = 600
    age, income = rng.normal(size=n), rng.normal(size=n)
    campaign = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * age - 0.4 * income)))).astype(int)
    sales = 0.5 * campaign + age + 0.5 * income + rng.normal(size=n)
    frame = pd.DataFrame({"campaign": campaign, "sales": sales, "age": age, "income": income})
    fields = {
        "treatment": "campaign",
        "outcome": "sales",
        "confounders": ["age", "income"],
        "unobserved_confounder_strength": [0.1],
        "benchmark": ["income"],
    }
    return fields, frame

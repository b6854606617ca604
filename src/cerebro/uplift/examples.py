"""A small seeded uplift example for the contract test (known CATE; see uplift.synthetic)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cerebro.uplift.synthetic import uplift_data


def uplift() -> tuple[dict[str, Any], pd.DataFrame]:
    frame, _truth = uplift_data(1_500, p=4, seed=0)
    features = [c for c in frame.columns if c.startswith("x")]
    return {"treatment": "treatment", "outcome": "outcome", "features": features, "folds": 3}, frame

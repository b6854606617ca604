"""A small seeded example of the ``mmm`` kind, run by the contract test (CI-sized: 104 weeks,
3 channels, 2 chains × 300 draws)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cerebro.mmm.synthetic import simulate_mmm


def mmm() -> tuple[dict[str, Any], pd.DataFrame]:
    frame, _ = simulate_mmm(weeks=104, channels=3, seed=1)
    fields = {
        "date_column": "week",
        "kpi": "revenue",
        "channels": ["tv", "search", "social"],
        "controls": ["price", "promo"],
        "chains": 2,
        "draws": 300,
        "warmup": 300,
        "holdout": 8,
    }
    return fields, frame

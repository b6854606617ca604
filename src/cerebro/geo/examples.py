"""Small seeded examples of the geo kinds, run by the contract test."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test


def _panel() -> pd.DataFrame:
    return geo_test_frame(simulate_geo_test(n_geos=12, n_pre=40, n_post=10, lift=0.05, seed=3))


def geotest() -> tuple[dict[str, Any], pd.DataFrame]:
    frame = _panel()
    geos = sorted(frame["geo"].unique())
    dates = sorted(frame["date"].unique())
    fields = {"geo_column": "geo", "date_column": "date", "outcome": "sales"}
    return {**fields, "treatment_geos": [geos[:2]], "treatment_start": str(dates[-10])}, frame


def geo_design() -> tuple[dict[str, Any], pd.DataFrame]:
    fields = {"geo_column": "geo", "date_column": "date", "outcome": "sales"}
    return {**fields, "markets": [2], "durations": [5], "effects": [0.0, 0.1]}, _panel()

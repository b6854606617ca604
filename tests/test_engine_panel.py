"""Daily and weekly totals per unit from raw events, computed by DuckDB and PostgreSQL, equal
pandas' groupby (Spark: `test_engine_spark.py`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.engine.panel import panel_totals
from engine_support import PG_URL, postgres_table


def events() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 5000
    start = pd.Timestamp("2024-03-01")
    frame = pd.DataFrame(
        {
            "geo": rng.choice(["north", "south", "east"], n),
            "ts": start + pd.to_timedelta(rng.uniform(0, 40 * 86400, n), unit="s"),
            "revenue": rng.gamma(2.0, 5.0, n),
            "orders": rng.integers(0, 3, n),
        }
    )
    frame.loc[5:9, "geo"] = None  # events without a unit are left out
    return frame


def expected(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    kept = frame.dropna(subset=["geo", "ts"])
    day = kept.ts.dt.floor("D")
    period = day if grain == "day" else day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    out = kept.assign(ts=period).groupby(["geo", "ts"], as_index=False)
    out = out.agg(rows=("revenue", "size"), revenue=("revenue", "sum"), orders=("orders", "sum"))
    return out.sort_values(["geo", "ts"]).reset_index(drop=True)


def check(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == ["geo", "ts", "rows", "revenue", "orders"]
    assert list(got.geo) == list(want.geo)
    assert (
        got.ts.dt.tz_localize(None) if got.ts.dt.tz else got.ts
    ).dt.date.tolist() == want.ts.dt.date.tolist()
    np.testing.assert_array_equal(got.rows.to_numpy(int), want.rows.to_numpy(int))
    np.testing.assert_allclose(got.revenue, want.revenue, rtol=1e-12)
    np.testing.assert_allclose(got.orders, want.orders, rtol=1e-12)


@pytest.mark.parametrize("grain", ["day", "week"])
def test_duckdb_frame_and_file(grain, tmp_path):
    frame = events()
    want = expected(frame, grain)
    check(panel_totals(frame, "geo", "ts", ["revenue", "orders"], grain), want)
    path = tmp_path / "events.parquet"
    frame.to_parquet(path)
    check(panel_totals(str(path), "geo", "ts", ["revenue", "orders"], grain), want)


@pytest.mark.parametrize("grain", ["day", "week"])
def test_postgres_table(grain):
    frame = events()
    with postgres_table(frame, "cerebro_panel") as name:
        got = panel_totals(None, "geo", "ts", ["revenue", "orders"], grain, db=PG_URL, table=name)
    check(got, expected(frame, grain))


def test_bad_inputs_named():
    frame = events()
    with pytest.raises(UserInputError, match="no column 'spend'"):
        panel_totals(frame, "geo", "ts", ["spend"])
    with pytest.raises(UserInputError, match="grain 'month'"):
        panel_totals(frame, "geo", "ts", ["revenue"], grain="month")
    with pytest.raises(UserInputError, match=r"'geo' .* is not numeric"):
        panel_totals(frame, "ts", "ts", ["geo"])

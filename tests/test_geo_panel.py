"""The long geo panel → wide matrix checks (`cerebro.geo.panel`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.geo.panel import geo_panel


def _long(n_geos: int = 4, n_days: int = 6) -> pd.DataFrame:
    dates = pd.date_range("2021-01-01", periods=n_days).strftime("%Y-%m-%d")
    rows = [
        {"geo": f"City {g}", "date": d, "y": 10.0 * g + t, "spend": float(t), "pop": 100.0 + g}
        for g in range(n_geos)
        for t, d in enumerate(dates)
    ]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # any row order


def test_wide_matrix_sorted_by_geo_and_date():
    findings = []
    panel = geo_panel(
        _long(), "geo", "date", "y", spend="spend", covariates=["pop"], findings=findings
    )
    assert panel.geos == ["City 0", "City 1", "City 2", "City 3"]
    assert panel.Y.shape == (4, 6)
    np.testing.assert_array_equal(panel.Y[2], 20.0 + np.arange(6))
    np.testing.assert_array_equal(panel.spend[1], np.arange(6.0))
    np.testing.assert_array_equal(panel.covariates["pop"], [100.0, 101.0, 102.0, 103.0])
    assert findings == []
    assert list(panel.index(["city 2", "CITY  0"], "--treatment-geos")) == [2, 0]
    assert panel.date_index("2021-01-03", "--treatment-start") == 2


def test_unbalanced_panel_names_the_geo_and_the_count():
    frame = _long()
    frame = frame[~((frame["geo"] == "City 1") & (frame["date"] == "2021-01-04"))]
    with pytest.raises(UserInputError, match=r"unbalanced: geo 'City 1' lacks 'y' on 1 of 6 dates"):
        geo_panel(frame, "geo", "date", "y")


def test_duplicate_rows_and_unknown_geo_and_bad_dates_fail_with_one_sentence():
    frame = _long()
    with pytest.raises(UserInputError, match="several rows"):
        geo_panel(pd.concat([frame, frame.iloc[:1]]), "geo", "date", "y")
    panel = geo_panel(frame, "geo", "date", "y")
    with pytest.raises(UserInputError, match="'Atlantis' is not a geo"):
        panel.index(["Atlantis"], "--treatment-geos")
    with pytest.raises(UserInputError, match="after the last date"):
        panel.date_index("2022-01-01", "--treatment-start")
    with pytest.raises(UserInputError, match="not a date"):
        panel.date_index("soon", "--treatment-start")
    bad = frame.assign(y=frame["y"].astype(object))
    bad.iloc[0, bad.columns.get_loc("y")] = "n/a"
    with pytest.raises(UserInputError, match="non-numeric"):
        geo_panel(bad, "geo", "date", "y")


def test_calendar_gap_shared_by_every_geo_is_a_warning():
    frame = _long(n_days=8)
    frame = frame[frame["date"] != "2021-01-05"]
    findings = []
    panel = geo_panel(frame, "geo", "date", "y", findings=findings)
    assert panel.Y.shape == (4, 7)
    assert [f.code for f in findings] == ["calendar_gaps"]
    assert findings[0].message.startswith("1 date(s) are missing")


def test_numeric_periods_are_accepted():
    frame = _long()
    frame["date"] = pd.to_datetime(frame["date"]).dt.day
    panel = geo_panel(frame, "geo", "date", "y")
    assert panel.dates[:2] == [1.0, 2.0]
    assert panel.date_index(3, "--treatment-start") == 2

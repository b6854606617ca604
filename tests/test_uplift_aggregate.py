"""`aggregate`: user-level uplift from user × day rows, the collapsing done by Cerebro.

The result equals the same analysis on the rows collapsed by hand (the outcome's mean per unit,
the unit's constant columns); a feature that changes within a unit is refused; `--aggregate`
needs a unit; the CLI runs it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.data.units import collapse_units
from cerebro.uplift.analysis import uplift
from test_uplift_units import panel

OPTIONS = {"treatment": "treat", "outcome": "y", "model": "t_learner", "learner": "linear",
           "folds": 3, "seed": 3}  # fmt: skip


def test_collapse_keeps_constant_columns_and_averages_the_outcome() -> None:
    frame = panel(units=50, rows=3)
    out, dropped = collapse_units(frame, "customer", "y", ["treat", "x"], "mean")
    assert len(out) == 50 and dropped == ["z"]
    expected = frame.groupby("customer").y.mean()
    assert np.allclose(out.set_index("customer").y.loc[expected.index], expected, rtol=0, atol=0)
    total, _ = collapse_units(frame, "customer", "y", ["treat"], "sum")
    assert np.allclose(total.set_index("customer").y.loc[expected.index], 3 * expected)
    with pytest.raises(UserInputError, match="column 'z' changes within a customer"):
        collapse_units(frame, "customer", "y", ["treat", "z"], "mean")


def test_aggregated_uplift_equals_the_hand_collapsed_analysis() -> None:
    frame = panel(units=400, rows=4)
    auto = uplift(frame, features=["x"], unit="customer", aggregate="mean", **OPTIONS)
    by_hand = (
        frame.groupby("customer", sort=False)
        .agg(treat=("treat", "first"), x=("x", "first"), y=("y", "mean"))
        .reset_index(drop=True)
    )
    manual = uplift(by_hand, features=["x"], unit="none", **OPTIONS)
    for a, b in zip(auto.estimates, manual.estimates, strict=True):
        assert a.key == b.key and a.value == pytest.approx(b.value, rel=1e-12)
    note = next(f for f in auto.findings if f.code == "aggregated")
    assert "1,600 rows collapsed to 400 customer units" in note.message
    assert auto.summary["units"] == 400


def test_a_detected_unit_is_aggregated_and_no_unit_is_refused() -> None:
    frame = panel(units=300, rows=3)
    detected = uplift(frame, features=["x"], aggregate="mean", **OPTIONS)
    assert detected.summary["units"] == 300
    rows = pd.DataFrame({"treat": np.arange(200) % 2, "x": np.arange(200.0), "y": np.ones(200)})
    rows["y"] = np.random.default_rng(0).normal(size=200)
    with pytest.raises(UserInputError, match="no repeating unit id was found"):
        uplift(rows, features=["x"], aggregate="mean", **OPTIONS)
    with pytest.raises(UserInputError, match="unit is 'none'"):
        uplift(frame, features=["x"], aggregate="mean", unit="none", **OPTIONS)


def test_cli_aggregate(tmp_path) -> None:
    data = tmp_path / "rows.csv"
    panel(units=300, rows=3).to_csv(data, index=False)
    args = ["uplift", str(data), "--treatment", "treat", "--outcome", "y", "--features", "x",
            "--unit", "customer", "--aggregate", "mean", "--learner", "linear", "--folds", "3"]  # fmt: skip
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    assert "900 rows collapsed to 300 customer units" in " ".join(run.output.split())

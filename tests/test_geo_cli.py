"""`cerebro geotest` end to end on GeoLift's walkthrough data and simulated panels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cerebro.cli.geotest_command import register
from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test

DATA = Path(__file__).parent / "data" / "geolift"
app = typer.Typer()
register(app)


@app.command("noop")
def _noop() -> None:  # a second command keeps typer's sub-command layout
    pass


runner = CliRunner()
BASE = ["geotest", str(DATA / "GeoLift_Test.csv"), "--geo-column", "location", "--outcome", "Y",
        "--treatment-start", "2021-04-01"]  # fmt: skip


def _json(args: list[str]) -> dict:
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_single_cell_json_matches_geolift_numbers():
    res = _json([*BASE, "--treatment-geos", "chicago, portland", "--method", "synthetic_control"])
    est = {e["label"]: e for e in res["estimates"]}
    assert est["lift"]["value"] == pytest.approx(0.05423, abs=5e-5)
    assert est["incremental Y"]["value"] == pytest.approx(4667, abs=0.5)
    assert est["ATT per geo-day"]["value"] == pytest.approx(155.556, abs=5e-4)
    assert est["lift"]["p_value"] == pytest.approx(5 / 105)  # block test: rank 5 of 105
    weights = res["tables"]["weights"]
    assert weights["rows"][0][1:] == ["cincinnati", pytest.approx(0.2272, abs=5e-5)]
    assert res["summary"]["n_pre"] == 90 and res["summary"]["n_post"] == 15


def test_multi_cell_and_spend_and_plot(tmp_path):
    data = DATA / "GeoLift_Test_MultiCell.csv"
    res = _json(["geotest", str(data), "--geo-column", "location", "--outcome", "Y",
                 "--treatment-start", "2021-04-01", "--treatment-geos",
                 "chicago,cincinnati;honolulu,indianapolis", "--alternative", "greater"])  # fmt: skip
    est = {e["label"]: e for e in res["estimates"]}
    assert est["cell 1 lift"]["value"] == pytest.approx(0.228, abs=5e-4)
    assert est["cell 2 lift"]["value"] == pytest.approx(0.071, abs=5e-4)
    assert est["cell 1 lift"]["ci_high"] is None  # one-sided: +inf → null in JSON
    sim = simulate_geo_test(lift=0.1, seed=1)
    path = tmp_path / "sim.csv"
    geo_test_frame(sim, spend=100.0).to_csv(path, index=False)
    plot = tmp_path / "geo.png"
    out = runner.invoke(app, ["geotest", str(path), "--geo-column", "geo", "--outcome", "sales",
                              "--treatment-geos", "geo 00,geo 01", "--treatment-start",
                              "2021-04-01", "--spend", "spend", "--method", "tbr",
                              "--plot", str(plot)])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert plot.stat().st_size > 10_000
    res = _json(["geotest", str(path), "--geo-column", "geo", "--outcome", "sales",
                 "--treatment-geos", "geo 00,geo 01", "--treatment-start", "2021-04-01",
                 "--spend", "spend", "--method", "matched_markets"])  # fmt: skip
    est = {e["label"]: e for e in res["estimates"]}
    spent = 100.0 * 2 * 15
    inc = est["incremental sales"]["value"]
    assert est["cost per incremental sales"]["value"] == pytest.approx(spent / inc)
    assert est["incremental ROAS"]["value"] == pytest.approx(inc / spent)
    assert inc == pytest.approx(sim.incremental, rel=0.5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--treatment-geos", "atlantis"], "not a geo"),
        (["--treatment-geos", "chicago", "--treatment-start", "2030-01-01"], "after the last"),
        (["--treatment-geos", "chicago;chicago,miami"], "overlap"),
        (["--treatment-geos", "chicago", "--control-geos", "chicago,miami"], "also treated"),
        (["--treatment-geos", "chicago", "--method", "magic"], "method"),
    ],
)
def test_user_errors_exit_2(extra, message):
    args = [a for a in BASE]
    if "--treatment-start" in extra:
        i = args.index("--treatment-start")
        del args[i : i + 2]
    out = runner.invoke(app, [*args, *extra])
    assert out.exit_code == 2, out.output
    assert message in out.output


def test_unbalanced_panel_exits_2(tmp_path):
    frame = pd.read_csv(DATA / "GeoLift_Test.csv")
    frame = frame.drop(index=frame.index[5])
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    out = runner.invoke(app, ["geotest", str(path), "--geo-column", "location", "--outcome", "Y",
                              "--treatment-start", "2021-04-01", "--treatment-geos", "chicago"])  # fmt: skip
    assert out.exit_code == 2
    assert "unbalanced" in out.output

"""Geo tests, DiD and MMM from raw event tables (`--panel-freq`): the engine totals the events
per unit and period, and the family's method gives the numbers it gives on the pre-aggregated
panel, to 1e-9 relative – on DuckDB (a Parquet file, a pandas frame, the command line) and on
PostgreSQL (Spark: `test_engine_spark.py`).

The panels' values are multiples of 1/64 (`engine_support.dyadic`), so every engine's sums are
exact whatever their order and the comparison tests the wiring, not rounding (the sums' own
accuracy is `test_engine_panel.py`'s).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.run import run
from engine_support import PG_URL, dyadic, explode, postgres_table, same_numbers

runner = CliRunner()


def geo_case() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """GeoLift-like daily panel (12 geos × 50 days, 2 treated from day 41) and its events."""
    from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test

    sim = simulate_geo_test(n_geos=12, n_pre=40, n_post=10, lift=0.05, seed=3)
    panel = geo_test_frame(sim, spend=250.0)
    panel["sales"] = dyadic(panel["sales"])
    panel["region"] = panel["geo"].str[-1].map(lambda d: "odd" if int(d) % 2 else "even")
    fields = {
        "kind": "geotest",
        "geo_column": "geo",
        "date_column": "date",
        "outcome": "sales",
        "spend": "spend",
        "treatment_geos": [["geo 00", "geo 01"]],
        "treatment_start": "2021-02-10",
        "method": "tbr",
    }
    events = explode(panel.assign(date=pd.to_datetime(panel.date)), "date", ["sales", "spend"])
    return fields, panel, events


def did_case() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """A staggered panel (120 units, 6 weeks, adoption in weeks 2 and 4) and its events."""
    from cerebro.quasi.did.synthetic import staggered_panel

    panel, _ = staggered_panel(n_units=120, n_periods=6, cohorts=(2, 4), seed=1)
    panel["sales"] = dyadic(panel["sales"])
    panel["week"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * panel["period"], unit="D")
    panel = panel.drop(columns="period")
    fields = {"kind": "did", "treatment": "treated", "outcome": "sales", "unit": "unit"}
    fields["time"] = "week"
    return fields, panel, explode(panel, "week", ["sales"], "week", seed=1)


def mmm_case() -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """A national weekly MMM (60 weeks, 3 channels; a short SVI fit: equality, not accuracy) and its events."""
    from cerebro.mmm.synthetic import simulate_mmm

    panel, _ = simulate_mmm(weeks=60, channels=3, seed=1)
    sums = ["revenue", "tv", "search", "social"]
    panel[sums] = dyadic(panel[sums])
    panel["week"] = pd.to_datetime(panel["week"])
    fields = {
        "kind": "mmm",
        "date_column": "week",
        "kpi": "revenue",
        "channels": ["tv", "search", "social"],
        "controls": ["price", "promo"],
        "inference": "svi",
        "svi_steps": 100,
        "draws": 100,
        "holdout": 8,
    }
    return fields, panel, explode(panel, "week", sums, "week", seed=2)


CASES = {"geo": geo_case, "did": did_case, "mmm": mmm_case}
FREQ = {"geo": "day", "did": "week", "mmm": "week"}


@pytest.fixture(
    scope="module",
    params=["geo", "did", pytest.param("mmm", marks=pytest.mark.slow)],  # JAX compiles each fit
)
def case(request):
    fields, panel, events = CASES[request.param]()
    return request.param, fields, panel, events, run(fields, panel)


def test_duckdb_file_and_frame_equal_the_panel(case, tmp_path):
    name, fields, panel, events, want = case
    fields = {**fields, "panel_freq": FREQ[name]}
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    if name == "mmm":  # its weekly table, bit for bit: the fit from it is the PostgreSQL test's
        from cerebro.engine.panel import event_panel
        from cerebro.mmm.spec import MMMSpec

        spec = MMMSpec(**{k: v for k, v in fields.items() if k != "kind"}, data=str(path))
        sums = [spec.kpi, *spec.channels]
        got, _ = event_panel(spec, None, None, spec.date_column, sums, spec.controls)
        pd.testing.assert_frame_equal(
            got, panel[["week", *sums, *spec.controls]], check_dtype=False
        )
        return
    same_numbers(run({**fields, "data": str(path)}), want)
    same_numbers(run(fields, events), want)  # a frame: the same DuckDB query as the file


def test_postgres_table_equals_the_panel(case):
    name, fields, _, events, want = case
    with postgres_table(events, "cerebro_events") as table:
        got = run({**fields, "panel_freq": FREQ[name], "db": PG_URL, "table": table})
    same_numbers(got, want)
    assert got.spec.db == PG_URL


def test_geotest_command_line_from_events(tmp_path):
    fields, panel, events = geo_case()
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    flags = ["--geo-column", "geo", "--outcome", "sales", "--spend", "spend", "--method", "tbr",
             "--treatment-geos", "geo 00,geo 01", "--treatment-start", "2021-02-10", "--json"]  # fmt: skip
    out = runner.invoke(app, ["geotest", str(path), "--panel-freq", "day", *flags])
    assert out.exit_code == 0, out.output
    got = {e["label"]: e["value"] for e in json.loads(out.stdout)["estimates"]}
    want = {e.label: e.value for e in run(fields, panel).estimates}
    assert got == pytest.approx(want, rel=1e-9)


def test_did_command_line_from_a_postgres_table():
    fields, panel, events = did_case()
    want = {e.label: e.value for e in run(fields, panel).estimates}
    with postgres_table(events, "cerebro_events") as table:
        out = runner.invoke(
            app,
            ["causal", "--method", "did", "--db", PG_URL, "--table", table, "--panel-freq",
             "week", "--treatment", "treated", "--outcome", "sales", "--unit", "unit", "--time",
             "week", "--json"],
        )  # fmt: skip
    assert out.exit_code == 0, out.output
    got = {e["label"]: e["value"] for e in json.loads(out.stdout)["estimates"]}
    assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--db", PG_URL, "--table", "t"], "add --panel-freq"),
        (["--table", "t", "--panel-freq", "day"], "add --db URL"),
        (["x.parquet", "--spark-master", "local[2]", "--panel-freq", "day"], "needs --engine"),
        (["x.parquet", "--db", PG_URL, "--table", "t", "--panel-freq", "day"], "drop the data"),
    ],
)
def test_engine_flags_refused_in_one_sentence(flags, message):
    base = ["--geo-column", "geo", "--outcome", "sales", "--treatment-geos", "a"]
    out = runner.invoke(app, ["geotest", *flags, *base])
    assert out.exit_code == 2 and message in out.output, out.output
    assert "Traceback" not in out.output


def test_panel_freq_needs_the_unit_named():
    with pytest.raises(UserInputError, match="--geo-column and --outcome"):
        run({"kind": "geotest", "data": "x.parquet", "panel_freq": "day", "outcome": "sales"})
    with pytest.raises(UserInputError, match="--unit and --time"):
        run({"kind": "did", "data": "x.parquet", "panel_freq": "week", "treatment": "treated",
             "outcome": "sales", "post": "post"})  # fmt: skip


def test_a_column_that_varies_within_a_unit_and_period_is_refused():
    fields, _, events = did_case()
    odd = events.iloc[[0]].assign(treated=1 - events.treated.iloc[0], sales=0.0)
    events = pd.concat([events, odd], ignore_index=True)  # same unit and week, other treatment
    with pytest.raises(UserInputError, match=r"'treated' .* takes two values .* within unit"):
        run({**fields, "panel_freq": "week"}, events)


@pytest.mark.parametrize(
    "spec, field",
    [
        ({"kind": "geotest", "db": PG_URL, "table": "t", "panel_freq": "day"}, "spec.db"),
        ({"kind": "abtest", "db": PG_URL, "table": "t", "treatment": "a", "outcome": "y"},
         "spec.db"),
        ({"kind": "mmm", "engine": "spark", "panel_freq": "week"}, "spec.engine"),
    ],
)  # fmt: skip
def test_the_service_never_reaches_out_to_a_database_or_spark(spec, field):
    """A spec sent to the service reads only uploaded datasets: a database URL or Spark would
    make the server connect wherever the request says."""
    from cerebro.service.errors import ApiError
    from cerebro.service.specs import validated_spec

    with pytest.raises(ApiError) as refused:
        validated_spec(spec, None)
    assert refused.value.status == 422 and refused.value.field == field

"""Bad inputs to `cerebro geotest` and `cerebro geo-design` end in one sentence and exit code 2.

Each case is a file a user could really pass: a constant outcome (geotest used to fail with a
``zero-size array`` traceback, geo-design to report power 1 everywhere), infinite or missing
outcome values, a treated geo that is not in the data, every geo treated, too short a
pre-period, controls that never move. The message must name the real problem (the column, the
geo, the date) and no traceback may reach the user.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cerebro.cli import geo_design_command, geotest_command

DATA = Path(__file__).parent / "data" / "geolift"
app = typer.Typer()
geotest_command.register(app)
geo_design_command.register(app)
runner = CliRunner()

TEST = pd.read_csv(DATA / "GeoLift_Test.csv")
PRE = pd.read_csv(DATA / "GeoLift_PreTest.csv")
ALL_GEOS = ",".join(sorted(TEST["location"].unique()))


def _set(frame: pd.DataFrame, geo: str | None, date: str | None, value: float) -> pd.DataFrame:
    out = frame.astype({"Y": float})
    rows = np.ones(len(out), bool)
    if geo is not None:
        rows &= out["location"] == geo
    if date is not None:
        rows &= out["date"] == date
    out.loc[rows, "Y"] = value
    return out


def _flat_controls(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype({"Y": float})
    out.loc[~out["location"].isin(["chicago", "portland"]), "Y"] = 100.0
    return out


def _geotest(*extra: str, start: str = "2021-04-01", geos: str = "chicago,portland") -> list:
    return ["--geo-column", "location", "--outcome", "Y", "--treatment-start", start,
            "--treatment-geos", geos, *extra]  # fmt: skip


DESIGN = ["--markets", "2", "--durations", "10", "--effects", "0,0.1"]

CASES = {
    # name: (command, frame, arguments, words the message must hold)
    "geotest constant outcome": ("geotest", _set(TEST, None, None, 5.0), _geotest(),
                                 ["'Y' is constant", "5"]),
    "geotest inf": ("geotest", _set(TEST, "miami", "2021-02-03", np.inf), _geotest(),
                    ["infinite values in 'Y'", "miami", "2021-02-03"]),
    "geotest -inf in a treated geo": (
        "geotest", _set(TEST, "chicago", "2021-04-03", -np.inf), _geotest(),
        ["infinite values in 'Y'", "chicago", "2021-04-03"]),
    "geotest nan": ("geotest", _set(TEST, "miami", "2021-02-03", np.nan), _geotest(),
                    ["missing values in 'Y'", "miami", "2021-02-03"]),
    "geotest inf spend": (
        "geotest", TEST.assign(spend=np.where(TEST["date"] == "2021-04-05", np.inf, 10.0)),
        _geotest("--spend", "spend"), ["infinite values in 'spend'", "2021-04-05"]),
    "geotest unknown treated geo": ("geotest", TEST, _geotest(geos="chicago,atlantis"),
                                    ["'atlantis' is not a geo"]),
    "geotest every geo treated": ("geotest", TEST, _geotest(geos=ALL_GEOS),
                                  ["all 40 geos", "treat fewer"]),
    "geotest one pre-test date": ("geotest", TEST, _geotest(start="2021-01-02"),
                                  ["1 date(s) before the test", "--treatment-start"]),
    "geotest pre-period shorter than the test": (
        "geotest", TEST, _geotest(start="2021-01-06"),
        ["5 date(s) before the test", "100-date test"]),
    "geotest short pre-period, short test": (
        "geotest", TEST, _geotest("--treatment-end", "2021-01-03", start="2021-01-03"),
        ["2 date(s) before the test", "at least 3"]),
    "geotest controls never move": ("geotest", _flat_controls(TEST), _geotest(),
                                    ["control geo", "constant", "pre-test"]),
    "geo-design constant outcome": ("geo-design", _set(PRE, None, None, 5.0), DESIGN,
                                    ["'Y' is constant", "5"]),
    "geo-design flat geos": ("geo-design", PRE.assign(Y=PRE["location"].str.len()), DESIGN,
                             ["'Y' does not change over time"]),
    "geo-design inf": ("geo-design", _set(PRE, "miami", "2021-02-03", np.inf), DESIGN,
                       ["infinite values in 'Y'", "miami"]),
    "geo-design -inf": ("geo-design", _set(PRE, "boston", None, -np.inf), DESIGN,
                        ["infinite values in 'Y'", "90 row(s)", "boston"]),
    "geo-design nan": ("geo-design", _set(PRE, "miami", "2021-02-03", np.nan), DESIGN,
                       ["missing values in 'Y'", "miami"]),
    "geo-design unknown included geo": ("geo-design", PRE, [*DESIGN, "--include", "atlantis"],
                                        ["'atlantis' is not a geo"]),
    "geo-design every geo treated": ("geo-design", PRE, ["--markets", "40", "--durations", "10"],
                                     ["40 of 40 geos", "donors"]),
    "geo-design too few dates": ("geo-design", PRE, ["--markets", "2", "--durations", "60"],
                                 ["90 dates", "too few"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_sentence_and_exit_2(name, tmp_path):
    command, frame, arguments, words = CASES[name]
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    out = runner.invoke(app, [command, str(path), *arguments])
    assert out.exception is None or isinstance(out.exception, SystemExit), repr(out.exception)
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    message = " ".join(out.output.split())  # rich wraps long lines
    assert message.startswith("error: "), message
    for word in words:
        assert word in message, (word, message)

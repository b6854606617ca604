"""`cerebro causal --method synthetic_control` end to end (CLI, JSON contract, plot, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.observational.analysis import causal
from cerebro.quasi.synth.synthetic import synthetic_panel

runner = CliRunner()
DATA = Path(__file__).parent / "data"
PROP99 = [
    "causal", str(DATA / "smoking_prop99.csv"), "--outcome", "cigsale", "--unit", "state",
    "--time", "year", "--treated-unit", "California", "--treat-start", "1989",
    "--method", "synthetic_control",
]  # fmt: skip


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_prop99_json_and_plot(tmp_path):
    out = invoke(*PROP99, "--json", "--plot", tmp_path / "gap.png")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["kind"] == "causal" and payload["method"] == "synthetic_control"
    head = payload["estimates"][0]
    # Outcome-only ADH (every pre-period outcome as predictor): ATT −19.51, 2000 gap −26.6.
    assert head["value"] == pytest.approx(-19.51, abs=0.01)
    assert payload["estimates"][1]["value"] == pytest.approx(-26.6, abs=0.05)
    assert head["p_permutation"] == pytest.approx(3 / 39)
    tables = payload["tables"]
    assert {"effects", "gaps", "weights", "placebos", "placebo_gaps", "leave_one_out"} <= set(
        tables
    )
    weights = dict(tables["weights"]["rows"])
    assert sum(weights.values()) == pytest.approx(1, abs=1e-9) and min(weights.values()) >= 0
    assert len(tables["gaps"]["rows"]) == 31 and len(tables["placebos"]["rows"]) == 38
    assert (tmp_path / "gap.png").stat().st_size > 10_000
    codes = {f["code"] for f in payload["findings"]}
    assert {"pre_fit", "method", "placebo_test", "leave_one_out"} <= codes


@pytest.mark.parametrize("model", ["augmented", "sdid"])
def test_other_models(model):
    out = invoke(*PROP99, "--sc-model", model, "--json")
    assert out.exit_code == 0, out.output
    head = json.loads(out.stdout)["estimates"][0]
    expected = {"augmented": -15.95, "sdid": -15.60}[model]
    assert head["value"] == pytest.approx(expected, abs=0.01)
    assert head["se"] > 0 and head["ci_low"] < head["value"] < head["ci_high"]


def test_treatment_column_derives_units_and_start():
    """A 0/1 treated-this-period column gives the same fit as --treated-unit/--treat-start."""
    frame, truth = synthetic_panel(n_units=12, effect=3.0, n_treated=2, seed=4)
    by_column = causal(frame, outcome="y", unit="unit", time="period", treatment="treated",
                       method="synthetic_control")  # fmt: skip
    by_name = causal(frame, outcome="y", unit="unit", time="period", treated_unit=["u00", "u01"],
                     treat_start=20, method="synthetic_control")  # fmt: skip
    assert by_column.estimates[0].value == pytest.approx(by_name.estimates[0].value, abs=1e-12)
    assert by_column.estimates[0].value == pytest.approx(truth["att"], abs=1.0)
    assert "several_treated" in {f.code for f in by_column.findings}


def test_confounders_become_predictors():
    result = causal(str(DATA / "smoking_prop99.csv"), outcome="cigsale", unit="state", time="year",
                    treated_unit="California", treat_start=1989, method="synthetic_control",
                    confounders=["retprice", "lnincome"])  # fmt: skip
    table = result.tables["predictors"]
    assert list(table["predictor"])[:2] == ["retprice", "lnincome"]
    assert table["v"].sum() == pytest.approx(1)
    assert -21 < result.estimates[0].value < -17


def test_missing_donor_values_drop_the_donor_with_a_warning():
    frame, _ = synthetic_panel(n_units=10, seed=1)
    frame.loc[(frame.unit == "u05") & (frame.period == 3), "y"] = np.nan
    result = causal(frame, outcome="y", unit="unit", time="period", treated_unit="u00",
                    treat_start=20, method="synthetic_control")  # fmt: skip
    codes = {f.code for f in result.findings}
    assert {"dropped_missing", "dropped_units"} <= codes
    assert "u05" not in set(result.tables["weights"]["unit"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--treated-unit", "Atlantis"], "'Atlantis' is not a value of 'state'"),
        (["--treat-start", "1970"], "leaves 0 pre-period"),
        (["--treat-start", "soon"], "is not a number"),
    ],
)
def test_user_errors_exit_2_with_one_sentence(extra, message):
    args = list(PROP99)
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[args.index(flag) + 1] = value
    out = invoke(*args)
    assert out.exit_code == 2, out.output
    assert message in " ".join(out.output.split()) and "Traceback" not in out.output


def test_staggered_treatment_column_is_refused(tmp_path):
    frame, _ = synthetic_panel(n_units=8, n_treated=2, seed=2)
    frame.loc[(frame.unit == "u01") & (frame.period == 19), "treated"] = 1
    path = tmp_path / "panel.csv"
    frame.to_csv(path, index=False)
    out = invoke("causal", path, "--outcome", "y", "--unit", "unit", "--time", "period",
                 "--treatment", "treated", "--method", "synthetic_control")  # fmt: skip
    assert out.exit_code == 2 and "different periods" in out.output


def test_missing_flags_are_named():
    out = invoke("causal", DATA / "smoking_prop99.csv", "--outcome", "cigsale",
                 "--method", "synthetic_control")  # fmt: skip
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert "--unit" in text and "--time" in text and "--treated-unit" in text


def test_duplicate_rows_are_refused():
    frame = pd.read_csv(DATA / "smoking_prop99.csv")
    frame = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(ValueError, match="several rows"):
        causal(frame, outcome="cigsale", unit="state", time="year", treated_unit="California",
               treat_start=1989, method="synthetic_control")  # fmt: skip

"""`cerebro causal` faces: CLI table, JSON contract, love plot, spec file, Python; user errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError

runner = CliRunner()


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 1200
    age = rng.normal(40, 10, n)
    income = rng.gamma(2, 20, n)
    region = rng.choice(["north", "south", "west"], n)
    policy = rng.random(n) < special.expit(-2 + 0.05 * age - 0.01 * income)
    outcome = (
        5 + 1.5 * policy + 0.1 * age + 0.02 * income + (region == "west") + rng.normal(0, 2, n)
    )
    frame = pd.DataFrame(
        {
            "policy": np.where(policy, "yes", "no"),
            "outcome": outcome,
            "age": age,
            "income": income,
            "region": region,
            "flat": 1.0,
            "bought": (outcome > 9).astype(int),
        }
    )
    path = tmp_path_factory.mktemp("causal") / "obs.csv"
    frame.to_csv(path, index=False)
    return path


def _args(path, *extra):
    return ["causal", str(path), "--treatment", "policy", "--outcome", "outcome",
            "--confounders", "age,income,region", "--treated", "yes", *extra]  # fmt: skip


@pytest.mark.parametrize(
    "method", ["regression", "gcomp", "ipw", "aipw", "stratification", "psm", "dml"]
)
def test_every_method_prints_a_table(csv, method):
    result = runner.invoke(app, _args(csv, "--method", method))
    assert result.exit_code == 0, result.output
    assert "difference in means" in result.output and "Estimated ATE of policy" in result.output


def test_json_contract_and_love_plot(csv, tmp_path):
    png = tmp_path / "love.png"
    result = runner.invoke(
        app, _args(csv, "--method", "ipw", "--estimand", "att", "--json", "--plot", str(png))
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "causal" and doc["method"] == "ipw"
    assert set(doc["tables"]) == {"effects", "balance", "potential_outcomes", "propensity"}
    (estimate,) = doc["estimates"]
    assert estimate["label"] == "ATT (difference in means)"
    assert estimate["ci_low"] < 1.5 < estimate["ci_high"]
    codes = {f["code"] for f in doc["findings"]}
    assert {"treatment", "encoding", "positivity", "weights", "method", "balance"} <= codes
    assert png.stat().st_size > 5000


def test_binary_outcome_reports_risk_ratio(csv):
    result = runner.invoke(
        app,
        ["causal", str(csv), "--treatment", "policy", "--outcome", "bought", "--confounders",
         "age,income", "--treated", "yes", "--method", "gcomp", "--json"],
    )  # fmt: skip
    measures = [e["measure"] for e in json.loads(result.stdout)["estimates"]]
    assert measures == ["risk difference", "risk ratio"]


def test_spec_file_and_python_give_the_same_numbers(csv, tmp_path):
    spec = tmp_path / "causal.yaml"
    spec.write_text(
        f"kind: causal\ndata: {csv}\ntreatment: policy\ntreated: 'yes'\noutcome: outcome\n"
        "confounders: [age, income, region]\nmethod: aipw\n"
    )
    via_spec = runner.invoke(app, ["run", str(spec), "--json"])
    assert via_spec.exit_code == 0, via_spec.output
    value = json.loads(via_spec.stdout)["estimates"][0]["value"]
    frame = pd.read_csv(csv)
    py = cerebro.causal(frame, treatment="policy", treated="yes", outcome="outcome",
                        confounders=["age", "income", "region"], method="aipw")  # fmt: skip
    assert py.estimates[0].value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--method", "did"], "--method did needs --post"),
        (["--method", "iv"], "--method iv needs --instrument"),
        (["--method", "synthetic_control"], "--method synthetic_control needs --unit"),
        (
            ["--method", "rdd", "--running-variable", "age", "--bandwidth", "-1"],
            "bandwidth must be positive",
        ),
        (["--method", "magic"], "unknown method"),
        (["--estimand", "late"], "estimand"),
        (["--trim", "0.7"], "trim must be"),
    ],
)
def test_bad_options_exit_2(csv, extra, words):
    result = runner.invoke(app, _args(csv, *extra))
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("treatment", "outcome", "confounders", "words"),
    [
        ("policy", "outcome", "age,missing_col", "'missing_col' not found"),
        ("flat", "outcome", "age", "needs a treated and a control arm"),
        ("policy", "outcome", "age,flat", "'flat' is constant"),
        ("policy", "region", "age", "non-numeric values"),
        ("policy", "outcome", "", "confounders"),
    ],
)
def test_data_errors_exit_2(csv, treatment, outcome, confounders, words):
    args = ["causal", str(csv), "--treatment", treatment, "--outcome", outcome]
    result = runner.invoke(app, [*args, "--confounders", confounders])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_empty_arm_and_unknown_treated_value(csv):
    frame = pd.read_csv(csv)
    frame.loc[frame.policy == "yes", "age"] = np.nan
    with pytest.raises(UserInputError, match="arm 'yes' has no complete rows"):
        cerebro.causal(
            frame, treatment="policy", treated="yes", outcome="outcome", confounders=["age"]
        )
    with pytest.raises(UserInputError, match="--treated 'maybe' is not a value"):
        cerebro.causal(
            pd.read_csv(csv),
            treatment="policy",
            treated="maybe",
            outcome="outcome",
            confounders=["age"],
        )


def test_trim_accepts_a_number_or_crump_from_every_face(csv):
    frame = pd.read_csv(csv)
    options = dict(treatment="policy", treated="yes", outcome="outcome", confounders=["age"])
    as_number = cerebro.causal(frame, **options, method="ipw", trim=0.05).estimates[0]
    as_text = cerebro.causal(frame, **options, method="ipw", trim="0.05").estimates[0]
    assert as_number.value == as_text.value
    assert cerebro.causal(frame, **options, method="ipw", trim="Crump").spec.trim == "crump"
    for bad in (0.7, "lots"):
        with pytest.raises(UserInputError, match="trim must be a number in"):
            cerebro.causal(frame, **options, method="ipw", trim=bad)

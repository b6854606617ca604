"""`cerebro causal --method did` from the command line: the seeds' call, JSON, plots, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.quasi.did.synthetic import staggered_panel

runner = CliRunner()
SEED = ["--treatment", "campaign", "--outcome", "sales", "--confounders", "age,income,history",
        "--method", "did"]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("did")
    frame, _ = staggered_panel(n_units=300, seed=4)
    rng = np.random.default_rng(0)
    units = frame.unit.unique()
    frame = frame.assign(
        campaign=frame.treated,
        age=rng.normal(40, 10, len(units))[frame.unit],
        income=rng.gamma(2, 20, len(units))[frame.unit],
        history=rng.normal(size=len(frame)),
        week=frame.period + 1,
    )
    staggered = root / "staggered.csv"
    frame.to_csv(staggered, index=False)
    single, _ = staggered_panel(n_units=200, seed=5, cohorts=(4,))
    single = single.assign(campaign=(single.cohort == 4).astype(int),
                           age=rng.normal(40, 10, 200)[single.unit],
                           income=rng.gamma(2, 20, 200)[single.unit],
                           history=rng.normal(size=len(single)))  # fmt: skip
    one = root / "single.csv"
    single.to_csv(one, index=False)
    two = single[single.period.isin([3, 4])].assign(post=lambda d: (d.period == 4).astype(int))
    two_path = root / "two.csv"
    two.to_csv(two_path, index=False)
    return {"staggered": staggered, "single": one, "two": two_path, "root": root}


def invoke(path, *args):
    return runner.invoke(app, ["causal", str(path), *[str(a) for a in args]])


def test_seed_call_without_design_flags_names_them(files):
    out = invoke(files["staggered"], *SEED)
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert "--method did needs --post" in text and "--unit and --time" in text
    assert "Traceback" not in out.output


def test_seed_call_two_by_two_json(files):
    out = invoke(files["two"], *SEED, "--post", "post", "--unit", "unit", "--json")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["kind"] == "causal" and payload["method"] == "did"
    head = payload["estimates"][0]
    assert head["label"] == "DiD (treated × post)" and head["model"] == "2x2"
    assert head["ci_low"] < head["value"] < head["ci_high"]
    assert {"effects", "coefficients", "means"} <= set(payload["tables"])
    assert payload["tables"]["coefficients"]["rows"][3][0] == "campaign:post"


def test_staggered_panel_table_plot_and_findings(files, tmp_path):
    target = tmp_path / "es.png"
    out = invoke(files["staggered"], *SEED, "--unit", "unit", "--time", "week", "--json",
                 "--plot", target)  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    codes = {f["code"]: f["level"] for f in payload["findings"]}
    assert codes["twfe_bias"] == "warning" and "pretrend" in codes
    labels = [e["label"] for e in payload["estimates"]]
    assert labels[0] == "ATT (Callaway–Sant'Anna, simple)"
    assert "ATT (TWFE, for comparison)" in labels
    assert {"event_study", "by_group", "group_time"} <= set(payload["tables"])
    assert target.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("extra", "model", "label"),
    [
        (["--did-model", "event_study", "--leads", "3", "--lags", "2"], "event_study",
         "ATT (event study, mean of event times 0…2)"),
        (["--did-model", "callaway_santanna", "--control-group", "notyet", "--aggregation",
          "group"], "callaway_santanna", "ATT (Callaway–Sant'Anna, group)"),
        (["--did-model", "twfe", "--cluster", "cohort"], "twfe", "ATT (TWFE)"),
    ],
)  # fmt: skip
def test_models_from_the_cli(files, extra, model, label):
    out = invoke(files["staggered"], "--treatment", "campaign", "--outcome", "sales", "--method",
                 "did", "--unit", "unit", "--time", "period", *extra, "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["summary"]["model"] == model
    assert payload["estimates"][0]["label"] == label


def test_treat_start_equals_per_period_treatment(files, tmp_path):
    """--treat-start with a group column gives the same TWFE as the 0/1-per-period column."""
    base = ["--outcome", "sales", "--method", "did", "--unit", "unit", "--time", "period", "--json"]
    a = invoke(files["single"], "--treatment", "treated", *base)
    b = invoke(files["single"], "--treatment", "campaign", "--treat-start", "4", *base)
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    va, vb = (json.loads(x.stdout)["estimates"][0] for x in (a, b))
    assert va["value"] == pytest.approx(vb["value"], rel=1e-12)
    assert va["se"] == pytest.approx(vb["se"], rel=1e-12)
    plot = tmp_path / "two.png"
    c = invoke(files["two"], "--treatment", "campaign", "--outcome", "sales", "--method", "did",
               "--post", "post", "--plot", plot)  # fmt: skip
    assert c.exit_code == 0, c.output
    assert plot.stat().st_size > 10_000
    assert "HC1" in c.output  # no unit: the SE type is said


def test_python_api_matches_cli(files):
    frame = __import__("pandas").read_csv(files["staggered"])
    res = cerebro.causal(frame, treatment="campaign", outcome="sales", method="did",
                         unit="unit", time="period")  # fmt: skip
    out = invoke(files["staggered"], "--treatment", "campaign", "--outcome", "sales", "--method",
                 "did", "--unit", "unit", "--time", "period", "--json")  # fmt: skip
    assert json.loads(out.stdout)["estimates"][0]["value"] == pytest.approx(
        res.estimates[0].value, rel=1e-12
    )


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--treatment", "campaign", "--did-model", "twfe", "--post", "post"],
         "needs a panel: name --unit and --time"),
        (["--treatment", "campaign", "--unit", "unit", "--time", "period", "--treat-start", "x"],
         "--treat-start 'x' is not a number"),
        (["--treatment", "campaign", "--unit", "unit", "--time", "period", "--treat-start", "99"],
         "leaves no periods before or none after"),
        (["--treatment", "campaign", "--unit", "unit", "--time", "treated"],
         "appear more than once in a period"),
        (["--treatment", "history", "--post", "post"], "needs a 0/1 treatment"),
    ],
)  # fmt: skip
def test_user_errors_exit_2(files, extra, words):
    out = invoke(files["two"], "--outcome", "sales", "--method", "did", *extra)
    assert out.exit_code == 2, out.output
    assert words in " ".join(out.output.split()) and "Traceback" not in out.output


def test_no_never_treated_with_never_controls(files, tmp_path):
    frame = __import__("pandas").read_csv(files["staggered"])
    frame = frame[frame.cohort >= 0]
    path = tmp_path / "all.csv"
    frame.to_csv(path, index=False)
    base = ["--treatment", "treated", "--outcome", "sales", "--method", "did", "--unit", "unit",
            "--time", "period"]  # fmt: skip
    out = invoke(path, *base)
    assert out.exit_code == 2 and "use --control-group notyet" in " ".join(out.output.split())
    ok = invoke(path, *base, "--control-group", "notyet", "--json")
    assert ok.exit_code == 0, ok.output
    codes = {f["code"] for f in json.loads(ok.stdout)["findings"]}
    assert "no_comparison" in codes  # the last cohort's periods have nobody left to compare

"""`cerebro uplift` and `cerebro uplift-score`: JSON, errors (exit 2, one sentence), predictions
files, saved models and their scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cerebro.cli import uplift_command
from cerebro.uplift.model_file import load_model
from cerebro.uplift.synthetic import uplift_data

app = typer.Typer(pretty_exceptions_enable=False)
uplift_command.register(app)


@app.callback()
def _root() -> None:
    """A local app until the lead adds the commands to cerebro.cli.main."""


runner = CliRunner()
FAST = ["--learner", "linear", "--propensity", "0.5", "--folds", "3"]


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def binary_csv(tmp_path_factory):
    df, truth = uplift_data(1200, p=4, kind="binary", seed=21)
    df.loc[[5, 17], "x3"] = np.nan  # two incomplete rows: empty predictions
    path = tmp_path_factory.mktemp("uplift") / "offers.csv"
    df.to_csv(path, index=False)
    return path, df, truth


@pytest.fixture(scope="module")
def arms_csv(tmp_path_factory):
    df, truth = uplift_data(900, p=4, kind="continuous", n_arms=3, seed=22)
    df["treatment"] = df["treatment"].map({0: "A_control", 1: "B_v1", 2: "C_v2"})
    path = tmp_path_factory.mktemp("uplift") / "cohorts.csv"
    df.to_csv(path, index=False)
    return path, df, truth


def test_json_contract_predictions_and_plot(binary_csv, tmp_path):
    path, df, _ = binary_csv
    preds, out, fig = tmp_path / "p.csv", tmp_path / "r.json", tmp_path / "f.png"
    result = invoke(
        "uplift", path, "--treatment", "treatment", "--outcome", "outcome", "--model", "x_learner",
        *FAST, "--cost", "0.01", "--value", "1", "--json", "--output", out, "--predictions",
        preds, "--plot", fig,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["kind"] == "uplift" and payload["method"] == "x_learner"
    assert payload["spec"]["features"] == []  # the default: chosen from the data, said below
    codes = {f["code"] for f in payload["findings"]}
    assert {"features", "dropped_missing", "method", "policy", "predictions"} <= codes
    assert payload["estimates"][0]["label"] == "ATE (1 vs 0)"
    assert json.loads(out.read_text()) == payload
    assert fig.stat().st_size > 10_000
    written = pd.read_csv(preds)
    assert list(written.columns) == ["cate"] and len(written) == len(df)
    assert written["cate"].isna().sum() == 2 and written["cate"].iloc[[5, 17]].isna().all()
    # input order: the CLI's file equals the Python runner's out-of-fold CATE row for row
    from cerebro.uplift.analysis import uplift

    again = uplift(
        df, treatment="treatment", outcome="outcome", model="x_learner", learner="linear",
        propensity=0.5, folds=3, cost_per_treatment=0.01,
    )  # fmt: skip
    keep = df[["x1", "x2", "x3", "x4"]].notna().all(axis=1).to_numpy()
    np.testing.assert_allclose(
        written["cate"].to_numpy()[keep], again.data["cate_1"].to_numpy(), rtol=0, atol=1e-15
    )


def test_terminal_output(binary_csv):
    path, _, _ = binary_csv
    result = invoke(
        "uplift", path, "--treatment", "treatment", "--outcome", "outcome",
        "--features", "x1,x2,segment", "--model", "t_learner", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Uplift of treatment on outcome — T-learner" in text
    assert "ATE +" in text and "treat the top" in text


def test_multi_arm_predictions_save_and_score_round_trip(arms_csv, tmp_path):
    """--predictions per arm with best_treatment; uplift-score with the saved model gives, for
    rows the arm's model never saw (other arms), exactly the CATE --predictions wrote."""
    path, df, _ = arms_csv
    preds, model = tmp_path / "p.csv", tmp_path / "m.cerebro"
    result = invoke(
        "uplift", path, "--treatment", "treatment", "--outcome", "outcome", "--model",
        "dr_learner", *FAST, "--predictions", preds, "--save", model, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(preds)
    assert list(written.columns) == ["cate_B_v1", "cate_C_v2", "best_treatment"]
    assert len(written) == len(df) and written.notna().all().all()
    assert set(written["best_treatment"]) <= {"A_control", "B_v1", "C_v2"}
    payload = json.loads(result.stdout)
    shares = payload["tables"]["best_treatment"]
    counts = written["best_treatment"].value_counts()
    assert shares["columns"][:2] == ["treatment", "units"]
    for treatment, units, *_ in shares["rows"]:
        assert counts.get(treatment, 0) == units

    scored = tmp_path / "s.csv"
    out = invoke("uplift-score", model, path, "--output", scored)
    assert out.exit_code == 0, out.output
    score = pd.read_csv(scored)
    assert list(score.columns) == list(written.columns)
    for arm, other in (("B_v1", "C_v2"), ("C_v2", "B_v1")):
        unseen = (df["treatment"] == other).to_numpy()
        np.testing.assert_allclose(
            score[f"cate_{arm}"].to_numpy()[unseen], written[f"cate_{arm}"].to_numpy()[unseen],
            rtol=0, atol=1e-12,
        )  # fmt: skip
    # …and for every row, the refit (fold-averaged) model's prediction in memory.
    loaded = load_model(model)
    X, _ = loaded.encoding.transform(df)
    np.testing.assert_allclose(score["cate_B_v1"], loaded.fitted["B_v1"].predict(X), atol=1e-12)
    # stdout when no --output
    out = invoke("uplift-score", model, path)
    assert out.exit_code == 0 and out.stdout.startswith("cate_B_v1,cate_C_v2,best_treatment")


def test_score_errors(arms_csv, tmp_path):
    path, df, _ = arms_csv
    model = tmp_path / "m.cerebro"
    assert invoke(
        "uplift", path, "--treatment", "treatment", "--outcome", "outcome", "--features",
        "x1,x2,segment", *FAST, "--save", model, "--json",
    ).exit_code == 0  # fmt: skip
    missing = tmp_path / "new.csv"
    df.drop(columns=["x2"]).to_csv(missing, index=False)
    out = invoke("uplift-score", model, missing)
    assert out.exit_code == 2
    assert "column 'x2' not found in new.csv" in " ".join(out.output.split())
    assert "Traceback" not in out.output
    bogus = tmp_path / "bogus.cerebro"
    bogus.write_text("not a model")
    out = invoke("uplift-score", bogus, path)
    assert out.exit_code == 2 and "not a Cerebro model file" in " ".join(out.output.split())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--outcome", "nope"], "column 'nope' not found in offers.csv"),
        (
            ["--outcome", "x1", "--outcome-type", "binary"],
            "outcome 'x1' has values other than 0 and 1",
        ),
        (["--model", "magic"], "unknown model 'magic'"),
        (["--budget", "0", "--cost", "1"], "budget must be a positive total cost"),
        (["--budget", "-5", "--cost", "1"], "budget must be a positive total cost"),
        (["--features", "x1,x9"], "column 'x9' not found in offers.csv"),
        (["--control", "7"], "--control '7' is not a value of 'treatment'"),
    ],
)
def test_user_errors_exit_2_with_one_sentence(binary_csv, extra, message):
    path, _, _ = binary_csv
    args = ["uplift", path, "--treatment", "treatment", "--outcome", "outcome", *FAST]
    # a later --outcome overrides the first
    out = invoke(*args, *extra)
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert message in text and "Traceback" not in out.output
    assert text.count("error:") == 1


def test_one_arm_and_all_missing_arm(tmp_path):
    df, _ = uplift_data(200, p=4, seed=3)
    one = tmp_path / "one.csv"
    df.assign(treatment=1).to_csv(one, index=False)
    out = invoke("uplift", one, "--treatment", "treatment", "--outcome", "outcome")
    assert out.exit_code == 2
    assert "has 1 value(s) (1); uplift needs a control" in " ".join(out.output.split())
    nan_arm = tmp_path / "nan.csv"
    df.loc[df["treatment"] == 0, "x1"] = np.nan
    df.to_csv(nan_arm, index=False)
    out = invoke("uplift", nan_arm, "--treatment", "treatment", "--outcome", "outcome")
    assert out.exit_code == 2
    assert "treatment arm '0' of 'treatment' has no complete rows" in " ".join(out.output.split())

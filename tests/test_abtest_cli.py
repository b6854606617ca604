"""The CLI face of `abtest`, `run` and the JSON contract."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.results import Result

runner = CliRunner()


@pytest.fixture
def csv(ab, tmp_path):
    path = tmp_path / "ab.csv"
    ab.to_csv(path, index=False)
    return path


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_table_output_names_tests_and_findings(csv):
    out = invoke("abtest", csv, "--treatment", "arm", "--outcome", "revenue,converted")
    assert out.exit_code == 0, out.output
    assert "Welch" in out.output and "two-proportion z-test" in out.output
    assert "control arm: 'control'" in out.output


def test_json_contract_and_round_trip(csv, tmp_path):
    target = tmp_path / "out" / "result.json"
    out = invoke(
        "abtest",
        csv,
        "-t",
        "arm",
        "-y",
        "revenue",
        "--covariates",
        "pre_revenue",
        "--json",
        "-o",
        target,
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert {"schema_version", "kind", "method", "spec", "estimates", "findings", "tables"} <= set(
        payload
    )
    assert payload["kind"] == "abtest" and payload["schema_version"] == "1.0"
    for e in payload["estimates"]:
        assert {"label", "value", "se", "ci_low", "ci_high", "p_value"} <= set(e)
    assert json.loads(target.read_text()) == payload
    assert not list(target.parent.glob(".*.tmp"))
    again = Result.from_dict(payload)
    assert again.to_dict()["estimates"] == payload["estimates"]
    assert again.spec.covariates == ["pre_revenue"]


def test_spec_file_runs_the_same_analysis(csv, tmp_path):
    spec = {
        "kind": "abtest",
        "data": csv.name,
        "treatment_column": "arm",
        "outcome_column": "revenue",
        "stratification_vars": ["region"],
        "test_type": "welch",
        "alpha": 0.1,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    via_run = invoke("run", path, "--json")
    via_cli = invoke(
        "abtest",
        csv,
        "-t",
        "arm",
        "-y",
        "revenue",
        "--strata",
        "region",
        "--type",
        "welch",
        "--alpha",
        "0.1",
        "--json",
    )
    assert via_run.exit_code == 0, via_run.output
    assert json.loads(via_run.stdout)["estimates"] == json.loads(via_cli.stdout)["estimates"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--outcome", "nope"], "column 'nope' not found"),
        (["--outcome", "revenue", "--alpha", "1.5"], "alpha must be strictly between 0 and 1"),
        (["--outcome", "revenue", "--type", "sequential"], "needs --time"),
        (["--outcome", "region"], "is not numeric"),
        (["--outcome", "revenue", "--expected-allocation", "control:1"], "is not ARM=WEIGHT"),
    ],
)
def test_user_errors_exit_2_without_traceback(csv, args, message):
    out = invoke("abtest", csv, "--treatment", "arm", *args)
    assert out.exit_code == 2
    assert message in " ".join(out.output.split())
    assert "Traceback" not in out.output


def test_missing_file_and_bad_spec(tmp_path):
    out = invoke("abtest", tmp_path / "none.csv", "-t", "arm", "-y", "y")
    assert out.exit_code == 2 and "does not exist" in out.output
    bad = tmp_path / "spec.yaml"
    bad.write_text("kind: nonsense\n")
    out = invoke("run", bad)
    assert out.exit_code == 2 and "unknown analysis kind 'nonsense'" in out.output
    bad.write_text("treatment: arm\n")
    out = invoke("run", bad)
    assert out.exit_code == 2 and "has no 'kind'" in out.output


def test_methods_lists_the_registry():
    out = invoke("methods")
    assert out.exit_code == 0
    assert "abtest" in out.output and "power" in out.output


def test_plot_is_written(csv, tmp_path):
    target = tmp_path / "lift.png"
    out = invoke("abtest", csv, "-t", "arm", "-y", "revenue,converted", "--plot", target)
    assert out.exit_code == 0, out.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = invoke("abtest", csv, "-t", "arm", "-y", "revenue", "--plot", tmp_path / "lift.gif")
    assert out.exit_code == 2 and "use a .png, .svg or .pdf name" in out.output


def test_run_data_override_and_one_sided_json(csv, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "kind": "abtest",
                "data": "elsewhere.csv",
                "treatment": "arm",
                "outcome": ["revenue"],
                "alternative": "greater",
            }
        )
    )
    out = invoke("run", spec, "--data", csv, "--json")
    assert out.exit_code == 0, out.output
    estimate = json.loads(out.stdout)["estimates"][0]
    assert estimate["ci_high"] is None and estimate["ci_low"] is not None


def test_result_spec_round_trips_through_yaml(csv, tmp_path):
    from cerebro.experiments.abtest.analysis import abtest
    from cerebro.run import run

    first = abtest(
        str(csv), treatment="arm", outcome=["revenue", "converted"], covariates=["pre_revenue"]
    )
    path = tmp_path / "again.yaml"
    path.write_text(first.spec.to_yaml())
    again = run(path)
    assert again.to_dict()["estimates"] == first.to_dict()["estimates"]

"""The CLI face of power analysis: `cerebro power-analysis` and `cerebro run` with kind: power."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.experiments.power.analysis import power_analysis

runner = CliRunner()
SEED = [
    "power-analysis",
    "--baseline",
    "0.05",
    "--mde",
    "0.01",
    "--alpha",
    "0.05",
    "--power",
    "0.8",
]


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_seed_call_prints_the_plan():
    out = invoke(*SEED)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "8,158" in text and "16,316" in text
    assert "you need 8,158 users per group, 16,316 in total." in text
    assert "pooled" in text  # the formula is named


def test_json_contract_and_output_file(tmp_path):
    target = tmp_path / "plans" / "power.json"
    out = invoke(*SEED, "--json", "--output", target)
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert {"schema_version", "kind", "method", "spec", "estimates", "findings", "tables"} <= set(
        payload
    )
    assert payload["kind"] == "power" and payload["method"] == "proportions"
    assert payload["schema_version"] == "1.0"
    first = payload["estimates"][0]
    assert first["label"] == "sample size per group" and first["value"] == 8158
    assert first["exact"] == pytest.approx(8157.7116, abs=1e-3)
    assert {"plan", "power_curve"} <= set(payload["tables"])
    assert json.loads(target.read_text()) == payload
    assert not list(target.parent.glob(".*.tmp"))


def test_all_options_reach_the_spec():
    out = invoke(
        "power-analysis",
        "--baseline",
        "0.05",
        "--mde",
        "0.1",
        "--relative",
        "--arms",
        "3",
        "--ratio",
        "2",
        "--alternative",
        "greater",
        "--correction",
        "none",
        "--formula",
        "arcsine",
        "--daily-traffic",
        "5000",
        "--cuped-correlation",
        "0.4",
        "--power",
        "0.9",
        "--alpha",
        "0.1",
        "--json",
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    expected = power_analysis(
        baseline=0.05,
        mde=0.1,
        relative=True,
        arms=3,
        ratio=2,
        alternative="greater",
        correction="none",
        formula="arcsine",
        daily_traffic=5000,
        cuped_correlation=0.4,
        power=0.9,
        alpha=0.1,
    )
    assert payload["estimates"] == expected.to_dict()["estimates"]
    assert payload["spec"]["cuped_correlation"] == 0.4 and payload["spec"]["arms"] == 3


def test_means_mde_and_power_modes():
    mde = invoke("power-analysis", "--sd", "10", "--n", "100", "--json")
    assert mde.exit_code == 0, mde.output
    payload = json.loads(mde.stdout)
    assert payload["method"] == "means" and payload["summary"]["solve_for"] == "mde"
    power = invoke("power-analysis", "--baseline", "0.05", "--mde", "0.01", "--n", "1000")
    assert power.exit_code == 0, power.output
    assert "16.5% power" in " ".join(power.output.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--baseline", "0.05", "--mde", "0.01", "--alpha", "1.5"],
            "alpha must be strictly between 0 and 1, got 1.5",
        ),
        (
            ["--baseline", "2", "--mde", "0.01"],
            "baseline must be a conversion rate strictly between 0 and 1, got 2",
        ),
        (["--baseline", "0.05", "--mde", "0"], "mde must be a non-zero effect, got 0"),
        (["--baseline", "0.95", "--mde", "0.1"], "use an mde of at most 0.05"),
        (
            ["--baseline", "0.05", "--mde", "0.01", "--cuped-correlation", "1"],
            "cuped_correlation must be strictly between -1 and 1",
        ),
        (
            ["--baseline", "0.05", "--mde", "0.01", "--daily-traffic", "-5"],
            "daily_traffic must be positive",
        ),
        (["--sd", "0", "--mde", "1"], "sd must be positive, got 0"),
        (["--baseline", "0.05"], "give mde (the effect to detect)"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    out = invoke("power-analysis", *args)
    assert out.exit_code == 2
    assert "Traceback" not in out.output
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1, out.output
    assert message in lines[0]


def test_spec_file_runs_the_same_analysis(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "kind": "power",
                "baseline": 0.05,
                "mde": 0.01,
                "alpha": 0.05,
                "power": 0.8,
                "daily_traffic": 2000,
            }
        )
    )
    via_run = invoke("run", path, "--json")
    assert via_run.exit_code == 0, via_run.output
    via_cli = invoke(*SEED, "--daily-traffic", "2000", "--json")
    assert json.loads(via_run.stdout)["estimates"] == json.loads(via_cli.stdout)["estimates"]
    days = next(e for e in json.loads(via_run.stdout)["estimates"] if e["label"] == "duration days")
    assert days["value"] == 9  # ceil(16,316 / 2,000)
    path.write_text(yaml.safe_dump({"kind": "power", "baseline": 0.05, "mde": 0.01, "alpha": 2}))
    bad = invoke("run", path)
    assert bad.exit_code == 2 and "alpha must be strictly between 0 and 1" in bad.output
    assert "Traceback" not in bad.output


def test_plot_of_the_power_curve(tmp_path):
    target = tmp_path / "curve.png"
    out = invoke(*SEED, "--plot", target)
    assert out.exit_code == 0, out.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

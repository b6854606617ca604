"""Reliability of the command line: a bad input is one sentence and exit code 2 – never a
traceback, a crash or a hang (each case below once did one of those)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_refusals import invoke, refused


# -- power-analysis ---------------------------------------------------------------------------
def test_power_refuses_an_effect_too_small_to_plan_for():
    out = invoke("power-analysis", "--baseline", "0.1", "--mde", "1e-12")
    refused(out, "mde 1e-12", "too small to plan for", "at least 3.2e-07")


def test_power_refuses_an_infinite_sd():
    out = invoke("power-analysis", "--baseline", "10", "--sd", "inf", "--mde", "1")
    refused(out, "sd must be finite, got inf")


def test_power_refuses_too_many_arms_instead_of_hanging():
    out = invoke("power-analysis", "--baseline", "0.1", "--mde", "0.01", "--arms", "100000")
    refused(out, "arms must be at most 1,000", "got 100,000")


def test_power_still_plans_a_tiny_but_finite_effect():
    out = invoke("power-analysis", "--baseline", "0.1", "--mde", "1e-5")
    assert out.exit_code == 0, out.output


# -- bandit -----------------------------------------------------------------------------------
def test_bandit_simulation_refuses_an_unbounded_horizon():
    out = invoke(
        "bandit", "--simulate", "--means", "0.05,0.06", "--horizon", "1000000000", "--runs",
        "1000000",
    )  # fmt: skip
    refused(out, "--horizon 1,000,000,000", "limit of 1,000,000")


def test_bandit_simulation_refuses_too_many_steps():
    out = invoke(
        "bandit", "--simulate", "--means", "0.05,0.06", "--horizon", "100000", "--runs", "10000",
    )  # fmt: skip
    refused(out, "100,000 × 10,000", "limit of 100,000,000")


def test_bandit_refuses_infinite_rewards(tmp_path: Path):
    path = tmp_path / "rewards.csv"
    frame = pd.DataFrame({"arm": list("aaaabbbb"), "r": [1, np.inf, 2, 3, 0, 1, 2, 1]})
    frame.to_csv(path, index=False)
    out = invoke("bandit", path, "--arm", "arm", "--reward", "r")
    refused(out, "reward column 'r' has 1 infinite value")


def test_bandit_simulation_refuses_infinite_means():
    out = invoke("bandit", "--simulate", "--means", "0.05,inf")
    refused(out, "means must be finite")


# -- sequential-design ------------------------------------------------------------------------
def test_sequential_spec_reads_fractions_written_as_ratios(tmp_path: Path):
    spec = tmp_path / "seq.yaml"
    spec.write_text("kind: sequential_design\nlooks: 3\ninfo_fractions: 1/3,2/3,1\n")
    out = invoke("run", spec, "--json")
    assert out.exit_code == 0, out.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: sequential_design\nlooks: 3\ninfo_fractions: 1/0,2/3,1\n")
    refused(invoke("run", bad), "info fraction '1/0' divides by zero")


def test_sequential_design_cli_reads_fractions_written_as_ratios():
    out = invoke("sequential-design", "--looks", "3", "--info-fractions", "1/3,2/3,1")
    assert out.exit_code == 0, out.output


# -- run --------------------------------------------------------------------------------------
def test_run_refuses_a_spec_file_that_is_not_utf8(tmp_path: Path):
    spec = tmp_path / "latin.yaml"
    spec.write_bytes("kind: power\nbaseline: 0.1\nmde: 0.01\n# café\n".encode("latin-1"))
    refused(invoke("run", spec), "spec file 'latin.yaml' is not UTF-8", "line 4")


# -- design -----------------------------------------------------------------------------------
@pytest.fixture
def units(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"id": range(60), "x": rng.normal(size=60), "s": rng.integers(0, 3, 60).astype(float)}
    )
    frame.loc[3, "x"] = np.inf
    frame.loc[5, "s"] = -np.inf
    path = tmp_path / "units.csv"
    frame.to_csv(path, index=False)
    return path


def test_design_refuses_an_infinite_stratum(units: Path):
    refused(invoke("design", units, "--strata", "s"), "stratum column 's' has 1 infinite")


def test_design_refuses_an_infinite_balance_covariate(units: Path):
    out = invoke("design", units, "--balance-covariates", "x")
    refused(out, "balance covariate 'x' has 1 infinite")


# -- uplift-score -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def uplift_model(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("uplift")
    rng = np.random.default_rng(0)
    n = 200
    t = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "t": t,
            "y": (rng.random(n) < 0.3 + 0.1 * t).astype(int),
        }
    )
    data, model = folder / "train.csv", folder / "model.cerebro"
    frame.to_csv(data, index=False)
    out = invoke(
        "uplift", data, "--treatment", "t", "--outcome", "y", "--model", "t_learner", "--folds",
        "2", "--jobs", "1", "--save", model, "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    return data, model


def test_uplift_score_refuses_a_header_only_file(uplift_model, tmp_path: Path):
    data, model = uplift_model
    header = tmp_path / "header.csv"
    header.write_text(data.read_text().splitlines()[0] + "\n")
    # the loader refuses it for every command, before uplift-score's own check could
    refused(invoke("uplift-score", model, header), "'header.csv' has a header but no data rows")


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("garbage", lambda text: b"hello world\n"),
        ("truncated", lambda text: text[: len(text) // 2]),  # once a segmentation fault
        ("tree cut", lambda text: text[: text.index(b"end of trees") - 40]),
    ],
)
def test_uplift_score_refuses_a_damaged_lightgbm_model(
    uplift_model, tmp_path: Path, name: str, damage
):
    data, model = uplift_model
    broken = tmp_path / f"{name}.cerebro"
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(broken, "w") as target:
        texts = [n for n in source.namelist() if n.startswith("text/")]
        for member in source.namelist():
            content = source.read(member)
            target.writestr(member, damage(content) if member == texts[0] else content)
    out = invoke("uplift-score", broken, data)
    refused(out, f"model file '{name}.cerebro' is damaged", "re-save the model")

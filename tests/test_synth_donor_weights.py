"""Fixed donor weights for synthetic control (`--donor-weights`), through the command line.

On ADH's Proposition 99 panel (tests/data/smoking_prop99.csv): weights given by hand give the
counterfactual Σ wⱼ Yⱼₜ and the ATT a hand computation gives (1e-10); the weights a fitted run
reports, fed back as a file, reproduce its estimate, gaps and placebo test (1e-9).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()
DATA = Path(__file__).parent / "data"
PROP99 = [
    "causal", str(DATA / "smoking_prop99.csv"), "--outcome", "cigsale", "--unit", "state",
    "--time", "year", "--treated-unit", "California", "--treat-start", "1989",
    "--method", "synthetic_control",
]  # fmt: skip


def _json(*extra: str) -> dict:
    out = runner.invoke(app, [*PROP99, *extra, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def fitted() -> dict:
    return _json()


def test_hand_given_weights_give_the_hand_computed_counterfactual():
    weights = {"Utah": 0.4, "Nevada": 0.35, "Montana": 0.25}
    payload = _json("--donor-weights", ",".join(f"{u}={w}" for u, w in weights.items()))
    wide = pd.read_csv(DATA / "smoking_prop99.csv").pivot(
        index="year", columns="state", values="cigsale"
    )
    synthetic = sum(w * wide[u] for u, w in weights.items())
    gap = wide["California"] - synthetic
    att = gap[gap.index >= 1989].mean()
    head = payload["estimates"][0]
    assert head["value"] == pytest.approx(att, abs=1e-10)
    assert payload["estimates"][1]["value"] == pytest.approx(gap[2000], abs=1e-10)
    rmspe = float((gap[gap.index < 1989] ** 2).mean() ** 0.5)
    assert payload["estimates"][2]["value"] == pytest.approx(rmspe, abs=1e-10)
    table = dict(payload["tables"]["weights"]["rows"])
    assert table["Utah"] == 0.4 and table["Colorado"] == 0.0
    method = next(f for f in payload["findings"] if f["code"] == "method")
    assert "--donor-weights" in method["message"]
    assert "leave_one_out" not in payload["tables"]  # nothing is refitted without a donor


def test_fitted_weights_fed_back_reproduce_the_estimate(fitted, tmp_path):
    rows = fitted["tables"]["weights"]["rows"]
    path = tmp_path / "weights.csv"
    pd.DataFrame(rows, columns=["unit", "weight"]).to_csv(path, index=False)
    again = _json("--donor-weights", str(path))
    for ours, theirs in zip(again["estimates"], fitted["estimates"], strict=True):
        assert ours["value"] == pytest.approx(theirs["value"], abs=1e-9)
    assert again["estimates"][0]["p_permutation"] == fitted["estimates"][0]["p_permutation"]
    gaps = [r[-2] for r in again["tables"]["gaps"]["rows"]]
    assert gaps == pytest.approx([r[-2] for r in fitted["tables"]["gaps"]["rows"]], abs=1e-9)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Utah=0.5,Nevada=0.4", "donor weights in --donor-weights sum to 0.9, not 1"),
        ("Utah=1.2,Nevada=-0.2", "donor weight of 'Nevada' in --donor-weights is negative"),
        ("Utah=0.5,California=0.5", "'California', which is a treated unit"),
        ("Utah=0.5,Atlantis=0.5", "'Atlantis', which is not a unit of the panel"),
        ("Utah=half", "'Utah=half' is not unit=number"),
        ("no_such_file.csv", "is neither 'unit=weight,…' nor a file"),
    ],
)
def test_bad_donor_weights_are_one_sentence(value, words):
    out = runner.invoke(app, [*PROP99, "--donor-weights", value])
    assert out.exit_code == 2, out.output
    assert words in " ".join(out.output.split()) and "Traceback" not in out.output


def test_donor_weights_need_the_adh_model():
    out = runner.invoke(app, [*PROP99, "--donor-weights", "Utah=1", "--sc-model", "sdid"])
    assert out.exit_code == 2
    assert "--donor-weights replaces the fitted weights of --sc-model adh" in " ".join(
        out.output.split()
    )

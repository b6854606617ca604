"""`cerebro causal --method iv` from the command line: table, JSON contract, plot, options, and
user errors (exit code 2, one sentence, no traceback)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from linearmodels.datasets import card
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.results import Result
from cerebro.quasi.iv import analysis as iv
from cerebro.quasi.iv.synthetic import iv_frame

runner = CliRunner()
BRIEF = ["--treatment", "educ", "--outcome", "lwage", "--instrument", "nearc4",
         "--confounders", "exper,expersq,black,south", "--method", "iv"]  # fmt: skip


@pytest.fixture(scope="module")
def card_csv(tmp_path_factory):
    frame = card.load()
    regions = frame[[f"reg66{i}" for i in range(1, 10)]].to_numpy().argmax(axis=1)
    frame = frame.assign(region=regions, flat=1.0, label=np.where(frame.educ > 12, "a", "b"))
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(len(frame)) % 3]
    path = tmp_path_factory.mktemp("iv") / "card.csv"
    frame.to_csv(path, index=False)
    return path


def invoke(*args):
    return runner.invoke(app, ["causal", *[str(a) for a in args]])


def test_brief_call_prints_table_and_findings(card_csv):
    out = invoke(card_csv, *BRIEF)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    for words in ("2SLS", "LIML", "OLS", "Anderson–Rubin", "HC0", "effective F",
                  "Angrist–Imbens"):  # fmt: skip
        assert words in text, words
    assert "0.2214" in text


def test_json_contract_plot_and_liml_cluster(card_csv, tmp_path):
    target = tmp_path / "iv.json"
    png = tmp_path / "iv.png"
    out = invoke(card_csv, *BRIEF, "--instrument", "nearc4,nearc2", "--iv-estimator", "liml",
                 "--cluster", "region", "--json", "--output", target, "--plot", png)  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(target.read_text())
    assert payload["kind"] == "causal" and payload["method"] == "iv"
    head = payload["estimates"][0]
    assert head["label"] == "effect of educ on lwage (LIML)"
    assert head["cov_type"] == "clustered" and head["instruments"] == 2
    assert {"effects", "anderson_rubin", "first_stage", "diagnostics", "first_stage_bins"} <= set(
        payload["tables"]
    )
    codes = {f["code"] for f in payload["findings"]}
    assert {"few_clusters", "overidentification", "weak_instruments", "estimand"} <= codes
    tests = payload["tables"]["diagnostics"]["rows"]
    assert any(row[0] == "Hansen J" for row in tests)
    assert png.exists() and png.stat().st_size > 10_000
    # a result restored from JSON plots the same way (unbounded AR ends are JSON null)
    restored = Result.from_dict(payload)
    assert iv.plot(restored) is not None


def test_plot_of_an_unbounded_anderson_rubin_set(tmp_path):
    """A weak first stage gives an unbounded AR set; the JSON stores its open ends as null and
    the plot draws them as arrows to the axis edge."""
    frame, _ = iv_frame(300, mu2=1.0, rho=0.8, seed=1)  # AR set: two rays
    path = tmp_path / "weak.csv"
    frame.to_csv(path, index=False)
    out = invoke(path, "--treatment", "d", "--outcome", "y", "--instrument", "z1",
                 "--confounders", "x1", "--method", "iv", "--json", "--plot", tmp_path / "w.png")  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout[: out.stdout.rindex("}") + 1])
    ar = payload["tables"]["anderson_rubin"]["rows"]
    assert any(None in row for row in ar)
    finding = next(f for f in payload["findings"] if f["code"] == "anderson_rubin")
    assert finding["level"] == "warning" and "∞" in finding["message"]
    weak = next(f for f in payload["findings"] if f["code"] == "weak_instruments")
    assert weak["level"] == "warning"
    assert (tmp_path / "w.png").exists()


def test_binary_text_treatment_is_coded(card_csv):
    out = invoke(card_csv, "--treatment", "label", "--treated", "a", "--outcome", "lwage",
                 "--instrument", "nearc4", "--method", "iv", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    message = next(f["message"] for f in payload["findings"] if f["code"] == "treatment")
    assert "coded 1 for 'a'" in message


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--treatment", "educ", "--outcome", "lwage", "--method", "iv"], "--instrument"),
        (
            [
                "--treatment",
                "educ",
                "--outcome",
                "lwage",
                "--method",
                "iv",
                "--instrument",
                "nowhere",
            ],
            "nowhere",
        ),
        (
            ["--treatment", "educ", "--outcome", "lwage", "--method", "iv", "--instrument", "flat"],
            "instrument 'flat' is constant",
        ),
        (
            [
                "--treatment",
                "colour",
                "--outcome",
                "lwage",
                "--method",
                "iv",
                "--instrument",
                "nearc4",
            ],
            "treatment column 'colour' is text with 3 values",
        ),
        (
            [
                "--treatment",
                "educ",
                "--outcome",
                "lwage",
                "--method",
                "iv",
                "--instrument",
                "nearc4",
                "--cluster",
                "flat",
            ],
            "single value",
        ),
        (
            ["--treatment", "educ", "--outcome", "lwage", "--method", "iv", "--instrument", "educ"],
            "both the treatment and an instrument",
        ),
    ],
)
def test_user_errors_exit_2_without_traceback(card_csv, extra, words):
    out = invoke(card_csv, *extra)
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert words in text and "Traceback" not in out.output

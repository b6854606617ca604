"""`cerebro counterfactual` from the command line, run as users type it: table, JSON contract,
plot, and user errors (exit code 2, one sentence, no traceback)."""

from __future__ import annotations

import json

import pytest

from cerebro.core.results import Result
from cerebro.counterfactual.synthetic import mediation_frame
from cli_refusals import invoke, refused

BRIEF = ["--treatment", "intervention", "--outcome", "result", "--mediator", "engagement",
         "--confounders", "age,gender"]  # fmt: skip


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory):
    frame, _ = mediation_frame(500, seed=2)
    frame["arm"] = (frame.index % 3).astype(str)  # three arms: not a binary treatment
    frame["dose"] = frame.index / 10.0
    path = tmp_path_factory.mktemp("cf") / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_brief_command(data_csv, tmp_path):
    target, png = tmp_path / "cf.json", tmp_path / "cf.png"
    out = invoke("counterfactual", data_csv, *BRIEF, "--bootstrap", "200", "--json",
                 "--output", target, "--plot", png)  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(target.read_text())
    assert payload["kind"] == "counterfactual" and payload["method"] == "mediation"
    keys = [e["key"] for e in payload["estimates"]]
    assert keys[:4] == ["nde", "nie", "total_effect", "proportion_mediated"]
    assert {"effects", "mediation", "sensitivity", "potential_outcomes"} <= set(payload["tables"])
    assert Result.from_dict(payload).to_dict() == payload
    assert png.stat().st_size > 0


def test_table_what_if_and_bounds(data_csv):
    out = invoke("counterfactual", data_csv, "--treatment", "intervention", "--outcome",
                 "result", "--confounders", "age", "--set", "intervention=1", "--by",
                 "gender", "--bounds", "manski,mtr", "--outcome-bounds", "-10,15",
                 "--bootstrap", "100")  # fmt: skip
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    for words in ("Mean result under the intervention", "monotone treatment response",
                  "Imbens–Manski", "g-formula"):  # fmt: skip
        assert words in text, words


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--mediator", "intervention"], ["mediator 'intervention' is the treatment"]),
        (["--mediator", "clicks"], ["clicks"]),
        (["--mediator", "engagement", "--treatment", "arm"], ["binary treatment", "'arm'"]),
        (["--mediator", "engagement", "--treatment", "dose"], ["binary treatment", "'dose'"]),
        (["--set", "budget=+10%"], ["budget"]),
        (["--set", "age=+ten%"], ["--set", "age=+ten%"]),
        (["--set", "age=*"], ["cannot read"]),
        (["--bounds", "manski"], ["--outcome-bounds"]),
        (["--bounds", "bogus"], ["bounds"]),
        ([], ["--mediator", "--set", "--bounds"]),
    ],
)
def test_bad_input_is_one_sentence_and_exit_code_2(data_csv, args, words):
    base = {"--treatment": "intervention", "--outcome": "result"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for pair in base.items() for x in pair]
    text = refused(invoke("counterfactual", data_csv, *flat, "--bootstrap", "50"), *words)
    assert text.count(". ") <= 1 or text.count(";") >= 0  # one sentence, possibly with clauses
    assert "\n" not in text


def test_per_row_predictions_file(data_csv, tmp_path):
    import pandas as pd

    target, report = tmp_path / "rows.csv", tmp_path / "cf.json"
    out = invoke("counterfactual", data_csv, "--treatment", "intervention", "--outcome", "result",
                 "--confounders", "age", "--set", "intervention=1", "--bootstrap", "100",
                 "--predictions", target, "--json", "--output", report)  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = pd.read_csv(target)
    assert len(rows) == 500 and list(rows.columns) == ["row", "as_observed",
                                                       "under_intervention", "change"]  # fmt: skip
    change = next(e for e in json.loads(report.read_text())["estimates"] if e["key"] == "change")
    assert rows.change.mean() == pytest.approx(change["value"], abs=1e-12)
    assert (rows.change[pd.read_csv(data_csv).intervention == 1] == 0).all()
    refused(invoke("counterfactual", data_csv, "--treatment", "intervention", "--outcome",
                   "result", "--mediator", "engagement", "--predictions", target),
            "--predictions", "--set")  # fmt: skip

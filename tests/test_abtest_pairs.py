"""`cerebro abtest --pairs all`: every pair of arms, with Holm and Benjamini–Hochberg over the
pairs – checked against scipy's Welch test and statsmodels' multipletests, from a file (DuckDB
moments) and from a DataFrame (rows)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    rng = np.random.default_rng(3)
    arms = np.repeat(["A", "B", "C", "D"], [300, 280, 320, 290])
    y = rng.normal(0, 1, arms.size) + (arms == "C") * 0.3 + (arms == "D") * 0.15
    frame = pd.DataFrame({"arm": arms, "y": y})
    path = tmp_path_factory.mktemp("pairs") / "arms.csv"
    frame.to_csv(path, index=False)
    return frame, path


def test_every_pair_against_scipy_with_holm_and_bh_over_pairs(three):
    frame, path = three
    out = runner.invoke(
        app, ["abtest", str(path), "-t", "arm", "-y", "y", "--control", "A", "--type", "welch",
              "--pairs", "all", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    est = {e["label"]: e for e in json.loads(out.output)["estimates"]}
    labels = [f"y: {v} − {c}" for c, v in
              [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")]]  # fmt: skip
    assert [label for label in est if "relative" not in label] == labels
    p = []
    for label in labels:
        v, c = label.removeprefix("y: ").split(" − ")
        ref = stats.ttest_ind(frame.y[frame.arm == v], frame.y[frame.arm == c], equal_var=False)
        assert est[label]["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        p.append(ref.pvalue)
    holm = multipletests(p, method="holm")[1]
    bh = multipletests(p, method="fdr_bh")[1]
    assert [est[label]["p_holm"] for label in labels] == pytest.approx(holm, rel=1e-9)
    assert [est[label]["p_bh"] for label in labels] == pytest.approx(bh, rel=1e-9)


def test_rows_and_file_paths_agree(three):
    frame, path = three
    from_rows = cerebro.abtest(frame, treatment="arm", outcome="y", control="A", pairs="all")
    from_file = cerebro.abtest(str(path), treatment="arm", outcome="y", control="A", pairs="all")
    assert from_rows.params.to_numpy() == pytest.approx(from_file.params.to_numpy(), rel=1e-9)
    assert from_rows.pvalues.to_numpy() == pytest.approx(from_file.pvalues.to_numpy(), rel=1e-9)


def test_default_compares_with_the_control_only(three):
    frame, _ = three
    result = cerebro.abtest(frame, treatment="arm", outcome="y", control="A")
    assert [e.label for e in result.estimates if "relative" not in e.label] == [
        "y: B − A", "y: C − A", "y: D − A",
    ]  # fmt: skip


def test_pairs_all_refused_with_bayesian():
    out = runner.invoke(
        app, ["abtest", "x.csv", "-t", "arm", "-y", "y", "--type", "bayesian", "--pairs", "all"]
    )
    assert out.exit_code == 2 and "--pairs all" in out.output


def test_relative_lifts_are_adjusted_over_the_same_comparisons(three):
    frame, _ = three
    result = cerebro.abtest(frame, treatment="arm", outcome="y", control="A")
    relative = [e for e in result.estimates if e.extra.get("measure") == "relative lift"]
    p = [e.p_value for e in relative]
    assert [e.extra["p_holm"] for e in relative] == pytest.approx(
        multipletests(p, method="holm")[1], rel=1e-12
    )
    assert [e.extra["p_bh"] for e in relative] == pytest.approx(
        multipletests(p, method="fdr_bh")[1], rel=1e-12
    )

"""`cerebro abtest --by`: the test within each segment (= scipy on the subset), Holm/BH over all
segment comparisons (= statsmodels), and Cochran's Q (= statsmodels' meta-analysis)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    rng = np.random.default_rng(8)
    n = 4000
    frame = pd.DataFrame(
        {
            "arm": rng.choice(["A", "B"], n),
            "plan": rng.choice(["free", "pro"], n),
            "region": rng.choice(["eu", "us"], n),
        }
    )
    effect = np.where(frame.plan == "pro", 0.5, 0.0)
    frame["y"] = rng.normal(0, 1, n) + (frame.arm == "B") * effect
    path = tmp_path_factory.mktemp("segments") / "ab.csv"
    frame.to_csv(path, index=False)
    return frame, path


def _run(path, *args):
    out = runner.invoke(
        app, ["abtest", str(path), "-t", "arm", "-y", "y", "--control", "A", *args, "--json"]
    )
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_segments_equal_the_test_on_each_subset(panel):
    frame, path = panel
    payload = _run(path, "--by", "plan,region")
    table = payload["tables"]["segments"]
    rows = [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]
    assert [r["segment"] for r in rows] == [
        "plan=free, region=eu", "plan=free, region=us", "plan=pro, region=eu",
        "plan=pro, region=us",
    ]  # fmt: skip
    p = []
    for row in rows:
        plan, region = (part.split("=")[1] for part in row["segment"].split(", "))
        sub = frame[(frame.plan == plan) & (frame.region == region)]
        ref = stats.ttest_ind(sub.y[sub.arm == "B"], sub.y[sub.arm == "A"], equal_var=False)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert row["lift"] == pytest.approx(
            sub.y[sub.arm == "B"].mean() - sub.y[sub.arm == "A"].mean(), rel=1e-12
        )
        p.append(ref.pvalue)
    assert [r["p_holm_segments"] for r in rows] == pytest.approx(
        multipletests(p, method="holm")[1], rel=1e-9
    )
    assert [r["p_bh_segments"] for r in rows] == pytest.approx(
        multipletests(p, method="fdr_bh")[1], rel=1e-9
    )
    # Cochran's Q, as statsmodels' fixed-effect meta-analysis computes it
    lift = np.array([r["lift"] for r in rows])
    var = np.array([r["se"] for r in rows]) ** 2
    q = combine_effects(lift, var).q
    message = next(
        f["message"] for f in payload["findings"] if f["code"] == "segment_heterogeneity"
    )
    assert f"Cochran's Q = {q:.3g}" in message and "differs between segments" in message
    # the overall comparison is still the first estimate
    assert payload["estimates"][0]["label"] == "y: B − A"


def test_no_heterogeneity_when_the_lift_is_the_same(panel):
    _, path = panel
    payload = _run(path, "--by", "region")
    message = next(
        f["message"] for f in payload["findings"] if f["code"] == "segment_heterogeneity"
    )
    assert "no evidence" in message


def test_a_segment_without_the_control_is_skipped_with_a_warning(tmp_path, panel):
    frame, _ = panel
    broken = frame[~((frame.region == "us") & (frame.arm == "A"))]
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)
    payload = _run(path, "--by", "region")
    assert any(f["code"] == "segment_skipped" and "region=us" in f["message"]
               for f in payload["findings"])  # fmt: skip


def test_by_refusals(panel):
    _, path = panel
    out = runner.invoke(app, ["abtest", str(path), "-t", "arm", "-y", "y", "--by", "tier"])
    assert out.exit_code == 2 and "'tier'" in out.output
    out = runner.invoke(
        app, ["abtest", str(path), "-t", "arm", "-y", "y", "--by", "plan", "--type", "bayesian"]
    )
    assert out.exit_code == 2 and "--by" in out.output

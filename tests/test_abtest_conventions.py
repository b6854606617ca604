"""The conventions of the tools experimenters compare with, reproduced through the CLI.

GrowthBook's published test vectors (its `gbstats` unit tests) are the reference: the same
summary statistics give the same numbers here, to the five decimals GrowthBook asserts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()


def _estimates(path, *args: str) -> dict[str, dict]:
    out = runner.invoke(app, ["abtest", str(path), *args, "--json"])
    assert out.exit_code == 0, out.output
    return {e["label"]: e for e in json.loads(out.output)["estimates"]}


def test_relative_lift_p_value_growthbook_welch_vector(tmp_path):
    """GrowthBook TwoSidedTTest: control 0.41 (sd 3.9, n 3407), variant 0.70 (sd 6.2, n 3461)
    → relative lift 0.70732, CI (−0.03526, 1.44989), p 0.06191 (delta method, Welch df)."""
    path = tmp_path / "summary.csv"
    path.write_text("arm,n,y_mean,y_sd\nA,3407,0.41,3.9\nB,3461,0.70,6.2\n")
    est = _estimates(path, "-t", "arm", "--from-summary", "--outcome", "y", "--control", "A")
    rel = est["y: B vs A (relative)"]
    assert rel["value"] == pytest.approx(0.70732, abs=5e-6)
    assert rel["ci_low"] == pytest.approx(-0.03526, abs=5e-6)
    assert rel["ci_high"] == pytest.approx(1.44989, abs=5e-6)
    assert rel["p_value"] == pytest.approx(0.06191, abs=5e-6)
    # the absolute test on the same numbers is significant; the relative one is not – the
    # ratio's SE also carries the noise of the control mean
    assert est["y: B − A"]["p_value"] == pytest.approx(0.02016, abs=5e-6)


def test_relative_lift_p_value_matches_its_interval(tmp_path):
    """On raw rows the relative p-value is below alpha exactly when the interval excludes 0,
    and equals the t statistic lift/SE computed independently from the arms' moments."""
    from scipy import stats

    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 4, 800), rng.normal(10.6, 5, 900)
    path = tmp_path / "rows.csv"
    rows = ["arm,y"] + [f"A,{v}" for v in a] + [f"B,{v}" for v in b]
    path.write_text("\n".join(rows) + "\n")
    rel = _estimates(path, "-t", "arm", "--outcome", "y", "--control", "A")["y: B vs A (relative)"]
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    lift = b.mean() / a.mean() - 1
    se = np.sqrt(vb / a.mean() ** 2 + b.mean() ** 2 * va / a.mean() ** 4)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    assert rel["value"] == pytest.approx(lift, rel=1e-10)
    assert rel["p_value"] == pytest.approx(2 * stats.t.sf(abs(lift / se), df), rel=1e-8)
    assert (rel["p_value"] < 0.05) == (rel["ci_low"] > 0 or rel["ci_high"] < 0)

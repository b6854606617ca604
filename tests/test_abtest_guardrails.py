"""`cerebro abtest --guardrails`: metrics that must not get worse, in one decision per variant.
The bounds are checked against a one-sided t bound computed independently."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(5)
    n = 4000
    arm = rng.choice(["A", "B"], n)
    return pd.DataFrame(
        {
            "arm": arm,
            "revenue": rng.normal(10, 3, n) + (arm == "B") * 0.5,
            "latency": rng.normal(200, 30, n) + (arm == "B") * 6,  # 3% slower
            "retention": rng.binomial(1, 0.3, n),
        }
    )


def _decision(result) -> str:
    return next(f.message for f in result.findings if f.code == "decision")


def _rel_bound(frame, column, upper: bool, alpha=0.05):
    """One-sided bound of the relative lift B/A − 1 by the delta method, Welch df."""
    a, b = frame[column][frame.arm == "A"], frame[column][frame.arm == "B"]
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    rel = b.mean() / a.mean() - 1
    se = np.sqrt(vb / a.mean() ** 2 + b.mean() ** 2 * va / a.mean() ** 4)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    crit = stats.t.ppf(1 - alpha, df)
    return rel + crit * se if upper else rel - crit * se


def test_a_guardrail_that_got_worse_holds_the_ship(frame):
    result = cerebro.abtest(
        frame, treatment="arm", outcome="revenue", control="A", test_type="welch",
        guardrails="retention,latency:lower",
    )  # fmt: skip
    rows = {r["guardrail"]: r for r in result.tables["guardrails"].to_dict("records")}
    assert not rows["latency"]["holds"] and rows["retention"]["holds"]
    assert "hold – guardrail latency got significantly worse" in _decision(result)
    assert result.spec.outcome == ["revenue"]  # as asked; the guardrails were added to run


def test_a_margin_makes_it_a_non_inferiority_test(frame):
    result = cerebro.abtest(
        frame, treatment="arm", outcome="revenue", control="A", test_type="welch",
        guardrails="retention,latency:lower", guardrail_margin=0.05,
    )  # fmt: skip
    rows = {r["guardrail"]: r for r in result.tables["guardrails"].to_dict("records")}
    assert rows["latency"]["bound"] == pytest.approx(_rel_bound(frame, "latency", True), rel=1e-9)
    assert rows["retention"]["bound"] == pytest.approx(
        _rel_bound(frame, "retention", False), rel=1e-9
    )
    assert rows["latency"]["holds"] and rows["retention"]["holds"]
    assert "ship – revenue improved significantly" in _decision(result)
    tight = cerebro.abtest(
        frame, treatment="arm", outcome="revenue", control="A", test_type="welch",
        guardrails="latency:lower", guardrail_margin=0.01,
    )  # fmt: skip
    assert "may be worse by more than the margin 1.00%" in _decision(tight)


def test_cli_and_refusals(tmp_path, frame):
    path = tmp_path / "g.csv"
    frame.to_csv(path, index=False)
    base = ["abtest", str(path), "-t", "arm", "-y", "revenue", "--control", "A"]
    out = runner.invoke(app, [*base, "--guardrails", "latency:lower", "--json"])
    assert out.exit_code == 0, out.output
    assert "guardrails" in json.loads(out.output)["tables"]
    out = runner.invoke(app, [*base, "--guardrail-margin", "0.01"])
    assert out.exit_code == 2 and "needs --guardrails" in out.output

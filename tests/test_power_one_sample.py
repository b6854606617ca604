"""`cerebro power-analysis --test one-sample`: the one-sample t test's power, n and MDE.

Published: pwr.t.test(d = 0.5, n = 20, type = "one.sample") power 0.5645 (statsmodels
TTestPower agrees); agreement with TTestPower and the one-sample z test to 1e-8; refusals.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError

runner = CliRunner()


def _cli(*args: str):
    return runner.invoke(app, ["power-analysis", "--test", "one-sample", *args])


def test_published_power_through_the_cli():
    out = _cli("--sd", "1", "--mde", "0.5", "--n", "20", "--json")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    power = next(e for e in payload["estimates"] if e["label"] == "power")
    assert power["value"] == pytest.approx(0.5645, abs=5e-5)
    assert payload["method"] == "one_sample"


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_agrees_with_statsmodels(alternative):
    from statsmodels.stats.power import NormalIndPower, TTestPower

    sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
    sign = -1 if alternative == "less" else 1
    mde = sign * 0.3
    res = cerebro.power_analysis(sd=2.0, mde=mde, n=57, alternative=alternative, test="one-sample")
    ref = TTestPower().power(mde / 2.0, 57, 0.05, alternative=sm)
    assert res.estimate("power").value == pytest.approx(ref, abs=1e-10)
    size = cerebro.power_analysis(sd=2.0, mde=mde, alternative=alternative, test="one-sample")
    exact = TTestPower().solve_power(mde / 2.0, power=0.8, alpha=0.05, alternative=sm)
    assert size.estimate("sample size").extra["exact"] == pytest.approx(exact, rel=1e-6)
    assert size.estimate("sample size").value == int(-(-exact // 1))
    found = cerebro.power_analysis(sd=2.0, n=57, alternative=alternative, test="one-sample")
    d = TTestPower().solve_power(None, 57, 0.05, 0.8, alternative=sm)
    assert found.estimate("mde").value == pytest.approx(d * 2.0, rel=1e-6)
    z = cerebro.power_analysis(sd=2.0, mde=mde, n=57, alternative=alternative,
                               test="one-sample", formula="normal")  # fmt: skip
    # NormalIndPower with ratio 0 is the one-sample z test
    ref_z = NormalIndPower().power(mde / 2.0, 57, 0.05, ratio=0, alternative=sm)
    assert z.estimate("power").value == pytest.approx(ref_z, abs=1e-10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "0.1", "--mde", "0.01"], "test one-sample plans the one-sample t test of a mean: give sd"),
        (["--sd", "1", "--mde", "0.5", "--arms", "3"], "arms does not apply to test one-sample"),
        (["--sd", "1", "--mde", "0.5", "--ratio", "2", "--cuped-correlation", "0.5"],
         "ratio, cuped_correlation do not apply to test one-sample"),
    ],
)  # fmt: skip
def test_refusals(args, message):
    out = _cli(*args)
    assert out.exit_code == 2, out.output
    assert message in " ".join(out.output.split())


def test_python_refusal():
    with pytest.raises(UserInputError, match="give sd"):
        cerebro.power_analysis(baseline=0.1, mde=0.01, test="one-sample")

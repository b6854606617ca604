"""`cerebro abtest --mu` without `--treatment`: one-sample t and proportion z tests.

Published numbers through the CLI (R's `t.test`, statsmodels' `proportions_ztest`), agreement
with scipy and statsmodels on random data to 1e-10, and the refusals of the spec and the data.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError

runner = CliRunner()


def _cli(tmp_path, frame: pd.DataFrame, *args: str) -> tuple[int, str]:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    out = runner.invoke(app, ["abtest", str(path), *args])
    return out.exit_code, out.output


def _json(tmp_path, frame: pd.DataFrame, *args: str) -> dict:
    code, text = _cli(tmp_path, frame, *args, "--json")
    assert code == 0, text
    return json.loads(text)


def test_r_t_test_published(tmp_path):
    """R: t.test(c(5.5, 2.4, 6.8, 9.6, 4.2), mu = 4) → t 1.3974, p 0.2348, CI (2.3223, 9.0777)."""
    frame = pd.DataFrame({"y": [5.5, 2.4, 6.8, 9.6, 4.2]})
    payload = _json(tmp_path, frame, "--outcome", "y", "--mu", "4")
    assert payload["method"] == "one_sample"
    est = payload["estimates"][0]
    assert est["value"] == pytest.approx(5.7, abs=1e-12)
    assert est["statistic"] == pytest.approx(1.3974, abs=5e-5)
    assert est["df"] == 4
    assert est["p_value"] == pytest.approx(0.2348, abs=5e-5)
    assert est["ci_low"] == pytest.approx(2.3223, abs=5e-5)
    assert est["ci_high"] == pytest.approx(9.0777, abs=5e-5)
    code, text = _cli(tmp_path, frame, "--outcome", "y", "--mu", "4")
    assert code == 0 and "0.2348" in text and "one-sample t-test" in text


def test_statsmodels_proportion_published(tmp_path):
    """statsmodels: proportions_ztest(5, 83, 0.05) → z 0.3921, p 0.6950 (sample-rate SE)."""
    frame = pd.DataFrame({"c": [1] * 5 + [0] * 78})
    payload = _json(tmp_path, frame, "--outcome", "c", "--mu", "0.05")
    est = payload["estimates"][0]
    assert est["test"] == "one-sample proportion z-test"
    assert est["statistic"] == pytest.approx(0.3921, abs=5e-5)
    assert est["p_value"] == pytest.approx(0.6950, abs=5e-5)
    assert est["value"] == pytest.approx(5 / 83)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_agrees_with_scipy_and_statsmodels(alternative):
    from scipy import stats
    from statsmodels.stats.proportion import proportions_ztest
    from statsmodels.stats.weightstats import DescrStatsW

    rng = np.random.default_rng(3)
    y = rng.normal(1.0, 2.0, 57)
    c = (rng.random(400) < 0.3).astype(int)
    res = cerebro.abtest(pd.DataFrame({"y": y}), outcome="y", mu=0.7, alternative=alternative)
    est = res.estimates[0]
    ref = stats.ttest_1samp(y, 0.7, alternative=alternative)
    assert est.extra["statistic"] == pytest.approx(ref.statistic, abs=1e-10)
    assert est.p_value == pytest.approx(ref.pvalue, abs=1e-10)
    low, high = ref.confidence_interval(0.95)
    assert est.ci_low == pytest.approx(low, abs=1e-10)
    assert est.ci_high == pytest.approx(high, abs=1e-10)
    sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
    z = cerebro.abtest(pd.DataFrame({"y": y}), outcome="y", mu=0.7, alternative=alternative,
                       test_type="ztest").estimates[0]  # fmt: skip
    ref_z = DescrStatsW(y).ztest_mean(0.7, alternative=sm)
    assert z.extra["statistic"] == pytest.approx(ref_z[0], abs=1e-10)
    assert z.p_value == pytest.approx(ref_z[1], abs=1e-10)
    p = cerebro.abtest(pd.DataFrame({"c": c}), outcome="c", mu=0.27, alternative=alternative)
    ref_p = proportions_ztest(c.sum(), c.size, 0.27, alternative=sm)
    assert p.estimates[0].extra["statistic"] == pytest.approx(ref_p[0], abs=1e-10)
    assert p.estimates[0].p_value == pytest.approx(ref_p[1], abs=1e-10)


def test_binary_outcome_with_ttest_is_a_t_test():
    c = np.array([1, 0, 0, 1, 1, 0, 1, 1])
    est = cerebro.abtest(pd.DataFrame({"c": c}), outcome="c", mu=0.5, test_type="ttest")
    assert est.estimates[0].extra["test"] == "one-sample t-test"


def test_missing_values_dropped_with_a_warning(tmp_path):
    frame = pd.DataFrame({"y": [5.5, 2.4, None, 6.8, 9.6, 4.2]})
    payload = _json(tmp_path, frame, "--outcome", "y", "--mu", "4")
    assert payload["estimates"][0]["p_value"] == pytest.approx(0.2348, abs=5e-5)
    assert any(f["code"] == "dropped_missing" for f in payload["findings"])


def test_plot(tmp_path):
    frame = pd.DataFrame({"y": [5.5, 2.4, 6.8, 9.6, 4.2], "z": [1.0, 2.0, 3.0, 4.0, 6.0]})
    code, text = _cli(tmp_path, frame, "-y", "y,z", "--mu", "4", "--plot", str(tmp_path / "f.png"))
    assert code == 0, text
    assert (tmp_path / "f.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("values", "args", "message"),
    [
        ([3.0, 3.0, 3.0], ["--mu", "4"], r"is constant \(3\) in all 3 complete rows"),
        ([3.0, None], ["--mu", "4"], r"y has 1 complete row; a one-sample test needs at least 2"),
        ([1, 1, 1], ["--mu", "0.5"], r"y is 1 in all 3 complete rows"),
        ([1, 0, 1], ["--mu", "2"], r"--mu 2 is not a rate strictly between 0 and 1"),
        ([1.0, 2.0], [], r"--treatment \(e\.g\. --treatment arm\), or give --mu"),
        ([1.0, 2.0], ["--mu", "1", "-t", "arm"], r"--mu tests one sample .* drop --mu 1 or"),
        ([1.0, 2.0], ["--mu", "1", "--covariates", "y"], r"--covariates does not apply"),
        ([1.0, 2.0], ["--mu", "1", "--type", "fisher"], r"--type fisher does not apply"),
        ([1.5, 2.0], ["--mu", "1", "--proportion-se", "null"], r"outcome 'y' is not 0/1; drop"),
        (
            [1, 0, 1],
            ["--mu", "0.5", "--type", "ttest", "--proportion-se", "null"],
            r"outcome 'y' is tested with --type ttest; drop --proportion-se",
        ),
    ],
)
def test_bad_inputs_one_sentence(tmp_path, values, args, message):
    import re

    code, text = _cli(tmp_path, pd.DataFrame({"y": values}), "--outcome", "y", *args)
    assert code == 2, text
    assert re.search(message, " ".join(text.split())), text
    assert "Traceback" not in text


def test_python_face_refuses_without_treatment_or_mu():
    with pytest.raises((UserInputError, ValueError), match="--mu"):
        cerebro.abtest(pd.DataFrame({"y": [1.0, 2.0]}), outcome="y")


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_score_test_with_null_rate_se(tmp_path, alternative):
    """--proportion-se null: statsmodels proportions_ztest(prop_var=p0), Wilson interval."""
    from statsmodels.stats.proportion import proportion_confint, proportions_ztest

    frame = pd.DataFrame({"c": [1] * 5 + [0] * 78})
    args = ("--outcome", "c", "--mu", "0.05", "--proportion-se", "null")
    payload = _json(tmp_path, frame, *args, "--alternative", alternative)
    est = payload["estimates"][0]
    sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
    z, p = proportions_ztest(5, 83, 0.05, alternative=sm, prop_var=0.05)
    assert est["statistic"] == pytest.approx(z, abs=1e-10)
    assert est["p_value"] == pytest.approx(p, abs=1e-10)
    alpha = 0.05 if alternative == "two-sided" else 0.10
    low, high = proportion_confint(5, 83, alpha=alpha, method="wilson")
    if alternative != "less":
        assert est["ci_low"] == pytest.approx(low, abs=1e-10)
    if alternative != "greater":
        assert est["ci_high"] == pytest.approx(high, abs=1e-10)


def test_proportion_se_needs_mu(tmp_path):
    code, text = _cli(tmp_path, pd.DataFrame({"y": [1, 0], "t": ["a", "b"]}),
                      "-y", "y", "-t", "t", "--proportion-se", "null")  # fmt: skip
    assert code == 2 and "--proportion-se applies to the one-sample proportion test only" in text

"""Structural models against reference implementations and known truths, and their bad inputs.

- MSMs = statsmodels GEE (independence, robust) and WLS with HC0 on the same stabilised
  weights: coefficients to 1e-8, SEs to 1e-6 (linear, logistic, modifier, several arms).
- The g-estimation closed form = the root of the grid's α(ψ) (the two solve the same equation
  when the SNMM is linear), and its sandwich SE ≈ a bootstrap's SD.
- Simulations with known truth: a confounded binary effect recovered by g-estimation and by
  the MSM; a quadratic dose-response recovered through the generalised propensity score;
  censoring that depends on a confounder and the treatment biases the complete-case MSM and not
  the IP-censoring-weighted one.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.observational.analysis import causal
from cerebro.observational.msm import fit_msm
from cerebro.observational.spec import CausalSpec
from cerebro.observational.structural_data import prepare_structural

runner = CliRunner()


def _confounded(n: int = 4000, seed: int = 1, effect: float = 2.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.4, n)
    a = rng.binomial(1, 1 / (1 + np.exp(-(0.8 * x1 - 0.5 * x2))))
    y = effect * a + 1.5 * x1 + x2 + rng.normal(size=n)
    arm = np.where(rng.random(n) < 0.5, "low", "high")
    arm = np.where(a == 1, arm, "none")
    death = rng.binomial(1, 1 / (1 + np.exp(-(-1 + 0.3 * a + 0.6 * x1))))
    return pd.DataFrame({"a": a, "y": y, "x1": x1, "x2": x2, "arm": arm, "death": death,
                         "v": x2})  # fmt: skip


@pytest.mark.parametrize(
    ("options", "logistic"),
    [({}, False), ({"modifier": "v"}, False), ({"outcome": "death"}, True),
     ({"treatment": "arm"}, False)],
)  # fmt: skip
def test_msm_equals_statsmodels_gee_and_wls(options, logistic):
    import statsmodels.api as sm

    frame = _confounded()
    fields = {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"], "method": "msm",
              **options}  # fmt: skip
    spec = CausalSpec(**fields)
    data = prepare_structural(frame, spec)
    msm = fit_msm(data, "linear", False, spec.treatment, spec.modifier)
    X = msm.design(data.a, data.v)
    family = sm.families.Binomial() if logistic else sm.families.Gaussian()
    gee = sm.GEE(data.y, X, groups=np.arange(len(data.y)), family=family,
                 cov_struct=sm.cov_struct.Independence(), weights=msm.weights).fit()  # fmt: skip
    assert np.allclose(msm.fit.beta, gee.params, atol=1e-8)
    assert np.allclose(msm.fit.se, gee.bse, rtol=1e-6)
    if not logistic:
        wls = sm.WLS(data.y, X, weights=msm.weights).fit(cov_type="HC0")
        assert np.allclose(msm.fit.se, wls.bse, rtol=1e-8)
    # the face reports the same numbers
    res = causal(frame, **fields)
    value = res.estimates[0].value
    assert value == pytest.approx(np.exp(gee.params[1]) if logistic else gee.params[1], rel=1e-8)


def test_gestimation_and_msm_recover_a_confounded_effect():
    frame = _confounded(n=6000, seed=100, effect=2.0)
    naive = frame.y[frame.a == 1].mean() - frame.y[frame.a == 0].mean()
    assert naive > 2.5  # confounding by x1 pushes the crude difference up
    base = {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"]}
    closed = causal(frame, **base, method="gestimation").estimates[0]
    grid = causal(frame, **base, method="gestimation", psi_search="grid").estimates[0]
    msm = causal(frame, **base, method="msm").estimates[0]
    for est in (closed, grid, msm):
        assert est.ci_low < 2.0 < est.ci_high
        assert est.value == pytest.approx(2.0, abs=0.12)
    assert grid.value == pytest.approx(closed.value, abs=1e-6)  # the same equation
    assert grid.extra["closed_form"] == pytest.approx(closed.value, abs=1e-12)
    # the test-inversion interval is close to the Wald one when n is large
    assert grid.ci_low == pytest.approx(closed.ci_low, abs=0.03)
    assert grid.ci_high == pytest.approx(closed.ci_high, abs=0.03)


def test_gestimation_sandwich_se_matches_the_bootstrap():
    frame = _confounded(n=1000, seed=5)
    base = {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"], "method": "gestimation"}
    se = causal(frame, **base).estimates[0].se
    rng = np.random.default_rng(0)
    draws = [
        causal(frame.iloc[rng.integers(0, len(frame), len(frame))], **base).estimates[0].value
        for _ in range(120)
    ]
    assert se == pytest.approx(np.std(draws, ddof=1), rel=0.15)


def test_dose_response_recovered_through_the_generalised_propensity_score():
    rng = np.random.default_rng(7)
    n = 20_000
    x = rng.normal(size=n)
    dose = 0.7 * x + rng.normal(size=n)  # the dose depends on the confounder
    y = 1 + 0.5 * dose - 0.2 * dose**2 + 2 * x + rng.normal(size=n)
    naive = np.polyfit(dose, y, 2)  # ignoring x: the slope is confounded
    assert abs(naive[1] - 0.5) > 0.5
    frame = pd.DataFrame({"d": dose, "y": y, "x": x})
    base = {"treatment": "d", "outcome": "y", "confounders": ["x"], "method": "msm",
            "treatment_density": "normal", "at": ["-1", "0", "2"]}  # fmt: skip
    res = causal(frame, **base, dose_response="quadratic")
    truth = {-1: 1 - 0.5 - 0.2, 0: 1.0, 2: 1 + 1 - 0.8}
    for est in res.estimates[:3]:
        assert est.value == pytest.approx(truth[int(est.extra["dose"])], abs=0.1)
        assert est.ci_low < truth[int(est.extra["dose"])] < est.ci_high
    spline = causal(frame, **base, dose_response="spline")
    for est in spline.estimates[:3]:
        assert est.value == pytest.approx(truth[int(est.extra["dose"])], abs=0.15)


def test_censoring_weights_remove_the_bias_of_complete_cases():
    frame = _confounded(n=20_000, seed=11)
    rng = np.random.default_rng(12)
    frame["y"] += frame.x1 * frame.a  # the effect 2 + x1 varies; its average is 2
    # units with large x1 (a larger effect) and the treated are lost more often
    lost = rng.random(len(frame)) < 1 / (1 + np.exp(-(-1.5 + 1.2 * frame.x1 + 0.8 * frame.a)))
    frame.loc[lost, "y"] = np.nan
    base = {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"], "method": "msm"}
    complete = causal(frame, **base).estimates[0]
    weighted = causal(frame, **base, censoring="ipcw").estimates[0]
    assert complete.value < 1.8  # the large effects of the lost are missed
    assert weighted.value == pytest.approx(2.0, abs=0.1)
    gest = causal(frame, **{**base, "method": "gestimation"}, censoring="ipcw").estimates[0]
    assert gest.value == pytest.approx(2.0, abs=0.1)


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    frame = _confounded(n=400)
    frame["dose"] = np.round(frame.x1 * 10 + 30, 1)
    frame.loc[:5, "y"] = np.nan
    path = tmp_path_factory.mktemp("structural") / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("options", "expect"),
    [
        (["--treatment", "dose", "--method", "msm"],
         r"treatment column 'dose' is numeric with \d+ distinct values, a continuous treatment "
         r"that needs a density model; add --treatment-density normal"),
        (["--treatment", "dose", "--method", "ipw"],
         r"a continuous treatment \(a dose\) that --method ipw does not model; use --method msm "
         r"--treatment-density normal"),
        (["--treatment", "dose", "--method", "gestimation"],
         r"g-estimation here takes a binary treatment"),
        (["--treatment", "arm", "--method", "gestimation"], r"g-estimation here takes a binary"),
        (["--method", "msm", "--treatment-density", "normal", "--treatment", "arm"],
         r"--treatment-density normal models a numeric dose"),
        (["--method", "gestimation", "--psi-search", "grid", "--modifier", "v"],
         r"the grid search is for the one-parameter model"),
        (["--method", "gestimation", "--psi-grid", "2:5:0.1"], r"--psi-grid sets the grid"),
        (["--method", "gestimation", "--psi-search", "grid", "--bootstrap", "50"],
         r"the grid search's CI is the set of ψ not rejected; drop --bootstrap"),
        (["--method", "gestimation", "--psi-search", "grid", "--psi-grid", "5:2:0.1"],
         r"--psi-grid '5:2:0.1' needs start < stop"),
        (["--method", "gestimation", "--psi-search", "grid", "--psi-grid", "1.9:2.0:0.05"],
         r"reach the end of --psi-grid"),
        (["--method", "msm", "--dose-response", "quadratic"],
         r"--at and --dose-response describe a dose; 'a' has arms"),
        (["--method", "msm", "--modifier", "y"], r"--modifier 'y' cannot be the treatment"),
        (["--method", "ipw", "--censoring", "ipcw"],
         r"--censoring is not for --method ipw: --modifier and --censoring apply to --method msm "
         r"and gestimation only"),
        (["--method", "msm", "--psi-search", "grid"], r"--psi-search is not for --method msm"),
        (["--method", "regression", "--at", "x1=1"], r"--at gives values of interaction terms"),
        (["--method", "regression", "--interactions", "x1", "--at", "x2=1"],
         r"--at 'x2=1' must give each interaction term a value, as x1=…"),
        (["--method", "regression", "--all-rows"], r"--all-rows fits the propensity model"),
        (["--method", "regression", "--strata", "10"],
         r"--strata applies to --regress-on propensity_strata only"),
        (["--method", "msm", "--treatment", "dose", "--treatment-density", "normal", "--at",
          "high"], r"--at 'high' is not a dose"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence(csv, options, expect):
    fields = ["--treatment", "a", "--outcome", "y", "--confounders", "x1,x2"]
    if "--treatment" in options:
        fields = fields[2:]
    result = runner.invoke(app, ["causal", str(csv), *fields, *options])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert re.search(expect, output), output
    assert output.startswith("error:") and "Traceback" not in output


def test_censoring_needs_a_missing_outcome(csv, tmp_path):
    frame = pd.read_csv(csv).dropna(subset=["y"])
    path = tmp_path / "complete.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["causal", str(path), "--treatment", "a", "--outcome", "y",
                                 "--confounders", "x1,x2", "--method", "msm", "--censoring",
                                 "ipcw"])  # fmt: skip
    assert result.exit_code == 2
    assert "every row has 'y'; drop --censoring" in " ".join(result.output.split())


@pytest.mark.parametrize("method", ["msm", "gestimation"])
def test_plots_and_json_round_trip(csv, tmp_path, method):
    from cerebro.core.results import Result

    extra = ["--psi-search", "grid"] if method == "gestimation" else ["--treatment-density",
                                                                      "normal"]  # fmt: skip
    treatment = "a" if method == "gestimation" else "dose"
    plot, out = tmp_path / "p.png", tmp_path / "r.json"
    result = runner.invoke(app, ["causal", str(csv), "--treatment", treatment, "--outcome", "y",
                                 "--confounders", "x1,x2", "--method", method, *extra,
                                 "--plot", str(plot), "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 1000
    import json

    payload = json.loads(out.read_text())
    again = Result.from_dict(payload)
    assert again.to_dict()["estimates"] == payload["estimates"]
    assert again.spec.method == method


def test_spec_file_and_python_give_the_cli_numbers(csv, tmp_path):
    import json

    import yaml

    import cerebro

    fields = {"treatment": "a", "outcome": "y", "confounders": ["x1", "x2"], "method": "msm",
              "modifier": "v", "censoring": "ipcw"}  # fmt: skip
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"kind": "causal", "data": str(csv), **fields}))
    via_run = runner.invoke(app, ["run", str(path), "--json"])
    via_cli = runner.invoke(app, ["causal", str(csv), "--treatment", "a", "--outcome", "y",
                                  "--confounders", "x1,x2", "--method", "msm", "--modifier", "v",
                                  "--censoring", "ipcw", "--json"])  # fmt: skip
    assert via_run.exit_code == 0 and via_cli.exit_code == 0, via_run.output + via_cli.output
    run_estimates = json.loads(via_run.stdout)["estimates"]
    assert run_estimates == json.loads(via_cli.stdout)["estimates"]
    python = cerebro.causal(pd.read_csv(csv), **fields)
    assert [e.value for e in python.estimates] == pytest.approx([e["value"] for e in run_estimates])


def test_gestimation_closed_form_coverage():
    """300 simulated data sets (n = 400, true ψ = 2, confounded): the stacked-sandwich 95% CI
    covers in [0.92, 0.98] (binomial SE of the rate ≈ 0.013)."""
    from cerebro.observational.gestimation import closed_form

    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(300):
        n = 400
        x = rng.normal(size=n)
        a = rng.binomial(1, 1 / (1 + np.exp(-0.8 * x))).astype(float)
        y = 2 * a + 1.5 * x + rng.normal(size=n)
        X = np.column_stack([np.ones(n), x])
        fit = closed_form(X, a, y, np.ones(n), None)
        se = float(np.sqrt(fit.vcov[0, 0]))
        covered += abs(fit.psi[0] - 2) < 1.959964 * se
    assert 0.92 <= covered / 300 <= 0.98

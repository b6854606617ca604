"""`cerebro sensitivity` end to end: the long-story-short bounds on simulated data with a known
confounder, Rosenbaum bounds and refutations through the registry, `cerebro causal
--sensitivity` from the estimate's own fit, the E-value-only mode, the CLI and its user errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate
from cerebro.sensitivity.examples import sensitivity as example
from cerebro.sensitivity.refute import refutations
from cerebro.sensitivity.spec import SensitivitySpec
from cerebro.stats.rosenbaum import sensitivity_gamma

runner = CliRunner()


# --- the long story short bounds cover the truth with the true strength ----------------------


def _truth(delta: float, gamma: float, n: int = 1_000_000) -> dict[str, float]:
    """Cf_Y and Cf_D of a binary U (±1) in Y = D + X + γU + ε, P(D = 1) = expit(0.4X + δU), from
    the exact short and long regressions and propensities on a large sample (Chernozhukov et
    al. 2022: Cf_Y = 1 − σ²/σ²_s, Cf_D = 1 − ν²_s/ν²)."""
    rng = np.random.default_rng(99)
    x, u = rng.normal(size=n), rng.choice([-1.0, 1.0], size=n)
    plus, minus = expit(0.4 * x + delta), expit(0.4 * x - delta)
    e_long, e_short = expit(0.4 * x + delta * u), 0.5 * (plus + minus)
    d = (rng.random(n) < e_long).astype(float)
    y = d + x + gamma * u + rng.normal(size=n)
    u_given_d = np.where(d == 1, (plus - minus) / (plus + minus),
                         (minus - plus) / (2 - plus - minus))  # fmt: skip
    sigma2_short = np.mean((y - (d + x + gamma * u_given_d)) ** 2)
    nu2_short, nu2_long = (np.mean(1 / e + 1 / (1 - e)) for e in (e_short, e_long))
    return {"cf_y": 1 - 1 / sigma2_short, "cf_d": 1 - nu2_short / nu2_long}


def _confounded(seed: int, n: int = 3000, delta: float = 0.8, gamma: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, u = rng.normal(size=n), rng.choice([-1.0, 1.0], size=n)
    d = (rng.random(n) < expit(0.4 * x + delta * u)).astype(int)
    return pd.DataFrame({"d": d, "y": d + x + gamma * u + rng.normal(size=n), "x": x})


@pytest.mark.slow
def test_dml_bounds_with_the_true_strength_cover_the_truth() -> None:
    """20 samples: the AIPW estimate omitting U misses the true effect 1 every time (bias about
    0.6); its bounds at the true (Cf_D, Cf_Y) ≈ (0.16, 0.35) cover it every time, and bounds
    at a quarter of that strength almost never – the bounds are informative, not just wide."""
    truth = _truth(0.8, 0.8)
    assert truth["cf_d"] == pytest.approx(0.158, abs=0.005)
    assert truth["cf_y"] == pytest.approx(0.354, abs=0.005)
    strengths = [[truth["cf_d"], truth["cf_y"]], [truth["cf_d"] / 4, truth["cf_y"] / 4]]
    naive = covered = covered_weak = 0
    for seed in range(20):
        frame = _confounded(seed)
        for k, strength in enumerate(strengths):
            res = cerebro.sensitivity(
                frame, treatment="d", outcome="y", confounders=["spline(x, 5)"], method="aipw",
                unobserved_confounder_strength=strength, refute=False,
            )  # fmt: skip
            bounds = res.tables["bounds"].iloc[0]
            inside = bool(bounds["ci_low"] <= 1.0 <= bounds["ci_high"])
            covered, covered_weak = (
                covered + (inside and k == 0),
                covered_weak + (inside and k == 1),
            )
        effect = res.estimate("effect")
        naive += effect.ci_low <= 1.0 <= effect.ci_high
    assert naive == 0
    assert covered == 20
    assert covered_weak <= 2


# --- the kind end to end ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return example()[1]


def test_example_reports_every_piece(frame) -> None:
    fields, _ = example()
    res = cerebro.sensitivity(frame, **fields)
    assert res.kind == "sensitivity" and res.method == "regression"
    keys = {e.key for e in res.estimates}
    assert {"partial_r2_yd", "rv_q", "rv_q_alpha", "evalue", "evalue_ci"} <= keys
    bounds = res.tables["bounds"]
    assert list(bounds["confounder"]) == ["R²_D = 0.1, R²_Y = 0.1", "1x income", "2x income",
                                          "3x income"]  # fmt: skip
    # a stronger confounder moves the estimate further towards zero
    assert bounds["estimate"].is_monotonic_decreasing
    refutations = res.tables["refutations"]
    assert list(refutations["check"]) == ["placebo treatment", "random common cause",
                                          "data subset", "dummy outcome"]  # fmt: skip
    assert refutations["held"].all()
    placebo = refutations.iloc[0]
    assert abs(placebo["new_estimate"]) < 0.2 < res.estimate("effect").value


def test_refutations_are_seeded_and_fail_when_the_estimate_moves(frame) -> None:
    fields, _ = example()
    a = cerebro.sensitivity(frame, **fields, seed=7).tables["refutations"]
    b = cerebro.sensitivity(frame, **fields, seed=7).tables["refutations"]
    pd.testing.assert_frame_equal(a, b)
    # Had the analysis reported 3.0 (six times the re-estimates), the checks that expect the
    # estimate to stay fail and say so; those that expect it to vanish still hold.
    spec = SensitivitySpec(**fields)
    rows, findings = refutations(frame, spec, Estimate("effect", 3.0, 0.1, 2.8, 3.2))
    held = dict(zip(rows["check"], rows["held"], strict=True))
    assert held == {"placebo treatment": True, "random common cause": False,
                    "data subset": False, "dummy outcome": True}  # fmt: skip
    assert findings[0].level == "warning"
    assert "random common cause, data subset" in findings[0].message


def test_psm_rosenbaum_gamma_is_that_of_the_matched_pairs(frame) -> None:
    res = cerebro.sensitivity(frame, treatment="campaign", outcome="sales",
                              confounders=["age", "income"], method="psm", refute=False)  # fmt: skip
    causal = cerebro.causal(frame, treatment="campaign", outcome="sales",
                            confounders=["age", "income"], method="psm", estimand="att")  # fmt: skip
    pairs = causal.fit.pairs
    assert len(pairs) == int(frame["campaign"].sum())
    assert res.estimate("gamma").value == pytest.approx(sensitivity_gamma(pairs, 0.05), rel=1e-12)
    assert res.estimate("effect").value == pytest.approx(causal.estimates[0].value, rel=1e-12)
    assert len(causal.to_dict(include_fit=True)["fit"]["pairs"]) == len(pairs)
    table = res.tables["rosenbaum"]
    assert (table["p_upper"] >= table["p_lower"]).all()
    assert table["p_upper"].is_monotonic_increasing


@pytest.mark.parametrize("method", ["regression", "aipw", "psm"])
def test_causal_sensitivity_equals_the_sensitivity_kind(frame, method) -> None:
    """`cerebro causal --sensitivity` works from the estimate it just made (its fit), and gives
    the numbers `cerebro sensitivity` gives for the same estimate."""
    common = {"treatment": "campaign", "outcome": "sales", "confounders": ["age", "income"]}
    extra = {"estimand": "att"} if method == "psm" else {}
    causal = cerebro.causal(frame, **common, method=method, sensitivity=True, **extra)
    kind = cerebro.sensitivity(frame, **common, method=method, refute=False)
    keys = {"regression": ["rv_q", "rv_q_alpha", "partial_r2_yd"], "aipw": ["rv_q", "rv_q_alpha"],
            "psm": ["gamma"]}[method]  # fmt: skip
    for key in [*keys, "evalue"]:
        assert causal.estimate(key).value == pytest.approx(kind.estimate(key).value, rel=1e-9), key
    assert "sensitivity" in causal.tables


def test_causal_sensitivity_of_a_binary_outcome_reports_the_risk_ratio_evalue() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    x = rng.normal(size=n)
    a = (rng.random(n) < expit(x)).astype(int)
    y = (rng.random(n) < expit(-1 + 0.8 * a + x)).astype(int)
    res = cerebro.causal(pd.DataFrame({"a": a, "y": y, "x": x}), treatment="a", outcome="y",
                         confounders=["x"], method="aipw", sensitivity=True)  # fmt: skip
    rr = res.estimate("ATE (risk ratio)")
    ev = res.estimate("evalue").value
    assert ev == pytest.approx(rr.value + np.sqrt(rr.value * (rr.value - 1)), rel=1e-12)
    assert res.estimate("evalue_ci").value == pytest.approx(
        rr.ci_low + np.sqrt(rr.ci_low * (rr.ci_low - 1)), rel=1e-12
    )


def test_evalue_only_python_and_cli() -> None:
    res = cerebro.sensitivity(evalue_rr=3.9, evalue_ci=[1.8, 8.7])
    assert round(res.estimate("evalue").value, 2) == 7.26
    out = runner.invoke(app, ["sensitivity", "--evalue-or", "2", "--evalue-ci", "1.5,2.7",
                              "--common-outcome", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["method"] == "evalue"
    rr = np.sqrt(2.0)
    value = next(e["value"] for e in payload["estimates"] if e["key"] == "evalue")
    assert value == pytest.approx(rr + np.sqrt(rr * (rr - 1)), rel=1e-12)


# --- the command line and its user errors ---------------------------------------------------


@pytest.fixture(scope="module")
def csv(tmp_path_factory, frame):
    path = tmp_path_factory.mktemp("sens") / "campaign.csv"
    frame.assign(female=(frame["income"] > 0).astype(int)).to_csv(path, index=False)
    return path


def test_the_command_users_type(csv, tmp_path) -> None:
    out = runner.invoke(app, ["sensitivity", str(csv), "--treatment", "campaign", "--outcome",
                              "sales", "--unobserved-confounder-strength", "0.3", "--confounders",
                              "age,income", "--plot", str(tmp_path / "c.png"), "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output[out.output.index("{") :])
    bounds = payload["tables"]["bounds"]
    assert bounds["rows"][0][:3] == ["R²_D = 0.3, R²_Y = 0.3", 0.3, 0.3]
    assert (tmp_path / "c.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--unobserved-confounder-strength", "1.2"], "partial R² in [0, 1) is needed, got 1.2"),
        (["--unobserved-confounder-strength", "-0.1"], "partial R² in [0, 1) is needed, got -0.1"),
        (["--unobserved-confounder-strength", "0.1,0.2,0.3"], "takes one value"),
        (["--benchmark", "female"], "benchmark 'female' is not one of the confounders"),
        (["--benchmark", "age", "--method", "psm"], "has no benchmark – drop --benchmark"),
        (
            ["--benchmark", "age", "--method", "aipw", "--kd", "1000", "--no-refute"],
            "use a smaller --kd",
        ),
        (["--q", "0"], "q is the share"),
        (["--neighbours", "3", "--method", "aipw"], "does not match – drop --neighbours"),
    ],
)
def test_bad_input_is_one_sentence(csv, args, words) -> None:
    out = runner.invoke(app, ["sensitivity", str(csv), "--treatment", "campaign", "--outcome",
                              "sales", "--confounders", "age,income", *args])  # fmt: skip
    assert out.exit_code == 2, out.output
    assert words in out.output
    assert "Traceback" not in out.output
    assert len([line for line in out.output.strip().splitlines() if line.strip()]) <= 2


def test_python_errors_are_user_errors(frame) -> None:
    with pytest.raises(UserInputError, match=r"partial R² in \[0, 1\)") as err:
        cerebro.sensitivity(frame, treatment="campaign", outcome="sales", confounders=["age"],
                            unobserved_confounder_strength=[1.0])  # fmt: skip
    assert "\n" not in str(err.value)
    with pytest.raises(UserInputError, match="takes no data"):
        cerebro.sensitivity("x.csv", evalue_rr=2.0)
    with pytest.raises(UserInputError, match="lies outside"):
        cerebro.sensitivity(evalue_rr=2.0, evalue_ci=[2.5, 3.0])


def test_causal_sensitivity_refuses_several_arms(frame) -> None:
    arms = frame.assign(campaign=np.array(["a", "b", "c"])[np.arange(len(frame)) % 3])
    with pytest.raises(
        UserInputError, match="--sensitivity needs a binary treatment; 'campaign' has 3 arms"
    ):
        cerebro.causal(arms, treatment="campaign", outcome="sales", confounders=["age"],
                       method="aipw", sensitivity=True)  # fmt: skip


def test_aipw_fit_carries_sigma2_and_nu2_of_its_own_nuisances(frame) -> None:
    """The σ² and ν² an AIPW result carries are those of its own models (a logistic propensity
    and one linear outcome model per arm, refitted here with statsmodels)."""
    import statsmodels.api as sm

    res = cerebro.causal(frame, treatment="campaign", outcome="sales",
                         confounders=["age", "income"], method="aipw")  # fmt: skip
    X = sm.add_constant(frame[["age", "income"]].to_numpy())
    d, y = frame["campaign"].to_numpy(float), frame["sales"].to_numpy()
    e = sm.Logit(d, X).fit(disp=0).predict(X)
    g0, g1 = (sm.OLS(y[d == k], X[d == k]).fit().predict(X) for k in (0, 1))
    riesz = d / e - (1 - d) / (1 - e)
    m_riesz = 2 * (1 / e + 1 / (1 - e)) - riesz**2
    sigma2 = np.mean((y - np.where(d == 1, g1, g0)) ** 2)
    assert res.fit.residual_variance["sigma2"] == pytest.approx(sigma2, rel=1e-6)
    assert res.fit.residual_variance["nu2"] == pytest.approx(m_riesz.mean(), rel=1e-6)
    np.testing.assert_allclose(res.fit.influence["nu2"], m_riesz - m_riesz.mean(), atol=1e-5)


def test_a_benchmark_may_name_the_column_of_a_confounder_term(frame) -> None:
    """`--benchmark band` with `--confounders age,C(band)`: the term's dummies together
    (their group partial R²)."""
    banded = frame.assign(band=np.digitize(frame["income"], [-1.0, 0.0, 1.0]))
    common = {"treatment": "campaign", "outcome": "sales", "refute": False}
    by_column = cerebro.sensitivity(banded, confounders=["age", "C(band)"], benchmark=["band"],
                                    **common)  # fmt: skip
    by_term = cerebro.sensitivity(banded, confounders=["age", "C(band)"], benchmark=["C(band)"],
                                  **common)  # fmt: skip
    numbers = ["r2dz_x", "r2yz_dx", "estimate", "se", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(by_column.tables["bounds"][numbers],
                                  by_term.tables["bounds"][numbers])  # fmt: skip
    assert 0 < by_column.tables["benchmarks"]["r2yxj_dx"][0] < 1


def test_causal_sensitivity_on_the_command_line(csv) -> None:
    out = runner.invoke(app, ["causal", str(csv), "--treatment", "campaign", "--outcome", "sales",
                              "--confounders", "age,income", "--method", "dml", "--sensitivity",
                              "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output[out.output.index("{") :])
    keys = {e["key"] for e in payload["estimates"]}
    assert {"rv_q", "rv_q_alpha", "evalue"} <= keys
    assert payload["tables"]["sensitivity"]["rows"]
    out = runner.invoke(app, ["causal", str(csv), "--treatment", "campaign", "--outcome", "sales",
                              "--confounders", "age", "--method", "did", "--unit", "age",
                              "--time", "income", "--sensitivity"])  # fmt: skip
    assert out.exit_code == 2 and "--sensitivity is not for --method did" in out.output


def test_confounders_read_off_the_data_when_none_are_named(frame, tmp_path) -> None:
    """The users' `cerebro sensitivity data.csv --treatment campaign --outcome sales
    --unobserved-confounder-strength 0.3` (no --confounders): adjusted for every pre-treatment
    column, said in a warning, and equal to naming them."""
    data = frame.assign(customer_id=np.arange(len(frame)))
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    base = ["sensitivity", str(path), "--treatment", "campaign", "--outcome", "sales",
            "--unobserved-confounder-strength", "0.3", "--json"]  # fmt: skip
    inferred = CliRunner().invoke(app, base)
    explicit = CliRunner().invoke(app, [*base, "--confounders", "age,income"])
    assert inferred.exit_code == 0 and explicit.exit_code == 0, inferred.output
    got, want = json.loads(inferred.stdout), json.loads(explicit.stdout)
    assert got["estimates"] == want["estimates"]
    assert got["spec"]["confounders"] == ["age", "income"]
    note = next(f["message"] for f in got["findings"] if f["code"] == "inferred_role")
    assert "age, income" in note and "customer_id (an identifier)" in note

"""Always-valid inference (mixture SPRT): formula, peeking under the null, coverage, faces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.experiments.abtest.analysis import abtest
from cerebro.experiments.sequential.msprt import always_valid_p, confidence_sequence, mixture_log_lr

runner = CliRunner()


def test_mixture_lr_equals_numerical_integration():
    """Λ = ∫ N(d; θ, V)/N(d; 0, V) · N(θ; 0, τ²) dθ, by brute-force quadrature."""
    theta = np.linspace(-30, 30, 600_001)
    for d, v, tau2 in ((0.3, 0.01, 0.04), (-1.2, 0.5, 2.0), (0.0, 1.0, 0.1)):
        ratio = np.exp((2 * theta * d - theta**2) / (2 * v))
        prior = np.exp(-(theta**2) / (2 * tau2)) / np.sqrt(2 * np.pi * tau2)
        integral = np.trapezoid(ratio * prior, theta)
        assert mixture_log_lr(np.array(d), np.array(v), tau2) == pytest.approx(
            np.log(integral), abs=1e-8
        )


def test_confidence_sequence_inverts_the_test():
    d, v, tau2, alpha = np.array([0.4]), np.array([0.02]), 0.05, 0.05
    low, high = confidence_sequence(d, v, tau2, alpha)
    for edge in (low[0], high[0]):
        assert mixture_log_lr(d - edge, v, tau2)[0] == pytest.approx(np.log(1 / alpha), rel=1e-12)


def _paths(reps: int, looks: int, per_look: int, effect: float, seed: int):
    """Cumulative difference of means and its variance at each look, for many A/B tests."""
    rng = np.random.default_rng(seed)
    shape = (reps, looks, per_look)
    c, v = rng.normal(0, 1, shape), rng.normal(effect, 1, shape)
    n = per_look * np.arange(1, looks + 1)

    def moments(x):
        s1, s2 = np.cumsum(x.sum(2), 1), np.cumsum((x**2).sum(2), 1)
        mean = s1 / n
        return mean, (s2 - n * mean**2) / (n - 1)

    (mc, vc), (mv, vv) = moments(c), moments(v)
    return mv - mc, vc / n + vv / n


def test_peeking_keeps_alpha_while_repeated_t_tests_do_not():
    """2,000 null A/B tests watched at 50 looks: the mSPRT rejects ≤ alpha (+3 MC SE); a
    fixed-horizon test repeated at every look rejects far more often."""
    d, v = _paths(2000, 50, 100, 0.0, 1)
    p = always_valid_p(d, v, 0.1**2)
    rejected = (p[:, -1] < 0.05).mean()
    assert rejected <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 2000)
    naive = (np.abs(d / np.sqrt(v)) > 1.959964).any(axis=1).mean()
    assert naive > 0.2
    low, high = confidence_sequence(d, v, 0.1**2, 0.05)
    covered = ((low <= 0) & (high >= 0)).all(axis=1).mean()
    assert covered >= 0.95 - 3 * np.sqrt(0.05 * 0.95 / 2000)


def test_power_and_coverage_under_an_effect():
    d, v = _paths(1000, 30, 200, 0.15, 2)
    p = always_valid_p(d, v, 0.1**2)
    assert (p[:, -1] < 0.05).mean() > 0.9
    low, high = confidence_sequence(d, v, 0.1**2, 0.05)
    assert ((low <= 0.15) & (high >= 0.15)).all(axis=1).mean() >= 0.95 - 3 * np.sqrt(0.0475 / 1000)


@pytest.fixture
def daily():
    rng = np.random.default_rng(5)
    n = 6000
    arm = rng.choice(["control", "B"], n)
    day = rng.integers(1, 11, n)
    revenue = rng.gamma(2, 5, n) + 2.0 * (arm == "B")
    converted = (rng.random(n) < np.where(arm == "B", 0.14, 0.1)).astype(int)
    return pd.DataFrame({"arm": arm, "day": day, "revenue": revenue, "converted": converted})


def test_abtest_sequential_matches_a_direct_computation(daily, tmp_path):
    res = abtest(
        daily,
        treatment="arm",
        outcome=["revenue", "converted"],
        test_type="sequential",
        time_column="day",
    )
    looks = res.tables["looks"]
    rev = looks[looks.outcome == "revenue"]
    assert rev["look"].tolist() == list(range(1, 11))
    d, v = [], []
    for day in range(1, 11):
        seen = daily[daily.day <= day]
        c, b = seen[seen.arm == "control"].revenue, seen[seen.arm == "B"].revenue
        d.append(b.mean() - c.mean())
        v.append(c.var() / len(c) + b.var() / len(b))
    first = daily[daily.day <= 1]
    tau = 0.1 * np.sqrt(
        (first[first.arm == "control"].revenue.var() + first[first.arm == "B"].revenue.var()) / 2
    )
    expected = always_valid_p(np.array(d), np.array(v), tau**2)
    np.testing.assert_allclose(rev["p_always_valid"], expected, rtol=1e-9)
    row = res.tables["comparisons"].set_index("outcome").loc["revenue"]
    assert row["p_value"] == pytest.approx(expected[-1], rel=1e-9)
    assert row["decision"].startswith("stop")
    # The same from a file (rows loaded, not DuckDB moments).
    path = tmp_path / "daily.csv"
    daily.to_csv(path, index=False)
    again = abtest(
        str(path),
        treatment="arm",
        outcome=["revenue", "converted"],
        test_type="sequential",
        time_column="day",
    )
    np.testing.assert_allclose(
        again.tables["looks"]["p_always_valid"], looks["p_always_valid"], rtol=1e-12
    )


@pytest.mark.parametrize(
    "options, words",
    [
        ({"test_type": "sequential"}, "needs --time"),
        ({"test_type": "welch", "time_column": "day"}, "apply to --type sequential only"),
        (
            {"test_type": "sequential", "time_column": "day", "covariates": ["revenue"]},
            "does not support --covariates",
        ),
        ({"test_type": "sequential", "time_column": "nope"}, "'nope'"),
        ({"test_type": "sequential", "time_column": "day", "mixing_sd": -1.0}, "must be positive"),
    ],
)
def test_sequential_user_errors(daily, options, words):
    with pytest.raises(UserInputError, match=words):
        abtest(daily, treatment="arm", outcome=["converted"], **options)


def test_cli_sequential_json(daily, tmp_path):
    path = tmp_path / "daily.csv"
    daily.to_csv(path, index=False)
    args = [
        "abtest",
        str(path),
        "-t",
        "arm",
        "-y",
        "converted",
        "--type",
        "sequential",
        "--time",
        "day",
    ]
    out = runner.invoke(app, [*args, "--json", "--mixing-sd", "0.02"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["method"] == "sequential" and "looks" in doc["tables"]
    assert doc["estimates"][0]["mixing_sd"] == pytest.approx(0.02)
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "always-valid" in text.output


def test_group_sequential_analysis_at_observed_looks(daily):
    from cerebro.experiments.sequential import boundaries as gs

    res = abtest(
        daily,
        treatment="arm",
        outcome=["revenue"],
        test_type="sequential",
        time_column="day",
        planned_n=4000,
    )
    looks = res.tables["looks"]
    n = np.array(
        [[(daily.day <= d) & (daily.arm == a) for a in ("control", "B")] for d in range(1, 11)]
    ).sum(2)
    t = n.sum(1) / 8000
    np.testing.assert_allclose(looks["info_fraction"], t, rtol=1e-12)
    np.testing.assert_allclose(looks["z_boundary"], gs.boundaries(t, 0.05, 2, "obf"), rtol=1e-9)
    first = int(np.argmax(np.abs(looks["z"]) >= looks["z_boundary"]))
    decision = res.tables["comparisons"]["gs_decision"].iloc[0]
    assert decision.startswith(f"stop for efficacy at look {first + 1}")
    with pytest.raises(UserInputError, match="at least 2"):
        abtest(
            daily,
            treatment="arm",
            outcome=["revenue"],
            test_type="sequential",
            time_column="day",
            planned_n=1,
        )


def test_futility_at_looks_reproduces_the_planned_design():
    """At the planned fractions and drift, the futility bounds computed look by look are the
    design's (1e-9); computed after two of three looks they are its first two (the recursion
    only looks back)."""
    from cerebro.experiments.sequential import boundaries as gs

    t = np.arange(1, 4) / 3
    efficacy, futility, drift = gs.futility_design(t, 0.025, 0.9, "obf", "obf")
    np.testing.assert_allclose(
        gs.futility_at_looks(t, efficacy, 0.1, drift)[1], futility, atol=1e-9
    )
    partial = gs.futility_at_looks(t[:2], efficacy[:2], 0.1, drift)[1]
    np.testing.assert_allclose(partial, futility[:2], atol=1e-9)
    # binding: the bounds of the binding design, efficacy re-solved among continuing paths
    eff_b, fut_b, drift_b = gs.futility_design(t, 0.025, 0.9, "obf", "obf", binding=True)
    upper, lower = gs.futility_at_looks(t, efficacy, 0.1, drift_b, binding=True, alpha=0.025)
    np.testing.assert_allclose(upper, eff_b, atol=1e-9)
    np.testing.assert_allclose(lower, fut_b, atol=1e-9)


def test_sequential_analysis_stops_for_futility(daily):
    """B is worse than control: with a planned effect of +1 the test stops for futility at the
    first look whose signed z falls to the bound computed for the observed fractions."""
    from cerebro.experiments.sequential import boundaries as gs

    worse = daily.assign(revenue=daily.revenue - 2.5 * (daily.arm == "B"))
    options = dict(treatment="arm", outcome=["revenue"], test_type="sequential", time_column="day")
    res = abtest(worse, **options, planned_n=6000, mde=1.0, futility="obf", power=0.9)
    looks = res.tables["looks"]
    t, z = looks["info_fraction"].to_numpy(), looks["z"].to_numpy()
    v_last = (looks["lift"].iloc[-1] / z[-1]) ** 2
    drift = 1.0 / np.sqrt(v_last * t[-1])
    bounds = gs.boundaries(t, 0.05, 2, "obf")
    expected = gs.futility_at_looks(t, bounds, 0.1, drift)[1]
    np.testing.assert_allclose(looks["z_futility"], expected, atol=1e-9)
    first = int(np.argmax(z <= expected))
    decision = res.tables["comparisons"]["gs_decision"].iloc[0]
    assert decision.startswith(f"stop for futility at look {first + 1}")
    assert "non-binding futility" in " ".join(f.message for f in res.findings)
    binding = abtest(
        worse, **options, planned_n=6000, mde=1.0, futility="obf", power=0.9, binding=True
    )
    tight = binding.tables["looks"]
    upper, lower = gs.futility_at_looks(t, bounds, 0.1, drift, "obf", True, 0.025, "obf")
    np.testing.assert_allclose(tight["z_boundary"], upper, atol=1e-9)
    np.testing.assert_allclose(tight["z_futility"], lower, atol=1e-9)
    assert "binding futility" in " ".join(f.message for f in binding.findings)
    with pytest.raises(UserInputError, match="--binding applies to futility"):
        abtest(worse, **options, planned_n=6000, binding=True)
    with pytest.raises(UserInputError, match="--futility needs --planned-n"):
        abtest(worse, **options, planned_n=6000, futility="obf")

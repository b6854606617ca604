"""Bayesian A/B: conjugate posteriors, exact probabilities, Monte Carlo errors, decisions, faces."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import special, stats
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.experiments.abtest.analysis import abtest
from cerebro.experiments.bayes import (
    Interval,
    beta_posterior,
    compare_posteriors,
    decide,
    expected_max,
    prob_best,
    t_posterior,
)


def miller_p_b_beats_a(a1: float, b1: float, a2: int, b2: float) -> float:
    """Evan Miller's exact finite sum for P(p_B > p_A), p_A ~ Beta(a1, b1), p_B ~ Beta(a2, b2)
    with integer a2 ("Formulas for Bayesian A/B testing", 2015) – independent of our quadrature."""
    i = np.arange(a2)
    terms = (
        special.betaln(a1 + i, b1 + b2)
        - np.log(b2 + i)
        - special.betaln(1 + i, b2)
        - special.betaln(a1, b1)
    )
    return float(np.exp(terms).sum())


@pytest.mark.parametrize(
    "counts",
    [
        (30, 1000, 45, 1000),
        (5, 40, 9, 35),
        (4000, 100_000, 4100, 100_000),
        (1, 10, 0, 500),
        (0, 3, 3, 3),
    ],
)
def test_p_beat_matches_exact_sum(counts):
    x_a, n_a, x_b, n_b = counts
    a, b = beta_posterior(x_a, n_a), beta_posterior(x_b, n_b)
    exact = miller_p_b_beats_a(a.a, a.b, int(b.a), b.b)
    assert prob_best([a, b])[1] == pytest.approx(exact, abs=1e-9)


def test_beta_intervals_match_scipy():
    report = compare_posteriors([beta_posterior(48, 1000), beta_posterior(61, 1000)], cred=0.9)
    for interval, (x, n) in zip(report.arm_intervals, [(48, 1000), (61, 1000)], strict=True):
        low, high = stats.beta(1 + x, 1 + n - x).ppf([0.05, 0.95])
        assert interval.low == pytest.approx(low, rel=1e-9)
        assert interval.high == pytest.approx(high, rel=1e-9)
        assert interval.mean == pytest.approx((1 + x) / (2 + n), rel=1e-12)


def test_reference_prior_gives_the_t_interval():
    """Under p(μ, σ²) ∝ 1/σ² the posterior of μ is t_{n−1}(ȳ, s²/n) (BDA3 §3.2): the credible
    interval equals the classical one-sample t interval."""
    y = np.random.default_rng(3).gamma(2.0, 3.0, size=57)
    post = t_posterior(len(y), y.mean(), y.var(ddof=1))
    low, high = stats.t(len(y) - 1, y.mean(), y.std(ddof=1) / np.sqrt(len(y))).ppf([0.025, 0.975])
    assert post.ppf(0.025) == pytest.approx(low, rel=1e-10)
    assert post.ppf(0.975) == pytest.approx(high, rel=1e-10)


def test_nig_prior_update_matches_a_grid_posterior():
    """A proper NIG prior: the t marginal against brute-force integration over (μ, σ²)."""
    y = np.random.default_rng(4).normal(2.0, 1.5, size=12)
    prior = (1.0, 2.0, 3.0, 4.0)
    post = t_posterior(len(y), y.mean(), y.var(ddof=1), prior)
    mu = np.linspace(-2, 6, 1601)
    s2 = np.linspace(0.01, 15, 1500)
    m, v = np.meshgrid(mu, s2, indexing="ij")
    mu0, k0, a0, b0 = prior
    log = (
        -(a0 + 1) * np.log(v)
        - b0 / v
        - 0.5 * np.log(v / k0)
        - k0 * (m - mu0) ** 2 / (2 * v)
        - len(y) / 2 * np.log(v)
        - ((y[None, None, :] - m[..., None]) ** 2).sum(-1) / (2 * v)
    )
    dens = np.exp(log - log.max()).sum(1)
    cdf = np.cumsum(dens) / dens.sum()
    assert np.interp(0.5, cdf, mu) == pytest.approx(post.ppf(0.5), abs=0.01)
    assert np.interp(0.9, cdf, mu) == pytest.approx(post.ppf(0.9), abs=0.01)


def test_p_best_and_expected_max_against_monte_carlo():
    rng = np.random.default_rng(1)
    for posteriors in (
        [beta_posterior(500, 10_000), beta_posterior(540, 10_000), beta_posterior(520, 10_000)],
        [t_posterior(100, 1.0, 4.0), t_posterior(120, 1.3, 9.0), t_posterior(5, 1.1, 1.0)],
    ):
        p = prob_best(posteriors)
        assert p.sum() == pytest.approx(1.0, abs=1e-8)
        draws = np.array([q.sample(rng, 1_000_000) for q in posteriors])
        freq = np.bincount(draws.argmax(0), minlength=3) / draws.shape[1]
        se = np.sqrt(freq * (1 - freq) / draws.shape[1])
        assert np.all(np.abs(freq - p) < 4 * se + 1e-6)
        top = draws.max(0)
        assert expected_max(posteriors) == pytest.approx(
            top.mean(), abs=4 * top.std() / np.sqrt(top.size)
        )


def test_expected_losses_against_monte_carlo():
    c, v = beta_posterior(120, 2400), beta_posterior(131, 2400)
    report = compare_posteriors([c, v])
    rng = np.random.default_rng(7)
    tc, tv = c.sample(rng, 2_000_000), v.sample(rng, 2_000_000)
    for value, draws in (
        (report.comparisons[0].loss_ship, np.maximum(tc - tv, 0)),
        (report.comparisons[0].loss_keep, np.maximum(tv - tc, 0)),
    ):
        assert value == pytest.approx(draws.mean(), abs=4 * draws.std() / np.sqrt(draws.size))


def test_reported_monte_carlo_error_is_honest():
    """The spread of an interval end across seeds matches the reported batch-means SE."""
    posteriors = [beta_posterior(200, 4000), beta_posterior(230, 4000)]
    reports = [compare_posteriors(posteriors, draws=20_000, seed=s) for s in range(40)]
    ends = np.array([r.comparisons[0].lift.low for r in reports])
    reported = np.mean([r.comparisons[0].lift.mc_se for r in reports])
    assert 0.6 < ends.std(ddof=1) / reported < 1.6


def test_credible_intervals_are_calibrated():
    """θ drawn from the Beta(1, 1) prior, data from θ: the 95% interval of θ_v − θ_c covers the
    truth in [0.93, 0.97] of 1,500 replicates (Monte Carlo SE of the rate ≈ 0.0056)."""
    rng = np.random.default_rng(11)
    covered = 0
    reps = 1500
    for _ in range(reps):
        theta = rng.uniform(size=2)
        x = rng.binomial(150, theta)
        report = compare_posteriors(
            [beta_posterior(x[0], 150), beta_posterior(x[1], 150)],
            draws=4000,
            seed=int(rng.integers(1 << 31)),
        )
        lift = report.comparisons[0].lift
        covered += lift.low <= theta[1] - theta[0] <= lift.high
    assert 0.93 <= covered / reps <= 0.97


def test_decision_rules():
    wide = Interval(0.01, -0.02, 0.04)
    assert decide(Interval(0.05, 0.03, 0.07), 1e-9, 0.05, 1e-3, None)[0] == "ship"
    assert decide(wide, 0.01, 0.02, 1e-3, None)[0] == "keep testing"
    assert decide(Interval(-0.05, -0.07, -0.03), 0.05, 1e-9, 1e-3, None)[0] == "stop"
    assert decide(Interval(0, -1e-4, 1e-4), 1e-5, 1e-5, 1e-3, None)[0] == "stop"
    rope = (-0.001, 0.001)
    assert decide(Interval(0.01, 0.005, 0.02), 0, 0, 1, rope)[0] == "ship"
    assert decide(Interval(0.0, -0.0005, 0.0005), 0, 0, 1, rope)[0] == "stop"
    assert decide(Interval(-0.01, -0.02, -0.005), 0, 0, 1, rope)[0] == "stop"
    assert decide(wide, 0, 0, 1, rope)[0] == "keep testing"


def test_decisions_from_data():
    big_win = compare_posteriors([beta_posterior(1000, 20_000), beta_posterior(1400, 20_000)])
    assert big_win.comparisons[0].decision == "ship"
    same = compare_posteriors(
        [beta_posterior(50_000, 1_000_000), beta_posterior(50_050, 1_000_000)], rope=(-0.002, 0.002)
    )
    assert same.comparisons[0].decision == "stop"
    tiny = compare_posteriors([beta_posterior(2, 20), beta_posterior(3, 20)])
    assert tiny.comparisons[0].decision == "keep testing"


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: beta_posterior(5, 3), "successes"),
        (lambda: beta_posterior(1, 3, (0, 1)), "positive"),
        (lambda: t_posterior(2, 1.0, 1.0), "at least 3"),
        (lambda: compare_posteriors([beta_posterior(1, 3)]), "two arms"),
        (lambda: compare_posteriors([beta_posterior(1, 3)] * 2, cred=1.2), "credible level"),
        (lambda: compare_posteriors([beta_posterior(1, 3)] * 2, draws=10), "draws"),
        (lambda: compare_posteriors([beta_posterior(1, 3)] * 2, rope=(1, 0)), "ROPE"),
    ],
)
def test_bad_inputs_name_the_value(call, words):
    with pytest.raises(UserInputError, match=words):
        call()


def test_abtest_bayesian_agrees_with_the_engine(ab, tmp_path):
    result = abtest(ab, treatment="arm", outcome=["converted", "revenue"], test_type="bayesian")
    table = result.tables["comparisons"]
    assert list(table["decision"].unique()) != []
    conv = ab.groupby("arm")["converted"].agg(["sum", "count"])
    c, b = conv.loc["control"], conv.loc["B"]
    exact = miller_p_b_beats_a(
        1 + c["sum"], 1 + c["count"] - c["sum"], int(1 + b["sum"]), 1 + b["count"] - b["sum"]
    )
    row = table[(table.outcome == "converted") & (table.variant == "B")].iloc[0]
    assert row["p_beat"] == pytest.approx(exact, abs=1e-9)
    rev = ab.groupby("arm")["revenue"]
    lift = rev.mean()["B"] - rev.mean()["control"]
    assert table[(table.outcome == "revenue") & (table.variant == "B")]["lift"].iloc[
        0
    ] == pytest.approx(lift, rel=1e-12)
    # The file path (moments in DuckDB) gives the same numbers.
    path = tmp_path / "ab.csv"
    ab.to_csv(path, index=False)
    again = abtest(
        str(path), treatment="arm", outcome=["converted", "revenue"], test_type="bayesian"
    )
    for column in ("p_beat", "p_best", "loss_ship", "lift_ci_low"):
        np.testing.assert_allclose(again.tables["comparisons"][column], table[column], rtol=1e-9)


def test_cli_bayesian_json_and_errors(ab, tmp_path):
    path = tmp_path / "ab.csv"
    ab.to_csv(path, index=False)
    runner = CliRunner()
    base = ["abtest", str(path), "-t", "arm", "-y", "converted", "--type", "bayesian"]
    out = runner.invoke(app, [*base, "--json", "--prior", "2,8", "--seed", "3"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["method"] == "bayesian" and doc["spec"]["prior"] == [2.0, 8.0]
    assert {"p_beat", "p_best", "loss_ship", "decision"} <= set(doc["estimates"][0])
    assert (
        runner.invoke(app, [*base, "--json", "--prior", "2,8", "--seed", "3"]).output == out.output
    )
    for extra, words in (
        (["--covariates", "pre_revenue"], "does not support --covariates"),
        (["--prior", "1,2,3"], "two numbers"),
        (["--rope=0.1,-0.1"], "low < high"),
    ):
        bad = runner.invoke(app, [*base, *extra])
        assert bad.exit_code == 2 and words in bad.output and "Traceback" not in bad.output
    prior_only = runner.invoke(
        app, ["abtest", str(path), "-t", "arm", "-y", "converted", "--prior", "1,1"]
    )
    assert prior_only.exit_code == 2 and "--type bayesian" in prior_only.output

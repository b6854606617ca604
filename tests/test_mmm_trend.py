"""The piecewise-linear trend (``--trend-changepoints K``): Prophet's changepoint placement, the
trend's formula in the fit and beyond the data, K = 0 as the straight line, and recovery of a
kink's slopes on simulated data (104 weeks × 3 channels, 2 chains × 300 draws)."""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.mmm.data import MMMData, baseline_features
from cerebro.mmm.posterior import MMMPosterior, ModelForm
from cerebro.mmm.synthetic import BASE, simulate_mmm
from cerebro.mmm.trend import changepoints, slopes
from cli_refusals import invoke, refused


def test_changepoints_sit_evenly_over_the_first_80_percent_as_prophet_places_them() -> None:
    """Prophet: linspace(0, ⌊0.8 n⌋ − 1, K + 1).round()[1:] as week indices."""
    assert changepoints(104, 0) == ()
    assert changepoints(104, 2) == (41 / 104, 82 / 104)
    assert changepoints(100, 4) == (20 / 100, 40 / 100, 59 / 100, 79 / 100)
    assert max(changepoints(156, 25)) <= 0.8


def test_k_zero_adds_no_column_and_k_adds_hinges() -> None:
    z = np.zeros((30, 0))
    plain = baseline_features(30, 25, True, (52.0, 1), z)
    assert plain.shape == (30, 3)
    np.testing.assert_array_equal(baseline_features(30, 25, True, (52.0, 1), z, ()), plain)
    hinged = baseline_features(30, 25, True, (52.0, 1), z, (0.4, 0.8))
    np.testing.assert_array_equal(hinged[:, :3], plain)
    t = np.arange(30) / 25
    np.testing.assert_array_equal(hinged[:, 3], np.maximum(t - 0.4, 0))
    np.testing.assert_array_equal(hinged[:, 4], np.maximum(t - 0.8, 0))


def _trend_posterior(cps: tuple[float, ...], coef: float, delta: list[float]) -> MMMPosterior:
    weeks = 40
    spend = np.random.default_rng(0).gamma(4.0, 1.0, size=(weeks, 1))
    data = MMMData(
        dates=[str(w) for w in range(1, weeks + 1)],
        kpi=np.full(weeks, 100.0),
        spend=spend,
        controls=np.empty((weeks, 0)),
        channels=["tv"],
        control_names=[],
        n_fit=weeks,
        kpi_scale=100.0,
        spend_scale=spend.mean(axis=0),
        control_mean=np.empty(0),
        control_sd=np.empty(0),
        log_kpi=False,
        seasonality=None,
        trend=True,
        changepoints=cps,
    )
    draws = {
        "intercept": np.ones(1),
        "coef": np.array([[coef]]),
        "trend_delta": np.array([delta]),
        "alpha": np.full((1, 1), 0.5),
        "slope": np.ones((1, 1)),
        "kappa": np.ones((1, 1)),
        "beta": np.zeros((1, 1)),
        "sigma": np.full(1, 0.01),
    }
    form = ModelForm("geometric", "hill", 4, True, "normal")
    return MMMPosterior(form, data, draws, 1, {"kind": "mmm", "date_column": "week"})


def test_the_trend_is_continuous_and_a_forecast_extends_the_last_slope() -> None:
    """trend(τ) = k(τ − ½) + Σ δ_j max(0, τ − s_j): the fit's prediction is that formula, and
    beyond the data each week adds the last slope (k + Σ δ) / n_fit (× the KPI scale)."""
    post = _trend_posterior((0.25, 0.5), 0.2, [-0.5, 0.1])
    tau = np.arange(40) / 40
    expected = 100 * (1 + 0.2 * (tau - 0.5) - 0.5 * np.maximum(tau - 0.25, 0)
                      + 0.1 * np.maximum(tau - 0.5, 0))  # fmt: skip
    np.testing.assert_allclose(post.predict()[0], expected, rtol=1e-12)
    future = post.forecast(np.zeros((6, 1)))[0]
    steps = np.diff(np.concatenate([[expected[-1]], future]))
    np.testing.assert_allclose(steps, 100 * (0.2 - 0.5 + 0.1) / 40, rtol=1e-9)
    np.testing.assert_allclose(
        slopes(np.array([0.2]), np.array([[-0.5, 0.1]]), 40), [[0.005, -0.0075, -0.005]]
    )


def test_refusals_are_one_sentence(tmp_path) -> None:
    frame, _ = simulate_mmm(weeks=60, channels=2, seed=0)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    base = ("mmm", path, "--date-column", "week", "--kpi", "revenue", "--channels", "tv,search")
    refused(invoke(*base, "--trend-changepoints", -1), "trend_changepoints", "-1")
    refused(invoke(*base, "--trend-changepoints", 2, "--no-trend"), "needs the trend")
    geo = tmp_path / "g.csv"
    frame.assign(geo="a").to_csv(geo, index=False)
    refused(
        invoke("mmm", geo, *base[2:], "--geo-column", "geo", "--trend-changepoints", 2),
        "trend_changepoints",
        "geo model",
    )


@pytest.fixture(scope="module")
def kinked_fit():
    """The simulator's data with the trend's slope changed by −1,200 a week from week 41 on
    (the first of K = 2 changepoints on 104 weeks sits there)."""
    pytest.importorskip("numpyro")
    import cerebro

    frame, truth = simulate_mmm(weeks=104, channels=3, seed=1)
    t = np.arange(104, dtype=float)
    frame["revenue"] = frame["revenue"] - 1200.0 * np.maximum(t - 41, 0)
    result = cerebro.mmm(
        frame, date_column="week", kpi="revenue", channels=["tv", "search", "social"],
        controls=["price", "promo"], chains=2, draws=300, warmup=300, trend_changepoints=2,
    )  # fmt: skip
    return result, truth


def test_a_kink_is_recovered_and_media_roi_stays_covered(kinked_fit) -> None:
    """True slopes (KPI per week): 0.3 · 200,000 / 104 = 577 before week 41 (the simulator's
    trend), 577 − 1,200 = −623 after. Posterior-mean slopes within 100 a week of them (measured:
    541, −623, −643 for the three segments), the second and third segments both after the
    kink; every channel's true ROI inside its 90% interval."""
    result, truth = kinked_fit
    post, data = result.data, result.data.data
    assert data.changepoints == (41 / 104, 82 / 104)
    segment = slopes(post.draws["coef"][:, 0], post.draws["trend_delta"], 104) * data.kpi_scale
    before = 0.3 * BASE / 104
    mean = segment.mean(axis=0)
    assert mean[0] == pytest.approx(before, abs=100)
    assert mean[1] == pytest.approx(before - 1200, abs=100)
    assert mean[2] == pytest.approx(before - 1200, abs=100)
    for channel, info in truth["channels"].items():
        roi = result.estimate(f"roi_{channel}")
        assert roi.ci_low <= info["roi"] <= roi.ci_high, (channel, info["roi"], roi)
    names = set(result.tables["parameters"]["parameter"])
    assert {"trend_delta_cp1", "trend_delta_cp2"} <= names

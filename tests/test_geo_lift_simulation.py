"""Geo lift in seeded simulation with known truth (`cerebro.geo.synthetic`): bias, type-I error
and coverage of the conformal test, 400 replicate panels of 40 geos × (90 + 15) days with
2 treated geos, AR(1) noise and a common AR(1) shock (a factor model).

Nominal levels. With block permutations p ∈ {k/105}, so "p ≤ α" has probability
⌊105α⌋/105 under exchangeability: 0.0476 at α = 0.05, 0.0952 at α = 0.1. Coverage of the
confidence set {τ : p(τ) > α} equals P(p(true ATT) > α), computed here directly (one refit per
panel) instead of searching each interval's edges.

What we measured (and assert with ±3 Monte Carlo SEs, SE = √(q(1−q)/400) ≈ 0.011–0.015):
- type-I error of the default p-value (Σ|u|, block) at zero effect: ≈ 0.05 at α = 0.05 and
  ≈ 0.10 at α = 0.1 – at its level;
- coverage of the default interval (|Σu|, block) at 95 %: ≈ 0.92, i.e. about 3 points below
  nominal. Why: the refit on all dates cannot track the treated average's own persistent
  (AR(1) shock, trend-loading) deviations, so window sums of the residuals are not exactly
  exchangeable – the contiguous test window is more extreme than the 14 windows that wrap
  around the end of the series. The bound asserted is the measured value minus 3 SEs, so a
  regression shows; the shortfall is reported to the user in docs/geotest.md.
- bias of the ATT: |mean error| < 3 SE of the mean (unbiased within Monte Carlo error).
"""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.geo.conformal import ConformalTest
from cerebro.geo.synthetic import simulate_geo_test

R = 400


@pytest.fixture(scope="module")
def runs():
    out = {"p0": [], "p_true": [], "err": [], "att": []}
    for seed in range(R):
        null = simulate_geo_test(lift=0.0, seed=seed)
        test = ConformalTest(null.Y, null.treated, null.n_pre, method="synthetic_control")
        out["p0"].append(test.p_value(0.0))
        sim = simulate_geo_test(lift=0.05, seed=seed)
        test = ConformalTest(
            sim.Y, sim.treated, sim.n_pre, method="synthetic_control", statistic="average"
        )
        out["p_true"].append(test.p_value(sim.att))
        out["err"].append(test.fit.att - sim.att)
        out["att"].append(sim.att)
    return {k: np.array(v) for k, v in out.items()}


def test_type_one_error_at_its_level(runs):
    for alpha, nominal in [(0.05, 5 / 105), (0.1, 10 / 105)]:
        rate = np.mean(runs["p0"] <= alpha)
        se = np.sqrt(nominal * (1 - nominal) / R)
        assert abs(rate - nominal) < 3 * se, (alpha, rate)


def test_interval_coverage(runs):
    coverage = np.mean(runs["p_true"] > 0.05)
    assert 0.92 - 3 * 0.0136 < coverage <= 0.97, coverage


def test_att_unbiased(runs):
    err = runs["err"]
    assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(R)
    assert err.std() < 0.6 * runs["att"].mean()  # a 5 % lift is estimable at all


def test_simulation_truth_and_seeds():
    a, b = simulate_geo_test(lift=0.1, seed=3), simulate_geo_test(lift=0.1, seed=3)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert a.incremental == pytest.approx(0.1 * a.Y0[:2, 90:].sum())
    np.testing.assert_allclose(a.Y[:2, 90:], 1.1 * a.Y0[:2, 90:])
    np.testing.assert_array_equal(a.Y[2:], a.Y0[2:])

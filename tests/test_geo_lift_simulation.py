"""Geo lift in seeded simulation with known truth (`cerebro.geo.synthetic`): bias, type-I error
and coverage of the conformal test, R = 3,000 replicate panels of 40 geos × (90 + 15) days
with 2 treated geos, AR(1) noise, a common trend and a common AR(1) shock (a factor model).

Nominal levels. With block (cyclic) permutations p ∈ {k/105}, so "p ≤ α" has probability
⌊105α⌋/105 under exchangeability: 0.0476 at α = 0.05, 0.0952 at α = 0.1 (coverage 0.9524 and
0.9048). Coverage of the confidence set {τ : p(τ) > α} equals P(p(true ATT) > α), computed here
directly (one refit per panel) instead of searching each interval's edges. Monte Carlo SE of a
rate q: √(q(1−q)/R) ≈ 0.0040 at q = 0.95, 0.0054 at q = 0.9; assertions allow ±3 SE around
the values measured on these seeds, so a regression shows.

Measured (seeds 0–2,999; the numbers behind the choice of the default, see docs/geotest.md):
- type-I error of the default p-value (Σ|u|, cyclic blocks) at zero effect: 0.049 at α = 0.05
  and 0.093 at α = 0.1 – at its level;
- coverage of the default interval (|Σu|, cyclic blocks): 0.943 at 95 % (nominal 0.952, in the
  issue's [0.93, 0.97], 2.4 SE short) and 0.902 at 90 % (nominal 0.905: at level);
- the alternatives on the same residuals are worse: the non-wrapping placebo-in-time set
  (compare the test window with the 91 contiguous windows that do not wrap) covers 0.938
  (nominal 1 − 4/91 = 0.956: the last window has neighbours on one side only, so it is among
  the extremes too often even for iid residuals), iid permutations 0.811 (they destroy the
  serial correlation of daily residuals, so permuted window sums are too narrow).

Why 95 % falls short (measured with 4,000 panels per design when the default was chosen, not tuned
here): not the wrap-around as such – without the common trend the same procedure covers
0.955 (iid noise) / 0.952 (AR noise), and the shortfall is concentrated in the panels whose
refit residuals drift linearly. The simplex synthetic control, fitted to noisy donors, does
not reproduce all of the treated average's share of the common trend (attenuation), so the
residuals keep a drift: under H0 the test window's residual sum is positive on average
(+22 units, z = 4.5 over 4,000 panels; 0 without the trend) and the end of the series looks
more extreme than a typical shift. The same attenuation biases the pre-period point estimate
(`test_att_bias_is_small`): it is the estimator's bias, which no permutation scheme removes.

Keep R: at 400 panels (SE 0.011) the same procedure measured 0.92 on seeds 0–399 – 2 SE of
bad luck that an earlier version of this file mistook for a 3-point shortfall.
"""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.geo.conformal import ConformalTest
from cerebro.geo.synthetic import simulate_geo_test

R = 3000


def _se(q: float) -> float:
    return float(np.sqrt(q * (1 - q) / R))


def _nonwrap_p(u: np.ndarray, n: int) -> float:
    """p-value of |Σu| over the last n dates among the T − n + 1 contiguous windows."""
    sums = np.abs(np.convolve(u, np.ones(n), mode="valid"))
    return float(np.mean(sums >= sums[-1] - 1e-9 * sums.max()))


@pytest.fixture(scope="module")
def runs():
    keys = ("p0", "p_true", "p_nonwrap", "p_iid", "err", "drift")
    out: dict[str, list[float]] = {k: [] for k in keys}
    for seed in range(R):
        null = simulate_geo_test(lift=0.0, seed=seed)
        test = ConformalTest(null.Y, null.treated, null.n_pre, method="synthetic_control")
        out["p0"].append(test.p_value(0.0))
        sim = simulate_geo_test(lift=0.05, seed=seed)
        test = ConformalTest(
            sim.Y, sim.treated, sim.n_pre, method="synthetic_control", statistic="average"
        )
        out["p_true"].append(test.p_value(sim.att))
        u = test.residuals(sim.att)
        out["p_nonwrap"].append(_nonwrap_p(u, sim.n_post))
        out["drift"].append(u[sim.n_pre :].sum())
        out["err"].append(test.fit.att - sim.att)
        iid = ConformalTest(
            sim.Y, sim.treated, sim.n_pre, method="synthetic_control", statistic="average",
            permutation="iid", n_perm=200, seed=seed,
        )  # fmt: skip
        out["p_iid"].append(iid.p_value(sim.att))
    res = {k: np.array(v) for k, v in out.items()}
    res["att"] = np.array([simulate_geo_test(lift=0.05, seed=s).att for s in range(0, R, 50)])
    return res


def test_type_one_error_at_its_level(runs):
    for alpha, nominal, measured in [(0.05, 5 / 105, 0.049), (0.1, 10 / 105, 0.093)]:
        rate = np.mean(runs["p0"] <= alpha)
        assert abs(rate - nominal) < 3 * _se(nominal), (alpha, rate)
        assert abs(rate - measured) < 3 * _se(measured), (alpha, rate)


def test_interval_coverage(runs):
    # 95 %: measured 0.943, nominal 0.952 (the band is [0.93, 0.97]).
    coverage = np.mean(runs["p_true"] > 0.05)
    assert abs(coverage - 0.943) < 3 * _se(0.943), coverage
    assert 0.93 <= coverage <= 0.97, coverage
    # 90 % (the CLI's default alpha): measured 0.902, at its nominal 1 − 10/105 = 0.905.
    coverage90 = np.mean(runs["p_true"] > 0.1)
    assert abs(coverage90 - (1 - 10 / 105)) < 3 * _se(0.905), coverage90
    assert abs(coverage90 - 0.902) < 3 * _se(0.902), coverage90


def test_alternative_permutation_sets_cover_worse(runs):
    """Why the default stays cyclic: the non-wrapping placebo set is further below its own
    nominal level (1 − 4/91) and iid permutations under-cover badly (serial correlation)."""
    nonwrap = np.mean(runs["p_nonwrap"] > 0.05)
    assert abs(nonwrap - 0.938) < 3 * _se(0.938), nonwrap
    assert nonwrap < 1 - 4 / 91 - 3 * _se(0.956)
    iid = np.mean(runs["p_iid"] > 0.05)
    assert iid < 0.87, iid  # measured ≈ 0.81 (n_perm = 200 per panel)


def test_att_bias_is_small(runs):
    """The pre-period synthetic control's ATT error: mean +2.3 (SE 0.62) on a true ATT of
    ≈ 62 per geo-day – a 3.7 % attenuation bias (the shared trend is under-fitted, see the
    module docstring), real at 3.6 SE but small beside the error SD (≈ 34)."""
    err = runs["err"]
    se = err.std(ddof=1) / np.sqrt(R)
    assert abs(err.mean() - 2.25) < 3 * se, err.mean()
    assert abs(err.mean()) < 0.06 * runs["att"].mean()
    assert err.std() < 0.6 * runs["att"].mean()  # a 5 % lift is estimable at all


def test_residual_drift_is_the_cause(runs):
    """Under H0 (the true ATT removed) the test window's residual sum is positive on average:
    measured +21.6 (SE 5.9) – the under-fitted trend; `test_no_trend_design_is_at_nominal`
    shows it and the shortfall vanish without the trend."""
    drift = runs["drift"]
    se = drift.std(ddof=1) / np.sqrt(R)
    assert abs(drift.mean() - 21.6) < 3 * se, drift.mean()
    assert drift.mean() > 2 * se


def test_no_trend_design_is_at_nominal():
    """The second design: `simulate_geo_test(trend=0)` (else the same), 1,500 panels (SE
    0.0055): coverage 0.947 at 95 % and 0.903 at 90 % – at the nominal 0.952 / 0.905 – and no
    residual drift (+0.6, SE 7.1)."""
    r2 = 1500
    p, drift = [], []
    for seed in range(r2):
        sim = simulate_geo_test(lift=0.05, seed=seed, trend=0.0)
        test = ConformalTest(
            sim.Y, sim.treated, sim.n_pre, method="synthetic_control", statistic="average"
        )
        p.append(test.p_value(sim.att))
        drift.append(test.residuals(sim.att)[sim.n_pre :].sum())
    p, drift = np.array(p), np.array(drift)
    se95, se90 = np.sqrt(0.0476 * 0.9524 / r2), np.sqrt(0.0952 * 0.9048 / r2)
    assert abs(np.mean(p > 0.05) - (1 - 5 / 105)) < 3 * se95
    assert abs(np.mean(p > 0.05) - 0.947) < 3 * se95
    assert abs(np.mean(p > 0.1) - (1 - 10 / 105)) < 3 * se90
    assert abs(drift.mean()) < 3 * drift.std(ddof=1) / np.sqrt(r2)


def test_simulation_truth_and_seeds():
    a, b = simulate_geo_test(lift=0.1, seed=3), simulate_geo_test(lift=0.1, seed=3)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert a.incremental == pytest.approx(0.1 * a.Y0[:2, 90:].sum())
    np.testing.assert_allclose(a.Y[:2, 90:], 1.1 * a.Y0[:2, 90:])
    np.testing.assert_array_equal(a.Y[2:], a.Y0[2:])

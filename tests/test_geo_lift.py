"""`fit_lift` and the conformal test: definitions, agreement with independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize

from cerebro.core.errors import UserInputError
from cerebro.geo.conformal import ConformalTest, conformal_interval, conformal_p_value
from cerebro.geo.lift import fit_lift, tbr_interval


def _panel(seed=0, n_geos=12, T=60, n_pre=45, effect=0.0, treated=(0, 1)):
    """Two-factor panel; `effect` added to the treated geos' test dates."""
    rng = np.random.default_rng(seed)
    f = np.vstack([np.ones(T), np.sin(np.arange(T) * 2 * np.pi / 7)])
    load = rng.uniform(0.5, 1.5, (n_geos, 2)) * [100.0, 10.0]
    Y = load @ f + rng.normal(0, 2.0, (n_geos, T))
    Y[list(treated), n_pre:] += effect
    return Y, np.array(treated), n_pre


def test_lift_arithmetic_and_definitions():
    Y, tr, n_pre = _panel(effect=5.0)
    fit = fit_lift(Y, tr, n_pre, method="synthetic_control")
    np.testing.assert_allclose(fit.observed, Y[tr].mean(axis=0))
    post = slice(n_pre, None)
    assert fit.att == pytest.approx(np.mean(fit.observed[post] - fit.counterfactual[post]))
    assert fit.incremental == pytest.approx(fit.att * 2 * 15)
    assert fit.lift == pytest.approx(fit.incremental / (2 * fit.counterfactual[post].sum()))
    assert fit.cumulative[-1] == pytest.approx(fit.incremental)
    assert fit.weights.min() >= 0 and fit.weights.sum() == pytest.approx(1)
    assert fit.att == pytest.approx(5.0, abs=1.5)  # noise SD 2/√30 per mean, plus fit error


def test_fixed_effect_synthetic_control_solves_the_demeaned_simplex_problem():
    """Independent check of the weights by SLSQP on the de-meaned pre-period (augsynth's
    ``fixedeff = TRUE`` objective)."""
    Y, tr, n_pre = _panel(seed=3)
    Y[tr] += 40.0  # a level shift the fixed effects must absorb
    fit = fit_lift(Y, tr, n_pre, method="synthetic_control")
    y1 = Y[tr, :n_pre].mean(0)
    X0 = Y[fit.donors, :n_pre]
    a, B = y1 - y1.mean(), X0 - X0.mean(1, keepdims=True)
    n = len(fit.donors)
    res = minimize(lambda w: np.sum((a - w @ B) ** 2), np.full(n, 1 / n), method="SLSQP",
                   bounds=[(0, 1)] * n, constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
                   options={"ftol": 1e-14, "maxiter": 500})  # fmt: skip
    np.testing.assert_allclose(fit.weights, res.x, atol=2e-4)
    expected = y1.mean() + res.x @ (Y[fit.donors] - X0.mean(1, keepdims=True))
    np.testing.assert_allclose(fit.counterfactual, expected, rtol=1e-5)
    no_fe = fit_lift(Y, tr, n_pre, method="synthetic_control", fixed_effects=False)
    assert no_fe.pre_rmse > 5 * fit.pre_rmse  # without fixed effects the level shift hurts


def test_ridge_weights_equal_closed_form_for_fixed_lambda():
    Y, tr, n_pre = _panel(seed=4)
    lam = 50.0
    fit = fit_lift(Y, tr, n_pre, method="augmented_synthetic_control", lam=lam)
    sc = fit_lift(Y, tr, n_pre, method="synthetic_control")
    y1 = Y[tr, :n_pre].mean(0)
    X0 = Y[fit.donors, :n_pre]
    a, B = y1 - y1.mean(), X0 - X0.mean(1, keepdims=True)
    centre = B.mean(0)
    Xc, xc = B - centre, a - centre  # donors × periods, periods
    r = xc - sc.weights @ Xc
    correction = r @ np.linalg.solve(Xc.T @ Xc + lam * np.eye(n_pre), Xc.T)
    np.testing.assert_allclose(fit.weights, sc.weights + correction, atol=1e-9)
    assert fit.lam == lam
    cv = fit_lift(Y, tr, n_pre, method="augmented_synthetic_control")
    grid = cv.extra["cv"]["lambda"]
    assert len(grid) == 21 and grid[-1] / grid[0] == pytest.approx(1e-8)
    assert cv.lam in grid


def test_tbr_matches_statsmodels_ols_prediction_interval():
    import statsmodels.api as sm

    Y, tr, n_pre = _panel(seed=5, effect=3.0)
    fit = fit_lift(Y, tr, n_pre, method="tbr")
    x = Y[fit.donors].mean(0)
    model = sm.OLS(Y[tr, :n_pre].mean(0), sm.add_constant(x[:n_pre])).fit()
    Xp = sm.add_constant(x[n_pre:])
    np.testing.assert_allclose(fit.counterfactual[n_pre:], model.predict(Xp), rtol=1e-10)
    # Cumulative prediction variance σ²(h + 1ᵀX_p (XᵀX)⁻¹ X_pᵀ1), t with n_pre − 2 df.
    s = Xp.sum(0)
    var = model.scale * (len(x) - n_pre + s @ model.normalized_cov_params @ s)
    half = stats.t.ppf(0.95, n_pre - 2) * np.sqrt(var) * 2
    low, high = tbr_interval(fit, level=0.9)
    assert (high - low) / 2 == pytest.approx(half, rel=1e-10)
    assert low < 3.0 * 2 * 15 < high


def test_block_p_value_is_rank_of_the_observed_block():
    """Independent recomputation: refit on all dates, then rank the test-window statistic
    among all T cyclic shifts."""
    Y, tr, n_pre = _panel(seed=6, effect=4.0)
    test = ConformalTest(Y, tr, n_pre, method="synthetic_control")
    u = test.residuals(0.0)
    T = len(u)
    shifts = np.array([np.abs(np.roll(u, -k)[n_pre:]).sum() for k in range(T)])
    expected = np.mean(shifts >= np.abs(u[n_pre:]).sum() - 1e-9)
    assert test.p_value(0.0) == pytest.approx(expected)
    assert conformal_p_value(Y, tr, n_pre, method="synthetic_control") == test.p_value(0.0)
    assert test.p_value(0.0) <= 0.05  # an effect of 2 noise SDs for 15 days


def test_interval_edges_are_where_the_test_switches():
    Y, tr, n_pre = _panel(seed=7, effect=4.0)
    for method in ("synthetic_control", "augmented_synthetic_control", "tbr"):
        test = ConformalTest(Y, tr, n_pre, method=method, statistic="average")
        low, high = test.interval(alpha=0.1)
        width = high - low
        assert low < test.fit.att < high
        assert test.p_value(low - 0.01 * width) <= 0.1 < test.p_value(low + 0.01 * width)
        assert test.p_value(high + 0.01 * width) <= 0.1 < test.p_value(high - 0.01 * width)
    low, high = conformal_interval(Y, tr, n_pre, alternative="greater")
    assert high == np.inf and np.isfinite(low)
    low, high = conformal_interval(Y, tr, n_pre, alternative="less")
    assert low == -np.inf and np.isfinite(high)


def test_one_sided_p_values_point_the_right_way():
    Y, tr, n_pre = _panel(seed=8, effect=4.0)
    greater = conformal_p_value(Y, tr, n_pre, method="synthetic_control", alternative="greater")
    less = conformal_p_value(Y, tr, n_pre, method="synthetic_control", alternative="less")
    assert greater < 0.1 < less


def test_bad_designs_raise_user_errors():
    Y, tr, n_pre = _panel()
    with pytest.raises(UserInputError, match="method"):
        fit_lift(Y, tr, n_pre, method="magic")
    with pytest.raises(UserInputError, match="test starts"):
        fit_lift(Y, tr, 1)
    with pytest.raises(UserInputError, match="both treated and a control"):
        fit_lift(Y, tr, n_pre, donors=np.array([1, 2, 3]))
    with pytest.raises(UserInputError, match="alternative"):
        conformal_p_value(Y, tr, n_pre, alternative="bigger")

"""The shared sensitivity numerics against published worked examples, formulas computed
independently, and reference implementations: E-values (VanderWeele & Ding 2017), Rosenbaum
bounds of the signed-rank test, the long-story-short bounds (DoubleML), the robust robustness
value and HC1 SE (statsmodels)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from cerebro.stats.evalue import evalue
from cerebro.stats.ovb_linear import linear_ovb
from cerebro.stats.rosenbaum import sensitivity_gamma, signed_rank_bounds
from cerebro.stats.sensitivity import (
    RieszElements,
    bias_adjusted,
    dml_bounds,
    dml_robustness_value,
    riesz_elements_ate,
)

# --- E-values ------------------------------------------------------------------------------


def test_evalue_published_worked_example() -> None:
    """VanderWeele & Ding (2017), breastfeeding and infection: RR 3.9 (1.8, 8.7) → 7.26 and 3.0."""
    ev = evalue(3.9, "rr", (1.8, 8.7))
    assert round(ev.evalue, 2) == 7.26
    assert ev.evalue_limit == pytest.approx(3.0, abs=1e-12)  # 1.8 + √(1.8·0.8) = 3 exactly


def _e(rr: float) -> float:
    rr = max(rr, 1 / rr)
    return rr + math.sqrt(rr * (rr - 1))


@pytest.mark.parametrize(
    ("value", "measure", "ci", "common", "rr", "rr_limit"),
    [
        (0.8, "rr", (0.71, 0.91), False, 0.8, 0.91),  # protective: the upper limit, inverted
        (2.0, "or", (1.5, 2.7), False, 2.0, 1.5),  # rare outcome: RR ≈ OR
        (2.0, "or", (1.5, 2.7), True, math.sqrt(2.0), math.sqrt(1.5)),  # common: RR ≈ √OR
        (1.5, "hr", (1.2, 1.9), False, 1.5, 1.2),
        (1.5, "hr", (1.2, 1.9), True,  # common: (1 − 0.5^√HR)/(1 − 0.5^√(1/HR))
         (1 - 0.5 ** math.sqrt(1.5)) / (1 - 0.5 ** math.sqrt(1 / 1.5)),
         (1 - 0.5 ** math.sqrt(1.2)) / (1 - 0.5 ** math.sqrt(1 / 1.2))),
        (0.5, "smd", (0.3, 0.7), False, math.exp(0.91 * 0.5), math.exp(0.91 * 0.3)),
    ],
)  # fmt: skip
def test_evalue_of_each_measure_equals_the_formulas(value, measure, ci, common, rr, rr_limit):
    ev = evalue(value, measure, ci, common)
    assert ev.risk_ratio == pytest.approx(rr, rel=1e-12)
    assert ev.evalue == pytest.approx(_e(rr), rel=1e-12)
    assert ev.evalue_limit == pytest.approx(_e(rr_limit), rel=1e-12)


def test_evalue_of_an_interval_containing_the_null_is_one() -> None:
    assert evalue(1.3, "rr", (0.9, 1.9)).evalue_limit == 1.0
    assert evalue(0.8, "rr", (0.6, 1.05)).evalue_limit == 1.0
    assert evalue(-0.1, "smd", (-0.3, 0.1)).evalue_limit == 1.0


def test_evalue_for_a_non_null_true_value() -> None:
    """VanderWeele & Ding: moving RR 3.9 to a true RR of 2 needs the E-value of 3.9/2."""
    assert evalue(3.9, "rr", true=2.0).evalue == pytest.approx(_e(1.95), rel=1e-12)


# --- Rosenbaum bounds ----------------------------------------------------------------------


def test_rosenbaum_exact_hand_computed_case() -> None:
    """Three positive pairs, ranks 1, 2, 3, T = 6: P(T ≥ 6) = p³ – 1/8 at Γ = 1; (2/3)³ and
    (1/3)³ at Γ = 2."""
    t, low, high = signed_rank_bounds(np.array([1.0, 2.0, 3.0]), 1.0, exact=True)
    assert (t, low, high) == (6.0, pytest.approx(0.125), pytest.approx(0.125))
    _, low, high = signed_rank_bounds(np.array([1.0, 2.0, 3.0]), 2.0, exact=True)
    assert high == pytest.approx((2 / 3) ** 3, abs=1e-15)
    assert low == pytest.approx((1 / 3) ** 3, abs=1e-15)


def test_rosenbaum_exact_equals_enumeration_of_every_sign_pattern() -> None:
    """An independent computation: sum the probability of all 2¹⁰ sign patterns whose
    signed-rank statistic is at least the observed one."""
    d = np.array([3.1, -0.4, 2.2, 5.0, 1.7, -1.1, 4.4, 0.9, 2.8, -2.5])
    ranks = stats.rankdata(np.abs(d))
    t_obs = ranks[d > 0].sum()
    for gamma in (1.0, 1.5, 3.0):
        p = gamma / (1 + gamma)
        brute = sum(
            p ** sum(signs) * (1 - p) ** (len(d) - sum(signs))
            for signs in itertools.product((0, 1), repeat=len(d))
            if np.dot(signs, ranks) >= t_obs
        )
        assert signed_rank_bounds(d, gamma, exact=True)[2] == pytest.approx(brute, abs=1e-12)


def test_rosenbaum_normal_bounds_equal_the_closed_forms() -> None:
    """Untied ranks 1…n: E = p·n(n+1)/2, V = p(1 − p)·n(n+1)(2n+1)/6 (the sums Σr and Σr²;
    rbounds' psens writes 2(n+1) for 2n+1 in its no-ties branch, so it differs slightly)."""
    rng = np.random.default_rng(3)
    d = rng.normal(0.4, 1.0, 60)
    n = len(d)
    t = stats.rankdata(np.abs(d))[d > 0].sum()
    for gamma in (1.0, 2.0, 4.0):
        for p, k in ((gamma / (1 + gamma), 2), (1 / (1 + gamma), 1)):
            z = (t - p * n * (n + 1) / 2) / math.sqrt(p * (1 - p) * n * (n + 1) * (2 * n + 1) / 6)
            assert signed_rank_bounds(d, gamma)[k] == pytest.approx(stats.norm.sf(z), abs=1e-12)


def test_sensitivity_gamma_is_where_the_upper_p_value_reaches_alpha() -> None:
    rng = np.random.default_rng(4)
    d = rng.normal(0.5, 1.0, 100)
    gamma = sensitivity_gamma(d, 0.05)
    assert gamma > 1.5
    assert signed_rank_bounds(d, gamma)[2] == pytest.approx(0.05, abs=1e-9)
    assert sensitivity_gamma(rng.normal(0.0, 1.0, 30) - 0.5, 0.05) == 1.0  # not significant


# --- the long story short bounds -----------------------------------------------------------


def _aipw(seed: int = 0, n: int = 2000):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    d = (rng.random(n) < 1 / (1 + np.exp(-(0.5 * x[:, 0] - 0.3 * x[:, 1])))).astype(float)
    y = d + x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=n)
    e = LogisticRegression(C=1e10).fit(x, d).predict_proba(x)[:, 1]
    g0 = LinearRegression().fit(x[d == 0], y[d == 0]).predict(x)
    g1 = LinearRegression().fit(x[d == 1], y[d == 1]).predict(x)
    return x, d, y, e, g0, g1


def _elements(d, y, e, g0, g1) -> RieszElements:
    score = g1 - g0 + d * (y - g1) / e - (1 - d) * (y - g0) / (1 - e)
    theta = float(score.mean())
    el = riesz_elements_ate(y, d, e, g0, g1)
    return RieszElements(theta, score - theta, *el["sigma2"], *el["nu2"])


def test_dml_bounds_equal_doubleml() -> None:
    """DoubleML's IRM given the same nuisance predictions: θ, the bounds and the robustness
    value equal to 1e-10. Its confidence bounds take the SE of θ ∓ bias from ψ_scaled ∓ s·ψ_S
    with ψ_scaled = ψ/E[∂ψ] = −(the influence function of θ) for the AIPW score, so its "lower"
    SE is that of θ + bias; Cerebro pairs each bound with its own influence function
    (ψ_θ ∓ s·ψ_S, Chernozhukov et al. 2022, §4): the two SEs trade places."""
    dml = pytest.importorskip("doubleml")
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    x, d, y, e, g0, g1 = _aipw()
    frame = pd.DataFrame({"y": y, "d": d, "x1": x[:, 0], "x2": x[:, 1]})
    model = dml.DoubleMLIRM(dml.DoubleMLData(frame, "y", "d"), LinearRegression(),
                            LogisticRegression(), n_folds=2)  # fmt: skip
    predictions = {"ml_g0": g0[:, None], "ml_g1": g1[:, None], "ml_m": e[:, None]}
    model.fit(external_predictions={"d": predictions})
    model.sensitivity_analysis(cf_y=0.04, cf_d=0.03, rho=1.0, level=0.95)
    ref = model.sensitivity_params
    el = _elements(d, y, e, g0, g1)
    assert el.theta == pytest.approx(float(model.coef[0]), abs=1e-10)
    b = dml_bounds(el, cf_y=0.04, cf_d=0.03, alpha=0.05)
    assert b.lower == pytest.approx(float(ref["theta"]["lower"][0]), abs=1e-10)
    assert b.upper == pytest.approx(float(ref["theta"]["upper"][0]), abs=1e-10)
    z = stats.norm.ppf(0.95)
    assert b.ci_low == pytest.approx(b.lower - z * float(ref["se"]["upper"][0]), abs=1e-10)
    assert b.ci_high == pytest.approx(b.upper + z * float(ref["se"]["lower"][0]), abs=1e-10)
    assert dml_robustness_value(el) == pytest.approx(float(ref["rv"][0]), abs=1e-5)
    model.sensitivity_analysis(cf_y=0.04, cf_d=0.03, null_hypothesis=0.5)  # q = 1 − 0.5/θ
    assert dml_robustness_value(el, null=0.5) == pytest.approx(
        float(model.sensitivity_params["rv"][0]), abs=1e-5
    )


def test_dml_bounds_without_confounding_are_the_estimate_and_its_one_sided_limits() -> None:
    _, d, y, e, g0, g1 = _aipw(seed=1)
    el = _elements(d, y, e, g0, g1)
    b = dml_bounds(el, 0.0, 0.0, 0.05)
    se = np.sqrt(np.sum(el.psi_theta**2)) / len(d)
    assert (b.lower, b.upper) == (el.theta, el.theta)
    assert b.ci_low == pytest.approx(el.theta - stats.norm.ppf(0.95) * se, rel=1e-12)


# --- the linear model: robust SE and robustness values ---------------------------------


def test_hc1_se_equals_statsmodels_and_robust_rv_alpha_is_where_the_interval_reaches_zero():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    n = 400
    X = rng.normal(size=(n, 3))
    d = (X[:, 0] + rng.normal(size=n) > 0).astype(float)
    y = 1.0 * d + X @ [1.0, -0.5, 0.2] + rng.normal(size=n) * (0.5 + 2 * d)
    ovb = linear_ovb(y, d, X, alpha=0.05, robust=True)
    fit = sm.OLS(y, sm.add_constant(np.column_stack([d, X]))).fit(cov_type="HC1")
    assert ovb.estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert ovb.se == pytest.approx(fit.bse[1], rel=1e-10)
    r = ovb.rv_alpha
    assert 0 < r < ovb.rv
    assert ovb.se_ratio != pytest.approx(1.0, abs=0.05)  # the robust SE differs here
    adj = bias_adjusted(ovb.estimate, ovb.se_classical, ovb.dof, r, r, 0.05, ovb.se_ratio)
    assert adj.ci_low == pytest.approx(0.0, abs=1e-10)
    classical = linear_ovb(y, d, X, alpha=0.05)
    assert classical.se == pytest.approx(
        sm.OLS(y, sm.add_constant(np.column_stack([d, X]))).fit().bse[1], rel=1e-10
    )


def test_linear_ovb_equals_statsmodels_on_an_ill_conditioned_polynomial() -> None:
    """age, age², age³ with age in 20–80 and a 12-level categorical: the eigendecomposition of
    the centred, scaled Gram matrix keeps every direction lstsq keeps."""
    import statsmodels.api as sm

    rng = np.random.default_rng(6)
    n = 800
    age = rng.uniform(20, 80, n)
    level = rng.integers(0, 12, n)
    dummies = (level[:, None] == np.arange(1, 12)).astype(float)
    X = np.column_stack([age, age**2, age**3, dummies])
    d = (rng.random(n) < 1 / (1 + np.exp(-(age - 50) / 10))).astype(float)
    y = 0.5 * d + 0.01 * age + 1e-4 * age**2 + level * 0.1 + rng.normal(size=n)
    ovb = linear_ovb(y, d, X, alpha=0.05)
    fit = sm.OLS(y, sm.add_constant(np.column_stack([d, X]))).fit()
    assert ovb.estimate == pytest.approx(fit.params[1], rel=1e-8)
    assert ovb.se == pytest.approx(fit.bse[1], rel=1e-8)
    assert ovb.dof == fit.df_resid
    # a duplicated column adds nothing: same estimate, same degrees of freedom
    again = linear_ovb(y, d, np.column_stack([X, X[:, 3]]), alpha=0.05)
    assert again.estimate == pytest.approx(ovb.estimate, rel=1e-8)
    assert again.dof == ovb.dof

"""Targeting policy: hand-checked profit/ROI arithmetic, budget, and the oracle's best k."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cerebro.core.errors import UserInputError
from cerebro.uplift.policy import POLICY_COLUMNS, targeting

SCORE = np.array([0.9, 0.9, 0.5, 0.2, 0.1, 0.1])
T = np.array([1, 0, 1, 0, 1, 0])
Y = np.array([1, 0, 0, 1, 1, 0])


def test_hand_computed_profit_and_roi():
    """Value 10 per outcome, cost 1 per treatment.

    k = 2, 3: an arm has < 2 rows, no estimate. k = 4 (rows A–D): treated y (1, 0), control
    (0, 1): uplift 0, incremental 0, cost 4, profit −4, ROI −1, SE 4·√(½/2 + ½/2) = 2√2.
    k = 6: treated (1, 0, 1), control (0, 1, 0): uplift 1/3, incremental 2, value 20, cost 6,
    profit 14, ROI 14/6, SE(incremental) = 6·√(⅓/3 + ⅓/3) = 2√2.
    """
    curve, decision = targeting(Y, T, SCORE, value_per_outcome=10, cost_per_treatment=1)
    assert tuple(curve.columns) == POLICY_COLUMNS
    assert curve["k"].tolist() == [0, 2, 3, 4, 6]
    assert np.isnan(curve["uplift"].iloc[1]) and np.isnan(curve["uplift"].iloc[2])
    row4, row6 = curve.iloc[3], curve.iloc[4]
    assert row4["incremental"] == pytest.approx(0.0, abs=1e-12)
    assert (
        row4["cost"] == 4
        and row4["profit"] == pytest.approx(-4)
        and row4["roi"] == pytest.approx(-1)
    )
    assert row4["incremental_se"] == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    assert row6["incremental"] == pytest.approx(2.0, rel=1e-12)
    assert row6["value"] == pytest.approx(20.0) and row6["cost"] == 6
    assert row6["profit"] == pytest.approx(14.0) and row6["roi"] == pytest.approx(14 / 6)
    assert row6["incremental_se"] == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    z = stats.norm.isf(0.025)
    assert row6["profit_ci_low"] == pytest.approx(14 - z * 10 * 2 * math.sqrt(2), rel=1e-12)
    assert decision["k"] == 6 and decision["profit"] == pytest.approx(14.0)
    assert decision["score_threshold"] == 0.1
    assert decision["treat_everyone"]["profit"] == pytest.approx(14.0)
    assert decision["treat_no_one"]["profit"] == 0.0
    assert decision["budget_binding"] is False


def test_budget_is_respected():
    _curve, decision = targeting(Y, T, SCORE, value_per_outcome=10, cost_per_treatment=1, budget=5)
    # only k = 4 (profit −4) fits besides k = 0: treat no one
    assert decision["k"] == 0 and decision["profit"] == 0.0
    assert decision["budget_binding"] is True
    assert decision["treat_everyone"]["within_budget"] is False
    rng = np.random.default_rng(1)
    n = 5000
    x = rng.random(n)
    t = (rng.random(n) < 0.5).astype(int)
    y = x + t * (2 * x - 0.5) + rng.normal(0, 1, n)
    for budget in (0.0, 100.0, 700.0, 1e9):
        curve, decision = targeting(y, t, x, cost_per_treatment=0.5, budget=budget)
        assert decision["cost"] <= budget
        feasible = curve[curve["within_budget"] & curve["uplift"].notna()]
        assert decision["profit"] == pytest.approx(
            max(0.0, feasible["profit"].max()) if len(feasible) else 0.0
        )
    _, capped = targeting(y, t, x, cost_per_treatment=0.1, max_treated=1000)
    assert capped["k"] <= 1000


def test_treat_everyone_is_the_overall_difference_in_means():
    rng = np.random.default_rng(2)
    n = 3000
    t = (rng.random(n) < 0.4).astype(int)
    y = rng.normal(5, 2, n) + 0.3 * t
    _, decision = targeting(y, t, rng.random(n), value_per_outcome=2.0, cost_per_treatment=0.1)
    everyone = decision["treat_everyone"]
    diff = y[t == 1].mean() - y[t == 0].mean()
    se = math.sqrt(y[t == 1].var(ddof=1) / t.sum() + y[t == 0].var(ddof=1) / (n - t.sum()))
    assert everyone["incremental"] == pytest.approx(n * diff, rel=1e-10)
    assert everyone["incremental_se"] == pytest.approx(n * se, rel=1e-9)
    assert everyone["profit"] == pytest.approx(2 * n * diff - 0.1 * n, rel=1e-10)


def test_chosen_k_matches_the_oracle_within_sampling_error():
    """20 replications, n = 20,000, CATE τ = 2(x − ½), score = τ + N(0, 0.2²), cost 0.3.

    The oracle treats the top k* of the same ranking maximising the true profit Σ(τ − 0.3)
    (≈ 35% of rows). The estimated k must land near k* (mean |Δ fraction| < 0.06, each
    < 0.12; the true profit curve is flat near its top, so k moves with noise of order
    n^(-1/3)) and the true profit lost must be below one SE of the incremental estimate at k*
    in at least 18 of 20 replications.
    """
    gaps, within = [], 0
    for rep in range(20):
        rng = np.random.default_rng(100 + rep)
        n = 20_000
        x = rng.random(n)
        tau = 2 * (x - 0.5)
        score = tau + rng.normal(0, 0.2, n)
        t = (rng.random(n) < 0.5).astype(int)
        y = x + t * tau + rng.normal(0, 1, n)
        curve, decision = targeting(y, t, score, value_per_outcome=1.0, cost_per_treatment=0.3)
        true_profit = np.r_[0.0, np.cumsum(tau[np.argsort(-score)] - 0.3)]
        k_star = int(np.argmax(true_profit))
        gaps.append(abs(decision["k"] - k_star) / n)
        se_star = float(curve.loc[curve["k"] == k_star, "incremental_se"].iloc[0])
        within += true_profit[k_star] - true_profit[decision["k"]] <= se_star
    assert np.mean(gaps) < 0.06
    assert max(gaps) < 0.12
    assert within >= 18


def test_bad_policy_inputs():
    with pytest.raises(UserInputError, match="cost_per_treatment"):
        targeting(Y, T, SCORE, budget=10)
    with pytest.raises(UserInputError, match="cost_per_treatment=-1"):
        targeting(Y, T, SCORE, cost_per_treatment=-1)
    with pytest.raises(UserInputError, match=r"max_treated=2\.5"):
        targeting(Y, T, SCORE, max_treated=2.5)

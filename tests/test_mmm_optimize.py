"""The budget optimiser against closed forms, its guarantee, its intervals and its refusals.

Closed form: with response_c(x) = β_c (1 − exp(−x/κ)) and one κ for every channel, the KKT
condition of max Σ_c β_c (1 − e^{−x_c/κ}) s.t. Σ x_c = B is β_c e^{−x_c/κ} / κ = λ for every
channel not at a bound, so x_c = κ (ln β_c − mean_j ln β_j) + B' / m over the m free channels
sharing B' (the budget minus what bound channels take). For the profit objective with a slack
budget, value · β_c e^{−x_c/κ} / κ = 1, so x_c = κ ln(value · β_c / κ).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cerebro.core.errors import UserInputError
from cerebro.mmm.optimize import (
    BudgetProblem,
    optimize_budget,
    parse_bounds,
    plot_budget_plan,
)

KAPPA = 2.0
BETA = np.array([3.0, 5.0, 8.0, 13.0])
NAMES = ("tv", "search", "social", "radio")


def exponential_response(beta: np.ndarray, kappa: float, multipliers: np.ndarray):
    """Σ_c m_s β_c (1 − exp(−total_c/κ)) per draw s: a posterior whose draws share the curve's
    shape and differ in scale (mean multiplier 1, so the mean response is the deterministic
    one)."""

    def response(plan: np.ndarray) -> np.ndarray:
        totals = plan.sum(axis=0)
        return multipliers * float((beta * (1 - np.exp(-totals / kappa))).sum())

    return response


def closed_form(beta: np.ndarray, kappa: float, budget: float) -> np.ndarray:
    log_beta = np.log(beta)
    return kappa * (log_beta - log_beta.mean()) + budget / beta.size


def draws(n: int = 200, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).lognormal(0.0, 0.2, n)
    return m / m.mean()


def weekly_plan(totals: np.ndarray, periods: int = 13, seed: int = 1) -> np.ndarray:
    pattern = np.random.default_rng(seed).uniform(0.5, 1.5, (periods, totals.size))
    return pattern / pattern.sum(axis=0) * totals


def test_closed_form_equal_curvature_matches_to_1e_4():
    budget = 12.0
    exact = closed_form(BETA, KAPPA, budget)
    assert (exact > 0).all()  # an interior optimum
    problem = BudgetProblem(NAMES, weekly_plan(np.full(4, 3.0)), budget=budget)
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws()), problem)
    np.testing.assert_allclose(plan.optimal_spend, exact, rtol=1e-4)
    assert plan.optimal_spend.sum() == pytest.approx(budget, rel=1e-12)
    assert plan.converged
    # KKT: equal marginal ROI β_c e^{−x_c/κ}/κ = λ across the (all unconstrained) channels
    lam = BETA[0] * np.exp(-exact[0] / KAPPA) / KAPPA
    np.testing.assert_allclose(plan.marginal_roi, lam, rtol=1e-5)
    assert [f.code for f in plan.findings] == ["marginal_roi_equal"]
    assert plan.objective_optimal > plan.objective_current


def test_bounds_active_sit_on_the_bound_and_the_rest_resolve():
    budget = 12.0
    current = np.full(4, 3.0)
    exact = closed_form(BETA, KAPPA, budget)
    # radio wants ~5.2 (> 1.2 × 3 = 3.6); with radio held there tv wants ~1.81 (< 0.7 × 3)
    assert exact[3] > 3.6 and closed_form(BETA[:3], KAPPA, budget - 3.6)[0] < 2.1
    bounds = parse_bounds("radio=0:1.2,tv=0.7:2", NAMES)
    problem = BudgetProblem(NAMES, current, budget=budget, periods=4, bounds=bounds)
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws()), problem)
    assert plan.optimal_spend[3] == pytest.approx(3.6, rel=1e-9)
    assert plan.optimal_spend[0] == pytest.approx(2.1, rel=1e-9)
    rest = closed_form(BETA[1:3], KAPPA, budget - 3.6 - 2.1)
    np.testing.assert_allclose(plan.optimal_spend[1:3], rest, rtol=1e-4)
    assert plan.at_bound == ("lower", "", "", "upper")
    # KKT with bounds: the upper-bound channel returns more at the margin, the lower-bound less
    lam = plan.marginal_roi[1]
    assert plan.marginal_roi[2] == pytest.approx(lam, rel=1e-5)
    assert plan.marginal_roi[3] > lam > plan.marginal_roi[0]


def test_profit_objective_spends_less_when_the_margin_is_below_cost():
    value = 2.0
    exact = KAPPA * np.log(value * BETA / KAPPA)  # value · β e^{−x/κ}/κ = 1
    budget = 40.0
    assert exact.sum() < budget and (exact > 0).all()
    problem = BudgetProblem(NAMES, np.full(4, 2.0), budget=budget, periods=1, objective="profit",
                            kpi_value=value)  # fmt: skip
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws()), problem)
    np.testing.assert_allclose(plan.optimal_spend, exact, rtol=1e-4)
    np.testing.assert_allclose(plan.marginal_roi, 1.0, rtol=1e-5)
    assert plan.objective_optimal == pytest.approx(
        value * (BETA * (1 - np.exp(-exact / KAPPA))).sum() - exact.sum(), rel=1e-9
    )
    # a binding budget: the profit plan spends all of it, in the KPI objective's shares
    tight = BudgetProblem(NAMES, np.full(4, 2.0), budget=8.0, periods=1, objective="profit",
                          kpi_value=value)  # fmt: skip
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws()), tight)
    assert plan.optimal_spend.sum() <= 8.0 * (1 + 1e-12)
    np.testing.assert_allclose(plan.optimal_spend, closed_form(BETA, KAPPA, 8.0), rtol=1e-4)


def hill_response(rng: np.random.Generator, periods: int, channels: int, n_draws: int):
    """Geometric adstock then a Hill curve per channel and draw, summed over periods."""
    decay = rng.beta(3, 3, (n_draws, channels))
    half = rng.lognormal(np.log(40), 0.2, (n_draws, channels))
    slope = rng.uniform(1.2, 2.5, (n_draws, channels))
    beta = rng.lognormal(np.log(rng.uniform(50, 300, channels)), 0.3, (n_draws, channels))

    def response(plan: np.ndarray) -> np.ndarray:
        stock, total = np.zeros((n_draws, channels)), np.zeros(n_draws)
        for t in range(periods):
            stock = decay * stock + plan[t]
            total += (beta * stock**slope / (half**slope + stock**slope)).sum(axis=1)
        return total

    return response


@pytest.mark.parametrize("seed", range(6))
def test_never_worse_than_a_current_plan_at_or_near_the_optimum(seed):
    rng = np.random.default_rng(seed)
    beta = rng.uniform(1, 20, 4)
    budget = float(rng.uniform(8, 20))
    optimum = closed_form(beta, KAPPA, budget)
    if (optimum <= 0).any():
        optimum = np.full(4, budget / 4)  # then only "near": still never worse
    near = optimum * (1 + rng.normal(0, 1e-7 if seed % 2 else 0.0, 4))
    near *= budget / near.sum()
    response = exponential_response(beta, KAPPA, draws(100, seed))
    problem = BudgetProblem(NAMES, near, budget=budget, periods=2)
    plan = optimize_budget(response, problem, seed=seed)
    assert plan.objective_optimal >= plan.objective_current - 1e-9
    # the reported objectives are the draws' means, not the optimiser's own numbers
    assert plan.objective_current == pytest.approx(float(np.mean(response(problem.current))))
    # a Hill/adstock posterior with a random current plan and random bounds
    hill = hill_response(rng, 5, 3, 50)
    current = rng.uniform(5, 50, (5, 3))
    bounds = {c: (float(rng.uniform(0, 0.9)), float(rng.uniform(1.1, 3))) for c in "xyz"}
    for objective in ("kpi", "profit"):
        problem = BudgetProblem(("x", "y", "z"), current, bounds=bounds, objective=objective)
        plan = optimize_budget(hill, problem, seed=seed, starts=2)
        assert plan.objective_optimal >= plan.objective_current - 1e-9
        assert (plan.optimal_spend >= problem.lower - 1e-9).all()
        assert (plan.optimal_spend <= problem.upper + 1e-9).all()
        assert plan.optimal_spend.sum() <= problem.budget * (1 + 1e-12)


def test_a_failing_optimiser_returns_the_current_plan_with_a_finding():
    current = weekly_plan(np.array([3.0, 4.0, 5.0]), periods=4)
    good = exponential_response(BETA[:3], KAPPA, draws(50))

    def response(plan: np.ndarray) -> np.ndarray:
        out = good(plan)
        return out if np.array_equal(plan, current) else out * np.nan

    problem = BudgetProblem(NAMES[:3], current)
    plan = optimize_budget(response, problem)
    np.testing.assert_array_equal(plan.optimal_plan, current)
    np.testing.assert_array_equal(plan.optimal_spend, current.sum(axis=0))
    assert plan.uplift.mean == 0 and plan.objective_optimal == plan.objective_current
    assert not plan.converged
    assert any(f.code == "current_plan_kept" and f.level == "warning" for f in plan.findings)


def test_current_plan_already_optimal_is_kept_or_matched():
    exact = closed_form(BETA, KAPPA, 12.0)
    problem = BudgetProblem(NAMES, exact, periods=1)
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws()), problem)
    np.testing.assert_allclose(plan.optimal_spend, exact, rtol=1e-6)
    assert plan.objective_optimal >= plan.objective_current


def test_a_current_plan_better_than_anything_found_is_returned():
    # a spike at the current plan that finite differences cannot see: every start ends on the
    # smooth optimum, worth less than the current plan, so the guarantee must return the latter
    current = np.full((1, 4), 3.0)
    smooth = exponential_response(BETA, KAPPA, draws(50))

    def response(plan: np.ndarray) -> np.ndarray:
        return smooth(plan) + (10.0 if np.allclose(plan, current, rtol=1e-9, atol=0) else 0.0)

    plan = optimize_budget(response, BudgetProblem(NAMES, current))
    np.testing.assert_array_equal(plan.optimal_spend, current[0])
    assert plan.objective_optimal == plan.objective_current
    assert plan.findings[0].code == "current_plan_kept"


def test_a_channel_without_current_spend_stays_at_zero():
    current = weekly_plan(np.array([3.0, 4.0, 5.0, 1.0]), periods=5)
    current[:, 1] = 0.0
    response = exponential_response(BETA, KAPPA, draws(30))
    plan = optimize_budget(response, BudgetProblem(NAMES, current, budget=13.0))
    assert plan.optimal_spend[1] == 0 and plan.at_bound[1] == "fixed"
    keep = [0, 2, 3]
    np.testing.assert_allclose(
        plan.optimal_spend[keep], closed_form(BETA[keep], KAPPA, 13.0), rtol=1e-4
    )
    single = optimize_budget(response, BudgetProblem(NAMES[:1], np.ones(1), budget=4, periods=1))
    assert single.optimal_spend[0] == pytest.approx(4.0, rel=1e-12)


def test_spend_is_spread_in_the_current_weekly_pattern_or_flat():
    current = weekly_plan(np.array([3.0, 3.0, 3.0, 3.0]), periods=6)
    seen: list[np.ndarray] = []
    base = exponential_response(BETA, KAPPA, draws(20))

    def response(plan: np.ndarray) -> np.ndarray:
        seen.append(plan.copy())
        return base(plan)

    plan = optimize_budget(response, BudgetProblem(NAMES, current))
    pattern = current / current.sum(axis=0)
    np.testing.assert_allclose(plan.optimal_plan / plan.optimal_spend, pattern, rtol=1e-12)
    assert all(p.shape == (6, 4) for p in seen)
    flat = optimize_budget(base, BudgetProblem(NAMES, np.full(4, 3.0), periods=6))
    np.testing.assert_allclose(flat.optimal_plan, np.tile(flat.optimal_spend / 6, (6, 1)))


def test_intervals_contain_the_mean_and_the_paired_uplift_is_narrower():
    # draws share a scale: both plans' KPI move together, so the per-draw difference varies
    # far less than either plan's KPI
    problem = BudgetProblem(NAMES, np.full(4, 3.0), budget=12.0, periods=1)
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws(400)), problem, alpha=0.1)
    for s in (plan.kpi_current, plan.kpi_optimal, plan.uplift):
        assert s.low <= s.mean <= s.high
    unpaired = (plan.kpi_optimal.high - plan.kpi_current.low) - (
        plan.kpi_optimal.low - plan.kpi_current.high
    )
    paired = plan.uplift.high - plan.uplift.low
    assert paired < 0.2 * unpaired
    assert plan.uplift.low > 0  # every draw prefers the optimal plan here
    np.testing.assert_allclose(
        [plan.uplift.low, plan.uplift.high],
        np.quantile(plan.kpi_draws_optimal - plan.kpi_draws_current, [0.05, 0.95]),
    )
    assert plan.uplift.mean == pytest.approx(plan.kpi_optimal.mean - plan.kpi_current.mean)
    estimates = {e.key: e for e in plan.estimates()}
    assert set(estimates) == {"kpi_current", "kpi_optimal", "uplift"}
    assert all(e.ci_low <= e.value <= e.ci_high for e in estimates.values())
    table = plan.channel_table()
    assert table["channel"] == list(NAMES) and len(table["marginal_roi_optimal"]) == 4


def test_same_seed_same_plan():
    rng = np.random.default_rng(3)
    response = hill_response(rng, 4, 3, 40)
    problem = BudgetProblem(("x", "y", "z"), rng.uniform(5, 50, (4, 3)), objective="profit")
    first = optimize_budget(response, problem, seed=7)
    again = optimize_budget(response, problem, seed=7)
    np.testing.assert_array_equal(first.optimal_plan, again.optimal_plan)
    np.testing.assert_array_equal(first.marginal_roi, again.marginal_roi)


def test_roi_floor_holds_and_marginal_roi_stays_equal():
    # the profit optimum returns R per unit of spend; a floor of 1.2 R makes the plan spend less
    response = exponential_response(BETA, KAPPA, draws())
    free = optimize_budget(
        response,
        BudgetProblem(NAMES, np.full(4, 3.0), budget=12.0, periods=1, objective="profit"),
    )
    roi = free.kpi_optimal.mean / free.optimal_spend.sum()
    problem = BudgetProblem(NAMES, np.full(4, 3.0), budget=12.0, periods=1, objective="profit",
                            roi_floor=1.2 * roi)  # fmt: skip
    plan = optimize_budget(response, problem)
    assert plan.kpi_optimal.mean == pytest.approx(1.2 * roi * plan.optimal_spend.sum(), rel=1e-6)
    assert plan.optimal_spend.sum() < free.optimal_spend.sum()
    assert plan.objective_optimal < free.objective_optimal
    # the floor's gradient is the same in every channel, so the marginal ROIs remain equal (> 1)
    codes = [f.code for f in plan.findings]
    assert codes == ["roi_floor_current", "roi_floor_active", "marginal_roi_equal"]
    assert plan.marginal_roi.min() > 1.01


def test_a_different_budget_compares_the_current_mix_at_that_budget():
    problem = BudgetProblem(NAMES, np.array([1.0, 2.0, 3.0, 4.0]), budget=20.0, periods=1)
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws()), problem)
    np.testing.assert_allclose(plan.current_spend, [2.0, 4.0, 6.0, 8.0], rtol=1e-12)
    assert plan.optimal_spend.sum() == pytest.approx(20.0, rel=1e-12)
    assert any(f.code == "current_rescaled" for f in plan.findings)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"budget": 0.0}, ["budget is 0", "above 0"]),
        ({"budget": -5.0}, ["budget is -5"]),
        (
            {"budget": 100.0, "bounds": {"tv": (0, 2), "search": (0, 1.5)}},
            ["at most 17 in total", "tv 2 × 4", "search 1.5 × 6", "less than the budget 100"],
        ),
        ({"budget": 1.0, "bounds": {"tv": (0.5, 2)}}, ["need 2 in total", "budget 1"]),
        ({"bounds": {"print": (0.5, 2)}}, ["'print'", "tv, search"]),
        ({"bounds": {"tv": (2, 1)}}, ["low 2 above high 1"]),
        ({"bounds": {"tv": (-1, 1)}}, ["negative"]),
        ({"objective": "roas"}, ["'roas'", "kpi, profit"]),
        ({"kpi_value": 0.0}, ["kpi_value is 0"]),
    ],
)
def test_bad_problems_are_one_sentence_naming_the_numbers(kwargs, words):
    with pytest.raises(UserInputError) as caught:
        BudgetProblem(("tv", "search"), np.array([4.0, 6.0]), periods=2, **kwargs)
    message = str(caught.value)
    assert all(w in message for w in words), message
    assert not re.search(r"\.\s+[A-Z]", message) and message.endswith(".")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tv=0.5:1.5,print=1:2", ["'print'", "tv, search"]),
        ("tv=1.5:0.5", ["low 1.5 above high 0.5"]),
        ("tv=-0.5:1", ["negative"]),
        ("tv=0.5", ["channel=low:high"]),
        ("tv=a:1", ["not a number"]),
        ("tv=0.5:1,tv=1:2", ["twice"]),
        ("tv=nan:1", ["finite low"]),
    ],
)
def test_parse_bounds_refusals(text, words):
    with pytest.raises(UserInputError) as caught:
        parse_bounds(text, ("tv", "search"))
    assert all(w in str(caught.value) for w in words), str(caught.value)


def test_parse_bounds_reads_the_cli_text():
    assert parse_bounds(" tv=0.5:1.5, search=0.8:2 ,", ("tv", "search", "radio")) == {
        "tv": (0.5, 1.5),
        "search": (0.8, 2.0),
    }
    assert parse_bounds("tv=0:inf", ("tv",)) == {"tv": (0.0, float("inf"))}


def test_bad_response_and_options():
    problem = BudgetProblem(NAMES, np.full(4, 3.0), periods=1)
    with pytest.raises(ValueError, match="1-D array"):
        optimize_budget(lambda plan: np.ones((2, 2)), problem)
    with pytest.raises(UserInputError, match="NaN"):
        optimize_budget(lambda plan: np.full(3, np.nan), problem)
    with pytest.raises(UserInputError, match="alpha"):
        optimize_budget(exponential_response(BETA, KAPPA, draws(5)), problem, alpha=1.5)


def test_plot_draws_spend_and_kpi_panels():
    problem = BudgetProblem(NAMES, np.full(4, 3.0), budget=12.0, periods=1)
    plan = optimize_budget(exponential_response(BETA, KAPPA, draws(50)), problem)
    fig = plot_budget_plan(plan)
    spend_ax, kpi_ax = fig.axes
    heights = [p.get_height() for p in spend_ax.patches]
    np.testing.assert_allclose(heights, [*plan.current_spend, *plan.optimal_spend])
    assert len(kpi_ax.lines) >= 2


def test_six_channels_thousand_draws_thirteen_periods_converges_with_equal_marginal_roi():
    rng = np.random.default_rng(11)
    response = hill_response(rng, 13, 6, 1000)
    names = tuple("abcdef")
    problem = BudgetProblem(names, rng.uniform(10, 60, (13, 6)),
                            bounds={c: (0.3, 3.0) for c in names})  # fmt: skip
    plan = optimize_budget(response, problem)
    assert plan.converged and plan.objective_optimal > plan.objective_current
    assert [f.code for f in plan.findings] == ["marginal_roi_equal"]

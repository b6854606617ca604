"""The numbers behind the intelligence routes, without the service: the insights text holds no
number its results do not; the budget optimiser finds the closed-form optimum of power curves
and of a stored MMM's curves; the treatment recommendation is the hand-solved optimum."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from cerebro.core.results import Result

# a number stands alone: not a piece of a word or of a hexadecimal id such as "15e7251d22…"
NUMBER = re.compile(r"(?:<\s*)?(?<![\w.])[-+−]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w])")


def numbers_in(text: str) -> list[str]:
    """Every number written in `text` (thousands separators, signs, exponents, percentages);
    '< 0.0001' – a bound, as a p-value below display – keeps its '<'."""
    return NUMBER.findall(text)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def result_numbers(result: Result) -> list[float]:
    """Every number a result holds: its numeric values, the numbers written in its own text
    (narrative, findings, title), and – for a level – 1 − alpha."""
    out: list[float] = []
    for leaf in _leaves(result.to_dict()):
        if isinstance(leaf, bool) or leaf is None:
            continue
        if isinstance(leaf, (int, float)):
            out.append(float(leaf))
        elif isinstance(leaf, str):
            out += [_value(n)[0] for n in numbers_in(leaf)]
    alpha = result.summary.get("alpha")
    if alpha:
        out.append(1 - alpha)
    return [x for x in out if math.isfinite(x)]


def _value(text: str) -> tuple[float, float, bool]:
    """The number, the half-unit of its last written digit (its displayed rounding), and
    whether it is a percentage."""
    clean = text.lstrip("<").strip().replace(",", "").replace("−", "-").rstrip("%")
    mantissa = clean.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(clean.lower().split("e")[1]) if "e" in clean.lower() else 0
    return float(clean), 0.5 * 10.0 ** (exponent - decimals), text.endswith("%")


def unexplained(text: str, results: list[Result]) -> list[str]:
    """The numbers of `text` that no result holds at the displayed rounding (a percentage may
    also be a share × 100)."""
    held = [x for r in results for x in result_numbers(r)]
    missing = []
    for written in numbers_in(text):
        value, half, percent = _value(written)
        if written.startswith("<"):  # a bound: the results hold it, or a number below it
            if not any(0 <= x < value or x == value for x in held):
                missing.append(written)
            continue
        candidates = held + ([100 * x for x in held] if percent else [])
        if not any(abs(abs(value) - abs(x)) <= half * (1 + 1e-9) + 1e-12 for x in candidates):
            missing.append(written)
    return missing


@pytest.fixture(scope="module")
def results() -> list[Result]:
    from cerebro.experiments.examples import _trial, abtest, power
    from cerebro.run import run_spec

    fields, frame = abtest()
    ab = run_spec({"kind": "abtest", **fields}, frame)
    causal = run_spec(
        {
            "kind": "causal",
            "treatment": "arm",
            "outcome": "revenue",
            "confounders": ["pre_revenue"],
            "control": "control",
            "method": "aipw",
        },
        _trial(),
    )
    small = run_spec({"kind": "abtest", **fields}, frame.sample(120, random_state=1))
    return [ab, causal, small, run_spec({"kind": "power", **power()[0]})]


def _text(answer: dict[str, Any]) -> str:
    return " ".join(
        [
            answer["executive_summary"],
            *answer["learned"],
            *answer["confidence"],
            *answer["next_steps"],
            *answer["caveats"],
        ]
    )


def test_every_number_in_the_insights_is_in_the_results(results):
    from cerebro.report.insights import insights

    for chosen in ([results[0]], [results[1]], [results[2]], [results[3]], results):
        answer = insights(chosen).to_dict()
        text = _text(answer)
        assert numbers_in(text), "the text should state numbers"
        assert unexplained(text, chosen) == []
        assert answer["generator"] == "templates"
        assert all(answer[k] for k in ("learned", "confidence", "next_steps", "caveats"))


def test_the_number_check_catches_an_invented_number(results):
    from cerebro.report.insights import insights

    text = _text(insights([results[0]]).to_dict())
    assert unexplained(text + " The lift was 0.4123.", [results[0]]) == ["0.4123"]
    assert unexplained(text + " It rose by 12.9%.", [results[0]]) == ["12.9%"]
    # the displayed rounding counts: 0.3404 is in the result, 0.3405 is not
    assert unexplained("0.3404 and 0.3405", [results[0]]) == ["0.3405"]


def test_insights_say_what_is_clear_unclear_and_untestable(results):
    from cerebro.report.insights import insights

    ab, causal, small, _ = results
    answer = insights([ab, causal]).to_dict()
    assert any("clearly above zero" in line for line in answer["confidence"])
    assert any("believed by design" in line for line in answer["confidence"])
    assert any("sensitivity" in line for line in answer["next_steps"])  # observational
    unclear = insights([small]).to_dict()
    if all("not distinguishable" in c for c in unclear["confidence"] if "interval" in c):
        assert any("larger or longer test" in s for s in unclear["next_steps"])


def test_insights_name_a_disagreement():
    from cerebro.core.results import Estimate
    from cerebro.report.insights import insights

    def result(value: float, title: str) -> Result:
        e = Estimate("effect", value, 0.1, value - 0.2, value + 0.2, 0.01)
        return Result(
            kind="causal",
            method="aipw",
            spec={"kind": "causal", "outcome": "y"},
            estimates=[e],
            summary={"title": title, "alpha": 0.05},
        )

    answer = insights([result(1.0, "study A"), result(-1.0, "study B")]).to_dict()
    assert any(
        "disagree on 'y'" in c and "study A" in c and "study B" in c for c in answer["caveats"]
    )


# ---- budget optimiser ------------------------------------------------------------------------


def test_power_curves_reach_the_closed_form_split():
    from cerebro.mmm.measured import Measured, closed_form_split, power_response
    from cerebro.mmm.optimize import BudgetProblem, optimize_budget

    measured = [
        Measured("tv", 100.0, 80.0, 0.0),
        Measured("search", 50.0, 60.0, 0.0),
        Measured("social", 80.0, 30.0, 0.0),
    ]
    for beta in (0.3, 0.5, 0.8):
        response = power_response(measured, beta, seed=0, draws=50)
        problem = BudgetProblem(
            channels=("tv", "search", "social"), current=np.array([100.0, 50.0, 80.0]), periods=1
        )
        plan = optimize_budget(response, problem, alpha=0.1)
        truth = closed_form_split(measured, beta, 230.0)
        # closed form: x_c ∝ (m_c / s_c^β)^(1/(1−β)); the optimiser's gradient is numerical
        np.testing.assert_allclose(plan.optimal_spend, truth, rtol=2e-3, atol=0.05)
        assert plan.objective_optimal >= plan.objective_current - 1e-9


def test_an_optimal_current_plan_is_kept():
    """Starting at the closed-form optimum, the optimiser cannot do better and returns a plan
    no worse than it (the guarantee), within the solver's tolerance of the same split."""
    from cerebro.mmm.measured import Measured, closed_form_split, power_response
    from cerebro.mmm.optimize import BudgetProblem, optimize_budget

    measured = [Measured("tv", 100.0, 80.0, 0.0), Measured("search", 50.0, 60.0, 0.0)]
    best = closed_form_split(measured, 0.5, 150.0)
    problem = BudgetProblem(channels=("tv", "search"), current=best, periods=1)
    plan = optimize_budget(power_response(measured, 0.5, seed=1), problem, alpha=0.1)
    assert plan.objective_optimal >= plan.objective_current
    np.testing.assert_allclose(plan.optimal_spend, best, rtol=1e-3)
    assert abs(plan.uplift.mean) < 1e-6 * plan.kpi_current.mean


def mmm_curve_table(a: dict[str, float], band: float) -> dict[str, list]:
    """A `response_curves` table of curves a·√x on a fine grid, interval ±band × mean."""
    grid = np.linspace(0, 400, 4001)
    table: dict[str, list] = {
        k: [] for k in ("channel", "weekly_spend", "contribution", "low", "high")
    }
    for name, coef in a.items():
        mean = coef * np.sqrt(grid)
        table["channel"] += [name] * len(grid)
        table["weekly_spend"] += grid.tolist()
        table["contribution"] += mean.tolist()
        table["low"] += ((1 - band) * mean).tolist()
        table["high"] += ((1 + band) * mean).tolist()
    return table


@pytest.mark.parametrize("band", [0.0, 0.1])
def test_a_stored_mmm_curve_table_reaches_its_optimum(band):
    """Curves a·√x: the optimum of Σ_c p·a_c·√(x_c/p) under Σ x = B is the closed-form split
    with β = 1/2 (weeks spread evenly). With a band, each draw scales channel c's curve by
    1 + z_c·sd/mean, so the posterior-mean optimum is the split of the draws' mean scales."""
    from cerebro.mmm.measured import curves_from_table, curves_response
    from cerebro.mmm.optimize import BudgetProblem, optimize_budget
    from cerebro.stats.intervals import quantile

    curves = curves_from_table(mmm_curve_table({"tv": 3.0, "search": 2.0}, band), 0.1)
    current = np.repeat(np.array([[100.0, 100.0]]), 4, axis=0)
    problem = BudgetProblem(channels=curves.channels, current=current)
    plan = optimize_budget(curves_response(curves, seed=0, draws=200), problem, alpha=0.1)
    z = np.random.default_rng(0).standard_normal((200, 2)).mean(axis=0)  # the draws' z_c
    scale = np.array([3.0, 2.0]) * (1 + z * band / quantile(0.95, None))
    np.testing.assert_allclose(plan.optimal_spend, 800 * scale**2 / (scale**2).sum(), rtol=2e-3)
    assert plan.uplift.mean > 0
    width = plan.kpi_optimal.mean - plan.kpi_optimal.low
    assert (width > 1e-9 * plan.kpi_optimal.mean) == (band > 0)


# ---- treatment recommendations ---------------------------------------------------------------


def _segments():
    from cerebro.uplift.recommend import Segment

    rows = [  # (segment, n, effect, cost)
        ("a", 100, 0.5, 0.1),
        ("b", 200, 0.3, 0.1),
        ("c", 300, 0.05, 0.1),
        ("d", 100, -0.2, 0.1),
    ]
    return [Segment("s", "B", name, n, tau, 0.02, cost, name) for name, n, tau, cost in rows]


def test_the_recommendation_is_the_hand_solved_optimum():
    from cerebro.uplift.recommend import recommend

    # profit: value 1, cost 0.1 → net 0.4, 0.2, −0.05, −0.3 per unit: treat a and b only
    plan = recommend(_segments(), "profit", 1.0)
    np.testing.assert_allclose(plan.share, [1, 1, 0, 0], atol=1e-9)
    assert plan.total_outcome == pytest.approx(100 * 0.5 + 200 * 0.3)
    # capacity 200 units: all of a, then half of b (greedy by value per unit is optimal)
    plan = recommend(_segments(), "profit", 1.0, capacity=200)
    np.testing.assert_allclose(plan.share, [1, 0.5, 0, 0], atol=1e-9)
    # outcome objective ignores cost, takes every positive effect; a budget of 35 treats 350
    plan = recommend(_segments(), "outcome", 1.0, budget=35)
    np.testing.assert_allclose(plan.share, [1, 1, 50 / 300, 0], atol=1e-9)
    assert plan.total_cost == pytest.approx(35)
    se = math.sqrt((100 * 0.02) ** 2 + (200 * 0.02) ** 2 + (50 * 0.02) ** 2)
    assert plan.total_se == pytest.approx(se)


def test_one_treatment_per_unit_across_arms():
    from cerebro.uplift.recommend import Segment, recommend

    # the same 100 units under two arms: B brings 0.5 each, C 0.3 – only B, never both
    both = [
        Segment("s", "B", "all", 100, 0.5, 0.01, 0.0, "s"),
        Segment("s", "C", "all", 100, 0.3, 0.01, 0.0, "s"),
    ]
    plan = recommend(both, "outcome")
    np.testing.assert_allclose(plan.share, [1, 0], atol=1e-9)


def test_recommendation_refusals():
    from cerebro.core.errors import UserInputError
    from cerebro.uplift.recommend import recommend

    with pytest.raises(UserInputError, match="objective"):
        recommend(_segments(), "revenue")
    with pytest.raises(UserInputError, match="capacity"):
        recommend(_segments(), capacity=-1)
    with pytest.raises(UserInputError, match="no measured segments"):
        recommend([])


FAST_KINDS = ["abtest", "bandit", "design", "sequential_design", "geotest", "geo_design", "did",
              "iv", "rdd", "synthetic_control", "counterfactual", "survival", "longitudinal",
              "sensitivity"]  # fmt: skip  # power, causal: above; mmm, uplift: minutes to fit


@pytest.mark.parametrize("kind", FAST_KINDS)
def test_insights_of_each_kind_hold_only_its_numbers(kind):
    """Each kind's own seeded example (the contract test's): the insights text states numbers
    and every one of them is in the result."""
    import importlib

    from cerebro.core.registry import get_method
    from cerebro.report.insights import insights
    from cerebro.run import run_spec

    module, function = str(get_method(kind).example).split(":")
    fields, data = getattr(importlib.import_module(module), function)()
    result = run_spec({"kind": kind, **fields}, data)
    text = _text(insights([result]).to_dict())
    assert numbers_in(text) and unexplained(text, [result]) == []


def test_a_result_without_a_decision_is_summed_up_by_its_narrative():
    from cerebro.geo.examples import geo_design
    from cerebro.report.insights import insights
    from cerebro.run import run_spec

    fields, panel = geo_design()
    result = run_spec({"kind": "geo_design", **fields}, panel)
    summary = insights([result]).to_dict()["executive_summary"]
    assert result.narrative().splitlines()[0] in summary and "no decision" not in summary

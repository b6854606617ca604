"""Fixed per-geo budgets (`mmm-optimize --geo-budgets`, `cerebro.mmm.geo_budget`): the per-geo
optimum against a closed form, optimal ≥ current in every geo on a fitted geo model, and each
bad input refused in one sentence naming the value (exit code 2 from the command line).

Closed form (as in test_mmm_optimize): with response_{g,c}(x) = β_{g,c} (1 − exp(−x/κ)) and one
κ for every pair, each geo's optimum under its budget B_g is
x_{g,c} = κ (ln β_{g,c} − mean_j ln β_{g,j}) + B_g / C when every channel is interior."""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.core.errors import UserInputError
from cerebro.mmm.geo_budget import geo_budgets, optimize_per_geo
from cerebro.mmm.optimize import BudgetProblem

KAPPA = 2.0
CHANNELS = ("tv", "search", "social")
BETA = np.array([[3.0, 5.0, 8.0], [6.0, 2.0, 4.0], [10.0, 10.0, 1.5]])  # geo × channel
BUDGETS = np.array([9.0, 6.0, 12.0])


def closed_form(beta: np.ndarray, budget: float) -> np.ndarray:
    log_beta = np.log(beta)
    return KAPPA * (log_beta - log_beta.mean()) + budget / beta.size


def response(beta: np.ndarray, multipliers: np.ndarray):
    def kpi(plan: np.ndarray) -> np.ndarray:
        return multipliers * float((beta * (1 - np.exp(-plan.sum(axis=0) / KAPPA))).sum())

    return kpi


def test_each_geo_reaches_its_closed_form_optimum_under_its_own_budget():
    m = np.random.default_rng(0).lognormal(0.0, 0.2, 200)
    m /= m.mean()
    responses = [response(b, m) for b in BETA]
    problems = [
        BudgetProblem(CHANNELS, np.full((4, 3), 0.7), budget=float(b)) for b in BUDGETS
    ]  # current: 2.8 per channel, the same in every geo
    plan, table = optimize_per_geo(responses, problems, ["a", "b", "c"], alpha=0.1, seed=0)
    exact = np.concatenate([closed_form(b, B) for b, B in zip(BETA, BUDGETS, strict=True)])
    assert (exact > 0).all()  # interior optima
    np.testing.assert_allclose(plan.optimal_spend, exact, rtol=1e-4)
    np.testing.assert_allclose(plan.optimal_spend.reshape(3, 3).sum(axis=1), BUDGETS, rtol=1e-12)
    assert plan.channels[:3] == ("a:tv", "a:search", "a:social")
    # national numbers are sums over geos, paired per draw
    kpi = sum(float((b * (1 - np.exp(-x / KAPPA))).sum())
              for b, x in zip(BETA, exact.reshape(3, 3), strict=True))  # fmt: skip
    assert plan.kpi_optimal.mean == pytest.approx(kpi, rel=1e-6)
    np.testing.assert_allclose(table["budget"], BUDGETS, rtol=1e-12)
    assert all(u > 0 for u in table["uplift"])
    assert plan.uplift.mean == pytest.approx(sum(table["uplift"]), rel=1e-9)
    assert plan.converged


@pytest.mark.parametrize(
    "value, budget, words",
    [
        ({"a": 1, "b": 2, "c": 3, "z": 4}, None, ["geo 'z'", "not a geo", "a, b, c"]),
        ({"a": 1, "b": 2}, None, ["no budget for geo 'c'", "'c,<budget>'"]),
        ({"a": 1, "b": -2, "c": 3}, None, ["geo 'b'", "-2", "above 0"]),
        ({"a": 1, "b": "lots", "c": 3}, None, ["geo 'b'", "lots", "above 0"]),
        ({"a": 1, "b": 2, "c": 3}, 7.0, ["sum to 6", "budget 7", "leave the budget out"]),
    ],
)
def test_bad_geo_budgets_are_one_sentence_naming_the_value(value, budget, words):
    with pytest.raises(UserInputError) as err:
        geo_budgets(value, ["a", "b", "c"], budget)
    text = str(err.value)
    assert text.count(". ") == 0 and text.endswith("."), text
    for word in words:
        assert word in text, text


def test_budgets_summing_to_the_budget_or_without_one_are_accepted():
    np.testing.assert_array_equal(geo_budgets({"b": 2, "a": 1}, ["a", "b"], 3.0), [1.0, 2.0])
    np.testing.assert_array_equal(geo_budgets({"a": 1, "b": 2}, ["a", "b"], None), [1.0, 2.0])


@pytest.mark.slow
def test_fitted_geo_model_cli_python_and_refusals(tmp_path):
    """A geo model (4 geos × 52 weeks × 2 channels, SVI: the plan, not the fit, is tested):
    through the command line the budgets are met in every geo, optimal ≥ current in every
    geo and in total, the channel bounds hold per pair; the Python face gives the same plan;
    bad files are refused with exit code 2."""
    pytest.importorskip("numpyro")
    from cerebro.core.spec import parse_spec
    from cerebro.mmm.allocate import mmm_optimize
    from cerebro.mmm.analysis import run_mmm
    from cerebro.mmm.model_file import mmm_bytes
    from cerebro.mmm.synthetic import simulate_mmm
    from cli_refusals import invoke, refused

    frame, _ = simulate_mmm(weeks=52, channels=2, geos=4, seed=2)
    spec = {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": ["tv", "search"],
            "controls": ["price", "promo"], "geo_column": "geo",
            "population_column": "population", "inference": "svi", "svi_steps": 1500,
            "draws": 200, "seed": 0}  # fmt: skip
    fit = run_mmm(parse_spec(spec), frame)
    model = tmp_path / "geo.cerebro"
    model.write_bytes(mmm_bytes(fit.data))
    geos = [str(g) for g in fit.data.geo_data.geos]
    n = fit.data.data.n_fit
    # each geo 10% above or below its own last four weeks' spend (rounded)
    budgets = {
        g: round(float(post.data.spend[n - 4 : n].sum()) * (1.1 if i % 2 else 0.9))
        for i, (g, post) in enumerate(zip(geos, fit.data.geos, strict=True))
    }
    csv = tmp_path / "budgets.csv"
    csv.write_text("geo,budget\n" + "".join(f"{g},{b}\n" for g, b in budgets.items()))
    out = invoke("mmm-optimize", model, "--periods", 4, "--geo-budgets", csv,
                 "--bounds", "tv=0.5:3", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "geo_budgets" in out.output
    res = mmm_optimize(model=str(model), periods=4, geo_budgets=budgets, bounds={"tv": (0.5, 3)})
    table = res.tables.columns("geo_budgets")
    np.testing.assert_allclose(table["budget"], list(budgets.values()), rtol=1e-9)
    for now, best in zip(table["kpi_current"], table["kpi_optimal"], strict=True):
        assert best >= now - 1e-9 * abs(now)
    assert res.estimate("kpi_optimal").value >= res.estimate("kpi_current").value
    for g in geos:
        now = res.estimate(f"spend_current_{g}:tv").value
        assert 0.5 * now * (1 - 1e-9) <= res.estimate(f"spend_{g}:tv").value <= 3 * now * (1 + 1e-9)
    from_csv = mmm_optimize(model=str(model), periods=4, geo_budgets=str(csv),
                            bounds={"tv": (0.5, 3)})  # fmt: skip
    assert from_csv.estimate("kpi_optimal").value == res.estimate("kpi_optimal").value

    first, *rest = geos
    bad = {
        "unknown": ("geo,budget\nnowhere,5\n" + "".join(f"{g},1\n" for g in geos), ["'nowhere'"]),
        "missing": ("geo,budget\n" + "".join(f"{g},1\n" for g in rest), [f"'{first}'"]),
        "negative": (
            "geo,budget\n" + "".join(f"{g},{-1 if g == first else 1}\n" for g in geos),
            [f"'{first}'", "-1", "above 0"],
        ),
    }
    for name, (text, words) in bad.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        refused(invoke("mmm-optimize", model, "--geo-budgets", path), *words)
    refused(invoke("mmm-optimize", model, "--geo-budgets", csv, "--budget", 99),
            "sum to", "not the budget 99")  # fmt: skip
    refused(invoke("mmm-optimize", model, "--geo-budgets", tmp_path / "none.csv"), "not found")


def test_geo_budgets_on_a_national_model_is_refused():
    from cerebro.mmm.allocate import _per_geo
    from cerebro.mmm.plan_spec import MMMOptimizeSpec

    spec = MMMOptimizeSpec(model="m.cerebro", geo_budgets={"a": 1.0})
    with pytest.raises(UserInputError, match="national model; drop --geo-budgets"):
        _per_geo(object(), spec, np.ones((4, 2)), {}, None)

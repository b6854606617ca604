"""`run_mmm_optimize`: the budget split of a saved media mix model for the weeks after its data
(``cerebro mmm-optimize mmm.cerebro --budget 1000000 --periods 13 --bounds tv=0.5:1.5``).

The window is the `periods` weeks after the model's last week; the current plan is the spend of
the last `periods` fitted weeks, week by week, placed in that window. The response the optimiser
(`cerebro.mmm.optimize.optimize_budget`) asks is `cerebro.mmm.forecast.PlanWindow.response`: per
posterior draw, the incremental KPI over the window (the plan's prediction minus the prediction
with no media in the window; the data's carry-over is in both and cancels in the additive model).
Objective, constraints, solver, guarantee and optimality check: `docs/mmm_optimize.md`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.output import Artefact, write_bytes
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.mmm.forecast import open_model, plan_csv, plan_frame, plan_window, window_notes
from cerebro.mmm.optimize import BudgetProblem, check_bounds, optimize_budget
from cerebro.mmm.plan_spec import MMMOptimizeSpec


def run_mmm_optimize(spec: MMMOptimizeSpec, data: Any = None) -> Result:
    """Optimise the budget with the model `spec.model` (or the `MMMPosterior` passed as
    `data`); the optimal weekly plan comes back as an artefact when `spec.plan_output` names a
    file."""
    posterior = open_model(spec.model, data)
    d, p = posterior.data, spec.periods
    if p > d.n_fit:
        raise UserInputError(
            f"periods is {p}, but the model has only {d.n_fit} fitted weeks to take the current "
            f"plan from; give --periods of at most {d.n_fit}."
        )
    current = d.money_spend[d.n_fit - p : d.n_fit]  # money (units × cost for media units)
    window = plan_window(posterior, p, None, spec.controls_at)
    bounds = check_bounds(spec.bounds or {}, d.channels)
    names, response = list(d.channels), window.response
    tables: dict[str, Any] = {}
    if spec.geo_budgets is not None:
        plan, tables["geo_budgets"] = _per_geo(posterior, spec, current, bounds, window)
        names = list(plan.channels)
    else:
        if spec.by_geo:
            current, names, bounds, response = _by_geo(posterior, current, bounds, window)
        problem = BudgetProblem(
            channels=tuple(names),
            current=current,
            budget=spec.budget,
            bounds=bounds,
            objective=spec.objective,
            kpi_value=spec.kpi_value,
            roi_floor=spec.roi_floor,
        )
        plan = optimize_budget(response, problem, alpha=spec.alpha, seed=spec.seed)
    estimates = plan.estimates()
    estimates.append(Estimate("budget", float(plan.optimal_spend.sum()), key="budget"))
    for c, name in enumerate(names):
        estimates.append(
            Estimate(f"optimal spend of {name}", float(plan.optimal_spend[c]), key=f"spend_{name}")
        )
        estimates.append(
            Estimate(
                f"current spend of {name}",
                float(plan.current_spend[c]),
                key=f"spend_current_{name}",
            )
        )
    table = plan.channel_table()
    total = float(plan.optimal_spend.sum())
    table["share"] = (plan.optimal_spend / total if total > 0 else plan.optimal_spend).tolist()
    findings = list(plan.findings)
    if plan.converged:
        findings.insert(
            0, Finding("info", "converged", f"The optimiser converged ({plan.status}).")
        )
    findings.append(
        Finding(
            "info",
            "incremental",
            "Expected KPI here is incremental: the KPI over the plan's weeks minus the KPI with "
            "no media in them, from the same posterior draws for both plans (the uplift is "
            "paired per draw).",
        )
    )
    findings += window_notes(posterior, p, False, spec.controls_at)
    artefacts = []
    national = plan.optimal_plan.reshape(p, -1, len(d.channels)).sum(axis=1)  # by geo: summed
    frame = plan_frame(posterior, national, window.controls)
    if spec.plan_output:
        artefacts.append(Artefact("plan_output", spec.plan_output, plan_csv(frame), write_bytes))
    u, a = plan.uplift, spec.alpha
    narrative = (
        f"Spending {total:,.0f} over the next {p} weeks as planned here, the model expects "
        f"{plan.kpi_optimal.mean:,.4g} incremental KPI against {plan.kpi_current.mean:,.4g} for "
        f"the current plan: an uplift of {u.mean:,.4g} ({1 - a:.0%} interval {u.low:,.4g} to "
        f"{u.high:,.4g})."
    )
    return Result(
        kind="mmm_optimize",
        method=spec.objective,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"channels": table, "optimal_plan": frame.to_dict(orient="list"), **tables},
        data=plan,
        artefacts=artefacts,
        summary={
            "headline_table": "channels",
            "title": f"Budget plan for the next {p} weeks — objective {spec.objective}",
            "narrative": narrative,
            "alpha": a,
            "units": p,
            "draws": posterior.n_draws,
        },
    )


def _by_geo(posterior: Any, current: np.ndarray, bounds: dict, window: Any) -> tuple:
    """The geo × channel form of the problem (`--by-geo`): each geo's current plan (its own
    last weeks' spend), pairs named geo:channel, the channel's bounds on every pair, and the
    response of a plan with a column per pair."""
    from cerebro.mmm.geo import GeoPosterior
    from cerebro.mmm.geo_plan import GeoPairWindow

    if not isinstance(posterior, GeoPosterior):
        raise UserInputError(
            "by_geo optimises each geo's spend, but this is a national model; drop --by-geo "
            "or optimise a model fitted with --geo-column."
        )
    d, p = posterior.data, len(current)
    per_geo = np.stack([g.data.spend[d.n_fit - p : d.n_fit] for g in posterior.geos], axis=1)
    names = [f"{geo}:{c}" for geo in posterior.geo_data.geos for c in d.channels]
    pairs = {f"{geo}:{c}": b for geo in posterior.geo_data.geos for c, b in bounds.items()}
    return per_geo.reshape(p, -1), names, pairs, GeoPairWindow(window).response


def _per_geo(posterior: Any, spec: MMMOptimizeSpec, current: np.ndarray, bounds: dict,
             window: Any) -> tuple:  # fmt: skip
    """`--geo-budgets`: each geo's channel split optimised under its own budget
    (`cerebro.mmm.geo_budget`); the national plan of geo:channel pairs and the geos' table."""
    from cerebro.mmm.geo import GeoPosterior
    from cerebro.mmm.geo_budget import geo_budgets, optimize_per_geo

    if not isinstance(posterior, GeoPosterior):
        raise UserInputError(
            "geo_budgets sets a budget per geo, but this is a national model; drop "
            "--geo-budgets or optimise a model fitted with --geo-column."
        )
    d, p = posterior.data, len(current)
    geos = [str(g) for g in posterior.geo_data.geos]
    budgets = geo_budgets(spec.geo_budgets, geos, spec.budget)
    problems = []
    for geo, g, budget in zip(geos, posterior.geos, budgets, strict=True):
        try:
            problems.append(
                BudgetProblem(
                    channels=tuple(d.channels),
                    current=g.data.spend[d.n_fit - p : d.n_fit],
                    budget=float(budget),
                    bounds=bounds,
                    objective=spec.objective,
                    kpi_value=spec.kpi_value,
                    roi_floor=spec.roi_floor,
                )
            )
        except UserInputError as err:  # the same sentence, naming the geo
            raise UserInputError(f"In geo '{geo}', {err}") from None
    responses = [w.response for w in window.windows]
    return optimize_per_geo(responses, problems, geos, alpha=spec.alpha, seed=spec.seed)


def plot(result: Result) -> Any:
    """Current vs optimal spend per channel and both plans' expected KPI with their intervals
    (`cerebro.mmm.optimize.plot_budget_plan`, from the result's table and estimates)."""
    from types import SimpleNamespace

    from cerebro.mmm.optimize import PosteriorSummary, plot_budget_plan

    table = result.tables.columns("channels")

    def summary(key: str) -> PosteriorSummary:
        e = result.estimate(key)
        return PosteriorSummary(e.value, e.ci_low, e.ci_high, e.se or 0.0)

    view = SimpleNamespace(
        channels=tuple(table["channel"]),
        current_spend=np.asarray(table["current_spend"], float),
        optimal_spend=np.asarray(table["optimal_spend"], float),
        alpha=float(result.summary.get("alpha", 0.1)),
        kpi_current=summary("kpi_current"),
        kpi_optimal=summary("kpi_optimal"),
        uplift=summary("uplift"),
    )
    return plot_budget_plan(view)  # type: ignore[arg-type]


mmm_optimize = python_face(
    MMMOptimizeSpec,
    run_mmm_optimize,
    name="mmm_optimize",
    summary="Split a budget over the weeks after a saved media mix model's data across its "
    "channels to maximise the expected incremental KPI (or profit), within bounds.",
    example="""
    >>> res = mmm_optimize(model="mmm.cerebro", budget=1_000_000, bounds={"tv": (0.5, 1.5)})
    >>> res.estimate("uplift")
    """,
)

register(
    Method(
        kind="mmm_optimize",
        spec_type=MMMOptimizeSpec,
        run=run_mmm_optimize,
        summary="Budget optimiser for a saved MMM: optimal spend per channel over the next weeks, "
        "expected KPI current vs optimal and the paired uplift with credible intervals.",
        plot="cerebro.mmm.allocate:plot",
        example="cerebro.mmm.plan_examples:mmm_optimize",
    )
)

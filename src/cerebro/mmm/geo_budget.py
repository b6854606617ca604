"""A fixed budget per geo (`mmm-optimize --geo-budgets budgets.csv`, spec field `geo_budgets`).

Each geo's spend over the window is fixed by the user; within a geo the split across channels
is optimised under that budget and the channel bounds (multiples of the geo's own current
spend of the channel), by `cerebro.mmm.optimize.optimize_budget` on the geo's own response
(`cerebro.mmm.geo_plan`: its model, its carry-over). The geo model is additive across geos –
the national KPI is the sum of the geos' – so the national optimum under per-geo budgets is
the set of per-geo optima, and the objective, the ROI floor and the never-worse guarantee hold
in every geo and therefore in total. The national expected KPI of the current and the optimal
plan and the uplift are sums of the geos' draws, paired per posterior draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.mmm.optimize import BudgetPlan, BudgetProblem, PosteriorSummary, optimize_budget

RELATIVE_SUM_TOLERANCE = 1e-9  # geo budgets "sum to the budget" within this share of it


def _num(x: float) -> str:
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def _read(path: str) -> dict[str, Any]:
    """geo → budget text from a CSV with columns geo and budget."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"geo": str})
    except FileNotFoundError:
        raise UserInputError(
            f"the geo budgets file '{path}' was not found; give a CSV with columns geo,budget."
        ) from None
    missing = [c for c in ("geo", "budget") if c not in frame.columns]
    if missing:
        raise UserInputError(
            f"the geo budgets file '{path}' has no column '{missing[0]}'; give a CSV with "
            "columns geo,budget."
        )
    twice = frame["geo"][frame["geo"].duplicated()].tolist()
    if twice:
        raise UserInputError(
            f"the geo budgets file '{path}' gives geo '{twice[0]}' twice; give each geo once."
        )
    return dict(zip(frame["geo"].astype(str), frame["budget"], strict=True))


def geo_budgets(
    value: Mapping[str, Any] | str, geos: Sequence[str], budget: float | None
) -> np.ndarray:
    """The budget of every geo in `geos` order from a mapping or a CSV path, checked: every
    geo of the model once, no other, each a number above 0, summing to `budget` when given."""
    given = {str(k): v for k, v in (_read(value) if isinstance(value, str) else value).items()}
    names = [str(g) for g in geos]
    for geo in given:
        if geo not in names:
            raise UserInputError(
                f"geo_budgets names geo '{geo}', which is not a geo of the model; use one of "
                f"{', '.join(names)}."
            )
    out = []
    for geo in names:
        if geo not in given:
            raise UserInputError(
                f"geo_budgets gives no budget for geo '{geo}'; add a row '{geo},<budget>' "
                "(every geo of the model needs one)."
            )
        try:
            amount = float(given[geo])
        except (TypeError, ValueError):
            amount = math.nan
        if not math.isfinite(amount) or amount <= 0:
            raise UserInputError(
                f"geo_budgets gives geo '{geo}' a budget of {given[geo]}; give each geo a "
                "budget above 0."
            )
        out.append(amount)
    budgets = np.array(out)
    if budget is not None and abs(budgets.sum() - budget) > RELATIVE_SUM_TOLERANCE * abs(budget):
        raise UserInputError(
            f"the geo budgets sum to {_num(float(budgets.sum()))}, not the budget "
            f"{_num(float(budget))}; make them sum to it or leave the budget out (it is then "
            "their sum)."
        )
    return budgets


def optimize_per_geo(
    responses: Sequence[Callable[[np.ndarray], np.ndarray]],
    problems: Sequence[BudgetProblem],
    geos: Sequence[str],
    *,
    alpha: float,
    seed: int,
) -> tuple[BudgetPlan, dict[str, list[Any]]]:
    """Optimise each geo's problem on its own response; the national plan (pairs named
    geo:channel, geo-major) and a table with one row per geo (budget, expected KPI of both
    plans and the uplift with their intervals)."""
    plans = [
        optimize_budget(response, problem, alpha=alpha, seed=seed)
        for response, problem in zip(responses, problems, strict=True)
    ]
    current = np.sum([p.kpi_draws_current for p in plans], axis=0)
    optimal = np.sum([p.kpi_draws_optimal for p in plans], axis=0)
    findings = [Finding("info", "geo_budgets",
                        f"Each of the {len(geos)} geos' spend is optimised under its own budget; "
                        "the national numbers are sums over the geos.")]  # fmt: skip
    for geo, plan in zip(geos, plans, strict=True):
        findings += [replace(f, message=f"Geo {geo}: {f.message}") for f in plan.findings
                     if f.level != "info"]  # fmt: skip
    concat = np.concatenate
    national = BudgetPlan(
        channels=tuple(f"{g}:{c}" for g, p in zip(geos, plans, strict=True) for c in p.channels),
        objective=plans[0].objective,
        alpha=alpha,
        current_spend=concat([p.current_spend for p in plans]),
        optimal_spend=concat([p.optimal_spend for p in plans]),
        lower_spend=concat([p.lower_spend for p in plans]),
        upper_spend=concat([p.upper_spend for p in plans]),
        current_plan=concat([p.current_plan for p in plans], axis=1),
        optimal_plan=concat([p.optimal_plan for p in plans], axis=1),
        kpi_current=PosteriorSummary.of(current, alpha),
        kpi_optimal=PosteriorSummary.of(optimal, alpha),
        uplift=PosteriorSummary.of(optimal - current, alpha),
        objective_current=float(sum(p.objective_current for p in plans)),
        objective_optimal=float(sum(p.objective_optimal for p in plans)),
        marginal_roi_current=concat([p.marginal_roi_current for p in plans]),
        marginal_roi=concat([p.marginal_roi for p in plans]),
        at_bound=tuple(b for p in plans for b in p.at_bound),
        converged=all(p.converged for p in plans),
        status="; ".join(sorted({p.status for p in plans})),
        findings=tuple(findings),
        kpi_draws_current=current,
        kpi_draws_optimal=optimal,
    )
    table: dict[str, list[Any]] = {"geo": [str(g) for g in geos]}
    table["budget"] = [float(p.optimal_spend.sum()) for p in plans]
    for name in ("kpi_current", "kpi_optimal", "uplift"):
        summaries = [getattr(p, name) for p in plans]
        table[name] = [s.mean for s in summaries]
        table[f"{name}_low"] = [s.low for s in summaries]
        table[f"{name}_high"] = [s.high for s in summaries]
    return national, table

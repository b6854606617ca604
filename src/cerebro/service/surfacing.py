"""`/api/v1/surfacing`: what to do with measured effects – split a budget across channels
(`POST /optimize/causal`) and choose which treatment to give which segment
(`GET /recommendations/treatments`).

The budget split reuses the MMM optimiser (`cerebro.mmm.optimize.optimize_budget`: SLSQP from
several starts, never worse than the current plan, paired intervals) on a response built from a
stored MMM analysis's response curves or from measured incremental effects under a stated
power curve (`cerebro.mmm.measured`). The treatment choice is the linear programme of
`cerebro.uplift.recommend` over the segments of stored uplift analyses (response tiers) and A/B
tests (each arm on everyone)."""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cerebro.service.deps import Require, audit, get_session
from cerebro.service.errors import ApiError
from cerebro.service.insights import stored_results
from cerebro.service.models import Analysis
from cerebro.service.security import ANALYSIS_RUN, RESULTS_READ, Principal

router = APIRouter(prefix="/api/v1/surfacing", tags=["intelligence"])


class ChannelIn(BaseModel):
    """One channel's measured incremental KPI at its tested spend – given as numbers, or read
    from a stored analysis's estimate (`analysis_id` and `estimate`, its key or label: the
    value is the lift, its SE the se)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1, max_length=200)
    spend: float = Field(gt=0, description="Spend over the plan's window at which it was measured.")
    lift: float | None = Field(None, description="Measured incremental KPI at that spend.")
    se: float | None = Field(None, ge=0, description="Standard error of the lift.")
    current_spend: float | None = Field(
        None, ge=0, description="Current spend over the window (default: the tested spend)."
    )
    analysis_id: str | None = None
    estimate: str | None = Field(None, max_length=300)

    @model_validator(mode="after")
    def _source(self) -> ChannelIn:
        numbers, stored = self.lift is not None, self.analysis_id is not None
        if numbers == stored or (stored and not self.estimate) or (numbers and self.se is None):
            raise ValueError(
                "give either lift and se, or analysis_id and estimate (the stored estimate's key)"
            )
        return self


class CurveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    shape: Literal["power"] = "power"
    exponent: float = Field(0.5, gt=0, le=1, description="β of KPI = lift · (x / spend)^β.")


class OptimizeIn(BaseModel):
    """Either `mmm_analysis_id` (a stored MMM analysis: its response curves) or `channels`
    (measured effects, with the `curve` assumed through each)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    mmm_analysis_id: str | None = None
    periods: int = Field(13, ge=1, le=520, description="MMM: weeks of the plan.")
    channels: list[ChannelIn] | None = Field(None, min_length=1, max_length=50)
    curve: CurveIn = Field(default_factory=CurveIn)
    budget: float | None = Field(None, gt=0, description="Total spend (default: current total).")
    bounds: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Per channel (low, high) multiples of current spend."
    )
    objective: Literal["kpi", "profit"] = "kpi"
    kpi_value: float = Field(1.0, gt=0, description="Value of one KPI unit in spend units.")
    roi_floor: float | None = Field(None, ge=0, description="Least kpi_value · KPI / spend.")
    alpha: float = Field(0.1, gt=0, lt=1)
    seed: int = Field(0, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _one_source(self) -> OptimizeIn:
        if (self.mmm_analysis_id is None) == (self.channels is None):
            raise ValueError("give either mmm_analysis_id or channels, not both or neither")
        return self


def _estimate_of(session: Session, who: Principal, channel: ChannelIn) -> tuple[float, float]:
    (result,) = stored_results(session, who, [str(channel.analysis_id)], "analysis.use")
    try:
        e = result.estimate(str(channel.estimate))
    except (KeyError, ValueError):
        keys = ", ".join(x.key for x in result.estimates[:12])
        raise ApiError(
            422,
            "invalid",
            f"channel {channel.name!r}: the analysis has no estimate "
            f"{channel.estimate!r}; use one of its keys ({keys}).",
            "channels.estimate",
        ) from None
    if e.se is None or not math.isfinite(e.se):
        raise ApiError(
            422,
            "invalid",
            f"channel {channel.name!r}: the estimate {channel.estimate!r} has no standard error.",
            "channels.estimate",
        )
    return float(e.value), float(e.se)


def _measured_problem(session: Session, who: Principal, body: OptimizeIn):
    import numpy as np

    from cerebro.mmm.measured import Measured, power_response

    measured, current = [], []
    for channel in body.channels or []:
        lift, se = (
            (channel.lift, channel.se)
            if channel.analysis_id is None
            else _estimate_of(session, who, channel)
        )
        measured.append(Measured(channel.name, channel.spend, float(lift), float(se)))  # type: ignore[arg-type]
        current.append(channel.spend if channel.current_spend is None else channel.current_spend)
    response = power_response(measured, body.curve.exponent, body.seed)
    curve = (
        f"power curve through each measured point, KPI = lift · (spend / tested spend)^"
        f"{body.curve.exponent:g}; the interval carries the measurements' standard errors, "
        "not doubt about the curve's shape"
    )
    return [m.channel for m in measured], np.array(current, float), 1, response, curve, {}


def _mmm_problem(session: Session, who: Principal, body: OptimizeIn):
    import numpy as np

    from cerebro.mmm.measured import curves_from_table, curves_response

    (result,) = stored_results(session, who, [str(body.mmm_analysis_id)], "analysis.use")
    if result.kind != "mmm":
        raise ApiError(
            422,
            "invalid",
            f"the analysis {body.mmm_analysis_id} is a {result.kind} "
            "analysis; give an mmm analysis.",
            "mmm_analysis_id",
        )
    curves = curves_from_table(
        result.tables.columns("response_curves"), float(result.summary.get("alpha") or 0.1)
    )
    table = result.tables.columns("channels")
    weeks = float(result.summary.get("fitted_weeks") or result.summary.get("units"))
    weekly = np.array(table["spend"], float) / weeks
    current = np.repeat(weekly[None, :], body.periods, axis=0)
    caps = {}  # no extrapolation: each week's spend stays within the curve's grid
    for c, name in enumerate(curves.channels):
        low, high = body.bounds.get(name, (0.0, math.inf))
        top = curves.top[c] / weekly[c] if weekly[c] > 0 else 0.0
        caps[name] = (low, min(high, top))
    curve = (
        "the MMM's steady-state response curves (constant weekly spend, interpolated by monotone cubic splines through the stored points, "
        "no extrapolation), without carry-over into or out of the window"
    )
    return list(curves.channels), current, None, curves_response(curves, body.seed), curve, caps


def _summary(s: Any) -> dict[str, float]:
    return {"mean": s.mean, "ci_low": s.low, "ci_high": s.high, "sd": s.sd}


@router.post("/optimize/causal", summary="Split a budget across channels by measured effects")
def optimize_causal(
    body: OptimizeIn,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    from cerebro.mmm.optimize import BudgetProblem, optimize_budget

    source = "mmm" if body.mmm_analysis_id else "measured"
    build = _mmm_problem if source == "mmm" else _measured_problem
    channels, current, periods, response, curve, caps = build(session, who, body)
    unknown = sorted(set(body.bounds) - set(channels))
    if unknown:
        raise ApiError(
            422,
            "invalid",
            f"bounds name {unknown[0]!r}, which is not a channel ({', '.join(channels)}).",
            "bounds",
        )
    problem = BudgetProblem(
        channels=tuple(channels),
        current=current,
        budget=body.budget,
        bounds={**body.bounds, **caps},
        objective=body.objective,
        kpi_value=body.kpi_value,
        roi_floor=body.roi_floor,
        periods=periods,
    )
    plan = optimize_budget(response, problem, alpha=body.alpha, seed=body.seed)
    audit(session, who, "budget.optimize", "budget", body.mmm_analysis_id, source=source)
    session.commit()
    spend = {
        "current": float(plan.current_spend.sum()),
        "proposed": float(plan.optimal_spend.sum()),
    }
    return {
        "source": source,
        "objective": body.objective,
        "curve": curve,
        "alpha": body.alpha,
        "channels": plan.channel_table(),
        "current": {
            "spend": spend["current"],
            "kpi": _summary(plan.kpi_current),
            "objective": plan.objective_current,
        },
        "proposed": {
            "spend": spend["proposed"],
            "kpi": _summary(plan.kpi_optimal),
            "objective": plan.objective_optimal,
        },
        "uplift": _summary(plan.uplift),
        "converged": plan.converged,
        "findings": [
            {"level": f.level, "code": f.code, "message": f.message} for f in plan.findings
        ],
    }


def _arm_costs(text: str | None, default: float) -> dict[str, float]:
    costs: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        arm, _, value = item.partition("=")
        try:
            costs[arm.strip()] = float(value)
        except ValueError:
            raise ApiError(
                422, "invalid", f"cannot read arm cost {item!r}; write 'B=2.5,C=1'.", "arm_costs"
            ) from None
        if not math.isfinite(costs[arm.strip()]) or costs[arm.strip()] < 0:
            raise ApiError(
                422, "invalid", f"the cost of arm {arm.strip()!r} must be 0 or more.", "arm_costs"
            )
    return {"*": default, **costs}


def segments_of(analysis_id: str, result: Any, costs: dict[str, float], outcome: str | None):
    """The measured segments of a stored result: an uplift analysis's response tiers (each arm),
    or an A/B test's arms on everyone (the comparisons of `outcome`)."""
    from cerebro.stats.intervals import quantile
    from cerebro.uplift.recommend import Segment

    alpha = float(result.summary.get("alpha") or 0.05)
    table = {"uplift": "tiers", "abtest": "comparisons"}.get(result.kind)
    if table is not None and table not in result.tables:
        raise ApiError(
            422,
            "invalid",
            f"the {result.kind} analysis {analysis_id} has no "
            f"{table} table; run it again with this version.",
            "analysis_id",
        )
    if result.kind == "uplift":
        t = result.tables.columns("tiers")
        profile = [
            c
            for c in t
            if c
            not in {
                "arm",
                "tier",
                "n",
                "n_treated",
                "n_control",
                "predicted",
                "observed",
                "se",
                "ci_low",
                "ci_high",
            }
        ]
        out = []
        for i, arm in enumerate(t["arm"]):
            if t["observed"][i] is None or t["se"][i] is None:
                continue
            out.append(
                (
                    Segment(
                        analysis_id,
                        str(arm),
                        str(t["tier"][i]),
                        int(t["n"][i]),
                        float(t["observed"][i]),
                        float(t["se"][i]),
                        costs.get(str(arm), costs["*"]),
                        analysis_id,
                    ),
                    {c: t[c][i] for c in profile},
                )
            )
        return out
    if result.kind == "abtest":
        t = result.tables.columns("comparisons")
        outcomes = list(dict.fromkeys(t["outcome"]))
        chosen = outcome or (outcomes[0] if len(outcomes) == 1 else None)
        if chosen not in outcomes:
            raise ApiError(
                422,
                "invalid",
                f"the A/B test {analysis_id} measures "
                f"{', '.join(map(str, outcomes))}; name one with outcome.",
                "outcome",
            )
        rows = [i for i, o in enumerate(t["outcome"]) if o == chosen]
        units = int(t["n_control"][rows[0]] + sum(t["n_variant"][i] for i in rows))
        z = quantile(1 - alpha / 2, None)
        return [
            (
                Segment(
                    analysis_id,
                    str(t["variant"][i]),
                    "all units",
                    units,
                    float(t["lift"][i]),
                    (t["lift_ci_high"][i] - t["lift_ci_low"][i]) / (2 * z),
                    costs.get(str(t["variant"][i]), costs["*"]),
                    analysis_id,
                ),
                {},
            )
            for i in rows
        ]
    raise ApiError(
        422,
        "invalid",
        f"the analysis {analysis_id} is a {result.kind} analysis; give uplift or abtest analyses.",
        "analysis_id",
    )


@router.get("/recommendations/treatments", summary="Which treatment for which segment")
def recommend_treatments(
    objective: Literal["outcome", "profit"] = Query("profit"),
    analysis_id: list[str] = Query([], description="Uplift or A/B analyses (repeat)."),
    experiment_id: str | None = Query(None, max_length=32),
    outcome: str | None = Query(None, max_length=300),
    value_per_outcome: float = Query(1.0, ge=0, le=1e15),
    cost: float = Query(0.0, ge=0, le=1e15, description="Cost per treated unit, every arm."),
    arm_costs: str | None = Query(None, max_length=2000, description="Per arm: 'B=2.5,C=1'."),
    capacity: float | None = Query(None, ge=0, le=1e15, description="Units that can be treated."),
    budget: float | None = Query(None, ge=0, le=1e15, description="Money for treatments."),
    alpha: float = Query(0.05, gt=0, lt=1),
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    from cerebro.uplift.recommend import recommend

    ids = list(dict.fromkeys(analysis_id))
    if len(ids) > 20:
        raise ApiError(422, "invalid", "name at most 20 analyses.", "analysis_id")
    if not ids:  # the latest succeeded uplift analysis (of the experiment, when named)
        query = select(Analysis.id).where(Analysis.org_id == who.org_id)
        query = query.where(Analysis.kind == "uplift", Analysis.status == "succeeded")
        if experiment_id:
            query = query.where(Analysis.experiment_id == experiment_id)
        latest = session.execute(query.order_by(Analysis.created_at.desc()).limit(1)).scalar()
        if latest is None:
            raise ApiError(
                404,
                "not_found",
                "no succeeded uplift analysis to recommend from; run one or name analysis_id.",
            )
        ids = [latest]
    costs = _arm_costs(arm_costs, cost)
    found = []
    for aid, result in zip(ids, stored_results(session, who, ids, "analysis.use"), strict=True):
        found += segments_of(aid, result, costs, outcome)
    plan = recommend([s for s, _ in found], objective, value_per_outcome, capacity, budget, alpha)
    audit(session, who, "treatments.recommend", "analysis", ids[0], analyses=ids)
    session.commit()
    rows = [
        {
            "analysis_id": s.source,
            "arm": s.arm,
            "segment": s.segment,
            "profile": profile,
            "units": s.n,
            "effect": s.effect,
            "se": s.se,
            "cost_per_unit": s.cost,
            "treat_share": float(f),
            "treated_units": float(f * s.n),
            "expected_incremental": float(f * s.n * s.effect),
        }
        for (s, profile), f in zip(found, plan.share, strict=True)
    ]
    return {
        "objective": objective,
        "analyses": ids,
        "recommendations": [r for r in rows if r["treat_share"] > 0],
        "not_recommended": [r for r in rows if r["treat_share"] == 0],
        "total": {
            "incremental_outcome": plan.total_outcome,
            "se": plan.total_se,
            "ci_low": plan.interval[0],
            "ci_high": plan.interval[1],
            "cost": plan.total_cost,
            "treated_units": plan.treated,
            "value": value_per_outcome * plan.total_outcome - plan.total_cost,
        },
        "alpha": alpha,
    }

"""`/api/v1/llm/causal`: the routes users know from a language-model module, delivered without
one. Insights are written by tested templates over stored results (`cerebro.report.insights`);
counterfactual scenarios are what-if runs of the `counterfactual` kind, queued as jobs through
the one submission path of `POST /api/v1/analyses`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cerebro.service.analyses import enqueue, prepare
from cerebro.service.config import Settings
from cerebro.service.deps import (
    Require,
    audit,
    create_once,
    get_session,
    get_settings,
    request_hash,
)
from cerebro.service.errors import ApiError, not_found
from cerebro.service.models import Analysis, AuditEntry, new_id
from cerebro.service.security import ANALYSIS_RUN, RESULTS_READ, Principal
from cerebro.service.tenancy import owned

router = APIRouter(prefix="/api/v1/llm/causal", tags=["intelligence"])


class InsightsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    analysis_ids: list[str] = Field(
        min_length=1, max_length=20, description="Succeeded analyses of the organisation."
    )


def stored_results(session: Session, who: Principal, ids: list[str], action: str) -> list[Any]:
    """The results of the caller's succeeded analyses `ids`, each read recorded in the audit
    log; another organisation's id is a 404, an unfinished analysis a 409."""
    from cerebro.core.results import Result

    results = []
    for analysis_id in dict.fromkeys(ids):
        job = owned(session, Analysis, analysis_id, who, "analysis")
        if job.status != "succeeded" or job.result is None:
            raise ApiError(
                409,
                "not_ready",
                f"the analysis {job.id} is {job.status}; it has no result yet.",
                "analysis_ids",
            )
        audit(session, who, action, "analysis", job.id)
        results.append(Result.from_dict(job.result))
    return results


@router.post("/insights", summary="Plain-language insights across analyses (templates, no LLM)")
def causal_insights(
    body: InsightsIn,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    from cerebro.report.insights import insights

    results = stored_results(session, who, body.analysis_ids, "analysis.insights")
    answer = insights(results).to_dict()
    session.commit()
    return {**answer, "analyses": list(dict.fromkeys(body.analysis_ids))}


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    set: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Changes applied together, as `cerebro counterfactual --set`: "
        "'spend=+10%', 'price=*1.1', 'treatment=1', 'channel=email'.",
    )


class CounterfactualIn(BaseModel):
    """What-if scenarios on an uploaded dataset: each scenario is one `counterfactual` job (the
    expected outcome with the changes applied, against as observed); `options` takes any other
    field of the `counterfactual` spec (`outcome_model`, `bootstrap`, `seed`, …)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    dataset_id: str
    experiment_id: str | None = None
    outcome: str = Field(min_length=1, max_length=300)
    treatment: str | None = Field(None, max_length=300)
    confounders: list[str] = Field(default_factory=list, max_length=500)
    by: str | None = Field(None, max_length=300)
    scenarios: list[Scenario] = Field(min_length=1, max_length=10)
    options: dict[str, Any] = Field(default_factory=dict)
    time_limit: float | None = Field(None, gt=0)

    def spec(self, scenario: Scenario) -> dict[str, Any]:
        fixed = {
            "kind": "counterfactual",
            "outcome": self.outcome,
            "treatment": self.treatment,
            "confounders": self.confounders,
            "by": self.by,
            "interventions": scenario.set,
        }
        clash = sorted(set(fixed) & set(self.options))
        if clash:
            raise ApiError(
                422,
                "invalid",
                f"give {clash[0]!r} as its own field, not in options.",
                f"options.{clash[0]}",
            )
        return {k: v for k, v in {**fixed, **self.options}.items() if v is not None}


def scenarios_view(session: Session, who: Principal, group: str) -> dict[str, Any]:
    """Each scenario's name, changes, job status and estimates; the names are kept in the
    submission's audit row (a spec holds only the kind's fields)."""
    named = session.execute(
        select(AuditEntry.detail)
        .where(AuditEntry.org_id == who.org_id)
        .where(AuditEntry.object_id == group, AuditEntry.action == "scenarios.submit")
    ).scalar_one_or_none()
    name_of = {tuple(s["set"]): s["name"] for s in (named or {}).get("scenarios", [])}
    rows = (
        session.execute(
            select(Analysis)
            .where(Analysis.group_id == group, Analysis.org_id == who.org_id)
            .where(Analysis.kind == "counterfactual")
            .order_by(Analysis.created_at, Analysis.id)
        )
        .scalars()
        .all()
    )
    if not rows:
        raise not_found("scenario set")
    scenarios = [
        {
            "name": name_of.get(tuple(job.spec.get("interventions") or ())),
            "set": job.spec.get("interventions"),
            "analysis_id": job.id,
            "status": job.status,
            "estimates": (job.result or {}).get("estimates"),
            "error": job.error,
        }
        for job in rows
    ]
    return {
        "id": group,
        "scenarios": scenarios,
        "links": {"self": f"/api/v1/llm/causal/counterfactual/{group}"},
    }


@router.post("/counterfactual", status_code=202, summary="What-if scenarios (one job each)")
def counterfactual_scenarios(
    body: CounterfactualIn,
    request: Request,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Any:
    names = [s.name for s in body.scenarios]
    changes = [tuple(s.set) for s in body.scenarios]
    if len(set(names)) < len(names) or len(set(changes)) < len(changes):
        raise ApiError(
            422,
            "invalid",
            "two scenarios share a name or the same changes; give "
            "each scenario its own name and changes.",
            "scenarios",
        )
    jobs = [
        prepare(
            session,
            who,
            settings,
            body.spec(s),
            body.dataset_id,
            body.experiment_id,
            body.time_limit,
        )
        for s in body.scenarios
    ]  # all valid, or none
    group = new_id()

    def create() -> tuple[int, dict[str, Any]]:
        for job in jobs:
            enqueue(session, who, settings, job, group)
        audit(
            session,
            who,
            "scenarios.submit",
            "scenarios",
            group,
            scenarios=[{"name": s.name, "set": s.set} for s in body.scenarios],
        )
        session.flush()
        return 202, scenarios_view(session, who, group)

    return create_once(session, who, request, request_hash(body.model_dump(mode="json")), create)


@router.get("/counterfactual/{group_id}", summary="The scenarios' status and what-if estimates")
def read_scenarios(
    group_id: str,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    view = scenarios_view(session, who, group_id)
    audit(session, who, "scenarios.read", "scenarios", group_id)
    session.commit()
    return view

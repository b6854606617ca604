"""`/api/v1/causal`: the routes users already call – one treatment effect, and several methods
on one question side by side. Each builds a `kind: causal` spec (the CLI's `cerebro causal`)
and queues it through the same path as `POST /api/v1/analyses`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cerebro.service.analyses import enqueue, prepare, submit
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
from cerebro.service.models import Analysis, new_id
from cerebro.service.security import ANALYSIS_RUN, RESULTS_READ, Principal

router = APIRouter(prefix="/api/v1/causal", tags=["causal"])
DEFAULT_METHODS = ["regression", "ipw", "aipw", "dml"]


class Question(BaseModel):
    """One causal question about an uploaded dataset; `options` takes any other field of the
    `causal` spec (`trim`, `learner`, `folds`, `seed`, …)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    dataset_id: str
    experiment_id: str | None = None
    treatment: str = Field(min_length=1, max_length=300)
    outcome: str = Field(min_length=1, max_length=300)
    confounders: list[str] = Field(default_factory=list, max_length=500)
    estimand: str = "ate"
    alpha: float = 0.05
    options: dict[str, Any] = Field(default_factory=dict)
    time_limit: float | None = Field(None, gt=0)

    def spec(self, method: str) -> dict[str, Any]:
        fixed = {"kind": "causal", "treatment": self.treatment, "outcome": self.outcome,
                 "confounders": self.confounders, "estimand": self.estimand,
                 "alpha": self.alpha, "method": method}  # fmt: skip
        clash = sorted(set(fixed) & set(self.options))
        if clash:
            raise ApiError(422, "invalid", f"give {clash[0]!r} as its own field, not in options.",
                           f"options.{clash[0]}")  # fmt: skip
        return {**fixed, **self.options}


class TreatmentEffectIn(Question):
    method: str = Field(
        "aipw", description="regression, gcomp, ipw, aipw, stratification, psm, dml"
    )


class AdvancedIn(Question):
    methods: list[str] = Field(
        default_factory=lambda: list(DEFAULT_METHODS), min_length=1, max_length=10
    )


@router.post("/treatment-effect", status_code=202, summary="Estimate one treatment effect (a job)")
def treatment_effect(
    body: TreatmentEffectIn,
    request: Request,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Any:
    return submit(session, who, settings, request, body, body.spec(body.method))


def comparison(session: Session, who: Principal, group: str) -> dict[str, Any]:
    """The group's analyses side by side: per method its status and estimates (or error)."""
    rows = session.execute(
        select(Analysis).where(Analysis.group_id == group, Analysis.org_id == who.org_id)
        .order_by(Analysis.created_at, Analysis.id)
    ).scalars().all()  # fmt: skip
    if not rows:
        raise not_found("comparison")
    methods = [
        {
            "method": job.spec.get("method"),
            "analysis_id": job.id,
            "status": job.status,
            "estimates": (job.result or {}).get("estimates"),
            "error": job.error,
        }
        for job in rows
    ]
    statuses = {m["status"] for m in methods}
    overall = next((s for s in ("running", "queued", "failed", "cancelled") if s in statuses),
                   "succeeded")  # fmt: skip
    return {"id": group, "status": overall, "methods": methods,
            "links": {"self": f"/api/v1/causal/analyze/advanced/{group}"}}  # fmt: skip


@router.post("/analyze/advanced", status_code=202, summary="Several methods, side by side (jobs)")
def analyze_advanced(
    body: AdvancedIn,
    request: Request,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Any:
    methods = list(dict.fromkeys(body.methods))
    jobs = [prepare(session, who, settings, body.spec(m), body.dataset_id, body.experiment_id,
                    body.time_limit) for m in methods]  # fmt: skip  # all valid, or none queued
    group = new_id()

    def create() -> tuple[int, dict[str, Any]]:
        for job in jobs:
            enqueue(session, who, settings, job, group)
        session.flush()
        audit(session, who, "comparison.submit", "comparison", group, methods=methods)
        return 202, comparison(session, who, group)

    return create_once(session, who, request, request_hash(body.model_dump(mode="json")), create)


@router.get("/analyze/advanced/{group_id}", summary="The methods' results side by side")
def read_comparison(
    group_id: str,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    view = comparison(session, who, group_id)
    audit(session, who, "comparison.read", "comparison", group_id)
    session.commit()
    return view

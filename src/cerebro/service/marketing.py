"""`/api/v1/marketing`: causal records from ad platforms, with the routes and fields users
already wrote clients for – ingest, the records of an experiment, and which recorded variables
behave as confounders (`cerebro.stats.confounding`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cerebro.service.deps import Require, audit, create_once, get_session, request_hash
from cerebro.service.errors import ApiError
from cerebro.service.models import Experiment, MarketingEvent, Organisation
from cerebro.service.security import DATA_READ, DATA_WRITE, Principal
from cerebro.service.tenancy import MAX_OFFSET, iso, owned

router = APIRouter(prefix="/api/v1/marketing", tags=["marketing"])
Scalar = float | int | bool | str | None
MAX_RECORDS = 5000


class CausalRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    org: str | None = Field(None, description="Your organisation's name or id (optional).")
    platform: str = Field(min_length=1, max_length=100)
    campaign_id: str = Field(min_length=1, max_length=200)
    experiment_id: str | None = Field(None, description="The registered experiment, if any.")
    timestamp: datetime
    treatment_assignment: int = Field(ge=0, le=1, description="1 treated, 0 control.")
    outcome: float | None = Field(None, description="The outcome, for the confounder screen.")
    confounders: dict[str, Scalar] = Field(default_factory=dict, max_length=200)
    external_factors: dict[str, Scalar] = Field(default_factory=dict, max_length=200)
    causal_graph: dict[str, Any] | None = None
    quality_score: float | None = Field(None, ge=0, le=1)


class Ingest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    records: list[CausalRecord] = Field(min_length=1, max_length=MAX_RECORDS)


def event_view(event: MarketingEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "platform": event.platform,
        "campaign_id": event.campaign_id,
        "experiment_id": event.experiment_id,
        "timestamp": iso(event.timestamp),
        "treatment_assignment": event.treatment_assignment,
        "outcome": event.outcome,
        "confounders": event.confounders,
        "external_factors": event.external_factors,
        "causal_graph": event.causal_graph,
        "quality_score": event.quality_score,
    }


def _check_org(session: Session, who: Principal, org: str | None) -> None:
    if org is None:
        return
    mine = session.get(Organisation, who.org_id)
    if org not in (mine.id, mine.name):
        raise ApiError(422, "invalid", "org must name your own organisation (or be left out).",
                       "org")  # fmt: skip


@router.post("/ingest/causal", status_code=201, summary="Record causal data from a platform")
def ingest_causal(
    body: CausalRecord | Ingest,
    request: Request,
    who: Principal = Depends(Require(DATA_WRITE)),
    session: Session = Depends(get_session),
) -> Any:
    records = body.records if isinstance(body, Ingest) else [body]
    for record in records:
        _check_org(session, who, record.org)
        if record.experiment_id:
            owned(session, Experiment, record.experiment_id, who, "experiment")

    def create() -> tuple[int, dict[str, Any]]:
        events = [
            MarketingEvent(
                org_id=who.org_id, created_by=who.user_id, **record.model_dump(exclude={"org"})
            )
            for record in records
        ]
        session.add_all(events)
        session.flush()
        audit(session, who, "marketing.ingest", "marketing_event", None, count=len(events))
        return 201, {"ids": [e.id for e in events], "count": len(events)}

    return create_once(session, who, request, request_hash(body.model_dump(mode="json")), create)


@router.get("/causal/{experiment_id}", summary="The causal records of an experiment")
def causal_records(
    experiment_id: str,
    limit: int = Query(1000, ge=1, le=MAX_RECORDS),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(Require(DATA_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    owned(session, Experiment, experiment_id, who, "experiment")
    events = session.execute(
        select(MarketingEvent).where(MarketingEvent.org_id == who.org_id)
        .where(MarketingEvent.experiment_id == experiment_id)
        .order_by(MarketingEvent.timestamp, MarketingEvent.id).limit(limit).offset(offset)
    ).scalars().all()  # fmt: skip
    treated = sum(e.treatment_assignment for e in events)
    audit(session, who, "marketing.read", "experiment", experiment_id, count=len(events))
    session.commit()
    return {
        "experiment_id": experiment_id,
        "summary": {
            "records": len(events),
            "treated": treated,
            "control": len(events) - treated,
            "platforms": sorted({e.platform for e in events}),
        },
        "items": [event_view(e) for e in events],
    }


def _numeric(values: list[Scalar]) -> list[float] | None:
    """The values as numbers (booleans as 0/1, missing as NaN), or None for a text variable."""
    out = []
    for value in values:
        if value is None:
            out.append(float("nan"))
        elif isinstance(value, bool | int | float):
            out.append(float(value))
        else:
            return None
    return out


@router.get("/confounders", summary="Which recorded variables behave as confounders")
def confounders(
    platform: str | None = Query(None, max_length=100),
    start: datetime | None = Query(None),
    end: datetime | None = Query(None),
    alpha: float = Query(0.05, gt=0, lt=1),
    who: Principal = Depends(Require(DATA_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    import numpy as np

    from cerebro.stats.confounding import screen_confounders

    query = select(MarketingEvent).where(MarketingEvent.org_id == who.org_id)
    query = query.where(MarketingEvent.outcome.is_not(None))
    if platform:
        query = query.where(MarketingEvent.platform == platform)
    if start:
        query = query.where(MarketingEvent.timestamp >= start)
    if end:
        query = query.where(MarketingEvent.timestamp <= end)
    events = session.execute(query).scalars().all()
    names = sorted({k for e in events for k in (*e.confounders, *e.external_factors)})
    columns, text = {}, []
    for name in names:
        values = [e.confounders.get(name, e.external_factors.get(name)) for e in events]
        numbers = _numeric(values)
        if numbers is None:
            text.append(name)
        else:
            columns[name] = np.array(numbers)
    treated = np.array([e.treatment_assignment == 1 for e in events], dtype=bool)
    outcome = np.array([e.outcome for e in events], dtype=float)
    rows = screen_confounders(columns, treated, outcome, alpha) if events else []
    rows += [{"variable": n, "skipped": "not numeric"} for n in text]
    audit(session, who, "marketing.confounders", "marketing_event", None, records=len(events))
    session.commit()
    return {
        "records": len(events),
        "alpha": alpha,
        "confounders": [r["variable"] for r in rows if r.get("confounder")],
        "variables": rows,
        "method": "associated with treatment (Welch t on the standardised mean difference, "
        "|SMD| ≥ 0.1) and with the outcome (Pearson r), both at alpha; a screen, not a graph.",
    }

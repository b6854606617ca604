"""`/api/v1/experiments`: the experiment registry – the fields users asked for, a checked status
lifecycle (draft → running → stopped → analysed), linked datasets and analyses, search."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cerebro.service.deps import Require, audit, create_once, get_session, request_hash
from cerebro.service.errors import ApiError
from cerebro.service.models import (
    Analysis,
    Dataset,
    Experiment,
    ExperimentDataset,
    new_id,
    utcnow,
)
from cerebro.service.security import EXPERIMENTS_MANAGE, RESULTS_READ, Principal
from cerebro.service.tenancy import MAX_OFFSET, iso, owned

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"])

Status = Literal["draft", "running", "stopped", "analysed"]
NEXT: dict[str, set[str]] = {
    "draft": {"running"},
    "running": {"stopped"},
    "stopped": {"analysed"},
    "analysed": set(),
}
Name = Field(min_length=1, max_length=300)
Groups = list[str]


class ExperimentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Name
    description: str = Field("", max_length=5000)
    treatment_groups: Groups = Field(min_length=1, description="The arms that get a treatment.")
    control_groups: Groups = Field(default_factory=list, description="The control arm(s).")
    randomization_unit: str = Field(
        min_length=1, max_length=100, description="What was randomised (user, session, geo …)."
    )
    start_date: date | None = None
    end_date: date | None = None
    dataset_ids: list[str] = Field(default_factory=list, description="Datasets to link.")

    @model_validator(mode="after")
    def _dates(self) -> ExperimentIn:
        _check_dates(self.start_date, self.end_date)
        _check_groups(self.treatment_groups, self.control_groups)
        return self


class ExperimentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=5000)
    treatment_groups: Groups | None = Field(None, min_length=1)
    control_groups: Groups | None = None
    randomization_unit: str | None = Field(None, min_length=1, max_length=100)
    start_date: date | None = None
    end_date: date | None = None
    status: Status | None = None
    dataset_ids: list[str] | None = None


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"end_date {end} is before start_date {start}; swap them")


def _check_groups(treatment: list[str], control: list[str]) -> None:
    both = sorted(set(treatment) & set(control))
    if both:
        raise ValueError(f"{both[0]!r} is both a treatment and a control group; name it once")


def experiment_views(session: Session, experiments: list[Experiment]) -> list[dict[str, Any]]:
    """The experiments with their linked datasets and analyses – two queries for any number
    of experiments."""
    ids = [e.id for e in experiments]
    datasets: dict[str, list[str]] = {i: [] for i in ids}
    analyses: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for experiment_id, dataset_id in session.execute(
            select(ExperimentDataset.experiment_id, ExperimentDataset.dataset_id)
            .where(ExperimentDataset.experiment_id.in_(ids))
        ).all():  # fmt: skip
            datasets[experiment_id].append(dataset_id)
        for experiment_id, analysis_id in session.execute(
            select(Analysis.experiment_id, Analysis.id).where(Analysis.experiment_id.in_(ids))
            .where(Analysis.org_id == experiments[0].org_id)
            .order_by(Analysis.created_at, Analysis.id)
        ).all():  # fmt: skip
            analyses[experiment_id].append(analysis_id)
    return [view_of(e, datasets[e.id], analyses[e.id]) for e in experiments]


def view_of(e: Experiment, dataset_ids: list[str], analysis_ids: list[str]) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "description": e.description,
        "treatment_groups": e.treatment_groups,
        "control_groups": e.control_groups,
        "randomization_unit": e.randomization_unit,
        "start_date": iso(e.start_date),
        "end_date": iso(e.end_date),
        "status": e.status,
        "dataset_ids": sorted(dataset_ids),
        "analysis_ids": analysis_ids,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
    }


def experiment_view(session: Session, experiment: Experiment) -> dict[str, Any]:
    return experiment_views(session, [experiment])[0]


def link_datasets(
    session: Session, who: Principal, experiment_id: str, ids: list[str], new: bool = False
) -> None:
    """Replace the experiment's dataset links (a `new` one has none to remove); each dataset
    must be the organisation's."""
    for dataset_id in dict.fromkeys(ids):
        owned(session, Dataset, dataset_id, who, "dataset")
    if not new:
        session.execute(
            delete(ExperimentDataset).where(ExperimentDataset.experiment_id == experiment_id)
        )
    session.add_all(
        ExperimentDataset(experiment_id=experiment_id, dataset_id=d) for d in dict.fromkeys(ids)
    )


@router.post("", status_code=201, summary="Register an experiment (status draft)")
def create_experiment(
    body: ExperimentIn,
    request: Request,
    who: Principal = Depends(Require(EXPERIMENTS_MANAGE)),
    session: Session = Depends(get_session),
) -> Any:
    def create() -> tuple[int, dict[str, Any]]:
        # One flush for the experiment and its links, and its view from what was written: a
        # new experiment has no links to replace and no analyses to look up.
        fields = body.model_dump(exclude={"dataset_ids"})
        experiment = Experiment(id=new_id(), org_id=who.org_id, created_by=who.user_id, **fields)
        session.add(experiment)
        link_datasets(session, who, experiment.id, body.dataset_ids, new=True)
        session.flush()
        audit(session, who, "experiment.create", "experiment", experiment.id, name=body.name)
        return 201, view_of(experiment, list(dict.fromkeys(body.dataset_ids)), [])

    return create_once(session, who, request, request_hash(body.model_dump(mode="json")), create)


@router.get("", summary="Search and filter the organisation's experiments")
def list_experiments(
    q: str | None = Query(None, max_length=200, description="Part of the name or description."),
    status: Status | None = Query(None),
    randomization_unit: str | None = Query(None, max_length=100),
    started_after: date | None = Query(None, description="start_date on or after this day."),
    started_before: date | None = Query(None, description="start_date on or before this day."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    query = select(Experiment).where(Experiment.org_id == who.org_id)
    if q:
        text = q.lower()
        query = query.where(
            or_(
                func.lower(Experiment.name).contains(text, autoescape=True),
                func.lower(Experiment.description).contains(text, autoescape=True),
            )
        )
    if status:
        query = query.where(Experiment.status == status)
    if randomization_unit:
        query = query.where(Experiment.randomization_unit == randomization_unit)
    if started_after:
        query = query.where(Experiment.start_date >= started_after)
    if started_before:
        query = query.where(Experiment.start_date <= started_before)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    found = session.execute(
        query.order_by(Experiment.created_at.desc(), Experiment.id).limit(limit).offset(offset)
    ).scalars()
    items = experiment_views(session, list(found))
    audit(session, who, "experiment.list", "experiment", None, count=len(items))
    session.commit()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{experiment_id}", summary="An experiment with its linked datasets and analyses")
def get_experiment(
    experiment_id: str,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    experiment = owned(session, Experiment, experiment_id, who, "experiment")
    view = experiment_view(session, experiment)
    audit(session, who, "experiment.read", "experiment", experiment.id)
    session.commit()
    return view


def apply_patch(experiment: Experiment, patch: ExperimentPatch) -> dict[str, Any]:
    """Apply the fields sent; a status change must follow the lifecycle."""
    changes = patch.model_dump(exclude_unset=True, exclude={"dataset_ids"})
    if "status" in changes and changes["status"] != experiment.status:
        allowed = NEXT[experiment.status]
        if changes["status"] not in allowed:
            then = f"only to {sorted(allowed)[0]!r}" if allowed else "no further"
            raise ApiError(
                409,
                "invalid_transition",
                f"an experiment that is {experiment.status!r} cannot become "
                f"{changes['status']!r}; it moves {then} (draft → running → stopped → analysed).",
                "status",
            )
    for key in ("name", "treatment_groups", "randomization_unit", "status"):
        if key in changes and changes[key] is None:
            raise ApiError(422, "invalid", f"{key} cannot be null.", key)
    merged = {k: changes.get(k, getattr(experiment, k)) for k in ("start_date", "end_date")}
    try:
        _check_dates(merged["start_date"], merged["end_date"])
        _check_groups(
            changes.get("treatment_groups") or experiment.treatment_groups,
            changes.get("control_groups") or experiment.control_groups,
        )
    except ValueError as err:
        raise ApiError(422, "invalid", f"{err}.") from None
    for key, value in changes.items():
        setattr(experiment, key, value if key != "description" else (value or ""))
    return changes


@router.patch("/{experiment_id}", summary="Change an experiment's fields or status")
def update_experiment(
    experiment_id: str,
    patch: ExperimentPatch,
    who: Principal = Depends(Require(EXPERIMENTS_MANAGE)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    experiment = owned(session, Experiment, experiment_id, who, "experiment")
    before = experiment.status
    changes = apply_patch(experiment, patch)
    if patch.dataset_ids is not None:
        link_datasets(session, who, experiment.id, patch.dataset_ids)
    experiment.updated_at = utcnow()
    session.flush()
    detail = {"fields": sorted(patch.model_dump(exclude_unset=True))}
    if changes.get("status", before) != before:
        detail["status"] = [before, changes["status"]]
    audit(session, who, "experiment.update", "experiment", experiment.id, **detail)
    view = experiment_view(session, experiment)
    session.commit()
    return view

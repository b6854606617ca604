"""`/api/v1/analyses`: submit any registered kind's spec as a job, follow its status and
progress, read its versioned JSON result, download its HTML report and plot, cancel it."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cerebro.service import jobs
from cerebro.service.config import Settings
from cerebro.service.deps import (
    Require,
    audit,
    create_once,
    get_session,
    get_settings,
    request_hash,
)
from cerebro.service.errors import ApiError
from cerebro.service.models import Analysis, Dataset, Experiment
from cerebro.service.security import ANALYSIS_RUN, DATA_READ, RESULTS_READ, Principal
from cerebro.service.specs import MODEL_MAKERS, data_field, validated_spec
from cerebro.service.tenancy import MAX_OFFSET, iso, owned
from cerebro.service.wakeup import announce

router = APIRouter(prefix="/api/v1/analyses", tags=["analyses"])
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class AnalysisIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    dataset_id: str | None = Field(None, description="An uploaded dataset: the spec's data.")
    experiment_id: str | None = Field(None, description="The experiment this analysis belongs to.")
    spec: dict[str, Any] = Field(
        description="A spec of any registered kind (as in `cerebro run`), without `data`.",
        examples=[{"kind": "abtest", "treatment": "arm", "outcome": "revenue"}],
    )
    time_limit: float | None = Field(
        None, gt=0, description="Seconds the run may take (at most the server's limit)."
    )
    model_analysis_id: str | None = Field(
        None,
        description="For mmm_predict and mmm_optimize: a succeeded mmm analysis whose fitted "
        "model the spec uses (its `model`); mmm_predict's spend plan is the dataset.",
    )


def analysis_view(job: Analysis, with_result: bool = True) -> dict[str, Any]:
    base = f"/api/v1/analyses/{job.id}"
    links = {"self": base, "report": f"{base}/report", "plot": f"{base}/plot"}
    if job.kind in MODEL_MAKERS:
        links["model"] = f"{base}/model"
    view = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "progress_step": job.progress_step,
        "dataset_id": job.dataset_id,
        "experiment_id": job.experiment_id,
        "group_id": job.group_id,
        "spec": job.spec,
        "attempt": job.attempt,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "error": job.error,
        "links": links,
    }
    if with_result:
        view["result"] = job.result
    return view


@dataclass(frozen=True)
class Submission:
    """A validated analysis about to be queued: its spec checked against its dataset's file."""

    spec: dict[str, Any]
    dataset_id: str | None
    experiment_id: str | None
    time_limit: float
    model_analysis_id: str | None = None


def kept_model(session: Session, who: Principal, settings: Settings, analysis_id: str) -> Path:
    """The model file a succeeded analysis of the caller's organisation keeps."""
    source = owned(session, Analysis, analysis_id, who, "analysis")
    if source.kind not in MODEL_MAKERS:
        raise ApiError(422, "no_model", f"a {source.kind} analysis keeps no fitted model; give "
                       "the id of an mmm analysis.", "model_analysis_id")  # fmt: skip
    path = settings.model_path(source.id)
    if source.status != "succeeded" or not path.exists():
        raise ApiError(409, "not_ready", f"the mmm analysis is {source.status}; its model is "
                       "kept once it has succeeded.", "model_analysis_id")  # fmt: skip
    return path


def prepare(
    session: Session,
    who: Principal,
    settings: Settings,
    spec: Any,
    dataset_id: str | None,
    experiment_id: str | None,
    time_limit: float | None,
    model_analysis_id: str | None = None,
) -> Submission:
    """Check the references (the caller's organisation only) and the spec, as `cerebro run`
    would; nothing is written."""
    dataset = owned(session, Dataset, dataset_id, who, "dataset") if dataset_id else None
    if experiment_id:
        owned(session, Experiment, experiment_id, who, "experiment")
    model = kept_model(session, who, settings, model_analysis_id) if model_analysis_id else None
    path = settings.data_dir / dataset.path if dataset else None
    checked = validated_spec(spec, path, model)
    limit = min(time_limit or settings.job_time_limit, settings.job_time_limit)
    return Submission(checked, dataset_id, experiment_id, limit, model_analysis_id)


def job_spec(job: Submission) -> dict[str, Any]:
    """The spec the worker runs: the dataset and the kept model as references it resolves (and
    fails on, if they were deleted meanwhile)."""
    spec = dict(job.spec)
    field = data_field(str(spec["kind"]))
    if job.dataset_id and field:
        spec[field] = f"dataset:{job.dataset_id}"
    if job.model_analysis_id:
        spec["model"] = f"model:{job.model_analysis_id}"
    return spec


def enqueue(
    session: Session, who: Principal, settings: Settings, job: Submission, group: str | None = None
) -> Analysis:
    """Add the queued job and its audit rows (the submission, and the dataset read)."""
    row = Analysis(
        org_id=who.org_id,
        dataset_id=job.dataset_id,
        experiment_id=job.experiment_id,
        group_id=group,
        kind=str(job.spec["kind"]),
        spec=job_spec(job),
        time_limit=job.time_limit,
        max_attempts=settings.max_attempts,
        created_by=who.user_id,
    )
    session.add(row)
    session.flush()
    audit(session, who, "analysis.submit", "analysis", row.id, kind=row.kind,
          dataset=job.dataset_id)  # fmt: skip
    if job.dataset_id is not None:  # submitting reads the dataset: recorded as a data read
        audit(session, who, "dataset.use", "dataset", job.dataset_id, analysis=row.id)
    announce(session)  # wakes an idle worker when this transaction commits (PostgreSQL)
    return row


@router.post("", status_code=202, summary="Submit an analysis (runs as a job)")
def submit_analysis(
    body: AnalysisIn,
    request: Request,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Any:
    return submit(session, who, settings, request, body, body.spec)


def submit(
    session: Session, who: Principal, settings: Settings, request: Request, body: Any,
    spec: dict[str, Any],
) -> Any:  # fmt: skip
    """Validate `spec` for the request `body` (its dataset, experiment and time limit) and queue
    it once per idempotency key: the one submission path of every route that starts a job."""
    job = prepare(session, who, settings, spec, body.dataset_id, body.experiment_id,
                  body.time_limit, getattr(body, "model_analysis_id", None))  # fmt: skip

    def create() -> tuple[int, dict[str, Any]]:
        return 202, analysis_view(enqueue(session, who, settings, job))

    return create_once(session, who, request, request_hash(body.model_dump(mode="json")), create)


@router.get("", summary="List the organisation's analyses")
def list_analyses(
    status: JobStatus | None = Query(None),
    kind: str | None = Query(None, max_length=40),
    experiment_id: str | None = Query(None, max_length=32),
    dataset_id: str | None = Query(None, max_length=32),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    query = select(Analysis).where(Analysis.org_id == who.org_id)
    for column, value in ((Analysis.status, status), (Analysis.kind, kind),
                          (Analysis.experiment_id, experiment_id),
                          (Analysis.dataset_id, dataset_id)):  # fmt: skip
        if value:
            query = query.where(column == value)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    found = session.execute(
        query.order_by(Analysis.created_at.desc(), Analysis.id).limit(limit).offset(offset)
    ).scalars()
    items = [analysis_view(a, with_result=False) for a in found]
    audit(session, who, "analysis.list", "analysis", None, count=len(items))
    session.commit()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _read(session: Session, who: Principal, analysis_id: str, action: str) -> Analysis:
    job = owned(session, Analysis, analysis_id, who, "analysis")
    audit(session, who, action, "analysis", job.id)
    session.commit()
    return job


@router.get(
    "/{analysis_id}",
    response_class=JSONResponse,
    responses={200: {"content": {"application/json": {}}}},
    summary="Status, progress and the versioned JSON result",
)
def get_analysis(
    analysis_id: str,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> Response:
    """Serialised once, straight from the stored result (no response model validating a
    result of any size value by value before it is serialised)."""
    view = analysis_view(_read(session, who, analysis_id, "analysis.read"))
    return Response(to_json(view), media_type="application/json")


def _result_of(job: Analysis):
    from cerebro.core.results import Result

    if job.status != "succeeded" or job.result is None:
        raise ApiError(409, "not_ready", f"the analysis is {job.status}; it has no result yet.")
    return Result.from_dict(job.result)


@router.get("/{analysis_id}/report", response_class=HTMLResponse, summary="The HTML report")
def analysis_report(
    analysis_id: str,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> HTMLResponse:
    from cerebro.report.text import render_html, title_of

    result = _result_of(_read(session, who, analysis_id, "analysis.report"))
    title = html.escape(title_of(result))
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body>{render_html(result)}</body></html>"
    )
    return HTMLResponse(page)


@router.get(
    "/{analysis_id}/plot",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="The result's plot as PNG",
)
def analysis_plot(
    analysis_id: str,
    who: Principal = Depends(Require(RESULTS_READ)),
    session: Session = Depends(get_session),
) -> Response:
    from cerebro.core.errors import UserInputError
    from cerebro.report.plots import plot_result

    result = _result_of(_read(session, who, analysis_id, "analysis.plot"))
    try:
        figure = plot_result(result)
    except UserInputError as err:
        raise ApiError(404, "no_plot", str(err)) from None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    return Response(buffer.getvalue(), media_type="image/png")


@router.get(
    "/{analysis_id}/model",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
    summary="The fitted model an mmm analysis keeps (a .cerebro file, as `cerebro mmm --save`)",
)
def analysis_model(
    analysis_id: str,
    who: Principal = Depends(Require(DATA_READ)),  # the file holds the fitted data
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> FileResponse:
    job = owned(session, Analysis, analysis_id, who, "analysis")
    if job.kind not in MODEL_MAKERS:
        raise ApiError(404, "no_model", f"a {job.kind} analysis keeps no fitted model.")
    path = kept_model(session, who, settings, job.id)
    audit(session, who, "analysis.model", "analysis", job.id)
    session.commit()
    return FileResponse(path, media_type="application/octet-stream",
                        filename=f"mmm-{job.id}.cerebro")  # fmt: skip


@router.post("/{analysis_id}/cancel", summary="Cancel a queued or running analysis")
def cancel_analysis(
    analysis_id: str,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    job = owned(session, Analysis, analysis_id, who, "analysis")
    if job.status in jobs.FINISHED:
        raise ApiError(409, "finished", f"the analysis is already {job.status}.")
    status = jobs.cancel(session, job)
    audit(session, who, "analysis.cancel", "analysis", job.id)
    session.commit()
    return {"id": job.id, "status": status}

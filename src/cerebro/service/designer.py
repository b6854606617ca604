"""`POST /api/v1/design/experiment`: an experiment's design from one request – the sample size
and duration (`power`), the randomisation of an uploaded unit list (`design`) and the geo
markets (`geo_design`) – each part validated and run through the registry exactly as
`cerebro run` runs that kind (no second implementation), synchronously, and answered with the
versioned result JSON of each part asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cerebro.service.analyses import prepare
from cerebro.service.config import Settings
from cerebro.service.deps import Require, audit, get_session, get_settings
from cerebro.service.errors import ApiError
from cerebro.service.models import Dataset
from cerebro.service.security import ANALYSIS_RUN, Principal
from cerebro.service.tenancy import owned

router = APIRouter(prefix="/api/v1/design", tags=["intelligence"])

# A synchronous route answers within the request: datasets past this many rows go through the
# job queue instead (POST /api/v1/analyses with the same spec).
MAX_SYNC_ROWS = 200_000
PARTS = {"power": "power", "randomization": "design", "geo": "geo_design"}


def sync_dataset(
    session: Session, who: Principal, settings: Settings, dataset_id: Any, part: str | None = None
) -> tuple[Dataset, Path]:
    """The caller's dataset (404 otherwise) and its file, if small enough to use within a
    request; the use is audited as a data read. `part` names the body's part holding it."""
    field = f"{part}.dataset_id" if part else "dataset_id"
    if not isinstance(dataset_id, str) or not dataset_id:
        raise ApiError(
            422,
            "invalid",
            f"{field}: give the id of an uploaded dataset.",
            field,
        )
    dataset = owned(session, Dataset, dataset_id, who, "dataset")
    if dataset.rows > MAX_SYNC_ROWS:
        raise ApiError(
            422,
            "too_large",
            f"the dataset has {dataset.rows:,} rows, more than the {MAX_SYNC_ROWS:,} this route "
            "answers within a request; submit the spec as an analysis job instead.",
            field,
        )
    audit(session, who, "dataset.use", "dataset", dataset.id, route=part or "discover")
    return dataset, settings.data_dir / dataset.path


class DesignIn(BaseModel):
    """Any subset of the three parts; `randomization` and `geo` name their `dataset_id`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    power: dict[str, Any] | None = Field(
        None,
        description="A `kind: power` spec without kind.",
        examples=[{"baseline": 0.1, "mde": 0.02}],
    )
    randomization: dict[str, Any] | None = Field(
        None, description="`dataset_id` and a `kind: design` spec without kind."
    )
    geo: dict[str, Any] | None = Field(
        None, description="`dataset_id` and a `kind: geo_design` spec without kind."
    )


def _run_part(
    session: Session, who: Principal, settings: Settings, part: str, fields: dict[str, Any]
) -> dict[str, Any]:
    from cerebro.service.runner import run_analysis

    kind = PARTS[part]
    fields = dict(fields)
    if fields.pop("kind", kind) != kind:
        raise ApiError(
            422, "invalid_spec", f"{part} is a {kind} spec; remove its kind.", f"{part}.kind"
        )
    dataset_id = fields.pop("dataset_id", None)
    path = None
    if part != "power":
        dataset, path = sync_dataset(session, who, settings, dataset_id, part)
        dataset_id = dataset.id
    elif dataset_id is not None:
        raise ApiError(
            422, "invalid_spec", "power reads no data; remove power.dataset_id.", "power.dataset_id"
        )
    try:
        job = prepare(session, who, settings, {"kind": kind, **fields}, dataset_id, None, None)
    except ApiError as err:
        raise ApiError(
            err.status,
            err.code,
            err.message,
            f"{part}.{err.field.removeprefix('spec.')}" if err.field else part,
        ) from None
    files = {"data": str(path)} if path else {}
    refs = {"data": f"dataset:{dataset_id}"} if dataset_id else {}
    return run_analysis(job.spec, files, refs)


@router.post("/experiment", summary="Power, randomisation and geo markets in one request")
def design_experiment(
    body: DesignIn,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    asked = {part: fields for part in PARTS if (fields := getattr(body, part)) is not None}
    if not asked:
        raise ApiError(422, "invalid", "give at least one of power, randomization and geo.")
    answer = {
        part: _run_part(session, who, settings, part, fields) for part, fields in asked.items()
    }
    audit(session, who, "design.run", "design", None, parts=list(asked))
    session.commit()
    return answer

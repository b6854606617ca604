"""`/api/v1/datasets`: upload (multipart, streamed to disk, size-limited), list, profile, delete."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cerebro.core.errors import UserInputError
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
from cerebro.service.models import Dataset, new_id
from cerebro.service.profile import profile_file
from cerebro.service.security import DATA_READ, DATA_WRITE, Principal
from cerebro.service.tenancy import MAX_OFFSET, iso, owned

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])
SUFFIXES = {".csv", ".tsv", ".parquet", ".json"}
CHUNK = 1024 * 1024


def dataset_view(dataset: Dataset, with_profile: bool = True) -> dict[str, Any]:
    view = {
        "id": dataset.id,
        "name": dataset.name,
        "filename": dataset.filename,
        "size_bytes": dataset.size_bytes,
        "sha256": dataset.sha256,
        "rows": dataset.rows,
        "columns": dataset.columns,
        "created_at": iso(dataset.created_at),
        "created_by": dataset.created_by,
    }
    if with_profile:
        view["profile"] = dataset.profile
    return view


def safe_filename(name: str | None) -> str:
    """The upload's own name without folders or unusual characters (it names the file in error
    sentences); its suffix says how to read it."""
    base = Path(name or "").name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "data"
    suffix = Path(cleaned).suffix.lower()
    if suffix not in SUFFIXES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"cannot read {base or 'the upload'!r}: upload a .csv, .tsv, .parquet or .json file.",
            "file",
        )
    return cleaned[:200]


def store_upload(upload: UploadFile, target: Path, limit: int) -> tuple[int, str]:
    """Copy the upload to `target` chunk by chunk (never whole in memory), refusing it past
    `limit` bytes; returns (size, sha256)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        413, "too_large", f"the file exceeds the upload limit of {limit} bytes."
                    )
                digest.update(chunk)
                out.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def _remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


@router.post("", status_code=201, summary="Upload a dataset (CSV, TSV, Parquet or JSON)")
def upload_dataset(
    request: Request,
    file: UploadFile = File(..., description="The data file."),
    name: str | None = Form(None, max_length=300, description="A name (default: the file's)."),
    who: Principal = Depends(Require(DATA_WRITE)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Any:
    filename = safe_filename(file.filename)
    dataset_id = new_id()
    folder = settings.data_dir / who.org_id / dataset_id
    size, sha = store_upload(file, folder / filename, settings.max_upload_bytes)
    try:
        profile = profile_file(folder / filename)
    except UserInputError as err:
        _remove_folder(folder)
        raise ApiError(422, "invalid_data", str(err), "file") from None

    def create() -> tuple[int, dict[str, Any]]:
        dataset = Dataset(
            id=dataset_id,
            org_id=who.org_id,
            name=name or filename,
            filename=filename,
            path=f"{who.org_id}/{dataset_id}/{filename}",
            size_bytes=size,
            sha256=sha,
            rows=profile["rows"],
            columns=[c["name"] for c in profile["columns"]],
            profile=profile,
            created_by=who.user_id,
        )
        session.add(dataset)
        session.flush()
        audit(session, who, "dataset.create", "dataset", dataset_id, filename=filename, bytes=size)
        return 201, dataset_view(dataset)

    digest = request_hash(sha, name, filename)
    try:
        return create_once(session, who, request, digest, create, lambda: _remove_folder(folder))
    except BaseException:
        _remove_folder(folder)
        raise


@router.get("", summary="List the organisation's datasets")
def list_datasets(
    q: str | None = Query(None, max_length=200, description="Part of the name."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(Require(DATA_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    query = select(Dataset).where(Dataset.org_id == who.org_id)
    if q:
        query = query.where(func.lower(Dataset.name).contains(q.lower(), autoescape=True))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Dataset.created_at.desc(), Dataset.id).limit(limit).offset(offset)
    ).scalars()
    items = [dataset_view(d, with_profile=False) for d in rows]
    audit(session, who, "dataset.list", "dataset", None, count=len(items))
    session.commit()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{dataset_id}", summary="A dataset with its profile and data-quality findings")
def get_dataset(
    dataset_id: str,
    who: Principal = Depends(Require(DATA_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    dataset = owned(session, Dataset, dataset_id, who, "dataset")
    view = dataset_view(dataset)
    audit(session, who, "dataset.read", "dataset", dataset.id)
    session.commit()
    return view


@router.delete("/{dataset_id}", status_code=204, summary="Delete a dataset and its file")
def delete_dataset(
    dataset_id: str,
    who: Principal = Depends(Require(DATA_WRITE)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> None:
    dataset = owned(session, Dataset, dataset_id, who, "dataset")
    folder = (settings.data_dir / dataset.path).parent
    session.delete(dataset)
    audit(session, who, "dataset.delete", "dataset", dataset_id, filename=dataset.filename)
    session.commit()
    _remove_folder(folder)  # after the commit: a failed delete keeps the file of a kept row

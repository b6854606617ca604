"""`/api/v1/knowledge`: notes, and search over the organisation's experiments, analyses,
findings and notes – keyword (BM25), semantic (sentence embeddings) or both fused (hybrid).

Every role may search (the hits are filtered by what the role may read: experiments, analyses
and findings need `causal:results:read`, so an `org_admin` finds notes only); notes are written,
changed and deleted by the roles that analyse (any note of their organisation). See `knowledge_documents.py` for how the index is kept and cached,
`search_index.py` for the ranking and docs/service.md for the measured recall.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cerebro.service import embeddings, knowledge_documents
from cerebro.service.deps import Require, audit, create_once, get_session, request_hash
from cerebro.service.errors import ApiError
from cerebro.service.models import Experiment, Note
from cerebro.service.search_index import Mode, snippet
from cerebro.service.security import KNOWLEDGE_READ, NOTES_WRITE, RESULTS_READ, Principal
from cerebro.service.tenancy import MAX_OFFSET, iso, owned

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20000)
    experiment_id: str | None = Field(None, description="The experiment the note is about.")


class NotePatch(BaseModel):
    """The fields to change; those not sent stay. `experiment_id` null unlinks the note."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    body: str | None = Field(None, min_length=1, max_length=20000)
    experiment_id: str | None = Field(None, description="The experiment the note is about.")


def note_view(note: Note) -> dict[str, Any]:
    return {"id": note.id, "title": note.title, "body": note.body,
            "experiment_id": note.experiment_id, "created_at": iso(note.created_at)}  # fmt: skip


@router.post("/notes", status_code=201, summary="Write a note (found by knowledge search)")
def create_note(
    body: NoteIn,
    request: Request,
    who: Principal = Depends(Require(NOTES_WRITE)),
    session: Session = Depends(get_session),
) -> Any:
    if body.experiment_id:
        owned(session, Experiment, body.experiment_id, who, "experiment")

    def create() -> tuple[int, dict[str, Any]]:
        note = Note(org_id=who.org_id, created_by=who.user_id, **body.model_dump())
        session.add(note)
        session.flush()
        audit(session, who, "note.create", "note", note.id, experiment=body.experiment_id)
        return 201, note_view(note)

    return create_once(session, who, request, request_hash(body.model_dump(mode="json")), create)


@router.get("/notes", summary="The organisation's notes, newest first")
def list_notes(
    experiment_id: str | None = Query(None, max_length=32),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(Require(KNOWLEDGE_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    query = select(Note).where(Note.org_id == who.org_id)
    if experiment_id:
        query = query.where(Note.experiment_id == experiment_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    notes = session.execute(
        query.order_by(Note.created_at.desc(), Note.id).limit(limit).offset(offset)
    ).scalars()
    items = [note_view(n) for n in notes]
    audit(session, who, "note.list", "note", None, count=len(items))
    session.commit()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.patch("/notes/{note_id}", summary="Change a note's title, body or experiment")
def update_note(
    note_id: str,
    patch: NotePatch,
    who: Principal = Depends(Require(NOTES_WRITE)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    note = owned(session, Note, note_id, who, "note")
    changes = patch.model_dump(exclude_unset=True)
    for key in ("title", "body"):
        if key in changes and changes[key] is None:
            raise ApiError(422, "invalid", f"{key} cannot be null; send a text or leave it out.",
                           key)  # fmt: skip
    if changes.get("experiment_id"):
        owned(session, Experiment, changes["experiment_id"], who, "experiment")
    for key, value in changes.items():
        setattr(note, key, value)
    # the searchable text changes with the note, in its transaction: a search after the
    # response finds the new words (and embeds the new text), never the old ones
    knowledge_documents.index_note(session, note)
    audit(session, who, "note.update", "note", note.id, fields=sorted(changes))
    view = note_view(note)
    session.commit()
    return view


@router.delete("/notes/{note_id}", status_code=204, summary="Delete a note")
def delete_note(
    note_id: str,
    who: Principal = Depends(Require(NOTES_WRITE)),
    session: Session = Depends(get_session),
) -> None:
    note = owned(session, Note, note_id, who, "note")
    knowledge_documents.forget(session, "note", note.id)  # its text and embedding go with it
    session.delete(note)
    audit(session, who, "note.delete", "note", note_id, title=note.title[:200])
    session.commit()


def _query_vector(q: str, mode: str) -> tuple[str, np.ndarray | None]:
    """The mode that can run and the query's embedding. Without the model package installed,
    hybrid runs as keyword (and says so in `mode`); semantic is refused."""
    if mode == "keyword":
        return mode, None
    if not embeddings.available():
        if mode == "semantic":
            raise ApiError(503, "unavailable", "semantic search needs the embedding model "
                           f"package {embeddings.PACKAGE!r}, which this server lacks; "
                           "use mode=keyword.", "mode")  # fmt: skip
        return "keyword", None
    return mode, embeddings.model().encode([q])[0]


@router.get("/search", summary="Search experiments, analyses, findings and notes")
def search(
    q: str = Query(min_length=1, max_length=500, description="What to look for, in words."),
    limit: int = Query(10, ge=1, le=50),
    mode: Mode = Query("hybrid", description="keyword (BM25), semantic (embeddings) or both."),
    who: Principal = Depends(Require(KNOWLEDGE_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    if not q.strip():
        raise ApiError(422, "invalid", "q holds no words; send the text to search for.", "q")
    knowledge_documents.sync(session, who.org_id)
    knowledge_documents.embed_pending(session, who.org_id)
    index = knowledge_documents.index_for(session, who.org_id)
    ran, vector = _query_vector(q, mode)
    sees_results = who.can(RESULTS_READ)
    allowed = np.array([sees_results or d.type == "note" for d in index.documents], dtype=bool)
    with embeddings.one_blas_thread():
        ranked = index.search(q, ran, limit, vector, allowed)
    results = []
    for i, score in ranked:
        d = index.documents[i]
        results.append({"type": d.type, "id": d.id, "title": d.title,
                        "snippet": snippet(d.text, q), "score": round(score, 6),
                        "experiment_id": d.experiment_id, "analysis_id": d.analysis_id})  # fmt: skip
    audit(session, who, "knowledge.search", "knowledge", None, q=q[:200].replace("\x00", ""), mode=ran,
          count=len(results))  # fmt: skip
    session.commit()
    return {"query": q, "mode": ran, "results": results}

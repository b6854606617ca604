"""The searchable documents of an organisation, kept in step with its objects, and the index
over them cached per process.

Each search first brings the organisation's documents up to date (`sync`): an experiment
created or changed since it was indexed, an analysis that finished (its spec, headline estimates
and, as documents of their own, its findings) and a new note – or one whose text differs from
its document – get their text written; then
documents without an embedding get one (`embed_pending`, at most `EMBED_PER_REQUEST` per request
– the rest are found by keyword until they are embedded). The job workers do the same between
jobs for every organisation (`catch_up`), so a search seldom has anything left to embed.
Writing the text from the objects' tables, rather than in every route that changes an object,
indexes what any process wrote and what existed before this table did, with one code path.
Two routes also write in their own transaction: an edited note's document (`index_note`, its
embedding dropped to be made again) and a deleted note's removal (`forget`), so the response
is never followed by a hit on the old words; a document whose note is gone is never a hit.

The index of an organisation (BM25 and the embedding matrix, `search_index.SearchIndex`) is
cached in the process and rebuilt when the organisation's documents changed: their count and
latest `indexed_at` are read on every search (one indexed query), so another process's write
invalidates this process's copy too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cerebro.service import embeddings
from cerebro.service.models import Analysis, Experiment, KnowledgeDocument, Note, utcnow
from cerebro.service.search_index import Document, SearchIndex

EMBED_PER_REQUEST = 128  # ~2–20 s of embedding at most in one request (docs/service.md)
CACHED_ORGS = 64
_cache: OrderedDict[str, tuple[Any, SearchIndex]] = OrderedDict()
_lock = threading.Lock()


def experiment_document(e: Experiment) -> dict[str, Any]:
    dates = " to ".join(str(d) for d in (e.start_date, e.end_date) if d is not None)
    text = (
        f"{e.description}\nTreatment groups: {', '.join(e.treatment_groups)}. "
        f"Control groups: {', '.join(e.control_groups) or 'none'}. "
        f"Randomised by {e.randomization_unit}. Status {e.status}."
        + (f" Runs {dates}." if dates else "")
    )
    return {"title": e.name, "text": text, "experiment_id": e.id, "source_at": e.updated_at}


def _number(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, (int, float)) else "–"


def _headline(estimate: dict[str, Any]) -> str:
    """An estimate as one line: label, value, interval and p-value (four significant digits)."""
    line = f"{estimate.get('label')}: {_number(estimate.get('value'))}"
    if estimate.get("ci_low") is not None and estimate.get("ci_high") is not None:
        line += f" (CI {_number(estimate['ci_low'])} to {_number(estimate['ci_high'])})"
    if estimate.get("p_value") is not None:
        line += f", p = {estimate['p_value']:.3g}"
    return line


def _listed(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def analysis_documents(a: Analysis) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, id, fields) of a succeeded analysis – its kind, method, the spec's named fields and
    up to eight headline estimates – and of each of its findings (id `<analysis id>:<k>`)."""
    result = a.result or {}
    spec = {k: v for k, v in (a.spec or {}).items() if k not in ("kind", "data")}
    named = "; ".join(
        f"{k}: {_listed(v)}"
        for k, v in spec.items()
        if isinstance(v, (str, int, float, list)) and not isinstance(v, bool)
    )
    estimates = "\n".join(_headline(e) for e in (result.get("estimates") or [])[:8])
    title = f"{a.kind} analysis" + (
        f" of {_listed(spec['outcome'])}" if spec.get("outcome") else ""
    )
    common = {"experiment_id": a.experiment_id, "source_at": a.finished_at}
    text = f"{a.kind} ({result.get('method') or a.kind}). {named}\n{estimates}"
    documents = [("analysis", a.id, {**common, "title": title[:300], "text": text})]
    for k, finding in enumerate(result.get("findings") or []):
        heading = f"{finding.get('code')} ({finding.get('level')})"[:300]
        message = str(finding.get("message", ""))
        documents.append(("finding", f"{a.id}:{k}", {**common, "title": heading, "text": message}))
    return documents


def note_document(n: Note) -> dict[str, Any]:
    return {"title": n.title, "text": n.body, "experiment_id": n.experiment_id,
            "source_at": n.created_at}  # fmt: skip


def _unindexed(
    session: Session,
    model: Any,
    kind: str,
    stale: Any,
    org_id: str | None,
    limit: int | None,
    *where: Any,
) -> list[Any]:
    """Objects of `model` (of one organisation, or of all) with no document, or with a
    `stale` one."""
    doc = KnowledgeDocument
    query = (
        select(model)
        .outerjoin(doc, and_(doc.object_type == kind, doc.object_id == model.id))
        .where(or_(doc.object_id.is_(None), stale), *where)
    )
    if org_id is not None:
        query = query.where(model.org_id == org_id)
    return list(session.execute(query.limit(limit)).scalars())


def sync(session: Session, org_id: str | None, limit: int | None = None) -> int:
    """Write the documents of new or changed objects – of one organisation, or (the workers,
    `limit` objects of each type at a time) of all; how many documents."""
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    doc = KnowledgeDocument
    for e in _unindexed(session, Experiment, "experiment", doc.source_at < Experiment.updated_at,
                        org_id, limit):  # fmt: skip
        rows.append(("experiment", e.id, e.org_id, experiment_document(e)))
    for a in _unindexed(session, Analysis, "analysis", doc.source_at < Analysis.finished_at,
                        org_id, limit, Analysis.status == "succeeded"):  # fmt: skip
        rows += [(kind, key, a.org_id, fields) for kind, key, fields in analysis_documents(a)]
    for n in _unindexed(session, Note, "note", _note_changed(), org_id, limit):
        rows.append(("note", n.id, n.org_id, note_document(n)))
    if not rows:
        return 0
    for kind, object_id, owner, fields in rows:
        session.merge(_document(kind, object_id, owner, fields))
    _commit(session)
    return len(rows)


def _note_changed() -> Any:
    """A note's document differs from the note (notes have no version column: an edit writes
    the document in its transaction, `index_note`; this catches a search that indexed the old
    text concurrently, so a stale note document lasts until the next search at most)."""
    doc = KnowledgeDocument
    return or_(doc.title != Note.title, doc.text != Note.body,
               doc.experiment_id.is_distinct_from(Note.experiment_id))  # fmt: skip


def _document(kind: str, object_id: str, org_id: str, fields: dict[str, Any]) -> KnowledgeDocument:
    # a changed text loses its old embedding (model None): embed_pending makes a new one
    return KnowledgeDocument(object_type=kind, object_id=object_id, org_id=org_id,
                             indexed_at=utcnow(), model=None, vector=None, **fields)  # fmt: skip


def index_note(session: Session, note: Note) -> None:
    """Write a changed note's document (without an embedding until `embed_pending`) in the
    caller's transaction."""
    session.merge(_document("note", note.id, note.org_id, note_document(note)))


def forget(session: Session, kind: str, object_id: str) -> None:
    """Remove an object's document and embedding, in the caller's transaction."""
    doc = KnowledgeDocument
    session.execute(delete(doc).where(doc.object_type == kind, doc.object_id == object_id))


def embed_pending(session: Session, org_id: str | None, limit: int = EMBED_PER_REQUEST) -> int:
    """Embed up to `limit` documents (of one organisation, or of all) that have no embedding
    of the current model; how many. Nothing when the model is not installed."""
    if not embeddings.available():
        return 0
    doc = KnowledgeDocument
    query = select(doc).where(or_(doc.model.is_(None), doc.model != embeddings.MODEL_NAME))
    if org_id is not None:
        query = query.where(doc.org_id == org_id)
    pending = list(session.execute(query.order_by(doc.indexed_at).limit(limit)).scalars())
    if not pending:
        return 0
    vectors = embeddings.model().encode([f"{d.title}\n{d.text}" for d in pending])
    now = utcnow()
    for d, vector in zip(pending, vectors, strict=True):
        d.vector, d.model, d.indexed_at = embeddings.to_bytes(vector), embeddings.MODEL_NAME, now
    _commit(session)
    return len(pending)


def catch_up(session: Session, batch: int = 16) -> int:
    """Index and embed a batch of every organisation's new objects: what a worker does between
    jobs (a batch of 16 is about a second of embedding, so a job queued meanwhile waits little),
    so searches seldom pay for embeddings. How many documents were embedded."""
    sync(session, None, limit=batch)
    return embed_pending(session, None, limit=batch)


def _commit(session: Session) -> None:
    """Commit; a concurrent search that indexed the same object first wins (its row stands)."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def index_for(session: Session, org_id: str) -> SearchIndex:
    """The organisation's search index, cached while its documents are unchanged."""
    doc = KnowledgeDocument
    stamp = tuple(session.execute(
        select(func.count(), func.max(doc.indexed_at)).where(doc.org_id == org_id)
    ).one())  # fmt: skip
    with _lock:
        cached = _cache.get(org_id)
        if cached is not None and cached[0] == stamp:
            _cache.move_to_end(org_id)
            return cached[1]
    # a note deleted while a concurrent search indexed it may leave its document: never a hit
    rows = session.execute(
        select(doc.object_type, doc.object_id, doc.title, doc.text, doc.experiment_id,
               doc.model, doc.vector)
        .outerjoin(Note, and_(doc.object_type == "note", Note.id == doc.object_id))
        .where(doc.org_id == org_id, or_(doc.object_type != "note", Note.id.is_not(None)))
        .order_by(doc.object_type, doc.object_id)
    ).all()  # fmt: skip
    documents = [
        Document(r.object_type, r.object_id, r.title, r.text, r.experiment_id,
                 r.object_id.split(":")[0] if r.object_type in ("analysis", "finding") else None)
        for r in rows
    ]  # fmt: skip
    embedded = np.array([r.model == embeddings.MODEL_NAME for r in rows], dtype=bool)
    vectors = np.zeros((len(rows), embeddings.DIMENSION), dtype=np.float32)
    if embedded.any():
        vectors[embedded] = embeddings.from_bytes(
            [r.vector for r in rows if r.model == embeddings.MODEL_NAME]
        )
    index = SearchIndex(documents, vectors, embedded)
    with _lock:
        _cache[org_id] = (stamp, index)
        _cache.move_to_end(org_id)
        while len(_cache) > CACHED_ORGS:
            _cache.popitem(last=False)
    return index

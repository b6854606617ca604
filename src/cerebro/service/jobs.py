"""The job queue in the database: claim, heartbeat, finish, cancel and recovery of jobs whose
worker died. Every state change is one conditional UPDATE, so two workers never own one job and
a result is stored whole or not at all.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` picks the oldest queued job no other
worker is claiming; on SQLite (one writer at a time) the claim is a compare-and-set
`UPDATE … WHERE id = :id AND status = 'queued'` – whoever changes the row owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cerebro.service.models import Analysis, AuditEntry, utcnow
from cerebro.service.wakeup import announce

FINISHED = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Claim:
    """A job as one worker owns it: the claim (worker, attempt) guards every later write."""

    id: str
    org_id: str
    created_by: str
    worker: str
    attempt: int
    spec: dict[str, Any]
    dataset_id: str | None
    time_limit: float


def claim(session: Session, worker: str) -> Claim | None:
    """Take the oldest queued job, or None when there is none."""
    query = select(Analysis.id).where(Analysis.status == "queued")
    query = query.order_by(Analysis.created_at, Analysis.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job_id = session.execute(query).scalar_one_or_none()
    if job_id is None:
        session.rollback()
        return None
    now = utcnow()
    changed = session.execute(
        update(Analysis)
        .where(Analysis.id == job_id, Analysis.status == "queued")
        .values(status="running", worker=worker, attempt=Analysis.attempt + 1,
                started_at=now, heartbeat_at=now, progress=0.0, progress_step=None)
    ).rowcount  # fmt: skip
    if changed != 1:  # another worker won the row (SQLite): try again on the next poll
        session.rollback()
        return None
    job = session.execute(select(Analysis).where(Analysis.id == job_id)).scalar_one()
    session.commit()
    return Claim(job.id, job.org_id, job.created_by, worker, job.attempt, dict(job.spec),
                 job.dataset_id, job.time_limit)  # fmt: skip


def _owned(claim: Claim):
    return (
        Analysis.id == claim.id,
        Analysis.worker == claim.worker,
        Analysis.attempt == claim.attempt,
        Analysis.status == "running",
    )


def heartbeat(session: Session, claim: Claim, progress: float, step: str | None) -> bool | None:
    """Renew the claim and store progress. Returns whether cancellation was asked, or None
    when the job is no longer this worker's (it was recovered as stale)."""
    changed = session.execute(
        update(Analysis).where(*_owned(claim))
        .values(heartbeat_at=utcnow(), progress=progress, progress_step=(step or "")[:300])
    ).rowcount  # fmt: skip
    if changed != 1:
        session.rollback()
        return None
    cancel = session.execute(
        select(Analysis.cancel_requested).where(Analysis.id == claim.id)
    ).scalar_one()
    session.commit()
    return bool(cancel)


def finish(
    session: Session,
    claim: Claim,
    status: str,
    result: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
) -> bool:
    """Store the outcome and its audit row in one transaction, only if the claim still holds
    (a cancelled or recovered job keeps what it has). Returns whether it was stored."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error}
    if status == "succeeded":
        values.update(result=result, progress=1.0)
    changed = session.execute(update(Analysis).where(*_owned(claim)).values(**values)).rowcount
    if changed != 1:
        session.rollback()
        return False
    session.add(
        AuditEntry(
            org_id=claim.org_id,
            user_id=claim.created_by,
            action=f"analysis.{status}",
            object_type="analysis",
            object_id=claim.id,
            ip=None,
            detail={
                "worker": claim.worker,
                "attempt": claim.attempt,
                "dataset": claim.dataset_id,
                **({"error": error["code"]} if error else {}),
            },
        )
    )
    session.commit()
    return True


def release(session: Session, claim: Claim) -> None:
    """Give a job back to the queue (the worker is stopping); the attempt is not counted."""
    session.execute(
        update(Analysis).where(*_owned(claim))
        .values(status="queued", worker=None, attempt=Analysis.attempt - 1, heartbeat_at=None)
    )  # fmt: skip
    announce(session)  # another worker takes it at once
    session.commit()


def recover(session: Session, stale_after: float) -> dict[str, int]:
    """Jobs whose worker stopped renewing its claim: queued again while attempts remain,
    otherwise failed with the reason. Never half-stored: the result is written only by
    `finish`, so a recovered job has none."""
    cutoff = utcnow() - timedelta(seconds=stale_after)
    stale = session.execute(
        select(Analysis.id, Analysis.attempt, Analysis.max_attempts, Analysis.org_id,
               Analysis.created_by, Analysis.cancel_requested)
        .where(Analysis.status == "running", Analysis.heartbeat_at < cutoff)
    ).all()  # fmt: skip
    counts = {"requeued": 0, "failed": 0}
    for job in stale:
        guard = (Analysis.id == job.id, Analysis.attempt == job.attempt,
                 Analysis.status == "running", Analysis.heartbeat_at < cutoff)  # fmt: skip
        if job.attempt < job.max_attempts and not job.cancel_requested:
            values: dict[str, Any] = {"status": "queued", "worker": None, "heartbeat_at": None}
            outcome = "requeued"
        else:
            reason = (
                "cancelled; its worker stopped before it could stop the run."
                if job.cancel_requested
                else f"its worker stopped answering during attempt {job.attempt} of "
                f"{job.max_attempts}; submit the analysis again."
            )
            values = {"status": "cancelled" if job.cancel_requested else "failed",
                      "finished_at": utcnow(), "error": {"code": "worker_lost", "message": reason}}  # fmt: skip
            outcome = "failed"
        if session.execute(update(Analysis).where(*guard).values(**values)).rowcount == 1:
            counts[outcome] += 1
            session.add(AuditEntry(org_id=job.org_id, user_id=job.created_by,
                                   action=f"analysis.{outcome}", object_type="analysis",
                                   object_id=job.id, detail={"attempt": job.attempt}))  # fmt: skip
    if counts["requeued"]:
        announce(session)
    session.commit()
    return counts


def cancel(session: Session, job: Analysis) -> str:
    """A queued job is cancelled at once; a running one is asked to stop (its worker kills the
    run within a poll). Returns the status the job now has or is heading to."""
    if job.status == "queued":
        changed = session.execute(
            update(Analysis).where(Analysis.id == job.id, Analysis.status == "queued")
            .values(status="cancelled", finished_at=utcnow(), cancel_requested=True,
                    error={"code": "cancelled", "message": "cancelled before it started."})
        ).rowcount  # fmt: skip
        if changed == 1:
            return "cancelled"
    session.execute(
        update(Analysis).where(Analysis.id == job.id, Analysis.status == "running")
        .values(cancel_requested=True)
    )  # fmt: skip
    return "cancelling"

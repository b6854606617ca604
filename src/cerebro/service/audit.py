"""`/api/v1/audit`: who did what to which object, when and from where – for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from cerebro.service.deps import Require, get_session
from cerebro.service.models import AuditEntry, User
from cerebro.service.security import AUDIT_READ, Principal
from cerebro.service.tenancy import MAX_OFFSET, iso

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", summary="The organisation's audit log, newest first")
def read_audit(
    action: str | None = Query(None, max_length=60, description="e.g. dataset.read"),
    object_id: str | None = Query(None, max_length=32),
    user_id: str | None = Query(None, max_length=32),
    since: datetime | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(Require(AUDIT_READ)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    query = (
        select(AuditEntry, User.email)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.org_id == who.org_id)
    )
    for column, value in ((AuditEntry.action, action), (AuditEntry.object_id, object_id),
                          (AuditEntry.user_id, user_id)):  # fmt: skip
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(AuditEntry.at >= since)
    rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return {
        "items": [
            {
                "id": entry.id,
                "at": iso(entry.at),
                "user_id": entry.user_id,
                "user": email,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "ip": entry.ip,
                "detail": entry.detail,
            }
            for entry, email in rows
        ],
        "limit": limit,
        "offset": offset,
    }

"""Organisation isolation: every object is looked up with its organisation in the query."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cerebro.service.errors import not_found
from cerebro.service.security import Principal

T = TypeVar("T")


@cache
def _lookup(model: type) -> Any:
    """The select of one object by id and organisation, built once per model (building it costs
    more than running it)."""
    return select(model).where(model.id == bindparam("id"), model.org_id == bindparam("org"))


def owned(session: Session, model: type[T], object_id: str, who: Principal, what: str) -> T:
    """The object of the caller's organisation with this id; a 404 whether it does not exist
    or belongs to another organisation."""
    found = session.execute(
        _lookup(model), {"id": object_id, "org": who.org_id}
    ).scalar_one_or_none()
    if found is None:
        raise not_found(what)
    return found


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


MAX_OFFSET = 1_000_000_000  # page offsets past this are refused (the databases' integer range)

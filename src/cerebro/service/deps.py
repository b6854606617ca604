"""What every route depends on: a database session, the authorised caller, the audit log and
idempotent creation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cerebro.service.callers import Callers
from cerebro.service.config import Settings
from cerebro.service.errors import ApiError
from cerebro.service.models import ApiToken, AuditEntry, IdempotencyKey, User
from cerebro.service.security import Principal, hash_token

# The statements every request runs, built once: building a select or an insert in Python costs
# more than running it (0.2–0.3 ms of CPU each, measured on PostgreSQL); executed with bound
# parameters, each is compiled once and then taken from SQLAlchemy's statement cache.
CALLER = (
    select(User.id, User.org_id, User.email, User.role)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
    .where(ApiToken.revoked_at.is_(None))
    .where(User.deactivated_at.is_(None))  # tokens are revoked too; belt and braces
)
AUDIT_ROW = insert(AuditEntry.__table__)

bearer = HTTPBearer(auto_error=False, description="An API token from `cerebro admin create-user`.")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; what the route does not commit is rolled back.

    Async, so FastAPI runs it on the event loop instead of handing its set-up and its clean-up
    each to a thread of the pool (two thread hand-offs per request, a tenth of a request's CPU
    under load): creating a session does no I/O (it takes a connection only when the route
    runs its first query, in the route's thread), and closing one whose transaction the route
    committed only drops Python objects. A session left in a transaction – the route raised
    before committing – is closed in the pool, as its rollback is a round trip to the database.
    """
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_settings(request: Request) -> Settings:  # async: no thread hand-off for a lookup
    return request.app.state.settings


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def look_up_caller(
    sessions: sessionmaker[Session], callers: Callers, token_hash: str
) -> tuple[str, str, str, str] | None:
    """The active user of an unrevoked token, from the database (remembered for a while)."""
    generation = callers.generation
    with sessions() as session:
        row = session.execute(CALLER, {"token_hash": token_hash}).first()
    if row is None:
        return None
    caller = (row.id, row.org_id, row.email, row.role)
    callers.put(token_hash, caller, generation)
    return caller


class Require:
    """The dependency that authenticates the caller and checks one permission; every route
    declares one (tests/test_service_permissions.py enumerates them). Order: no or unknown
    token → 401, a role without the permission → 403, and only then is any object looked up
    (so a 403 never depends on an object's existence)."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        # async: a caller this process remembers (callers.py) costs no query and no thread
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthorised", "send 'Authorization: Bearer <API token>'.")
        token_hash = hash_token(credentials.credentials)
        callers: Callers = request.app.state.callers
        caller = callers.get(token_hash)
        if caller is None:
            caller = await run_in_threadpool(
                look_up_caller, request.app.state.sessions, callers, token_hash
            )
        if caller is None:
            raise ApiError(401, "unauthorised", "this API token is unknown or revoked.")
        principal = Principal(*caller, client_ip(request))
        if not principal.can(self.permission):
            raise ApiError(
                403, "forbidden", f"the role {principal.role!r} lacks {self.permission!r}."
            )
        return principal


def audit(
    session: Session,
    who: Principal,
    action: str,
    object_type: str,
    object_id: str | None = None,
    **detail: Any,
) -> None:
    """Write an audit row in the session's transaction: it commits with the read or change it
    records. A plain INSERT, not an ORM object: every read writes one, and the unit of work's
    bookkeeping (identity map, fetching the new id back) is most of an ORM insert's cost."""
    session.execute(
        AUDIT_ROW,
        {
            "org_id": who.org_id,
            "user_id": who.user_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "ip": who.ip,
            "detail": detail,
        },
    )


def request_hash(*parts: Any) -> str:
    """A fingerprint of a request's content, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _replay(session: Session, who: Principal, key: str, route: str, digest: str):
    stored = session.execute(
        select(IdempotencyKey).where(IdempotencyKey.user_id == who.user_id)
        .where(IdempotencyKey.key == key)
    ).scalar_one_or_none()  # fmt: skip
    if stored is None:
        return None
    if stored.route != route or stored.request_hash != digest:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; send a new key.",
            "Idempotency-Key",
        )
    return JSONResponse(stored.response, status_code=stored.status_code)


def create_once(
    session: Session,
    who: Principal,
    request: Request,
    digest: str,
    create: Callable[[], tuple[int, dict[str, Any]]],
    on_replay: Callable[[], None] = lambda: None,
    kept: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: body,
) -> JSONResponse:
    """Run `create` (which adds rows, audit included, and returns status and body) and commit –
    once per `Idempotency-Key`: a retry with the same key and content gets the first response;
    two racing requests with one key create one object (the key's unique constraint). `kept`
    is what of the response is stored for a retry (a new token's secret is not: its hash is the
    only trace of it the database keeps)."""
    key = request.headers.get("Idempotency-Key")
    route = f"{request.method} {request.url.path}"
    if key is not None:
        if not 1 <= len(key) <= 200:
            raise ApiError(422, "invalid", "Idempotency-Key must hold 1 to 200 characters.")
        replayed = _replay(session, who, key, route, digest)
        if replayed is not None:
            on_replay()
            return replayed
    status, body = create()
    if key is not None:
        session.add(
            IdempotencyKey(
                org_id=who.org_id,
                user_id=who.user_id,
                key=key,
                route=route,
                request_hash=digest,
                status_code=status,
                response=kept(body),
            )
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        replayed = _replay(session, who, key, route, digest) if key is not None else None
        if replayed is None:
            raise
        on_replay()
        return replayed
    return JSONResponse(body, status_code=status)

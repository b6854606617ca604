"""`/api/v1/users` and `/api/v1/tokens`: an organisation admin manages its users and tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cerebro.core.errors import UserInputError
from cerebro.service.admin import (
    LastAdminError,
    create_user,
    deactivate_user,
    issue_token,
    set_role,
)
from cerebro.service.deps import Require, audit, create_once, get_session, request_hash
from cerebro.service.errors import ApiError, not_found
from cerebro.service.models import ApiToken, Organisation, User, utcnow
from cerebro.service.security import USERS_MANAGE, Principal
from cerebro.service.tenancy import iso, owned

router = APIRouter(prefix="/api/v1", tags=["users"])


ROLE_HELP = "causal_analyst, causal_admin, viewer or org_admin."


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    role: str = Field(description=ROLE_HELP)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(description=ROLE_HELP)


def active_user(session: Session, user_id: str, who: Principal) -> User:
    """The organisation's active user with this id; a deleted one is a 404 like any other."""
    user = owned(session, User, user_id, who, "user")
    if user.deactivated_at is not None:
        raise not_found("user")
    return user


def _refused(err: UserInputError) -> ApiError:
    if isinstance(err, LastAdminError):
        return ApiError(409, "last_org_admin", str(err), "role")
    return ApiError(422, "invalid", str(err), "role")


def secretless(body: dict[str, Any]) -> dict[str, Any]:
    """A response kept for an idempotent retry, without the token's secret (shown only once; a
    retry learns the object exists and can ask for a new token)."""
    return {**body, "token": None}


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "created_at": iso(user.created_at),
    }


@router.post("/users", status_code=201, summary="Add a user (the response holds its token once)")
def add_user(
    body: UserIn,
    request: Request,
    who: Principal = Depends(Require(USERS_MANAGE)),
    session: Session = Depends(get_session),
) -> Any:
    def create() -> tuple[int, dict[str, Any]]:
        org = session.get(Organisation, who.org_id)
        try:
            user, token = create_user(session, org, body.email, body.role)
        except UserInputError as err:
            raise ApiError(422, "invalid", str(err)) from None
        audit(session, who, "user.create", "user", user.id, role=body.role)
        return 201, {**user_view(user), "token": token}

    return create_once(
        session, who, request, request_hash(body.model_dump()), create, kept=secretless
    )


@router.get("/users", summary="The organisation's users")
def list_users(
    who: Principal = Depends(Require(USERS_MANAGE)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    users = session.execute(
        select(User).where(User.org_id == who.org_id).where(User.deactivated_at.is_(None))
        .order_by(User.email)
    ).scalars()  # fmt: skip
    return {"items": [user_view(u) for u in users]}


@router.post("/users/{user_id}/tokens", status_code=201, summary="A new token for a user")
def add_token(
    user_id: str,
    request: Request,
    who: Principal = Depends(Require(USERS_MANAGE)),
    session: Session = Depends(get_session),
) -> Any:
    user = active_user(session, user_id, who)

    def create() -> tuple[int, dict[str, Any]]:
        row, token = issue_token(session, user)
        audit(session, who, "token.create", "token", row.id, user=user.id)
        return 201, {"id": row.id, "user_id": user.id, "prefix": row.prefix, "token": token}

    return create_once(session, who, request, request_hash(user_id), create, kept=secretless)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(
    token_id: str,
    who: Principal = Depends(Require(USERS_MANAGE)),
    session: Session = Depends(get_session),
) -> None:
    token = owned(session, ApiToken, token_id, who, "token")
    session.execute(update(ApiToken).where(ApiToken.id == token.id).values(revoked_at=utcnow()))
    audit(session, who, "token.revoke", "token", token.id)
    session.commit()


@router.patch("/users/{user_id}", summary="Change a user's role")
def change_role(
    user_id: str,
    body: UserPatch,
    who: Principal = Depends(Require(USERS_MANAGE)),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    user = active_user(session, user_id, who)
    try:
        before = set_role(session, user, body.role)
    except UserInputError as err:
        raise _refused(err) from None
    audit(session, who, "user.role", "user", user.id, role=[before, user.role])
    session.commit()
    return user_view(user)


@router.delete("/users/{user_id}", status_code=204, summary="Delete (deactivate) a user")
def delete_user(
    user_id: str,
    who: Principal = Depends(Require(USERS_MANAGE)),
    session: Session = Depends(get_session),
) -> None:
    """The user can no longer sign in: its tokens are revoked in the same transaction. Its row
    stays, so the audit log keeps naming who did what."""
    user = active_user(session, user_id, who)
    try:
        revoked = deactivate_user(session, user)
    except UserInputError as err:
        raise _refused(err) from None
    audit(session, who, "user.delete", "user", user.id, tokens_revoked=revoked)
    session.commit()

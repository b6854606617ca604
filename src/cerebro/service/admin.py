"""Organisations, users and tokens – shared by `cerebro admin` and the users routes."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cerebro.core.errors import UserInputError
from cerebro.service.models import ApiToken, AuditEntry, Organisation, User, utcnow
from cerebro.service.security import ROLES, hash_token, new_token

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def create_org(session: Session, name: str) -> Organisation:
    if not ORG_NAME.match(name):
        raise UserInputError(
            f"organisation name {name!r} must be 1–100 letters, digits, '.', '_' or '-'."
        )
    if session.execute(select(Organisation).where(Organisation.name == name)).first():
        raise UserInputError(f"organisation {name!r} already exists.")
    org = Organisation(name=name)
    session.add(org)
    session.flush()
    return org


def find_org(session: Session, name: str) -> Organisation:
    org = session.execute(select(Organisation).where(Organisation.name == name)).scalar()
    if org is None:
        raise UserInputError(
            f"no organisation {name!r}; create it first with 'cerebro admin create-org {name}'."
        )
    return org


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserInputError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}.")


def create_user(session: Session, org: Organisation, email: str, role: str) -> tuple[User, str]:
    """A user of `org` with `role` and its first API token (returned once, stored hashed)."""
    check_role(role)
    if not EMAIL.match(email) or len(email) > 320:
        raise UserInputError(f"{email!r} is not an e-mail address.")
    if session.execute(select(User).where(User.email == email.lower())).first():
        raise UserInputError(f"a user {email.lower()!r} already exists (or was deleted).")
    user = User(org_id=org.id, email=email.lower(), role=role)
    session.add(user)
    session.flush()
    return user, issue_token(session, user)[1]


def issue_token(session: Session, user: User) -> tuple[ApiToken, str]:
    token = new_token()
    row = ApiToken(user_id=user.id, org_id=user.org_id, token_hash=hash_token(token),
                   prefix=token[:10])  # fmt: skip
    session.add(row)
    session.flush()
    return row, token


class LastAdminError(UserInputError):
    """The change would leave an organisation without an active org_admin (the API's 409)."""


def find_user(session: Session, email: str) -> User:
    """The active user with this e-mail address (one sentence if there is none)."""
    user = session.execute(
        select(User).where(User.email == email.lower()).where(User.deactivated_at.is_(None))
    ).scalar_one_or_none()
    if user is None:
        raise UserInputError(f"no active user {email.lower()!r}.")
    return user


def _keep_an_admin(session: Session, user: User, new_role: str | None) -> None:
    """Refuse to demote or deactivate the organisation's last active org_admin. The org row is
    locked first (PostgreSQL; SQLite has one writer), so two admins demoting each other at
    once cannot both pass the count."""
    if user.role != "org_admin" or new_role == "org_admin":
        return
    session.execute(select(Organisation.id).where(Organisation.id == user.org_id).with_for_update())
    admins = session.execute(
        select(func.count()).select_from(User).where(User.org_id == user.org_id)
        .where(User.role == "org_admin").where(User.deactivated_at.is_(None))
    ).scalar_one()  # fmt: skip
    if admins <= 1:
        raise LastAdminError(
            f"{user.email} is the organisation's last org_admin; make another user org_admin first."
        )


def set_role(session: Session, user: User, role: str) -> str:
    """Give `user` another role; returns the previous one."""
    check_role(role)
    _keep_an_admin(session, user, role)
    before, user.role = user.role, role
    session.flush()
    return before


def deactivate_user(session: Session, user: User) -> int:
    """Delete a user: deactivate its row (the audit log keeps naming it) and revoke its
    tokens at once; returns how many tokens were revoked."""
    _keep_an_admin(session, user, None)
    now = utcnow()
    user.deactivated_at = now
    revoked = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id)
        .where(ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount  # fmt: skip
    session.flush()
    return revoked


def audit_admin(session: Session, user: User, action: str, **detail: object) -> None:
    """The audit row of a change made with `cerebro admin` (no API caller: user and IP null)."""
    session.add(
        AuditEntry(org_id=user.org_id, user_id=None, action=action, object_type="user",
                   object_id=user.id, ip=None, detail={"via": "cerebro admin", **detail})
    )  # fmt: skip

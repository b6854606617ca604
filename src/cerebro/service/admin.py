"""Organisations, users and tokens – shared by `cerebro admin` and the users routes."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from cerebro.core.errors import UserInputError
from cerebro.service.models import ApiToken, Organisation, User
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
        raise UserInputError(f"a user {email.lower()!r} already exists.")
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

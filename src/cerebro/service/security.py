"""Who may do what: bearer tokens, the permissions users named and the roles that hold them.

Tokens are 256 random bits (`secrets.token_urlsafe(32)`), shown once and stored only as their
SHA-256. A slow password hash (bcrypt, argon2) exists to make guessing a *low-entropy* secret
expensive; a 256-bit random secret cannot be guessed whatever the hash costs, so a fast hash
loses nothing – and an exact hash lets the database find a token by an indexed equality on every
request, with no per-user salt to look up first. A stolen database yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

DATA_READ = "causal:data:read"
DATA_WRITE = "causal:data:write"
ANALYSIS_RUN = "causal:analysis:run"
EXPERIMENTS_MANAGE = "causal:experiments:manage"
# The four above are the users' names; reading results, managing an organisation's users and
# tokens, and reading its audit log are the rights the roles `viewer`, `org_admin` and the
# admins hold besides them.
RESULTS_READ = "causal:results:read"
USERS_MANAGE = "org:users:manage"
AUDIT_READ = "org:audit:read"
# Knowledge search answers every role (the hits a role may see are filtered by its rights);
# notes are written by the roles that analyse.
KNOWLEDGE_READ = "knowledge:read"
NOTES_WRITE = "knowledge:notes:write"

PERMISSIONS = (
    DATA_READ,
    DATA_WRITE,
    ANALYSIS_RUN,
    EXPERIMENTS_MANAGE,
    RESULTS_READ,
    USERS_MANAGE,
    AUDIT_READ,
    KNOWLEDGE_READ,
    NOTES_WRITE,
)

ROLES: dict[str, frozenset[str]] = {
    "causal_analyst": frozenset(
        {DATA_READ, ANALYSIS_RUN, RESULTS_READ, KNOWLEDGE_READ, NOTES_WRITE}
    ),
    "causal_admin": frozenset(
        {
            DATA_READ,
            DATA_WRITE,
            ANALYSIS_RUN,
            EXPERIMENTS_MANAGE,
            RESULTS_READ,
            AUDIT_READ,
            KNOWLEDGE_READ,
            NOTES_WRITE,
        }
    ),
    "viewer": frozenset({RESULTS_READ, KNOWLEDGE_READ}),
    "org_admin": frozenset({USERS_MANAGE, AUDIT_READ, KNOWLEDGE_READ}),
}

TOKEN_PREFIX = "cb_"


def new_token() -> str:
    """A fresh secret, shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The caller of a request, as its token says."""

    user_id: str
    org_id: str
    email: str
    role: str
    ip: str | None = None

    def can(self, permission: str) -> bool:
        return permission in ROLES.get(self.role, frozenset())

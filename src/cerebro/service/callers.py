"""Who is calling: each API process remembers, for `Settings.caller_cache_seconds`, which user
a token hash belongs to, so an authenticated request does not look its token up in the database
(a query, and a hand-off to a thread of the pool, before the route's own).

What a remembered caller may never outlive:
- a change made through this process – a revoked token, a changed role, a deleted user: any
  session of the app that changes a `users` or `api_tokens` row forgets every remembered caller
  when it commits (a session event, so no route can forget to), and a lookup that raced with
  such a commit is not remembered (a generation count);
- a change made by another process – `cerebro admin`, another of uvicorn's API processes – for
  longer than `caller_cache_seconds` (2 s by default; 0 turns the cache off).

Only known, active tokens are remembered: an unknown token is looked up every time, so a token
issued by another process works at once and guessing fills no memory.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from cerebro.service.models import ApiToken, User

AUTH_TABLES = (User, ApiToken)


class Callers:
    """token hash → (user id, organisation id, e-mail, role), each for `ttl` seconds."""

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self.entries: dict[str, tuple[float, tuple[str, str, str, str]]] = {}
        self.generation = 0
        self.lock = threading.Lock()

    def get(self, token_hash: str) -> tuple[str, str, str, str] | None:
        found = self.entries.get(token_hash)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, token_hash: str, caller: tuple[str, str, str, str], generation: int) -> None:
        """Remember a caller looked up at `generation`, unless a change committed since."""
        if self.ttl <= 0:
            return
        with self.lock:
            if generation != self.generation:
                return
            if len(self.entries) >= self.size:
                self.entries.clear()
            self.entries[token_hash] = (time.monotonic() + self.ttl, caller)

    def forget(self) -> None:
        with self.lock:
            self.generation += 1
            self.entries.clear()


def forget_on_auth_changes(sessions: sessionmaker[Session], callers: Callers) -> None:
    """Forget every remembered caller when a session of `sessions` commits a change to a user
    or a token: an ORM change (a role, a deactivation) or an UPDATE/DELETE statement (a
    revocation)."""

    @event.listens_for(sessions, "before_flush")
    def _flushing(session: Session, _context: Any, _instances: Any) -> None:
        if any(isinstance(o, AUTH_TABLES) for o in (*session.dirty, *session.deleted)):
            session.info["auth_changed"] = True

    @event.listens_for(sessions, "do_orm_execute")
    def _executing(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and any(
            mapper.class_ in AUTH_TABLES for mapper in state.all_mappers
        ):
            state.session.info["auth_changed"] = True

    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop("auth_changed", False):
            callers.forget()

"""The API process remembers a token's user for a short while (callers.py): a remembered caller
costs no query, a change through the process (revoke, role, delete) is seen on the next
request, a change by another process within `caller_cache_seconds`, and an unknown token is
never remembered."""

from __future__ import annotations

import dataclasses
import time

from fastapi.testclient import TestClient
from sqlalchemy import event, update

from cerebro.service.admin import issue_token
from cerebro.service.app import create_app
from cerebro.service.callers import Callers
from cerebro.service.models import ApiToken, User, utcnow
from cerebro.service.security import hash_token, new_token
from service_support import *  # noqa: F403


class CallerQueries:
    """Counts the token look-ups an engine runs."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)
        self.engine = engine

    def _seen(self, _conn, _cursor, statement, *_args) -> None:
        self.count += "api_tokens.token_hash" in statement

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_remembered_caller_costs_no_query_and_a_revoked_token_is_refused_at_once(service, org):
    admin = org.auth("org_admin")
    user_id = org.user_ids["causal_analyst"]
    made = service.client.post(f"/api/v1/users/{user_id}/tokens", headers=admin).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    queries = CallerQueries(service.engine)
    try:
        assert service.client.get("/api/v1/datasets", headers=headers).status_code == 200
        looked_up = queries.count
        assert looked_up == 1
        assert service.client.get("/api/v1/datasets", headers=headers).status_code == 200
        assert queries.count == looked_up  # remembered: no query
        revoked = service.client.delete(f"/api/v1/tokens/{made['id']}", headers=admin)
        assert revoked.status_code == 204
        refused = service.client.get("/api/v1/datasets", headers=headers)
        assert refused.status_code == 401, refused.text
    finally:
        queries.close()
    # the user's other token is untouched
    assert (
        service.client.get("/api/v1/datasets", headers=org.auth("causal_analyst")).status_code
        == 200
    )


def test_a_role_change_and_a_deletion_through_the_api_are_seen_on_the_next_request(service, org):
    admin, viewer = org.auth("org_admin"), org.auth("viewer")
    assert service.client.get("/api/v1/experiments", headers=viewer).status_code == 200
    assert service.client.get("/api/v1/datasets", headers=viewer).status_code == 403
    user_id = org.user_ids["viewer"]
    moved = service.client.patch(f"/api/v1/users/{user_id}", json={"role": "org_admin"},
                                 headers=admin)  # fmt: skip
    assert moved.status_code == 200
    assert service.client.get("/api/v1/experiments", headers=viewer).status_code == 403
    assert service.client.get("/api/v1/users", headers=viewer).status_code == 200
    assert service.client.delete(f"/api/v1/users/{user_id}", headers=admin).status_code == 204
    assert service.client.get("/api/v1/users", headers=viewer).status_code == 401


def test_a_change_by_another_process_is_seen_within_the_cache_time(service, org):
    for seconds in (0.0, 0.5):
        settings = dataclasses.replace(service.settings, caller_cache_seconds=seconds)
        with TestClient(create_app(settings, service.engine)) as client:
            with service.sessions() as session:  # another process: not the app's sessions
                _row, token = issue_token(session, session.get(User, org.user_ids["viewer"]))
                session.commit()
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v1/experiments", headers=headers).status_code == 200
            with service.sessions() as session:
                session.execute(
                    update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                    .values(revoked_at=utcnow())
                )  # fmt: skip
                session.commit()
            time.sleep(seconds * 1.2)
            assert client.get("/api/v1/experiments", headers=headers).status_code == 401


def test_an_unknown_token_is_not_remembered(service, org):
    token = new_token()
    headers = {"Authorization": f"Bearer {token}"}
    assert service.client.get("/api/v1/experiments", headers=headers).status_code == 401
    with service.sessions() as session:  # issued by another process right after
        session.add(ApiToken(user_id=org.user_ids["viewer"], org_id=org.id,
                             token_hash=hash_token(token), prefix=token[:10]))  # fmt: skip
        session.commit()
    assert service.client.get("/api/v1/experiments", headers=headers).status_code == 200


def test_a_look_up_that_raced_with_a_change_is_not_remembered():
    callers = Callers(ttl=60)
    caller = ("user", "org", "a@b.example", "viewer")
    started = callers.generation  # a look-up starts …
    callers.forget()  # … a revocation commits meanwhile …
    callers.put("hash", caller, started)  # … and the look-up's (old) answer comes back
    assert callers.get("hash") is None
    callers.put("hash", caller, callers.generation)
    assert callers.get("hash") == caller
    assert Callers(ttl=0).get("hash") is None
    off = Callers(ttl=0)
    off.put("hash", caller, off.generation)
    assert off.get("hash") is None

"""Fixtures of the service tests: a fresh database per test run on SQLite and on the local
PostgreSQL (127.0.0.1:5432, trust auth; skipped with the reason only when it is unreachable),
an in-process API (FastAPI's TestClient), organisations with a user of every role, and a
worker that runs queued jobs in the test process.

Import with `from service_support import *` so pytest sees the fixtures.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")

from fastapi.testclient import TestClient

from cerebro.service.admin import create_org, create_user
from cerebro.service.app import create_app
from cerebro.service.config import Settings
from cerebro.service.db import make_engine, session_factory
from cerebro.service.migrate import migrate
from cerebro.service.security import ROLES
from cerebro.service.worker import Worker

PG_SERVER = os.environ.get("CEREBRO_TEST_PG", "postgresql://127.0.0.1:5432")
BACKENDS = ["sqlite", "postgresql"]


def _postgres_database() -> Iterator[str]:
    """A database created for this test run and dropped after it."""
    import psycopg

    name = f"cerebro_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/test", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL at {PG_SERVER} is unreachable: {str(err).strip()[:200]}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cerebro.db'}"
    else:
        yield from _postgres_database()


@dataclass
class Service:
    settings: Settings
    client: TestClient
    sessions: object
    engine: object
    orgs: dict[str, Org] = field(default_factory=dict)

    def worker(self) -> Worker:
        return Worker(self.settings, self.sessions)

    def run_jobs(self) -> list[str]:
        """Run every queued job to its end in this process; their final statuses."""
        worker, done = self.worker(), []
        try:
            while (status := worker.run_once()) is not None:
                done.append(status)
        finally:
            worker.close()  # its executor process
        return done


@dataclass
class Org:
    name: str
    id: str
    tokens: dict[str, str]  # role → token
    user_ids: dict[str, str]

    def auth(self, role: str = "causal_admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_org(service: Service, name: str | None = None) -> Org:
    """An organisation with one user of every role."""
    name = name or f"org-{secrets.token_hex(4)}"
    with service.sessions() as session:
        org = create_org(session, name)
        tokens, ids = {}, {}
        for role in ROLES:
            user, token = create_user(
                session, org, f"{role}.{secrets.token_hex(3)}@{name}.example", role
            )
            tokens[role], ids[role] = token, user.id
        session.commit()
        return Org(name, org.id, tokens, ids)


def make_user(service: Service, org: Org, role: str) -> str:
    """One more user of `org` with `role`; its id (its token is not needed)."""
    with service.sessions() as session:
        from cerebro.service.models import Organisation

        user, _ = create_user(
            session, session.get(Organisation, org.id), f"{secrets.token_hex(5)}@x.example", role
        )
        session.commit()
        return user.id


@pytest.fixture(scope="session")
def service(db_url, tmp_path_factory) -> Iterator[Service]:
    settings = Settings(
        db_url=db_url,
        data_dir=tmp_path_factory.mktemp("data"),
        max_upload_bytes=256 * 1024,
        poll_every=0.05,
        heartbeat_every=0.2,
        stale_after=30.0,
    )
    engine = make_engine(db_url)
    migrate(engine)
    app = create_app(settings, engine)
    client = TestClient(app, raise_server_exceptions=False)
    yield Service(settings, client, session_factory(engine), engine)
    client.close()
    engine.dispose()


@pytest.fixture
def org(service) -> Org:
    return make_org(service)


@pytest.fixture
def other_org(service) -> Org:
    return make_org(service)


def ab_csv(n: int = 400, seed: int = 0) -> bytes:
    """A small seeded A/B test as CSV bytes."""
    from conftest import make_ab

    buffer = io.StringIO()
    make_ab(n=n, seed=seed).to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def upload(service: Service, org: Org, content: bytes, filename: str = "ab.csv", **headers):
    return service.client.post(
        "/api/v1/datasets",
        files={"file": (filename, content, "text/csv")},
        headers={**org.auth(), **headers},
    )


def upload_ab(service: Service, org: Org) -> str:
    response = upload(service, org, ab_csv())
    assert response.status_code == 201, response.text
    return response.json()["id"]


AB_SPEC = {"kind": "abtest", "treatment": "arm", "outcome": ["revenue", "converted"],
           "control": "control"}  # fmt: skip


def tmp_file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path

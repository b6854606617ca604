"""The service's database: Alembic migrations reach the models' schema on SQLite and
PostgreSQL and apply twice harmlessly; tokens are stored only as hashes; `cerebro admin`."""

from __future__ import annotations

import hashlib

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from cerebro.cli.main import app as cli
from cerebro.service.app import create_app
from cerebro.service.config import Settings
from cerebro.service.db import make_engine
from cerebro.service.migrate import alembic_config, migrate
from cerebro.service.models import ApiToken, Base
from service_support import *  # noqa: F403

runner = CliRunner()
TABLES = {"organisations", "users", "api_tokens", "datasets", "experiments",
          "experiment_datasets", "analyses", "audit_log", "idempotency_keys"}  # fmt: skip


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_build_the_models_schema(service):
    assert migrate(service.engine) == head()  # again: a no-op at the head
    with service.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrations_go_down_and_up(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    assert migrate(engine) == head()
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert migrate(engine) == head()


def test_tokens_are_stored_only_as_their_sha256(service, org):
    token = org.tokens["viewer"]
    with service.sessions() as session:
        stored = session.execute(select(ApiToken.token_hash, ApiToken.prefix)).all()
        dump = " ".join(
            str(row) for table in ("api_tokens", "users")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )  # fmt: skip
    assert hashlib.sha256(token.encode()).hexdigest() in {h for h, _ in stored}
    assert token not in dump and token[10:] not in dump


def test_an_idempotent_retry_keeps_no_token_secret(service, org):
    headers = {**org.auth("org_admin"), "Idempotency-Key": "user-1"}
    body = {"email": f"new@{org.name}.example", "role": "viewer"}
    first = service.client.post("/api/v1/users", json=body, headers=headers)
    again = service.client.post("/api/v1/users", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["token"].startswith("cb_") and again.json()["token"] is None
    assert first.json()["id"] == again.json()["id"]
    with service.sessions() as session:
        dump = str(session.execute(text("SELECT * FROM idempotency_keys")).all())
    assert first.json()["token"] not in dump


def test_admin_commands(tmp_path):
    db = f"sqlite:///{tmp_path / 'admin.db'}"
    migrated = runner.invoke(cli, ["admin", "migrate", "--db", db])
    assert migrated.exit_code == 0 and head() in migrated.stdout
    assert runner.invoke(cli, ["admin", "create-org", "acme", "--db", db]).exit_code == 0
    again = runner.invoke(cli, ["admin", "create-org", "acme", "--db", db])
    assert again.exit_code == 2 and "already exists" in again.output
    bad_role = runner.invoke(cli, ["admin", "create-user", "ana@acme.example", "--org", "acme",
                                   "--role", "boss", "--db", db])  # fmt: skip
    assert bad_role.exit_code == 2 and "causal_analyst" in bad_role.output
    made = runner.invoke(cli, ["admin", "create-user", "ana@acme.example", "--org", "acme",
                               "--role", "causal_analyst", "--db", db])  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    client = TestClient(create_app(Settings(db_url=db, data_dir=tmp_path / "data")))
    listed = client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()["items"] == []
    unreachable = runner.invoke(cli, ["admin", "migrate", "--db", "postgresql://127.0.0.1:1/x"])
    assert unreachable.exit_code == 2 and "cannot open the database" in unreachable.output
    assert "Traceback" not in unreachable.output

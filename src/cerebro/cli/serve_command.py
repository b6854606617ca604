"""`cerebro serve` and `cerebro admin …`: the HTTP service, its database and its users."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from cerebro.cli.common import stdout, user_errors
from cerebro.core.errors import UserInputError

DB_HELP = (
    "Database URL: sqlite:///cerebro.db (the default, a file in the working directory) or "
    "postgresql://host/name."
)
DEFAULT_DB = "sqlite:///cerebro.db"


def _service():
    """The service package, or one sentence naming the extra to install."""
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401

        from cerebro.service import launch
    except ImportError as err:
        raise UserInputError(
            f"the service needs the 'service' extra ({err.name} is missing): "
            "pip install 'cerebro[service]'."
        ) from None
    return launch


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @user_errors
    def serve_command(
        db: str = typer.Option(DEFAULT_DB, "--db", help=DB_HELP),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
        workers: int = typer.Option(
            1, "--workers", min=0, max=64, help="Job worker processes (0: run none here)."
        ),
        api_workers: int = typer.Option(
            1, "--api-workers", min=1, max=64, help="API (uvicorn) processes."
        ),
        data_dir: Path = typer.Option(
            Path("cerebro-data"), "--data-dir", help="Folder of the uploaded dataset files."
        ),
        max_upload_mb: int = typer.Option(200, "--max-upload-mb", min=1, help="Upload limit."),
        stale_after: float = typer.Option(
            30.0,
            "--stale-after",
            min=0.5,
            help="Seconds a running job may go without its worker's heartbeat before it is "
            "retried (or failed after its last attempt).",
        ),
    ) -> None:
        """Run the HTTP API (OpenAPI at /docs) and its job workers; migrates the database first.

        Datasets, an experiment registry, analyses of every kind run as jobs, organisations,
        roles and an audit log – see docs/service.md.
        """
        from cerebro.service.config import Settings

        launch = _service()
        settings = Settings(db_url=db, data_dir=data_dir, stale_after=stale_after,
                            max_upload_bytes=max_upload_mb * 1024 * 1024)  # fmt: skip
        launch.serve(settings, host, port, workers, api_workers)

    _register_admin(app)


@contextmanager
def _admin_session(db: str):
    """A database session on the service's database `db`, migrated and checked first."""
    from cerebro.service.db import session_factory

    engine = _service().open_database(db)
    with session_factory(engine)() as session:
        yield session


ROLE = typer.Option(..., "--role", help="causal_analyst, causal_admin, viewer or org_admin.")
EMAIL = typer.Argument(..., help="The user's e-mail address.")
DB = typer.Option(DEFAULT_DB, "--db", help=DB_HELP)


def _register_admin(app: typer.Typer) -> None:
    admin = typer.Typer(
        help="Administer the service's database: migrate it, create organisations, manage users.",
        no_args_is_help=True,
    )
    app.add_typer(admin, name="admin")

    @admin.command("migrate")
    @user_errors
    def migrate_command(db: str = DB) -> None:
        """Apply the database migrations (Alembic) up to the newest schema."""
        from cerebro.service.migrate import migrate

        engine = _service().open_database(db)
        stdout.print(f"database at revision {migrate(engine)}")

    @admin.command("create-org")
    @user_errors
    def create_org_command(
        name: str = typer.Argument(..., help="The organisation's name, e.g. acme."),
        db: str = DB,
    ) -> None:
        """Create an organisation."""
        from cerebro.service.admin import create_org

        with _admin_session(db) as session:
            org = create_org(session, name)
            session.commit()
            stdout.print(f"organisation {org.name} ({org.id})")

    @admin.command("create-user")
    @user_errors
    def create_user_command(
        email: str = EMAIL,
        org: str = typer.Option(..., "--org", help="The organisation's name."),
        role: str = ROLE,
        db: str = DB,
    ) -> None:
        """Create a user and print its API token – once: only its hash is stored."""
        from cerebro.service.admin import create_user, find_org

        with _admin_session(db) as session:
            user, token = create_user(session, find_org(session, org), email, role)
            session.commit()
        stdout.print(f"user {user.email} ({user.role}) in {org}; API token (shown once):")
        print(token)

    @admin.command("set-role")
    @user_errors
    def set_role_command(
        email: str = EMAIL,
        role: str = ROLE,
        db: str = DB,
    ) -> None:
        """Give a user another role (an organisation keeps at least one org_admin)."""
        from cerebro.service.admin import audit_admin, find_user, set_role

        with _admin_session(db) as session:
            user = find_user(session, email)
            before = set_role(session, user, role)
            audit_admin(session, user, "user.role", role=[before, role])
            session.commit()
        stdout.print(f"user {user.email}: {before} → {role}")

    @admin.command("delete-user")
    @user_errors
    def delete_user_command(
        email: str = EMAIL,
        db: str = DB,
    ) -> None:
        """Delete a user: deactivate it and revoke its tokens (the audit log keeps its name)."""
        from cerebro.service.admin import audit_admin, deactivate_user, find_user

        with _admin_session(db) as session:
            user = find_user(session, email)
            revoked = deactivate_user(session, user)
            audit_admin(session, user, "user.delete", tokens_revoked=revoked)
            session.commit()
        stdout.print(f"user {user.email} deleted; {revoked} token(s) revoked")

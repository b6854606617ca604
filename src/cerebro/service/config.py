"""The service's settings: where the database and the uploaded files live, and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = "sqlite:///cerebro.db"  # a file in the working directory


@dataclass(frozen=True)
class Settings:
    """What one API or worker process needs to know; every process of a deployment shares them.

    `stale_after` is how long a running job may go without its worker's heartbeat before it is
    treated as orphaned (its worker died) and retried or failed; `max_attempts` bounds the
    retries so a job that kills its worker every time cannot loop forever.
    """

    db_url: str = DEFAULT_DB
    data_dir: Path = field(default_factory=lambda: Path("cerebro-data"))
    max_upload_bytes: int = 200 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024  # JSON bodies
    job_time_limit: float = 600.0  # seconds; a request may ask for less, never more
    max_attempts: int = 2
    heartbeat_every: float = 2.0
    stale_after: float = 30.0
    poll_every: float = 0.1
    # on PostgreSQL an idle worker is woken by NOTIFY and polls only this often as a fallback
    listen_fallback: float = 2.0
    cors_origins: tuple[str, ...] = ()  # CORS is off unless origins are named
    # how long an API process remembers a token's user (callers.py): a change through the
    # process is seen at once, one made by another process within this many seconds; 0: off
    caller_cache_seconds: float = 2.0

    def model_path(self, analysis_id: str) -> Path:
        """Where the fitted model an analysis keeps (`specs.MODEL_MAKERS`) is stored."""
        return self.data_dir / "models" / f"{analysis_id}.cerebro"


def normalise_db_url(url: str) -> str:
    """`postgresql://…` → the psycopg 3 driver SQLAlchemy must use; anything else unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

"""What `cerebro serve` and `cerebro admin` do: migrate, start the API and its job workers,
create organisations and users."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from cerebro.core.errors import UserInputError
from cerebro.service.config import Settings


def open_database(db_url: str):
    """An engine on `db_url`, migrated to the newest schema (one sentence if unreachable)."""
    from sqlalchemy.exc import OperationalError

    from cerebro.service.db import make_engine
    from cerebro.service.migrate import migrate

    engine = make_engine(db_url)
    try:
        migrate(engine)
    except OperationalError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else "unreachable"
        raise UserInputError(f"cannot open the database {db_url!r}: {reason}") from None
    return engine


def start_workers(settings: Settings, count: int) -> list[subprocess.Popen]:
    """`count` worker processes, separate from the API process."""
    command = [sys.executable, "-m", "cerebro.service.worker", "--db", settings.db_url,
               "--data-dir", str(settings.data_dir), "--stale-after", str(settings.stale_after),
               "--exit-with-parent"]  # fmt: skip
    return [subprocess.Popen(command) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen], grace: float = 10.0) -> None:
    """SIGTERM (a worker gives its running job back to the queue), then SIGKILL after `grace`."""
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


SETTINGS_ENV = "CEREBRO_SERVICE_SETTINGS"
# How long an idle client connection is kept open. Longer than HTTP clients keep theirs idle
# (httpx: 5 s; load balancers: 60 s), so the client always closes first: with uvicorn's default
# of 5 s, equal to httpx's, a client could send a request on a connection the server's timer
# was closing – the request is lost with a reset connection, a POST cannot safely be retried.
KEEP_ALIVE_SECONDS = 65


def preload_kinds() -> None:
    """Import every registered kind before serving: a submission validates its spec with the
    kind's own model, and the first submission of a kind would otherwise import its family and
    numerics (1–2 s of CPU, on the event loop's process) while other requests wait."""
    from cerebro.core.registry import methods

    methods()


def app_from_env():
    """The API of the settings `serve` put in the environment: each of uvicorn's API processes
    (`--api-workers` > 1) builds its own app and engine from them."""
    from cerebro.service.app import create_app

    raw = json.loads(os.environ[SETTINGS_ENV])
    preload_kinds()
    return create_app(Settings(**{**raw, "data_dir": Path(raw["data_dir"])}))


def serve(settings: Settings, host: str, port: int, workers: int, api_workers: int = 1) -> None:
    import uvicorn

    from cerebro.service.app import create_app

    engine = open_database(settings.db_url)  # before any worker: one process migrates
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    processes = start_workers(settings, workers)
    # uvicorn shuts down gracefully on SIGTERM, restores the handler found here and raises the
    # signal again: this handler turns it into SystemExit, so the workers are stopped below
    # instead of the process dying with them still running.
    signal.signal(signal.SIGTERM, _exit)
    try:
        if api_workers == 1:
            preload_kinds()
            uvicorn.run(create_app(settings, engine), host=host, port=port, log_level="info",
                        timeout_keep_alive=KEEP_ALIVE_SECONDS)  # fmt: skip
        else:
            engine.dispose()
            os.environ[SETTINGS_ENV] = json.dumps(
                {**asdict(settings), "data_dir": str(settings.data_dir)}
            )
            uvicorn.run("cerebro.service.launch:app_from_env", factory=True, host=host, port=port,
                        workers=api_workers, log_level="info",
                        timeout_keep_alive=KEEP_ALIVE_SECONDS)  # fmt: skip
    finally:
        stop_workers(processes)

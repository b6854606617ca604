"""Waking a worker when a job is queued: on PostgreSQL the submitting transaction NOTIFYs a
channel and every idle worker LISTENs on it, so a job starts within milliseconds instead of at
the worker's next poll; polling stays as the fallback (a lost connection, a missed
notification) and is all there is on SQLite.

PostgreSQL delivers a notification only when the transaction that sent it commits (never for a
rolled-back submission), and queues the notifications that arrive while the worker is busy on
its listening connection, so one sent between "the queue is empty" and the wait is not lost.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger("cerebro.service.worker")
CHANNEL = "cerebro_jobs"


def announce(session: Session) -> None:
    """NOTIFY the workers in the session's transaction (delivered on its commit); a no-op on
    SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Listener:
    """A worker's wait for the next job: a notification on PostgreSQL (or `listening` s at
    most), else `polling` s."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Any = None  # the psycopg connection that LISTENs, while it works

    def _listening(self) -> Any:
        if self.connection is None and self.engine.dialect.name == "postgresql":
            import psycopg

            url = self.engine.url.set(drivername="postgresql")
            try:
                connection = psycopg.connect(
                    url.render_as_string(hide_password=False), autocommit=True
                )
                connection.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error as err:  # poll until the next wait tries again
                log.warning("cannot LISTEN, polling instead: %s", str(err)[:200])
                return None
            self.connection = connection
        return self.connection

    def wait(self, listening: float, polling: float) -> bool:
        """Until a job is announced (True) or the time has passed (False). Right after it starts
        listening it returns True at once: a job queued before the LISTEN sent no notification
        this connection will see, so the queue is looked at again."""
        fresh = self.connection is None
        connection = self._listening()
        if connection is None:
            time.sleep(polling)
            return False
        if fresh:
            return True
        import psycopg

        try:
            return any(True for _ in connection.notifies(timeout=listening, stop_after=1))
        except psycopg.Error as err:  # a lost connection: reconnect on the next wait
            log.warning("LISTEN connection lost, reconnecting: %s", str(err)[:200])
            self.close()
            return False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

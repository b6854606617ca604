"""Submit → start latency of a job on an idle worker: how long a queued analysis waits before
a worker claims it (the analysis row's `started_at − created_at`, one database clock).

Starts one worker process (`python -m cerebro.service.worker`) on a fresh database, then
submits `--jobs` power calculations through the API in process, one at a time, each after the
previous one finished and a random pause (so the worker is idle, waiting), and prints the
median, p90 and maximum wait. On PostgreSQL the worker is woken by NOTIFY; on SQLite (or with
an older Cerebro on PYTHONPATH) it polls every `--poll-every` seconds.

    python bench/bench_service_wakeup.py --db postgresql://127.0.0.1/test --jobs 30
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service_load import POWER, fresh_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--poll-every", type=float, default=0.1)
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    from cerebro.service.admin import create_org, create_user
    from cerebro.service.app import create_app
    from cerebro.service.config import Settings
    from cerebro.service.db import make_engine, session_factory
    from cerebro.service.migrate import migrate

    db, drop = fresh_database(args.db)
    data = Path(tempfile.mkdtemp())
    engine = make_engine(db)
    migrate(engine)
    with session_factory(engine)() as session:
        org = create_org(session, "wake")
        _user, token = create_user(session, org, "wake@wake.example", "causal_admin")
        session.commit()
    worker = subprocess.Popen([sys.executable, "-m", "cerebro.service.worker", "--db", db,
                               "--data-dir", str(data), "--poll-every", str(args.poll_every)],
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    client = TestClient(create_app(Settings(db_url=db, data_dir=data), engine))
    client.headers["Authorization"] = f"Bearer {token}"
    rng, waits = random.Random(0), []
    try:
        time.sleep(8)  # the worker imports every kind before its first poll
        for _ in range(args.jobs):
            time.sleep(rng.uniform(0.2, 0.5))
            job = client.post("/api/v1/analyses", json={"spec": POWER}).json()["id"]
            while (body := client.get(f"/api/v1/analyses/{job}").json())["status"] in (
                "queued",
                "running",
            ):
                time.sleep(0.01)
            wait = datetime.fromisoformat(body["started_at"]) - datetime.fromisoformat(
                body["created_at"]
            )
            waits.append(wait.total_seconds() * 1000)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        client.close()
        engine.dispose()
        drop()
    w = np.array(waits)
    print(f"{len(w)} jobs on {db.split(':')[0]}, poll every {args.poll_every:g} s: submit → "
          f"start median {np.median(w):.1f} ms, p90 {np.percentile(w, 90):.1f} ms, "
          f"max {w.max():.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

"""Load test of the HTTP service on loopback, bounded in time.

Starts `cerebro serve` (uvicorn on 127.0.0.1 and `--workers` job workers) on a fresh database,
creates an organisation and an analyst, uploads one A/B dataset, then runs `--clients`
concurrent clients for `--seconds`: each loops over registering an experiment, submitting an
analysis (an A/B test on the dataset, or a power calculation), reading an analysis and listing
experiments. It reports p50/p99 latency per route and the errors, waits until every submitted
job is finished, and checks each finished exactly once (one `analysis.succeeded` audit row, one
attempt). Then it times one analysis end to end on an idle server against the same spec run in
process (`run_spec`, what `cerebro run` does after start-up).

    python bench/bench_service_load.py --db postgresql://127.0.0.1/test --clients 50 --seconds 60
    python bench/bench_service_load.py --clients 5 --seconds 10          # a smoke run on SQLite

It prints markdown ready for BENCHMARKS.md: the run's settings, a table of requests, p50 and
p99 per route with the issue's target (reads p99 < 100 ms, submissions p99 < 50 ms) and
whether it was met, the errors, the exactly-once check and the end-to-end comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AB = {"kind": "abtest", "treatment": "arm", "outcome": ["revenue"], "control": "control"}
POWER = {"kind": "power", "baseline": 0.05, "mde": 0.01}


def fresh_database(server: str) -> tuple[str, callable]:
    if server.startswith("sqlite"):
        folder = tempfile.mkdtemp()
        return f"sqlite:///{folder}/load.db", lambda: None
    import psycopg

    base = server.rsplit("/", 1)[0]
    dbname = f"cerebro_load_{secrets.token_hex(4)}"
    admin = psycopg.connect(server, autocommit=True)
    admin.execute(f'CREATE DATABASE "{dbname}"')

    def drop() -> None:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=%s",
                      (dbname,))  # fmt: skip
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')

    return f"{base}/{dbname}", drop


def start_server(
    db: str, workers: int, data: Path, max_upload_mb: int = 200, api_workers: int = 1
) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-c", "from cerebro.cli.main import main; main()", "serve",
               "--db", db, "--port", str(port), "--workers", str(workers), "--data-dir", str(data),
               "--max-upload-mb", str(max_upload_mb), "--api-workers", str(api_workers)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def make_token(db: str) -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from cerebro.service.admin import create_org, create_user
    from cerebro.service.db import make_engine, session_factory

    with session_factory(make_engine(db))() as session:
        org = create_org(session, "load")
        _user, token = create_user(session, org, "load@load.example", "causal_admin")
        session.commit()
    return token


def ab_csv() -> bytes:
    rng = np.random.default_rng(0)
    n = 2000
    arm = rng.choice(["control", "B"], n)
    revenue = 10 + (arm == "B") * 0.3 + rng.normal(0, 2, n)
    lines = ["arm,revenue", *(f"{a},{r:.4f}" for a, r in zip(arm, revenue, strict=True))]
    return ("\n".join(lines) + "\n").encode()


async def client_loop(http: httpx.AsyncClient, dataset: str, until: float, stats, jobs) -> None:
    i = 0
    while time.monotonic() < until:
        i += 1
        calls = [
            ("POST /experiments", "POST", "/api/v1/experiments",
             {"name": f"exp {i}", "treatment_groups": ["B"], "randomization_unit": "user"}),
            ("POST /analyses", "POST", "/api/v1/analyses",
             {"dataset_id": dataset, "spec": AB} if i % 2 else {"spec": POWER}),
            ("GET /analyses/{id}", "GET", f"/api/v1/analyses/{jobs[-1]}" if jobs else None, None),
            ("GET /experiments", "GET", "/api/v1/experiments?limit=20", None),
        ]  # fmt: skip
        for name, method, url, body in calls:
            if url is None:
                continue
            started = time.perf_counter()
            try:
                response = await http.request(method, url, json=body)
                ok = response.status_code < 400
            except httpx.HTTPError as err:
                ok, response = False, type(err).__name__
            stats[name].append((time.perf_counter() - started) * 1000)
            if not ok:
                what = response if isinstance(response, str) else response.status_code
                stats["errors"].append(f"{name} {what}")
            elif name == "POST /analyses":
                jobs.append(response.json()["id"])


async def load(url: str, token: str, clients: int, seconds: float) -> tuple[dict, list[str]]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        upload = await http.post("/api/v1/datasets", files={"file": ("ab.csv", ab_csv())})
        dataset = upload.json()["id"]
        stats: dict[str, list] = defaultdict(list)
        jobs: list[str] = []
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(client_loop(http, dataset, until, stats, jobs) for _ in range(clients))
        )
    return stats, jobs


def wait_all(url: str, token: str, jobs: list[str], timeout: float) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    end, statuses = time.monotonic() + timeout, {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        pending = list(jobs)
        while pending and time.monotonic() < end:
            listed = http.get("/api/v1/analyses?limit=500&status=queued").json()["total"]
            running = http.get("/api/v1/analyses?limit=500&status=running").json()["total"]
            if listed + running == 0:
                break
            time.sleep(1)
        for job in jobs:
            body = http.get(f"/api/v1/analyses/{job}").json()
            statuses[job] = (body["status"], body["attempt"])
    return statuses


def exactly_once(db: str, jobs: list[str]) -> int:
    """Jobs with other than one `analysis.succeeded` audit row."""
    from sqlalchemy import func, select

    from cerebro.service.db import make_engine, session_factory
    from cerebro.service.models import AuditEntry

    with session_factory(make_engine(db))() as session:
        counts = dict(session.execute(
            select(AuditEntry.object_id, func.count()).where(AuditEntry.action == "analysis.succeeded")
            .group_by(AuditEntry.object_id)
        ).all())  # fmt: skip
    return sum(counts.get(job, 0) != 1 for job in jobs)


def end_to_end(url: str, token: str) -> tuple[float, float, float]:
    """(API submit → result seen, the job's own run time, run_spec in process) in ms."""
    from cerebro.run import run_spec

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        dataset = http.post("/api/v1/datasets", files={"file": ("ab.csv", ab_csv())}).json()["id"]
        best = (float("inf"), 0.0)
        for _ in range(5):
            started = time.perf_counter()
            job = http.post("/api/v1/analyses", json={"dataset_id": dataset, "spec": AB}).json()[
                "id"
            ]
            while (body := http.get(f"/api/v1/analyses/{job}").json())["status"] not in (
                "succeeded",
                "failed",
            ):
                time.sleep(0.005)
            total = (time.perf_counter() - started) * 1000
            if total < best[0]:
                from datetime import datetime

                run = datetime.fromisoformat(body["finished_at"]) - datetime.fromisoformat(
                    body["started_at"]
                )
                best = (total, run.total_seconds() * 1000)
    path = Path(tempfile.mkdtemp()) / "ab.csv"
    path.write_bytes(ab_csv())
    run_spec({**AB, "data": str(path)})  # warm
    times = []
    for _ in range(5):
        started = time.perf_counter()
        run_spec({**AB, "data": str(path)})
        times.append((time.perf_counter() - started) * 1000)
    return best[0], best[1], min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite, or a PostgreSQL server URL with a database to connect to",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="job worker processes")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn API processes")
    args = parser.parse_args()
    db, drop = fresh_database(args.db)
    server, url = start_server(db, args.workers, Path(tempfile.mkdtemp()),
                               api_workers=args.api_workers)  # fmt: skip
    try:
        token = make_token(db)
        stats, jobs = asyncio.run(load(url, token, args.clients, args.seconds))
        statuses = wait_all(url, token, jobs, timeout=600)
        print(f"{args.clients} clients × {args.seconds:g} s on {db.split(':')[0]}, "
              f"{args.api_workers} API process(es), {args.workers} job workers, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        print(
            "| route | requests | p50 ms | p99 ms | target p99 | met |\n|---|---|---|---|---|---|"
        )
        for name, values in stats.items():
            if name != "errors":
                v = np.array(values)
                p99 = np.percentile(v, 99)
                target = 50 if name.startswith("POST") else 100
                print(f"| {name} | {len(v)} | {np.percentile(v, 50):.1f} | {p99:.1f} | "
                      f"< {target} ms | {'yes' if p99 < target else 'no'} |")  # fmt: skip
        done = sum(s == ("succeeded", 1) for s in statuses.values())
        print(f"errors: {len(stats['errors'])} {sorted(set(stats['errors']))[:5]}")
        print(f"jobs submitted {len(jobs)}, succeeded on the first attempt {done}, "
              f"not exactly once: {exactly_once(db, jobs)}")  # fmt: skip
        total, run, direct = end_to_end(url, token)
        print(f"one A/B analysis on an idle server: submit → result {total:.0f} ms "
              f"(run in the worker {run:.0f} ms); run_spec in process {direct:.0f} ms")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        drop()


if __name__ == "__main__":
    main()

"""Load test of the HTTP service on loopback, bounded in time.

Starts `cerebro serve` (uvicorn on 127.0.0.1 and `--workers` job workers) on a fresh database,
creates an organisation and an analyst, uploads one A/B dataset, then runs `--clients`
concurrent clients for `--seconds`: each loops over registering an experiment, submitting an
analysis (an A/B test on the dataset, or a power calculation), reading an analysis and listing
experiments. With `--think MS` each client pauses between requests for a random time,
exponential with that mean (seeded by `--seed` and the client's number): users who read what
they got, an open workload whose latency is the service's; without it the clients loop with no
pause – a throughput test, where by Little's law the mean latency is clients ÷ throughput.

It reports p50/p99 latency per route, the throughput, the CPU time of the API process per
request and of the job workers (with their executors) per job, from /proc – CPU time is what
the machine's other work does not inflate much, unlike wall time – and the errors; waits until
every submitted job is finished and checks each finished exactly once (one `analysis.succeeded`
audit row, one attempt). Then it times one A/B analysis end to end on the idle server (submit →
result seen by polling) against the same spec on the CLI (`cerebro run spec.yaml --json`, the
whole process) and in process (`run_spec`, what the CLI does after its start-up).

    python bench/bench_service_load.py --db postgresql://127.0.0.1/test --clients 50 --seconds 60
    python bench/bench_service_load.py --db postgresql://127.0.0.1/test --clients 50 --think 500
    python bench/bench_service_load.py --clients 5 --seconds 10          # a smoke run on SQLite

`--src DIR` serves another checkout's `src` and `--server-python` another interpreter, for
interleaved A/B runs of a change. It prints markdown ready for BENCHMARKS.md: the run's
settings and load average, a table of requests, p50 and p99 per route with the issue's target
(reads p99 < 100 ms, submissions p99 < 50 ms) and whether it was met, the errors, the
exactly-once check and the end-to-end comparison.
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
KEEPALIVE_EXPIRY = 5.0  # httpx's default


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
    db: str,
    workers: int,
    data: Path,
    max_upload_mb: int = 200,
    api_workers: int = 1,
    src: Path = ROOT / "src",
    python: str = sys.executable,
) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [python, "-c", "from cerebro.cli.main import main; main()", "serve",
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


TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, float]]:
    """pid → (parent pid, own CPU s, CPU s of its reaped children) of every process."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        own = (int(fields[11]) + int(fields[12])) / TICK
        found[int(stat.parent.name)] = (
            int(fields[1]),
            own,
            (int(fields[13]) + int(fields[14])) / TICK,
        )
    return found


def cpu_split(server: int) -> tuple[float, float]:
    """CPU seconds so far of (the API: `cerebro serve` and its uvicorn processes, the job
    workers with their executors, reaped ones included) – the server's process tree."""
    table = _processes()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _own, _reaped) in table.items():
        children[parent].append(pid)

    def is_worker(pid: int) -> bool:
        try:
            return b"cerebro.service.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    def tree(pid: int) -> float:
        return table[pid][1] + sum(tree(c) for c in children[pid])

    api = workers = 0.0
    stack = [server]
    while stack:
        pid = stack.pop()
        if pid not in table:
            continue
        if is_worker(pid):  # its tree, and the executors it reaped (recycled every 100 jobs)
            workers += tree(pid) + table[pid][2]
        else:
            api += table[pid][1]
            stack.extend(children[pid])
    return api, workers


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


async def client_loop(
    http: httpx.AsyncClient, dataset: str, until: float, stats, jobs, think: float, rng
) -> None:
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
            if think:
                await asyncio.sleep(rng.exponential(think))


async def load(
    url: str, token: str, clients: int, seconds: float, think_ms: float = 0.0, seed: int = 0
) -> tuple[dict, list[str], float]:
    """(latencies per route and errors, submitted job ids, seconds the clients ran)."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(
        max_connections=clients,
        max_keepalive_connections=clients,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        upload = await http.post("/api/v1/datasets", files={"file": ("ab.csv", ab_csv())})
        dataset = upload.json()["id"]
        stats: dict[str, list] = defaultdict(list)
        jobs: list[str] = []
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(
            *(client_loop(http, dataset, until, stats, jobs, think_ms / 1000,
                          np.random.default_rng([seed, k])) for k in range(clients))
        )  # fmt: skip
    return stats, jobs, time.monotonic() - started


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


def end_to_end(url: str, token: str, src: Path, runs: int = 5) -> dict[str, list[float]]:
    """Wall ms of one A/B analysis, `runs` times each: through the API (submit → result seen by
    polling every 5 ms) and its run in the worker (started_at → finished_at), the CLI's whole
    process (`cerebro run spec.yaml --json`) and `run_spec` in this process (after a warm-up)."""
    from datetime import datetime

    import yaml

    from cerebro.run import run_spec

    headers = {"Authorization": f"Bearer {token}"}
    times: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        dataset = http.post("/api/v1/datasets", files={"file": ("ab.csv", ab_csv())}).json()["id"]
        for _ in range(runs):
            started = time.perf_counter()
            job = http.post("/api/v1/analyses", json={"dataset_id": dataset, "spec": AB})
            while (body := http.get(f"/api/v1/analyses/{job.json()['id']}").json())[
                "status"
            ] not in ("succeeded", "failed"):
                time.sleep(0.005)
            times["api"].append((time.perf_counter() - started) * 1000)
            run = datetime.fromisoformat(body["finished_at"]) - datetime.fromisoformat(
                body["started_at"]
            )
            times["worker run"].append(run.total_seconds() * 1000)
    folder = Path(tempfile.mkdtemp())
    (folder / "ab.csv").write_bytes(ab_csv())
    (folder / "spec.yaml").write_text(yaml.safe_dump({**AB, "data": "ab.csv"}))
    env = {**os.environ, "PYTHONPATH": str(src)}
    cli = [sys.executable, "-c", "from cerebro.cli.main import main; main()", "run", "spec.yaml",
           "--json"]  # fmt: skip
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cli, cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
        times["cli"].append((time.perf_counter() - started) * 1000)
    run_spec({**AB, "data": str(folder / "ab.csv")})  # warm
    for _ in range(runs):
        started = time.perf_counter()
        run_spec({**AB, "data": str(folder / "ab.csv")})
        times["run_spec"].append((time.perf_counter() - started) * 1000)
    return times


def report(stats: dict, jobs: list[str], ran: float, cpu: tuple[float, float]) -> None:
    requests = sum(len(v) for k, v in stats.items() if k != "errors")
    print(f"throughput {requests / ran:.0f} requests/s ({requests} in {ran:.0f} s); CPU per "
          f"request in the API process {cpu[0] / requests * 1000:.2f} ms; CPU per job in the "
          f"workers {cpu[1] / max(len(jobs), 1) * 1000:.1f} ms")  # fmt: skip
    print("| route | requests | p50 ms | p99 ms | target p99 | met |\n|---|---|---|---|---|---|")
    for name, values in stats.items():
        if name != "errors":
            v = np.array(values)
            p99 = np.percentile(v, 99)
            target = 50 if name.startswith("POST") else 100
            print(f"| {name} | {len(v)} | {np.percentile(v, 50):.1f} | {p99:.1f} | "
                  f"< {target} ms | {'yes' if p99 < target else 'no'} |")  # fmt: skip
    print(f"errors: {len(stats['errors'])} {sorted(set(stats['errors']))[:5]}")


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite, or a PostgreSQL server URL with a database to connect to",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause in ms between a client's requests (exponential)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the think times")
    parser.add_argument("--workers", type=int, default=2, help="job worker processes")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn API processes")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the cerebro to serve")
    parser.add_argument("--server-python", default=sys.executable, help="the server's Python")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the CLI comparison")
    args = parser.parse_args()
    db, drop = fresh_database(args.db)
    server, url = start_server(db, args.workers, Path(tempfile.mkdtemp()),
                               api_workers=args.api_workers, src=args.src.resolve(),
                               python=args.server_python)  # fmt: skip
    try:
        token = make_token(db)
        before, start = load_average(), cpu_split(server.pid)
        stats, jobs, ran = asyncio.run(
            load(url, token, args.clients, args.seconds, args.think, args.seed)
        )
        api = cpu_split(server.pid)[0] - start[0]  # the clients' requests only
        statuses = wait_all(url, token, jobs, timeout=600)
        cpu = (api, cpu_split(server.pid)[1] - start[1])  # every job, run to its end
        think = f"think {args.think:g} ms (exponential, seed {args.seed})" if args.think else (
            "no think time")  # fmt: skip
        print(f"{args.clients} clients × {args.seconds:g} s, {think}, on {db.split(':')[0]}, "
              f"{args.api_workers} API process(es), {args.workers} job workers, "
              f"{os.cpu_count()} CPUs, server {args.src}; load average before {before}, "
              f"after {load_average()}")  # fmt: skip
        report(stats, jobs, ran, cpu)
        done = sum(s == ("succeeded", 1) for s in statuses.values())
        print(f"jobs submitted {len(jobs)}, succeeded on the first attempt {done}, "
              f"not exactly once: {exactly_once(db, jobs)}")  # fmt: skip
        if not args.no_end_to_end:
            times = end_to_end(url, token, args.src.resolve())
            print("one A/B analysis on the idle server, median (min–max) of 5, ms: " + "; ".join(
                f"{k} {np.median(v):.0f} ({min(v):.0f}–{max(v):.0f})" for k, v in times.items()
            ) + f"; load average {load_average()}")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        drop()


if __name__ == "__main__":
    main()

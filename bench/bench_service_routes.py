"""Per-request CPU time of the service's hot routes, in process (no network, no server).

Builds the API on a fresh database (SQLite, or a new database on a PostgreSQL server), an
organisation with an analyst, one uploaded A/B dataset, 50 experiments and one finished A/B
analysis, then calls each hot route `--requests` times through FastAPI's TestClient and prints
a table of CPU ms per request (the process's CPU time – every thread – divided by the calls)
and wall ms. `--profile` also writes a pyinstrument profile of each route (the bench extra).

    PYTHONPATH=src python bench/bench_service_routes.py --db sqlite --requests 300
    python bench/bench_service_routes.py --db postgresql://127.0.0.1/test --profile /tmp/prof
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cerebro itself: from PYTHONPATH

from bench_service_load import AB, POWER, ab_csv, fresh_database


def build(db: str):
    from fastapi.testclient import TestClient

    from cerebro.service.admin import create_org, create_user
    from cerebro.service.app import create_app
    from cerebro.service.config import Settings
    from cerebro.service.db import make_engine, session_factory
    from cerebro.service.migrate import migrate
    from cerebro.service.worker import Worker

    engine = make_engine(db)
    migrate(engine)
    settings = Settings(db_url=db, data_dir=Path(tempfile.mkdtemp()))
    sessions = session_factory(engine)
    with sessions() as session:
        org = create_org(session, "bench")
        _user, token = create_user(session, org, "bench@bench.example", "causal_admin")
        session.commit()
    client = TestClient(create_app(settings, engine))
    client.headers["Authorization"] = f"Bearer {token}"
    files = {"file": ("ab.csv", ab_csv(), "text/csv")}
    dataset = client.post("/api/v1/datasets", files=files).json()["id"]
    for i in range(50):
        body = {"name": f"exp {i}", "treatment_groups": ["B"], "randomization_unit": "user"}
        client.post("/api/v1/experiments", json=body)
    job = client.post("/api/v1/analyses", json={"dataset_id": dataset, "spec": AB}).json()["id"]
    worker = Worker(settings, sessions)
    try:
        while worker.run_once() is not None:
            pass
    finally:
        worker.close()
    return client, dataset, job, large_copy(sessions, job)


def large_copy(sessions, job: str) -> str:
    """A copy of the finished analysis whose result holds a 20,000-row table (an MMM's or a
    geo test's results are of this size), to time reading a large result."""
    from cerebro.service.models import Analysis, new_id

    with sessions() as session:
        source = session.get(Analysis, job)
        result = dict(source.result)
        rows = range(20_000)
        result["tables"] = {**result.get("tables", {}),
                            "big": {"week": [f"2024-{i % 52:02d}" for i in rows],
                                    "value": [i * 0.37 for i in rows]}}  # fmt: skip
        columns = {c.key: getattr(source, c.key) for c in Analysis.__table__.columns}
        copy = Analysis(**{**columns, "id": new_id(), "result": result})
        session.add(copy)
        session.commit()
        return copy.id


def routes(dataset: str, job: str, large: str) -> list[tuple[str, str, str, dict | None]]:
    experiment = {"name": "bench", "treatment_groups": ["B"], "randomization_unit": "user"}
    return [
        ("POST /experiments", "POST", "/api/v1/experiments", experiment),
        ("POST /analyses (power)", "POST", "/api/v1/analyses", {"spec": POWER}),
        ("POST /analyses (abtest)", "POST", "/api/v1/analyses",
         {"dataset_id": dataset, "spec": AB}),
        ("GET /analyses/{id}", "GET", f"/api/v1/analyses/{job}", None),
        ("GET /analyses/{id} (20k-row result)", "GET", f"/api/v1/analyses/{large}", None),
        ("GET /experiments", "GET", "/api/v1/experiments?limit=20", None),
    ]  # fmt: skip


def measure(
    client, method: str, url: str, body, requests: int, rounds: int = 3
) -> tuple[float, float]:
    """(CPU ms, wall ms) per request: the least of `rounds` rounds (the machine's other work
    only ever adds time)."""
    for _ in range(10):  # warm: first-call imports and caches
        client.request(method, url, json=body)
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            response = client.request(method, url, json=body)
            assert response.status_code < 400, response.text
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        best = (min(best[0], cpu / requests * 1000), min(best[1], wall / requests * 1000))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile per route here")
    args = parser.parse_args()
    db, drop = fresh_database(args.db)
    try:
        client, *objects = build(db)
        print(f"{args.requests} requests per route, in process, on {db.split(':')[0]}")
        print("| route | CPU ms / request | wall ms / request |\n|---|---|---|")
        for name, method, url, body in routes(*objects):
            cpu, wall = measure(client, method, url, body, args.requests)
            print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
            if args.profile:
                from pyinstrument import Profiler

                args.profile.mkdir(parents=True, exist_ok=True)
                with Profiler(interval=0.0005) as profiler:
                    measure(client, method, url, body, args.requests, rounds=1)
                slug = "".join(c if c.isalnum() else "_" for c in name)
                (args.profile / f"{slug}.txt").write_text(profiler.output_text(show_all=False))
        client.close()
    finally:
        drop()


if __name__ == "__main__":
    main()

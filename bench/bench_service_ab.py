"""Interleaved A/B of two builds of the service's API: CPU time per request, on one machine.

Starts two `cerebro serve` processes side by side on fresh databases (no job workers: only
the API is measured) – A from `--a-src` with `--a-python`, B from `--b-src` with `--b-python` –
and sends each, in alternation, bursts of the load test's request mix (register an experiment,
submit an analysis, read it, list experiments) from `--clients` concurrent clients. Each
burst's CPU time of the serving process (from /proc) divided by its requests is one sample; A
and B take turns `--rounds` times, so the machine's other work weighs on both alike. Prints
the median CPU ms per request of each, the median of the per-round ratios B/A, and the wall
latency percentiles of each.

    python bench/bench_service_ab.py --a-src /tmp/before/src --b-src src --rounds 10
    python bench/bench_service_ab.py --b-python /path/with/uvloop/bin/python --db postgresql://127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_service_load import (
    KEEPALIVE_EXPIRY,
    ROOT,
    ab_csv,
    client_loop,
    fresh_database,
    load_average,
    make_token,
    start_server,
)


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def burst(url: str, token: str, dataset: str, clients: int, seconds: float):
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, keepalive_expiry=KEEPALIVE_EXPIRY)
    stats: dict[str, list] = defaultdict(list)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        until = time.monotonic() + seconds
        rngs = [np.random.default_rng(k) for k in range(clients)]
        await asyncio.gather(
            *(client_loop(http, dataset, until, stats, [], 0.0, rngs[k]) for k in range(clients))
        )
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--a-src", type=Path, default=ROOT / "src")
    parser.add_argument("--b-src", type=Path, default=ROOT / "src")
    parser.add_argument("--a-python", default=sys.executable)
    parser.add_argument("--b-python", default=sys.executable)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one burst")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    servers, drops = {}, []
    try:
        for name, src, python in (
            ("A", args.a_src, args.a_python),
            ("B", args.b_src, args.b_python),
        ):
            db, drop = fresh_database(args.db)
            drops.append(drop)
            server, url = start_server(db, 0, Path(tempfile.mkdtemp()), src=src.resolve(),
                                       python=python)  # fmt: skip
            token = make_token(db)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
                dataset = http.post("/api/v1/datasets", files={"file": ("ab.csv", ab_csv())})
            servers[name] = (server, url, token, dataset.json()["id"])
        for name in servers:  # warm: first requests fill caches
            asyncio.run(burst(*servers[name][1:], args.clients, 2.0))
        cpu: dict[str, list[float]] = defaultdict(list)
        wall: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        loads = [load_average()]
        for k in range(args.rounds):
            for name in "AB" if k % 2 == 0 else "BA":
                server, url, token, dataset = servers[name]
                before = cpu_of(server.pid)
                stats = asyncio.run(burst(url, token, dataset, args.clients, args.seconds))
                requests = sum(len(v) for key, v in stats.items() if key != "errors")
                cpu[name].append((cpu_of(server.pid) - before) / requests * 1000)
                wall[name].extend(x for key, v in stats.items() if key != "errors" for x in v)
                errors[name] += len(stats["errors"])
        loads.append(load_average())
        ratios = np.array(cpu["B"]) / np.array(cpu["A"])
        print(f"{args.rounds} rounds × {args.seconds:g} s per build, {args.clients} clients, "
              f"{args.db.split(':')[0]}; load average {loads[0]} → {loads[1]}")  # fmt: skip
        print("| build | CPU ms / request (median, min–max) | wall p50 ms | wall p99 ms | errors |")
        print("|---|---|---|---|---|")
        for name, src, python in (
            ("A", args.a_src, args.a_python),
            ("B", args.b_src, args.b_python),
        ):
            c, w = np.array(cpu[name]), np.array(wall[name])
            print(f"| {name} ({src}, {Path(python).parent.parent.name}) | {np.median(c):.2f} "
                  f"({c.min():.2f}–{c.max():.2f}) | {np.percentile(w, 50):.1f} | "
                  f"{np.percentile(w, 99):.1f} | {errors[name]} |")  # fmt: skip
        print(f"B/A CPU per request: median of the rounds' ratios {np.median(ratios):.3f} "
              f"(min {ratios.min():.3f}, max {ratios.max():.3f})")  # fmt: skip
    finally:
        for server, *_ in servers.values():
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        for drop in drops:
            drop()


if __name__ == "__main__":
    main()

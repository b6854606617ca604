"""Memory and time of profiling a large dataset, and of uploading one to the service.

`--compare` (the profile alone): writes a CSV of `--mb` megabytes (an A/B test: an arm, a day
column, four numbers) and the same table as Parquet, then profiles each file in a fresh
process, old and new interleaved `--runs` times, under `/usr/bin/time -v`: *old* is the
profile before this change – `load_table` (the whole table, by pyarrow, into pandas) and the
pandas profile (kept as the tests' reference, `tests/profile_reference.py`); *new* is
`cerebro.service.profile.profile_file` (DuckDB SQL over the file). It prints each process's
peak resident memory, wall time and CPU time (user + system), and their medians.

Without `--compare` (the upload): starts `cerebro serve` on a fresh SQLite database with no
job workers, uploads the CSV with a streaming client, and prints the API process's peak
resident memory while the body streams to disk and while the stored file is profiled (now in
the API process: no child process any more).

    PYTHONPATH=src python bench/bench_service_upload.py --compare --mb 1024 --runs 3
    PYTHONPATH=src python bench/bench_service_upload.py --mb 1024
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service_load import fresh_database, make_token, start_server

ROOT = Path(__file__).resolve().parent.parent


def write_csv(path: Path, megabytes: int) -> None:
    rng = np.random.default_rng(0)
    day0, written = np.datetime64("2024-01-01"), 0
    with path.open("w") as out:
        out.write("arm,day,revenue,x1,x2,x3\n")
        while path.stat().st_size < megabytes * 1024 * 1024:
            n = 100_000
            arm = rng.choice(np.array(["control", "B"]), n)
            days = np.datetime_as_string(day0 + (written + np.arange(n)) // 20_000)
            values = rng.normal(10, 2, size=(n, 4)).round(4)
            lines = (f"{a},{d},{v[0]},{v[1]},{v[2]},{v[3]}"
                     for a, d, v in zip(arm, days, values, strict=True))  # fmt: skip
            out.write("\n".join(lines) + "\n")
            out.flush()
            written += n


def write_parquet(csv: Path, parquet: Path) -> None:
    """The CSV as Parquet, converted by DuckDB (streamed, in bounded memory)."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": "1GB"})
    con.execute(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}' (FORMAT parquet)")
    con.close()


def run_one(kind: str, path: str) -> None:
    """Profile `path` the old or the new way (the child process `--compare` measures)."""
    sys.path.insert(0, str(ROOT / "tests"))
    if kind == "old":
        from cerebro.data.load import load_table
        from profile_reference import profile_frame

        profile = profile_frame(load_table(path))
    else:
        from cerebro.service.profile import profile_file

        profile = profile_file(Path(path))
    print(profile["rows"], profile["duplicate_rows"], [c["type"] for c in profile["columns"]])


def measured(kind: str, path: Path) -> dict[str, float]:
    command = ["/usr/bin/time", "-v", sys.executable, __file__, "--run-one", kind, str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    report = done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed on {path.name}: {report[-3000:]}")

    def field(name: str) -> str:
        return re.search(rf"{re.escape(name)}: (.+)", report).group(1).strip()

    wall = sum(float(x) * 60**i for i, x in enumerate(reversed(field("Elapsed (wall clock) time "
                                                                    "(h:mm:ss or m:ss)").split(":"))))  # fmt: skip
    return {"rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024, "wall_s": wall,
            "cpu_s": float(field("User time (seconds)")) + float(field("System time (seconds)")),
            "out": done.stdout.strip()}  # fmt: skip


def compare(megabytes: int, runs: int, folder: Path) -> None:
    csv, parquet = folder / "big.csv", folder / "big.parquet"
    write_csv(csv, megabytes)
    write_parquet(csv, parquet)
    for path in (csv, parquet):
        results: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for run in range(runs):
            for kind in ("old", "new") if run % 2 == 0 else ("new", "old"):
                result = measured(kind, path)
                results[kind].append(result)
                print(f"{path.name} ({path.stat().st_size / 2**20:.0f} MB) {kind}: "
                      f"peak RSS {result['rss_mb']:.0f} MB, wall {result['wall_s']:.1f} s, "
                      f"CPU {result['cpu_s']:.1f} s, load {os.getloadavg()[0]:.1f} – "
                      f"{result['out']}", flush=True)  # fmt: skip
        medians = {k: {m: statistics.median(r[m] for r in v) for m in ("rss_mb", "wall_s", "cpu_s")}
                   for k, v in results.items()}  # fmt: skip
        old, new = medians["old"], medians["new"]
        print(f"MEDIANS {path.name}: old {old['rss_mb']:.0f} MB {old['wall_s']:.1f} s "
              f"(CPU {old['cpu_s']:.1f} s); new {new['rss_mb']:.0f} MB {new['wall_s']:.1f} s "
              f"(CPU {new['cpu_s']:.1f} s); memory old/new {old['rss_mb'] / new['rss_mb']:.1f}×, "
              f"wall new/old {new['wall_s'] / old['wall_s']:.2f}", flush=True)  # fmt: skip


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def watch(pid: int, data: Path, peaks: dict[str, float], done: threading.Event) -> None:
    """The largest resident memory while the upload is received and stored (until the file is
    in the data folder), and after it (profiling the stored file)."""
    while not done.is_set():
        phase = "profile" if any(data.rglob("big.csv")) else "stream"
        peaks[phase] = max(peaks.get(phase, 0.0), memory_mb(pid, "VmRSS"))
        time.sleep(0.05)


def upload(megabytes: int, folder: Path) -> None:
    csv = folder / "big.csv"
    write_csv(csv, megabytes)
    db, drop = fresh_database("sqlite")
    server, url = start_server(db, 0, folder / "data", max_upload_mb=megabytes + 50)
    try:
        token = make_token(db)
        before = memory_mb(server.pid)
        peaks: dict[str, float] = {}
        done = threading.Event()
        watcher = threading.Thread(target=watch, args=(server.pid, folder / "data", peaks, done))
        watcher.start()
        started = time.perf_counter()
        with csv.open("rb") as handle:
            response = httpx.post(f"{url}/api/v1/datasets", files={"file": ("big.csv", handle)},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=3600)  # fmt: skip
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        after, resident = memory_mb(server.pid), memory_mb(server.pid, "VmRSS")
        body = response.json()
        print(f"upload of {csv.stat().st_size / 2**20:.0f} MB ({body.get('rows')} rows): "
              f"HTTP {response.status_code} in {seconds:.1f} s; API process peak RSS "
              f"{before:.0f} MB before, {after:.0f} MB after – while streaming to disk "
              f"{peaks.get('stream', 0):.0f} MB, while profiling {peaks.get('profile', 0):.0f} MB; "
              f"resident after the response {resident:.0f} MB; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--compare", action="store_true", help="old vs new profile, no server")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--run-one", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(*args.run_one)
        return
    with tempfile.TemporaryDirectory() as folder:
        if args.compare:
            compare(args.mb, args.runs, Path(folder))
        else:
            upload(args.mb, Path(folder))


if __name__ == "__main__":
    main()

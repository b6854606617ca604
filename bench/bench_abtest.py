"""Cerebro's CLI versus the pandas + scipy script users write today, on the 1.5M-row demo, as
CSV and as Parquet, with the floor beside them: a Python process that imports DuckDB and scans
the file once (``count(*)``) – no Cerebro can be faster than that.

The three commands of a case run interleaved (Cerebro, pandas, floor, Cerebro, …; one warm-up
round first), each a fresh process whose wall time and CPU time (user + system of all its
threads, from ``wait4``) are recorded; medians over the rounds. On a machine shared with other
work the wall time is what a user waits but moves with the load; the CPU time moves much less –
both ratios are printed, with the load average before and after. Prints markdown for
BENCHMARKS.md.

Cerebro's bytecode is compiled first (``compileall``), as ``pip install`` does: an editable
checkout run with PYTHONDONTWRITEBYTECODE set would otherwise recompile the ~50 Cerebro
modules abtest imports on every run (≈ 0.08 s of CPU), which an installed Cerebro never does.

Usage: python bench/bench_abtest.py [--runs 10] [--users 50000] [--days 30]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
METRICS = "ai_calls,tasks_completed,satisfaction_score,retention_7d,revenue"


def data_files(users: int, days: int) -> tuple[Path, Path]:
    """The demo as CSV (`cerebro datasets saas`) and the same rows as Parquet (DuckDB COPY)."""
    csv = ROOT / ".cache" / "bench" / f"saas_{users}x{days}.csv"
    if not csv.exists():
        csv.parent.mkdir(parents=True, exist_ok=True)
        words = ["datasets", "saas", "--output", str(csv), "--users", str(users)]
        subprocess.run([str(BIN / "cerebro"), *words, "--days", str(days)], check=True)
    parquet = csv.with_suffix(".parquet")
    if not parquet.exists():
        import duckdb

        duckdb.sql(f"COPY (SELECT * FROM '{csv}') TO '{parquet}' (FORMAT parquet)")
    return csv, parquet


def interleaved(commands: list[list[str]], runs: int) -> list[dict[str, float]]:
    """Per command: median wall and CPU seconds (user + system, all threads) and peak RSS (MiB)
    over `runs` rounds, the commands taking turns within each round (after a warm-up round)."""
    times: list[list[tuple[float, float, float]]] = [[] for _ in commands]
    for round_ in range(runs + 1):
        for i, command in enumerate(commands):
            start = time.perf_counter()
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            if status != 0:
                sys.exit(f"failed ({status}): {' '.join(command)}")
            if round_:
                cpu = usage.ru_utime + usage.ru_stime
                times[i].append((wall, cpu, usage.ru_maxrss / 1024))
    return [
        {
            key: statistics.median(t[k] for t in runs_)
            for k, key in enumerate(("wall", "cpu", "rss"))
        }
        for runs_ in times
    ]


def compile_cerebro() -> Path:
    """Write the bytecode of the Cerebro these runs import (as an installed one has)."""
    spec = importlib.util.find_spec("cerebro")
    assert spec is not None and spec.origin is not None, "cerebro is not importable"
    package = Path(spec.origin).parent
    compileall.compile_dir(package, quiet=1)
    return package


def floor(path: Path) -> list[str]:
    scan = f"import duckdb; duckdb.sql(\"SELECT count(*) FROM '{path}'\").fetchall()"
    return [sys.executable, "-c", scan]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    package = compile_cerebro()
    csv, parquet = data_files(args.users, args.days)
    cerebro = [str(BIN / "cerebro"), "abtest"]
    flags = ["--treatment", "cohort", "--control", "A_control", "--outcome", METRICS]
    baseline = [sys.executable, str(ROOT / "bench" / "baseline_pandas_scipy.py")]
    # The demo has 30 rows per user: without --cluster Cerebro finds the repeated user id and
    # clusters on it (the honest analysis); "per row" names --cluster none to match the script.
    cases = [
        ("CSV, Welch per row", [*cerebro, str(csv), *flags, "--type", "welch", "--cluster",
         "none"], [*baseline, str(csv)], csv),
        ("CSV, clustered by user", [*cerebro, str(csv), *flags, "--cluster", "user_id"],
         [*baseline, str(csv), "--per-user"], csv),
        ("Parquet, Welch per row", [*cerebro, str(parquet), *flags, "--type", "welch",
         "--cluster", "none"], [*baseline, str(parquet)], parquet),
    ]  # fmt: skip
    print(
        f"{args.users * args.days:,} rows, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, Cerebro from {package}; {args.runs} interleaved rounds "
        f"after a warm-up, medians of wall and CPU (user + system) seconds\n"
    )
    print(
        "| case | Cerebro wall / CPU (s) | pandas + scipy wall / CPU (s) | floor wall / CPU (s) "
        "| ratio wall | ratio CPU | floor ratio CPU | peak RSS MiB (Cerebro / pandas) "
        "| load before → after |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, ours, theirs, path in cases:
        before = os.getloadavg()[0]
        a, b, f = interleaved([ours, theirs, floor(path)], args.runs)
        after = os.getloadavg()[0]
        print(
            f"| {name} | {a['wall']:.2f} / {a['cpu']:.2f} | {b['wall']:.2f} / {b['cpu']:.2f} "
            f"| {f['wall']:.2f} / {f['cpu']:.2f} | {a['wall'] / b['wall']:.2f}× "
            f"| {a['cpu'] / b['cpu']:.2f}× | {f['cpu'] / b['cpu']:.2f}× "
            f"| {a['rss']:.0f} / {b['rss']:.0f} | {before:.1f} → {after:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

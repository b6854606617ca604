"""Cerebro's CLI versus the pandas + scipy script users write today, on the 1.5M-row demo, as
CSV and as Parquet, with the floor beside them: a Python process that imports DuckDB and scans
the file once (``count(*)``) – no Cerebro can be faster than that.

Each case is timed by hyperfine (``-N``, no shell; warm-up runs first), which reports wall time
and the CPU time (user + system, all threads) of every run. On a machine shared with other work
the wall time is what a user waits but moves with the load; the CPU time moves much less – both
ratios are printed, with the load average before and after. Prints markdown for BENCHMARKS.md.

Usage: python bench/bench_abtest.py [--runs 10] [--users 50000] [--days 30]
Needs hyperfine on PATH (`apt-get install hyperfine`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def hyperfine(commands: list[list[str]], runs: int) -> list[dict[str, float]]:
    """Per command: median wall seconds and mean CPU seconds (user + system; hyperfine
    reports their means) over `runs`."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        quoted = [shlex.join(c) for c in commands]
        subprocess.run(
            ["hyperfine", "-N", "--warmup", "1", "--runs", str(runs), "--export-json",
             report.name, "--style", "none", *quoted],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        results = json.load(report)["results"]
    out = []
    for r in results:
        out.append({"wall": statistics.median(r["times"]), "cpu": r["user"] + r["system"]})
    return out


def floor(path: Path) -> list[str]:
    scan = f"import duckdb; duckdb.sql(\"SELECT count(*) FROM '{path}'\").fetchall()"
    return [sys.executable, "-c", scan]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    if not shutil.which("hyperfine"):
        sys.exit("hyperfine is not on PATH")
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
        f"{platform.python_version()}, hyperfine -N, {args.runs} runs each, wall medians, CPU means\n"
    )
    print(
        "| case | Cerebro wall / CPU (s) | pandas + scipy wall / CPU (s) | floor wall / CPU (s) "
        "| ratio wall | ratio CPU | floor ratio CPU | load before → after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, ours, theirs, path in cases:
        before = os.getloadavg()[0]
        a, b, f = hyperfine([ours, theirs, floor(path)], args.runs)
        after = os.getloadavg()[0]
        print(
            f"| {name} | {a['wall']:.2f} / {a['cpu']:.2f} | {b['wall']:.2f} / {b['cpu']:.2f} "
            f"| {f['wall']:.2f} / {f['cpu']:.2f} | {a['wall'] / b['wall']:.2f}× "
            f"| {a['cpu'] / b['cpu']:.2f}× | {f['cpu'] / b['cpu']:.2f}× "
            f"| {before:.1f} → {after:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

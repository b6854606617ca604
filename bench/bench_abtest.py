"""Cerebro's CLI versus the pandas + scipy script users write today, on the 1.5M-row demo.

Both are whole processes, run interleaved (A, B, A, B, …) so that the shared machine's noise
hits both alike, each timed by /usr/bin/time (wall seconds and peak resident memory).
Prints a markdown table of medians and ratios for BENCHMARKS.md.

Usage: python bench/bench_abtest.py [--runs 7] [--users 50000] [--days 30]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
METRICS = "ai_calls,tasks_completed,satisfaction_score,retention_7d,revenue"


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one run of `command`."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", report.name, *command],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall, rss_kib = report.read().split()[-2:]
    return float(wall), float(rss_kib) / 1024


def compare(name: str, ours: list[str], theirs: list[str], runs: int) -> dict[str, object]:
    timed(ours), timed(theirs)  # warm the page cache and the import caches
    samples: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": []}
    for _ in range(runs):
        samples["ours"].append(timed(ours))
        samples["theirs"].append(timed(theirs))
    medians = {
        who: (statistics.median(s[0] for s in runs_), statistics.median(s[1] for s in runs_))
        for who, runs_ in samples.items()
    }
    return {"name": name, "medians": medians, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    data = ROOT / ".cache" / "bench" / f"saas_{args.users}x{args.days}.csv"
    if not data.exists():
        subprocess.run(
            [
                str(BIN / "cerebro"),
                "datasets",
                "saas",
                "--output",
                str(data),
                "--users",
                str(args.users),
                "--days",
                str(args.days),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    cerebro = [
        str(BIN / "cerebro"),
        "abtest",
        str(data),
        "--treatment",
        "cohort",
        "--control",
        "A_control",
        "--outcome",
        METRICS,
    ]
    baseline = [sys.executable, str(ROOT / "bench" / "baseline_pandas_scipy.py"), str(data)]
    cases = [
        compare("Welch t per row", [*cerebro, "--type", "welch"], baseline, args.runs),
        compare(
            "clustered by user",
            [*cerebro, "--cluster", "user_id"],
            [*baseline, "--per-user"],
            args.runs,
        ),
    ]
    rows = args.users * args.days
    print(
        f"{rows:,} rows, {platform.machine()}, Python {platform.python_version()}, {args.runs} interleaved runs, medians\n"
    )
    print(
        "| case | Cerebro CLI (s) | pandas + scipy (s) | time ratio | Cerebro peak RSS (MiB) | pandas + scipy peak RSS (MiB) | memory ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for case in cases:
        (t_ours, m_ours), (t_theirs, m_theirs) = case["medians"]["ours"], case["medians"]["theirs"]
        print(
            f"| {case['name']} | {t_ours:.2f} | {t_theirs:.2f} | {t_ours / t_theirs:.2f}× "
            f"| {m_ours:.0f} | {m_theirs:.0f} | {m_ours / m_theirs:.2f}× |"
        )


if __name__ == "__main__":
    main()

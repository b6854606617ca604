"""Bench: geo market selection + power on GeoLift's 40-geo × 90-day pre-test data.

Runs `cerebro geo-design` end to end (N = 2..5, durations 10 and 15, 10 effect sizes, --jobs 2)
as repeated subprocesses and reports the median wall time. Usage:
    .venv/bin/python bench/bench_geo.py [--repeats 3]
The pysyncon comparison (a user's loop of pysyncon Synth fits over the same candidates,
windows and effects) is not in this script yet; see the report for its status.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "geolift" / "GeoLift_PreTest.csv"
ARGS = [
    "geo-design", str(DATA), "--geo-column", "location", "--outcome", "Y", "--date-column",
    "date", "--markets", "2-5", "--durations", "10,15", "--budget", "100000", "--cpic", "7.5",
    "--alpha", "0.1", "--effects", "0,0.025,0.05,0.075,0.1,0.125,0.15,0.2,0.25,0.3",
    "--jobs", "2", "--json",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from cerebro.cli.main import app; app()", *ARGS],
            check=True, capture_output=True,
        )  # fmt: skip
        times.append(time.perf_counter() - start)
    print(f"cerebro geo-design (N=2..5, 10/15 days, 10 effects, 2 jobs): median "
          f"{statistics.median(times):.1f} s over {repeats} runs ({', '.join(f'{t:.1f}' for t in times)})")  # fmt: skip


if __name__ == "__main__":
    main()

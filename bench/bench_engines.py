"""DuckDB vs Spark (local) vs pandas + scipy on a generated Parquet A/B experiment.

Usage: python bench/bench_engines.py --rows 10000000 [--runs 3] [--dir /tmp/x] [--no-spark]
       [--no-pandas]

The experiment: two arms, a revenue outcome and a pre-period covariate (CUPED), written as
Parquet in row groups of 1M rows (seed 0). Each round runs, in fresh processes and in turn
(the order rotating each round), the same Welch test with CUPED

- `cerebro abtest FILE` – DuckDB computes the per-arm moments in one scan (default engine);
- `cerebro abtest FILE --engine spark` – Spark local[*] computes them on its executors (in
  local mode: threads of the one JVM), the driver merges one partial row per arm;
- pandas + scipy – `read_parquet` of the three columns, then the CUPED adjustment and
  `scipy.stats.ttest_ind(equal_var=False)` in memory: what users write today.

Each timed with /usr/bin/time -v (wall seconds; peak resident memory of the largest process it
reaped) and, because Spark's JVM is a child the launcher does not reap, the peak resident
memory of the whole process tree sampled from /proc every 0.2 s. Prints medians and the load average; the
machine is shared, so only the interleaved comparison means anything.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PANDAS = """
import sys
import numpy as np
import pandas as pd
from scipy import stats
frame = pd.read_parquet(sys.argv[1], columns=["arm", "revenue", "pre_revenue"])
x = frame.pre_revenue.to_numpy()
theta = np.cov(frame.revenue.to_numpy(), x)[0, 1] / np.var(x, ddof=1)
adjusted = frame.revenue.to_numpy() - theta * (x - x.mean())
arm = frame.arm.to_numpy()
result = stats.ttest_ind(adjusted[arm == "treatment"], adjusted[arm == "control"], equal_var=False)
print(result.statistic, result.pvalue)
"""


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    schema = pa.schema(
        [("arm", pa.string()), ("revenue", pa.float64()), ("pre_revenue", pa.float64())]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            treated = rng.random(n) < 0.5
            pre = rng.gamma(2.0, 10.0, n)
            revenue = 0.8 * pre + rng.normal(0, 5, n) + 0.05 * treated
            arm = np.where(treated, "treatment", "control")
            writer.write_table(
                pa.table({"arm": arm, "revenue": revenue, "pre_revenue": pre}, schema=schema)
            )


def tree_rss(pid: int) -> float:
    """Resident MiB of process `pid` and all its descendants (from /proc)."""
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB of the largest process by /usr/bin/time, peak RSS MiB of the
    whole process tree sampled every 0.2 s) of one run of `command`."""
    process = subprocess.Popen(
        ["/usr/bin/time", "-v", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.2)
    err = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n" + "\n".join(err.splitlines()[-30:]))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    return seconds, rss, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--no-pandas", action="store_true", help="skip pandas (it needs ~150 bytes a row)"
    )
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="cerebro-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"ab_{args.rows}.parquet"
    if not path.exists():
        generate(path, args.rows)
    print(f"{args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB Parquet", flush=True)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    py = sys.executable
    cli = [py, "-m", "cerebro.cli.main", "abtest", str(path), "-t", "arm", "-y", "revenue"]
    cli += ["--covariates", "pre_revenue", "--cluster", "none", "--json"]
    commands = {"duckdb": cli}
    if not args.no_pandas:
        commands["pandas+scipy"] = [py, "-c", PANDAS, str(path)]
    if not args.no_spark:
        commands["spark local"] = [*cli, "--engine", "spark"]
    times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    names = list(commands)
    for r in range(args.runs):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(timed(commands[name], env))
            load = os.getloadavg()[0]
            wall, rss, tree = times[name][-1]
            print(
                f"run {r + 1} {name:13s} {wall:7.1f} s {rss:7.0f} MiB (tree {tree:7.0f} MiB)  "
                f"load {load:.1f}",
                flush=True,
            )
    print(f"\nmedians over {args.runs} runs, {args.rows:,} rows:")
    print("engine         wall s   max RSS MiB   process tree MiB")
    for name, runs in times.items():
        wall, rss, tree = (statistics.median(run[i] for run in runs) for i in range(3))
        print(f"{name:13s} {wall:7.1f} {rss:13.0f} {tree:18.0f}")


if __name__ == "__main__":
    main()

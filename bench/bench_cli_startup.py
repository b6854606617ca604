"""CLI start-up time and the A/B file path's peak memory, two source trees side by side.

Usage: python bench/bench_cli_startup.py --before /path/to/old/src --after src [--runs 15]
       [--bytecode]

Each round runs every command once with the old tree and once with the new one (alternating
which goes first), each in a fresh process with only PYTHONPATH changed, timed with
/usr/bin/time -v (wall seconds, peak resident memory). Prints medians and the after/before
ratios; the machine is shared and noisy, so only the interleaved ratio means anything.

The environment decides whether Python caches bytecode (PYTHONDONTWRITEBYTECODE): without a
cache every run compiles each module it imports, so the time grows with the source read.
`--bytecode` caches it, as an installed package does, in a temporary PYTHONPYCACHEPREFIX (one
warm-up run per tree fills it; the source trees are left untouched).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def timed(command: list[str], src: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one run of `command` with `src` first on the path."""
    env = {**env, "PYTHONPATH": src}
    out = subprocess.run(
        ["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True, check=True
    ).stderr
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", out)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out).group(1)) / 1024
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--bytecode", action="store_true", help="cache bytecode (see above)")
    args = parser.parse_args()
    py = sys.executable
    work = Path(tempfile.mkdtemp(prefix="cerebro-startup-"))
    env = dict(os.environ)
    if args.bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    saas = work / "saas.csv"
    subprocess.run(
        [py, "-m", "cerebro.cli.main", "datasets", "saas", "--output", str(saas), "--seed", "0"],
        env={**os.environ, "PYTHONPATH": args.after}, check=True, capture_output=True,
    )  # fmt: skip
    cli = [py, "-m", "cerebro.cli.main"]
    commands = {
        "--help": [*cli, "--help"],
        "power-analysis": [*cli, "power-analysis", "--baseline", "0.05", "--mde", "0.01"],
        "abtest file (1.5M rows)": [
            *cli, "abtest", str(saas), "--treatment", "cohort", "--outcome", "revenue",
            "--covariates", "pre_revenue", "--cluster", "user_id",
        ],
    }  # fmt: skip
    trees = {"before": args.before, "after": args.after}
    samples = {(c, t): [] for c in commands for t in trees}
    for command in commands.values():
        for tree in trees.values():
            timed(command, tree, env)  # warm-up: file cache (and bytecode cache) filled
    for r in range(args.runs):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for name, command in commands.items():
            for tree in order:
                samples[name, tree].append(timed(command, trees[tree], env))
    print(f"{'command':28} {'before s':>9} {'after s':>9} {'ratio':>6} {'before MiB':>11} "
          f"{'after MiB':>10} {'ratio':>6}")  # fmt: skip
    for name in commands:
        b = [statistics.median(x) for x in zip(*samples[name, "before"], strict=True)]
        a = [statistics.median(x) for x in zip(*samples[name, "after"], strict=True)]
        print(f"{name:28} {b[0]:9.3f} {a[0]:9.3f} {a[0] / b[0]:6.2f} {b[1]:11.0f} {a[1]:10.0f} "
              f"{a[1] / b[1]:6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

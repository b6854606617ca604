"""Regression discontinuity with robust inference on 1M rows: Cerebro versus rdrobust.

Both estimate the same sharp RD on the same arrays (local linear, triangular kernel, MSE-optimal
`mserd` bandwidth, nearest-neighbour variance, robust bias-corrected CI) in one process, run
interleaved (ours, theirs, ours, …) so the shared machine's noise hits both alike; a warm-up run
of each is not timed. Prints medians, the ratio, and the agreement of h, b, the estimate, the
conventional SE and the robust CI, as a markdown section for BENCHMARKS.md.

Usage: python bench/bench_rdd.py [--rows 1000000] [--runs 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import time
import warnings

import numpy as np

from cerebro.quasi.rdd_estimate import rd_fit
from cerebro.quasi.rdd_synthetic import simulate_arrays

Z95 = 1.959963984540054


def ours(y: np.ndarray, x: np.ndarray) -> dict[str, float]:
    f = rd_fit(y, x).fit
    return {
        "h": f.h, "b": f.b, "estimate": f.tau, "se": f.se,
        "robust_low": f.tau_bc - Z95 * f.se_rb, "robust_high": f.tau_bc + Z95 * f.se_rb,
    }  # fmt: skip


def theirs(y: np.ndarray, x: np.ndarray) -> dict[str, float]:
    from rdrobust import rdrobust

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = rdrobust(y, x)
    return {
        "h": o.bws.iloc[0, 0], "b": o.bws.iloc[1, 0], "estimate": o.coef.iloc[0, 0],
        "se": o.se.iloc[0, 0], "robust_low": o.ci.iloc[2, 0], "robust_high": o.ci.iloc[2, 1],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    y, x, *_ = simulate_arrays(args.rows, 0.5, seed=args.seed)
    a, b = ours(y, x), theirs(y, x)  # warm-up (imports, caches); also the agreement check
    times: dict[str, list[float]] = {"cerebro": [], "rdrobust": []}
    for _ in range(args.runs):
        for name, fn in (("cerebro", ours), ("rdrobust", theirs)):
            start = time.perf_counter()
            fn(y, x)
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    numba = importlib.util.find_spec("numba") is not None
    from importlib.metadata import version

    print(f"## Regression discontinuity: {args.rows:,} rows, robust inference\n")
    print(
        f"Sharp RD, local linear, triangular kernel, mserd bandwidth, nearest-neighbour variance; "
        f"synthetic data (`cerebro.quasi.rdd_synthetic`, jump 0.5, seed {args.seed}); "
        f"{args.runs} interleaved runs in one process, medians. rdrobust "
        f"{version('rdrobust')} "
        f"({'with' if numba else 'without'} numba: its nearest-neighbour loop runs "
        f"{'compiled' if numba else 'in pure Python, as pip installs it by default'}); "
        f"Python {platform.python_version()}, {platform.machine()}.\n"
    )
    print("| | Cerebro | rdrobust | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| wall seconds (median) | {med['cerebro']:.2f} | {med['rdrobust']:.2f} | "
        f"**{med['rdrobust'] / med['cerebro']:.1f}× faster** |"
    )
    print(
        f"| all runs | {', '.join(f'{t:.2f}' for t in times['cerebro'])} | "
        f"{', '.join(f'{t:.2f}' for t in times['rdrobust'])} | |\n"
    )
    print("| quantity | Cerebro | rdrobust | relative difference |")
    print("|---|---:|---:|---:|")
    for key in a:
        rel = abs(a[key] - b[key]) / abs(b[key])
        print(f"| {key} | {a[key]:.6g} | {b[key]:.6g} | {rel:.1e} |")


if __name__ == "__main__":
    main()

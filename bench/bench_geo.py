"""Bench: geo market selection + power on GeoLift's 40-geo × 90-day pre-test data.

The workload (issue 7): market selection over N = 2..5 treated geos (135 candidate sets, built as
GeoLift builds them), durations 10 and 15 days, power over 10 effect sizes at every test-window
position (90) – 243,000 *cells* (set, duration, window position, effect), each a synthetic-control
refit on all 90 days with the effect injected plus a moving-block conformal test (Chernozhukov,
Wüthrich & Zhu 2021).

1. Cerebro: `cerebro geo-design` end to end (`--jobs 2`), repeated as subprocesses; median wall.
2. pysyncon (1.7.0), the pipeline a Python user would build: for each cell, inject the effect
   into the treated average, remove every geo's mean (GeoLift's fixed effects), fit
   `pysyncon.Synth` with the treated average as the one treated unit and the outcome series as
   its matching variables, then compute the moving-block conformal p-value from the residuals
   in numpy (pysyncon's own `ConformalInference` builds per-period confidence intervals, not this
   test). `Synth.fit` with `custom_V` solves only the inner simplex QP (SLSQP); `custom_V` is the
   per-period variance across units over its mean, which undoes `Synth`'s per-row scaling, so
   pysyncon solves the same QP as Cerebro (unit V instead weights each day by 1/variance; the
   default V search runs Nelder–Mead over 90 V weights, each step a full QP: one such fit took
   190 s on the loaded bench machine, so it is not timed here).
   The full workload takes over an hour this way, so a seeded uniform random sample of cells
   is timed (one process, sequential, BLAS on one thread) and *extrapolated* to all cells.
3. Cerebro on the same sample cells, like for like: its unbatched solver (`simplex_lstsq`, one
   exact refit per cell, same injection and test code), and `block_power` (what `geo-design`
   runs: all 90 positions × 10 effects of a (set, duration) in one batched call, ÷ 900 cells).
   Every sampled p-value of both per-cell pipelines is checked against `block_power`'s, so the
   bench times the same numbers.

Usage:
    .venv/bin/python bench/bench_geo.py [--repeats 3] [--sample 1000] [--seed 7] [--skip-cli]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "geolift" / "GeoLift_PreTest.csv"
SIZES = (2, 3, 4, 5)
DURATIONS = (10, 15)
EFFECTS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3)
ALPHA = 0.1
ARGS = [
    "geo-design", str(DATA), "--geo-column", "location", "--outcome", "Y", "--date-column",
    "date", "--markets", "2-5", "--durations", ",".join(map(str, DURATIONS)), "--budget",
    "100000", "--cpic", "7.5", "--alpha", str(ALPHA), "--effects", ",".join(map(str, EFFECTS)),
    "--jobs", "2", "--json",
]  # fmt: skip


class Cell(NamedTuple):
    """One refit-and-test of the workload."""

    treated: tuple[int, ...]
    duration: int
    position: int  # first day of the cyclic test window
    effect: float


def load_panel() -> tuple[list[str], np.ndarray]:
    """Geo names and the (geos × days) outcome matrix, as `geo-design` reads them."""
    from cerebro.geo.panel import geo_panel

    panel = geo_panel(pd.read_csv(DATA), "location", "date", "Y")
    return list(panel.geos), np.asarray(panel.Y, float)


def candidate_sets(Y: np.ndarray) -> list[tuple[int, ...]]:
    """The treated sets `geo-design --markets 2-5` scores (GeoLift's correlation-built sets)."""
    from cerebro.geo.selection import candidate_sets as build

    return [s for size in SIZES for s in build(Y, size)]


def cell_count(sets: list[tuple[int, ...]], T: int) -> int:
    return len(sets) * len(DURATIONS) * T * len(EFFECTS)


def sample_cells(sets: list[tuple[int, ...]], T: int, size: int, seed: int) -> list[Cell]:
    """`size` distinct cells drawn uniformly (seeded) from the full workload."""
    total = cell_count(sets, T)
    flat = np.random.default_rng(seed).choice(total, size=min(size, total), replace=False)
    shape = (len(sets), len(DURATIONS), T, len(EFFECTS))
    return [
        Cell(sets[s], DURATIONS[d], int(b), EFFECTS[e])
        for s, d, b, e in zip(*np.unravel_index(flat, shape), strict=True)
    ]


def injected(Y: np.ndarray, cell: Cell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """De-meaned treated average with the effect injected in the window, de-meaned donors
    (GeoLift's market-selection model: fixed effects, no augmentation), and the window's days."""
    treated = list(cell.treated)
    donors = [g for g in range(Y.shape[0]) if g not in treated]
    y = Y[treated].mean(axis=0)
    window = (cell.position + np.arange(cell.duration)) % Y.shape[1]
    y[window] *= 1 + cell.effect
    D = Y[donors]
    return y - y.mean(), D - D.mean(axis=1, keepdims=True), window


def block_p_value(u: np.ndarray, duration: int, position: int) -> float:
    """Moving-block conformal p-value (two-sided, S = Σ|u|): share of the T cyclic blocks whose
    statistic is at least the test window's, the window itself included."""
    T = len(u)
    blocks = (np.arange(T)[:, None] + np.arange(duration)[None, :]) % T
    stats = np.abs(u)[blocks].sum(axis=1)
    return float(np.mean(stats >= stats[position] * (1 - 1e-10)))


def pysyncon_weights(names: list[str], cell: Cell, yc: np.ndarray, Dc: np.ndarray) -> np.ndarray:
    """pysyncon `Synth` weights for the treated average (see the module docstring for V)."""
    from pysyncon import Synth

    donors = [names[g] for g in range(len(names)) if g not in cell.treated]
    X0 = pd.DataFrame(Dc.T, columns=donors)
    X1 = pd.Series(yc, name="treated")
    var = pd.concat([X0, X1], axis=1).std(axis=1).to_numpy() ** 2
    synth = Synth()
    synth.fit(X0=X0, X1=X1, Z0=X0, Z1=X1, custom_V=var / var.mean())
    return np.asarray(synth.W, float)


def cerebro_weights(names: list[str], cell: Cell, yc: np.ndarray, Dc: np.ndarray) -> np.ndarray:
    """Cerebro's exact simplex least squares, one refit (no batching over windows/effects)."""
    from cerebro.stats.synth_weights import simplex_lstsq

    return simplex_lstsq(Dc.T, yc)


def run_cells(
    names: list[str], Y: np.ndarray, cells: list[Cell], weights: Callable[..., np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell wall seconds (inject + fit + test) and p-values."""
    seconds, p = np.empty(len(cells)), np.empty(len(cells))
    for i, cell in enumerate(cells):
        start = time.perf_counter()
        yc, Dc, _ = injected(Y, cell)
        w = weights(names, cell, yc, Dc)
        p[i] = block_p_value(yc - Dc.T @ w, cell.duration, cell.position)
        seconds[i] = time.perf_counter() - start
    return seconds, p


def geo_design_p_values(Y: np.ndarray, cells: list[Cell]) -> np.ndarray:
    """The same cells' p-values from `block_power`, the routine inside `geo-design`."""
    from cerebro.geo.power import block_power

    out = np.empty(len(cells))
    for i, cell in enumerate(cells):
        treated = list(cell.treated)
        donors = [g for g in range(Y.shape[0]) if g not in treated]
        p = block_power(Y[treated].mean(axis=0), Y[donors], cell.duration, [cell.effect])
        out[i] = p[0, cell.position]
    return out


def time_batched(Y: np.ndarray, cells: list[Cell], limit: int = 30) -> np.ndarray:
    """Seconds of `block_power` (geo-design's routine: all window positions × all effects in one
    batched path-following call) for up to `limit` distinct (set, duration) pairs of the sample."""
    from cerebro.geo.power import block_power

    pairs = list(dict.fromkeys((c.treated, c.duration) for c in cells))[:limit]
    seconds = np.empty(len(pairs))
    for i, (treated, duration) in enumerate(pairs):
        donors = [g for g in range(Y.shape[0]) if g not in treated]
        start = time.perf_counter()
        block_power(Y[list(treated)].mean(axis=0), Y[donors], duration, EFFECTS)
        seconds[i] = time.perf_counter() - start
    return seconds


def time_cli(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from cerebro.cli.main import app; app()", *ARGS],
            check=True, capture_output=True,
        )  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 600 else f"{seconds / 3600:.2f} h"


def _per_cell(label: str, seconds: np.ndarray, total: int) -> dict[str, float]:
    """Print and return the measured per-cell times and their extrapolation to `total` cells;
    the mean × cells estimate of the total carries the sampling error ± sd/√n × cells."""
    q1, med, q3 = np.percentile(seconds, [25, 50, 75])
    row = {"median": med, "mean": seconds.mean(), "total_median": med * total}
    row["total_mean"] = seconds.mean() * total
    error = seconds.std(ddof=1) / np.sqrt(len(seconds)) * total
    print(
        f"  {label}: MEASURED per cell median {med * 1e3:.2f} ms (IQR {q1 * 1e3:.2f}–"
        f"{q3 * 1e3:.2f}), mean {seconds.mean() * 1e3:.2f} ms, sample total {seconds.sum():.1f} s"
        f"\n  {label}: EXTRAPOLATED to {total:,} cells on one core: "
        f"{_duration(row['total_mean'])} ± {_duration(error)} (mean × cells), "
        f"{_duration(row['total_median'])} (median × cells)"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3, help="runs of cerebro geo-design")
    parser.add_argument("--sample", type=int, default=1000, help="cells timed per tool")
    parser.add_argument("--seed", type=int, default=7, help="seed of the cell sample")
    parser.add_argument("--skip-cli", action="store_true", help="skip the full cerebro runs")
    args = parser.parse_args()
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    names, Y = load_panel()
    sets = candidate_sets(Y)
    total = cell_count(sets, Y.shape[1])
    print(
        f"workload: {len(sets)} sets × {len(DURATIONS)} durations × {Y.shape[1]} window "
        f"positions × {len(EFFECTS)} effects = {total:,} refit-and-test cells"
    )
    cli_median = None
    if not args.skip_cli:
        times = time_cli(args.repeats)
        cli_median = statistics.median(times)
        print(
            f"cerebro geo-design, full workload, --jobs 2, MEASURED: median {cli_median:.1f} s "
            f"over {args.repeats} runs ({', '.join(f'{t:.1f}' for t in times)})"
        )

    # The per-cell timings run with BLAS on one thread: on the shared 2-core machine a second
    # OpenBLAS thread made the small SLSQP fits 2-15× slower whenever the other core was busy.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        print("threadpoolctl is not importable: BLAS threads are not limited for the sample")
    cells = sample_cells(sets, Y.shape[1], args.sample, args.seed)
    print(f"sample: {len(cells)} cells drawn uniformly from the {total:,} (seed {args.seed})")
    reference = geo_design_p_values(Y, cells)
    run_cells(names, Y, cells[:3], cerebro_weights)  # warm-up (imports, caches): not timed
    cer_s, cer_p = run_cells(names, Y, cells, cerebro_weights)
    cer = _per_cell("cerebro unbatched (simplex_lstsq per cell)", cer_s, total)
    same = np.mean(np.abs(cer_p - reference) < 1e-9)
    print(f"    p-values equal geo-design's block_power: {same:.1%}")
    per_pair = Y.shape[1] * len(EFFECTS)  # cells one block_power call answers
    batched = time_batched(Y, cells) / per_pair
    label = (
        f"cerebro batched (block_power, {len(batched)} sampled (set, duration) pairs ÷ {per_pair})"
    )
    _per_cell(label, batched, total)
    try:
        import pysyncon
    except ImportError:
        print("pysyncon is not importable: its part is skipped (pip install pysyncon).")
        return
    run_cells(names, Y, cells[:3], pysyncon_weights)  # warm-up: not timed
    py_s, py_p = run_cells(names, Y, cells, pysyncon_weights)
    py = _per_cell(f"pysyncon {pysyncon.__version__} Synth (SLSQP) per cell", py_s, total)
    agree = np.abs(py_p - reference) < 1e-9
    same_call = (py_p <= ALPHA + 1e-12) == (reference <= ALPHA + 1e-12)
    print(
        f"    p-values equal geo-design's: {agree.mean():.1%}; same reject/accept at alpha "
        f"{ALPHA}: {same_call.mean():.1%}; max |Δp| {np.max(np.abs(py_p - reference)):.3f}"
    )
    print(
        f"per-cell ratio pysyncon / cerebro unbatched (medians): {py['median'] / cer['median']:.0f}×"
    )
    if cli_median is not None:
        print(
            f"full-workload ratio, pysyncon EXTRAPOLATED (mean × cells, one core) / cerebro "
            f"MEASURED (2 jobs): {py['total_mean'] / cli_median:.0f}× "
            f"({py['total_mean'] / 2 / cli_median:.0f}× if pysyncon also used both cores)"
        )
    print(
        "GeoLift (R) cannot run here; its published and third-party run times are in BENCHMARKS.md."
    )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

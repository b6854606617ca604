"""Regression discontinuity with robust inference on 1M rows: Cerebro versus rdrobust, both ways.

All three estimate the same sharp RD on the same arrays (local linear, triangular kernel,
MSE-optimal `mserd` bandwidth, nearest-neighbour variance, robust bias-corrected CI):

- Cerebro (`cerebro.quasi.rdd.estimate.rd_fit`);
- rdrobust as `pip install rdrobust` installs it: numba is not importable, so its
  nearest-neighbour loop runs in pure Python;
- rdrobust with its `speed` extra (`pip install "rdrobust[speed]"`): numba compiles that loop.

Each runs in its own worker process (so that one configuration cannot hide or import the other's
numba), started once and warmed up with one untimed fit. The parent then asks the workers for one
timed fit at a time, round-robin (Cerebro, rdrobust, rdrobust[speed], Cerebro, …), so the shared
machine's noise hits all alike and no two fits overlap. Prints medians, the ratios, every run,
and the agreement of h, b, the estimate, the conventional SE and the robust CI, as a markdown
section for BENCHMARKS.md. Each worker reports whether numba was really in use.

numba for the `speed` worker: importable in this environment, or from `--numba-path DIR` (e.g.
`pip install --target /tmp/numba_pkgs numba`; the default is that directory if it exists). Without
it that column is reported as not run.

Usage: python bench/bench_rdd.py [--rows 1000000] [--runs 5] [--seed 0] [--numba-path DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

Z95 = 1.959963984540054
DEFAULT_NUMBA_PATH = "/tmp/numba_pkgs"


# --------------------------------------------------------------------------- workers
def _block_numba() -> None:
    """Make `import numba` fail, as in an environment where it was never installed."""
    import importlib.abc

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "numba" or name.startswith("numba."):
                raise ImportError("numba blocked: rdrobust as pip installs it")
            return None

    sys.meta_path.insert(0, Blocker())


def _fit_cerebro(y, x) -> dict[str, float]:
    from cerebro.quasi.rdd.estimate import rd_fit

    f = rd_fit(y, x).fit
    return {
        "h": f.h, "b": f.b, "estimate": f.tau, "se": f.se,
        "robust_low": f.tau_bc - Z95 * f.se_rb, "robust_high": f.tau_bc + Z95 * f.se_rb,
    }  # fmt: skip


def _fit_rdrobust(y, x) -> dict[str, float]:
    from rdrobust import rdrobust

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = rdrobust(y, x)
    return {
        "h": float(o.bws.iloc[0, 0]), "b": float(o.bws.iloc[1, 0]),
        "estimate": float(o.coef.iloc[0, 0]), "se": float(o.se.iloc[0, 0]),
        "robust_low": float(o.ci.iloc[2, 0]), "robust_high": float(o.ci.iloc[2, 1]),
    }  # fmt: skip


def worker(kind: str, rows: int, seed: int) -> None:
    """Answer each line on stdin with one timed fit (a JSON line on stdout)."""
    if kind == "rdrobust":
        _block_numba()
    from importlib.metadata import version

    import numpy as np

    from cerebro.quasi.rdd.synthetic import simulate_arrays

    y, x, *_ = simulate_arrays(rows, 0.5, seed=seed)
    fit = _fit_cerebro if kind == "cerebro" else _fit_rdrobust
    info: dict[str, object] = {"numpy": np.__version__}
    if kind == "cerebro":
        from cerebro.quasi.rdd import local as rdd_local

        # rd_fit's default backend: the compiled kernels from COMPILED_MIN_ROWS rows on.
        info["compiled"] = rows >= rdd_local.COMPILED_MIN_ROWS
    else:
        import rdrobust.funs

        info["rdrobust"] = version("rdrobust")
        info["numba"] = bool(rdrobust.funs._NB_AVAILABLE)
        if info["numba"]:
            import numba

            info["numba_version"] = numba.__version__
    result = fit(y, x)  # warm-up: imports, numba compilation, caches; also the agreement check
    print(json.dumps({"info": info, "result": result}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        fit(y, x)
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


# --------------------------------------------------------------------------- parent
class Worker:
    def __init__(self, kind: str, args: argparse.Namespace, extra_path: str | None = None):
        env = dict(os.environ)
        if extra_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_path, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", kind, "--rows", str(args.rows),
             "--seed", str(args.seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        first = json.loads(self.proc.stdout.readline())
        self.info, self.result = first["info"], first["result"]
        self.times: list[float] = []

    def run(self) -> None:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        self.times.append(json.loads(self.proc.stdout.readline())["seconds"])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _numba_path(args: argparse.Namespace) -> tuple[bool, str | None]:
    """(available, extra PYTHONPATH) for the rdrobust[speed] worker."""
    import importlib.util

    if importlib.util.find_spec("numba") is not None:
        return True, None
    path = args.numba_path or (DEFAULT_NUMBA_PATH if Path(DEFAULT_NUMBA_PATH).is_dir() else None)
    if path and (Path(path) / "numba").is_dir():
        return True, path
    return False, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--numba-path", default=None)
    parser.add_argument("--worker", choices=["cerebro", "rdrobust", "rdrobust-speed"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rows, args.seed)
        return

    has_numba, extra = _numba_path(args)
    load_before = os.getloadavg()
    workers = {"Cerebro": Worker("cerebro", args), "rdrobust": Worker("rdrobust", args)}
    if has_numba:
        workers["rdrobust[speed]"] = Worker("rdrobust-speed", args, extra)
    try:
        for _ in range(args.runs):
            for w in workers.values():
                w.run()
    finally:
        for w in workers.values():
            w.close()

    load_after = os.getloadavg()
    med = {k: statistics.median(w.times) for k, w in workers.items()}
    ours = workers["Cerebro"]
    pure = workers["rdrobust"]
    speed = workers.get("rdrobust[speed]")
    if pure.info["numba"]:
        raise SystemExit("the pure-Python rdrobust worker imported numba: the bench is invalid")
    if speed is not None and not speed.info["numba"]:
        raise SystemExit("the rdrobust[speed] worker could not import numba: the bench is invalid")

    print(f"## Regression discontinuity: {args.rows:,} rows, robust inference\n")
    numba_note = (
        f"with numba {speed.info['numba_version']} (its nearest-neighbour loop compiled)"
        if speed is not None
        else "not run: numba not found (see --numba-path)"
    )
    print(
        "Sharp RD, local linear, triangular kernel, mserd bandwidth, nearest-neighbour variance, "
        f"robust bias-corrected CI; synthetic data (`cerebro.quasi.rdd.synthetic`, jump 0.5, seed "
        f"{args.seed}). rdrobust {pure.info['rdrobust']} twice: as `pip install rdrobust` "
        "installs it (numba not importable, nearest-neighbour loop in pure Python) and with its "
        f"`speed` extra, {numba_note}. Each in its own warmed-up worker process, {args.runs} "
        "timed fits each, round-robin one at a time; medians. Cerebro "
        + ("with its compiled kernels" if ours.info["compiled"] else "on its NumPy path")
        + f". Python {platform.python_version()}, numpy {ours.info['numpy']}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; load average (1 min) "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after.\n"
    )
    print("| | wall seconds (median) | Cerebro is | all runs |")
    print("|---|---:|---:|---|")
    for name, w in workers.items():
        ratio = "–" if w is ours else f"**{med[name] / med['Cerebro']:.1f}× faster**"
        label = {
            "Cerebro": "Cerebro",
            "rdrobust": "rdrobust (pip default, pure Python)",
            "rdrobust[speed]": "rdrobust[speed] (numba)",
        }[name]
        runs = ", ".join(f"{t:.2f}" for t in w.times)
        print(f"| {label} | {med[name]:.3f} | {ratio} | {runs} |")
    print()
    print("| quantity | Cerebro | rdrobust | relative difference |")
    print("|---|---:|---:|---:|")
    for key, value in ours.result.items():
        ref = pure.result[key]
        print(f"| {key} | {value:.6g} | {ref:.6g} | {abs(value - ref) / abs(ref):.1e} |")
    if speed is not None:
        gap = max(abs(speed.result[k] - pure.result[k]) / abs(pure.result[k]) for k in pure.result)
        print(f"\nrdrobust with and without numba agree to {gap:.1e} (relative, largest).")


if __name__ == "__main__":
    main()

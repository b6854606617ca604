"""Causal forest at scale: Cerebro's `CausalForest` versus EconML's `econml.grf.CausalForest`.

Both grow the same forest on the same arrays: 200 honest trees in little bags of 2 (for the
variance), subsamples of half the rows without replacement, at least 5 rows per leaf, every
feature tried at each split, on the locally centred outcome and treatment (known propensity
0.5, outcome centred at its mean, so both see identical residuals). Data: 20 uniform
features, T ~ Bernoulli(0.5), Y = x3 + τ(x)T + N(0, 1) with Wager & Athey's (2018)
τ(x) = ς(x1)ς(x2), ς(u) = 1 + 1/(1 + e^{−20(u − 1/3)}). Each fit then predicts the CATE with
its variance on 100,000 fresh test rows; PEHE and the 95% interval coverage of the true CATE
on those rows are reported too.

Each (tool, size) runs in its own process under `/usr/bin/time -v` (wall seconds and peak
RSS), tools interleaved at each size, medians over `--runs`. EconML runs with an address-space
limit (`--econml-limit-gib`, default 20) so a size it cannot handle fails instead of swapping;
sizes listed in `--econml-sizes` only.

CausalML's `CausalRandomForestRegressor` (scikit-learn trees with its causal criterion and
honesty) runs at `--causalml-sizes` with its closest recipe; its intervals are not timed (see
the worker).

Usage: python bench/bench_forest.py [--sizes 1500000,5000000] [--econml-sizes 200000,1000000]
       [--causalml-sizes 200000] [--runs 1] [--trees 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

TEST_ROWS = 100_000
P = 20


def _data(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, P))

    def tau(X):
        s = lambda u: 1 + 1 / (1 + np.exp(-20 * (u - 1 / 3)))  # noqa: E731
        return s(X[:, 0]) * s(X[:, 1])

    t = rng.binomial(1, 0.5, n)
    y = X[:, 2] + tau(X) * t + rng.normal(size=n)
    Xt = rng.uniform(size=(TEST_ROWS, P))
    return X, y, t, Xt, tau(Xt)


def worker(tool: str, n: int, trees: int, jobs: int, seed: int) -> None:
    import numpy as np

    X, y, t, Xt, tau_t = _data(n, seed)
    yr = y - y.mean()
    tr = t - 0.5
    info: dict[str, object] = {"tool": tool, "n": n}
    if tool == "cerebro":
        from cerebro.uplift.forest import CausalForest

        start = time.perf_counter()
        f = CausalForest(n_estimators=trees, min_leaf=5, sample_fraction=0.5, ci_group_size=2,
                         seed=seed, n_jobs=jobs)  # fmt: skip
        f.fit(X, y, t, y_hat=np.full(n, y.mean()), t_hat=0.5)
        fit_s = time.perf_counter() - start
        info["timings"] = f.timings_
        start = time.perf_counter()
        est, var = f.predict(Xt, variance=True)
        pred_s = time.perf_counter() - start
    elif tool == "causalml":
        import importlib.metadata

        from causalml.inference.tree import CausalRandomForestRegressor

        info["causalml"] = importlib.metadata.version("causalml")
        start = time.perf_counter()
        # Its closest recipe: honest trees (half the subsample estimates the leaves), subsamples
        # of half the rows (drawn with replacement: scikit-learn's bootstrap), leaves of ≥ 5
        # rows per arm, every feature per split; raw y and t (its criterion centres per node).
        f = CausalRandomForestRegressor(n_estimators=trees, min_samples_leaf=5,
                                        min_group_samples=5, max_samples=0.5, max_features=1.0,
                                        honesty=True, n_jobs=jobs, random_state=seed)  # fmt: skip
        f.fit(X, t, y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        est = np.asarray(f.predict(Xt)).ravel()
        pred_s = time.perf_counter() - start
        # Its intervals (forestci's infinitesimal jackknife) build (train rows × test rows)
        # products – 2e10 cells at 200k × 100k – so only the point estimate is timed.
        var = np.full(len(est), np.nan)
        # An honest leaf left without one arm's estimation rows predicts NaN, which the forest
        # average passes on: such rows are counted and left out of the PEHE.
        info["nan_share"] = float(np.mean(~np.isfinite(est)))
        keep = np.isfinite(est)
        est, var, tau_t = est[keep], var[keep], tau_t[keep]
    else:
        import resource

        import econml
        from econml.grf import CausalForest as EconForest

        info["econml"] = econml.__version__
        start = time.perf_counter()
        f = EconForest(n_estimators=trees, min_samples_leaf=5, max_samples=0.5, honest=True,
                       inference=True, subforest_size=2, max_features=None, n_jobs=jobs,
                       random_state=seed)  # fmt: skip
        f.fit(X, tr, yr)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        est, var = f.predict_and_var(Xt)
        est, var = est.ravel(), var.ravel()
        pred_s = time.perf_counter() - start
        info["maxrss_self_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    se = np.sqrt(np.maximum(var, 0))
    info.update(
        fit_seconds=fit_s, predict_seconds=pred_s,
        pehe=float(np.sqrt(np.mean((est - tau_t) ** 2))),
        coverage=float(np.mean(np.abs(est - tau_t) <= 1.959963984540054 * se))
        if np.isfinite(se).all() else float("nan"),
    )  # fmt: skip
    print("RESULT " + json.dumps(info), flush=True)


def kernel_ratio(n: int = 1_000_000, repeats: int = 5) -> str:
    """numba versus numpy on the dominant step: one node's split search (moments, pseudo-outcomes,
    histograms of 20 features, best threshold) and partition, on ``n`` splitting rows, 1 thread."""
    import numpy as np

    from cerebro.uplift import forest_kernels as K

    rng = np.random.default_rng(0)
    Xb = rng.integers(0, 256, size=(n, P), dtype=np.uint8)
    t = rng.binomial(1, 0.5, n)
    ts, ys, ws = t - 0.5, rng.normal(size=n) + t * (Xb[:, 0] > 128), t.astype(np.uint8)

    def numpy_node(X, y, tt, w, min_leaf=5):
        c = len(y)
        tb, yb = tt.mean(), y.mean()
        tau = np.mean((tt - tb) * (y - yb)) / np.mean((tt - tb) ** 2)
        rho = (tt - tb) * ((y - yb) - (tt - tb) * tau)
        code = (X.astype(np.int64) + np.arange(P) * 256).ravel()
        cnt = np.bincount(code, minlength=P * 256).reshape(P, 256)
        srh = np.bincount(code, np.repeat(rho, P), minlength=P * 256).reshape(P, 256)
        trt = np.bincount(code, np.repeat(w.astype(float), P), minlength=P * 256).reshape(P, 256)
        cl, sl, wl = cnt.cumsum(1)[:, :-1], srh.cumsum(1)[:, :-1], trt.cumsum(1)[:, :-1]
        cr, sr, wr = c - cl, rho.sum() - sl, w.sum() - wl
        ok = (wl >= min_leaf) & (cl - wl >= min_leaf) & (wr >= min_leaf) & (cr - wr >= min_leaf)
        gain = np.where(ok, sl**2 / np.maximum(cl, 1) + sr**2 / np.maximum(cr, 1), -np.inf)
        f, b = np.unravel_index(np.argmax(gain), gain.shape)
        go = X[:, f] <= b
        return X[go], X[~go], y[go], y[~go]

    def numba_node():
        feat = np.empty(3, np.int32)
        thr = np.empty(3, np.uint8)
        left = np.empty(3, np.int32)
        right = np.empty(3, np.int32)
        leaf = np.empty((2, K.N_LEAF_STATS))
        state = K._seed_state(0, 0, 0)
        K.grow_tree(Xb.copy(), ys.copy(), ts.copy(), ws.copy(), Xb[:10].copy(), ys[:10].copy(),
                    ts[:10].copy(), ws[:10].copy(), 5, 0.05, 1, P, state, feat, thr, left, right,
                    leaf)  # fmt: skip

    numba_node()  # compile / load cache

    def best(fn):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    t_nb = best(numba_node)
    t_np = best(lambda: numpy_node(Xb, ys, ts, ws))
    return (
        f"one node, {n:,} rows × {P} features, 1 thread, best of {repeats}: numpy "
        f"{t_np:.3f} s, numba {t_nb:.3f} s (incl. copying the rows), ratio {t_np / t_nb:.1f}×"
    )


def run_one(tool: str, n: int, args: argparse.Namespace) -> dict[str, object]:
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--worker", tool, "--n", str(n),
           "--trees", str(args.trees), "--jobs", str(args.jobs), "--seed", str(args.seed)]  # fmt: skip
    env = dict(os.environ)
    preexec = None
    if tool == "econml":
        limit = int(args.econml_limit_gib * 2**30)

        def preexec():
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=preexec)
    wall = time.perf_counter() - start
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr)]
    out: dict[str, object] = {"tool": tool, "n": n, "wall": wall,
                              "peak_gib": int(peak.group(1)) / 2**20 if peak else float("nan"),
                              "cpu": sum(cpu) if cpu else float("nan")}  # fmt: skip
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        out["failed"] = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
    else:
        out.update(json.loads(line[-1][7:]))
    print(json.dumps(out), file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1500000,5000000")
    parser.add_argument("--econml-sizes", default="200000,1000000")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--econml-limit-gib", type=float, default=20.0)
    parser.add_argument("--causalml-sizes", default="200000")
    parser.add_argument("--worker", choices=["cerebro", "econml", "causalml"])
    parser.add_argument("--n", type=int)
    parser.add_argument(
        "--kernel-ratio", action="store_true", help="only time numba vs numpy on one node"
    )
    args = parser.parse_args()
    if args.kernel_ratio:
        print(kernel_ratio())
        return
    if args.worker:
        worker(args.worker, args.n, args.trees, args.jobs, args.seed)
        return
    econ = {int(s) for s in args.econml_sizes.split(",") if s}
    cml = {int(s) for s in args.causalml_sizes.split(",") if s}
    sizes = sorted(econ | cml | {int(s) for s in args.sizes.split(",") if s})
    rows: dict[tuple[str, int], list[dict]] = {}
    for n in sizes:
        tools = ["cerebro"] + ["econml"] * (n in econ) + ["causalml"] * (n in cml)
        for _ in range(args.runs):
            for tool in tools:
                rows.setdefault((tool, n), []).append(run_one(tool, n, args))

    print(f"## Causal forest: {args.trees} honest trees, 20 features, fit + CATE with variance\n")
    print(
        f"{__doc__.split(chr(10) + chr(10))[1].strip()} Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, n_jobs={args.jobs}, {args.runs} run(s), "
        "medians.\n"
    )
    print(
        "| rows | tool | fit s | predict 100k s | total wall s | total CPU s | peak RSS GiB | PEHE "
        "| 95% coverage |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (tool, n), runs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ok = [r for r in runs if "failed" not in r]
        name = {"cerebro": "Cerebro", "econml": "EconML grf.CausalForest",
                "causalml": "CausalML CausalRandomForestRegressor"}[tool]  # fmt: skip
        if not ok:
            print(
                f"| {n:,} | {name} | failed: {runs[0]['failed']} | | | | {runs[0]['peak_gib']:.1f} | | |"
            )
            continue
        med = {k: statistics.median(float(r[k]) for r in ok)
               for k in ("fit_seconds", "predict_seconds", "wall", "cpu", "peak_gib", "pehe", "coverage")}  # fmt: skip
        cov = "–" if med["coverage"] != med["coverage"] else f"{med['coverage']:.3f}"
        print(f"| {n:,} | {name} | {med['fit_seconds']:.1f} | {med['predict_seconds']:.1f} | "
              f"{med['wall']:.1f} | {med['cpu']:.0f} | {med['peak_gib']:.2f} | {med['pehe']:.3f} | {cov} |")  # fmt: skip


if __name__ == "__main__":
    main()

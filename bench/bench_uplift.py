"""X-learner with LightGBM base learners: Cerebro versus EconML XLearner and CausalML
BaseXRegressor.

Data: `cerebro.uplift.synthetic.uplift_data(rows, p=10, kind="continuous", seed=2026)` – one row
per user (1.5M by default, `--rows 5000000` for the large variant), 10 numeric features plus the
segment one-hot (12 columns), randomised treatment with share 0.5, known CATE.

Every tool gets the same base learner – `cerebro.uplift.crossfit.lightgbm_estimator` (100 trees,
16 leaves, learning rate 0.1, ≥ 50 rows per leaf, 255 bins, `--threads` threads) – and the known
propensity 0.5 (randomised design; EconML always fits a propensity model, so it gets a
`DummyClassifier(strategy="prior")`, i.e. the treated share).

Tools (each a fresh process under /usr/bin/time -v: wall seconds, peak RSS; inside, the data are
simulated first and only the estimation is timed as "fit s"):

- ``cerebro``: `fit_learner("x_learner", folds=5)` – out-of-fold CATE for every row (5 × 4 LightGBM
  fits on 80% of the rows) plus `predict` on all rows (the 5 fold models averaged);
- ``econml`` / ``causalml``: one fit on all rows and the CATE of the same rows (4 LightGBM fits on
  100%) – *in-sample* CATE, what their fit-then-effect API gives;
- ``econml-oof``: EconML in a 5-fold loop giving the same out-of-fold CATE as Cerebro (equal work).

Runs are interleaved (rep 1: every tool, rep 2: …); medians are reported, with the PEHE of each
tool's CATE against the truth.

Usage: python bench/bench_uplift.py [--rows 1500000] [--reps 3] [--threads 2] [--tools ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

TOOLS = ("cerebro", "econml", "causalml", "econml-oof")
DATA_SEED = 2026
FOLDS = 5


def _data(rows: int):
    from cerebro.uplift.synthetic import design_matrix, uplift_data

    frame, truth = uplift_data(rows, p=10, kind="continuous", seed=DATA_SEED)
    X = design_matrix(frame)
    return X, frame.outcome.to_numpy(float), frame.treatment.to_numpy(), truth["cate"]


def worker(tool: str, rows: int, threads: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from cerebro.observational.dml import fold_ids
    from cerebro.uplift.crossfit import lightgbm_estimator

    X, y, t, cate = _data(rows)
    reg = lightgbm_estimator(False, 0, threads)
    start = time.perf_counter()
    if tool == "cerebro":
        from cerebro.uplift.learners import fit_learner

        fit = fit_learner("x_learner", X, y, t, propensity=0.5, folds=FOLDS, seed=0, jobs=threads)
        est = fit.cate_oof
        fit.predict(X)  # scoring all rows with the fold models, as a user would
    elif tool in ("econml", "econml-oof"):
        from econml.metalearners import XLearner
        from sklearn.dummy import DummyClassifier

        def make():
            return XLearner(models=reg, cate_models=reg,
                            propensity_model=DummyClassifier(strategy="prior"))  # fmt: skip

        if tool == "econml":
            est = np.ravel(make().fit(y, t, X=X).effect(X))
        else:
            ids = fold_ids(len(y), FOLDS, 0)
            est = np.empty(len(y))
            for k in range(FOLDS):
                tr, te = ids != k, ids == k
                est[te] = np.ravel(make().fit(y[tr], t[tr], X=X[tr]).effect(X[te]))
    elif tool == "causalml":
        from causalml.inference.meta import BaseXRegressor

        model = BaseXRegressor(learner=reg)
        p = np.full(len(y), 0.5)
        model.fit(X, treatment=t, y=y, p=p)
        est = np.ravel(model.predict(X, p=p))
    else:
        raise SystemExit(f"unknown tool {tool}")
    seconds = time.perf_counter() - start
    pehe = float(np.sqrt(np.mean((est - cate) ** 2)))
    return {"tool": tool, "fit_s": seconds, "pehe": pehe}


def run_one(tool: str, rows: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".txt") as log:
        cmd = ["/usr/bin/time", "-v", "-o", log.name, sys.executable, __file__,
               "--worker", tool, "--rows", str(rows), "--threads", str(threads)]  # fmt: skip
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        with open(log.name) as fh:
            text = fh.read()
    peak_kb = int(next(x for x in text.splitlines() if "Maximum resident" in x).split()[-1])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(wall_s=wall, peak_mib=peak_kb / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.threads)))
        return
    tools = args.tools.split(",")
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    for rep in range(args.reps):
        for tool in tools:
            r = run_one(tool, args.rows, args.threads)
            runs[tool].append(r)
            print(f"rep {rep + 1} {tool:11s} fit {r['fit_s']:7.1f} s  wall {r['wall_s']:7.1f} s  "
                  f"peak {r['peak_mib']:7.0f} MiB  PEHE {r['pehe']:.4f}", flush=True)  # fmt: skip
    print(f"\nX-learner, {args.rows:,} rows × 12 features, {args.threads} threads, "
          f"medians of {args.reps}")  # fmt: skip
    print("| tool | fit s | wall s | peak MiB | PEHE |\n|---|---|---|---|---|")
    med = {}
    for tool, rs in runs.items():
        med[tool] = {k: statistics.median(r[k] for r in rs)
                     for k in ("fit_s", "wall_s", "peak_mib", "pehe")}  # fmt: skip
        m = med[tool]
        print(f"| {tool} | {m['fit_s']:.1f} | {m['wall_s']:.1f} | {m['peak_mib']:.0f} | "
              f"{m['pehe']:.4f} |")  # fmt: skip
    if "cerebro" in med:
        for tool in med:
            if tool != "cerebro":
                print(
                    f"{tool}/cerebro: fit time ×{med[tool]['fit_s'] / med['cerebro']['fit_s']:.2f}"
                    f", peak memory ×{med[tool]['peak_mib'] / med['cerebro']['peak_mib']:.2f}"
                )


if __name__ == "__main__":
    main()

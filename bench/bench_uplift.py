"""X-learner with LightGBM base learners: Cerebro versus EconML XLearner and CausalML
BaseXRegressor.

Data: `cerebro.uplift.synthetic.uplift_data(rows, p=10, kind="continuous", seed=2026)` – one row
per user (1.5M by default, `--rows 5000000` for the large variant), 10 numeric features plus the
segment one-hot (12 columns), randomised treatment with share 0.5, known CATE.

Every tool gets the same base learner – `cerebro.uplift.crossfit.lightgbm_estimator` (100 trees,
16 leaves, learning rate 0.1, ≥ 50 rows per leaf, 255 bins) – and the known propensity 0.5
(randomised design; EconML always fits a propensity model, so it gets a
`DummyClassifier(strategy="prior")`, i.e. the treated share).

Configurations (``tool@threads``; each run is a fresh process under ``/usr/bin/time -v``: wall
seconds and peak RSS; inside, the data are simulated first and only the estimation is timed):

- ``cerebro@J``: `fit_learner("x_learner", folds=5, jobs=J)` – the default: out-of-fold CATE for
  every row (5 folds × 4 LightGBM fits on 80% of the rows, fold fits in J threads) and the
  doubly robust ATE. Scoring all rows with the fold models afterwards (`predict`, what a user
  does with new data) is timed separately ("score s") – `fit_learner` does not do it.
- ``cerebro2@J``: the same with ``folds=2`` – the option that matches the peers' work: 2 folds ×
  4 fits on 50% train the same number of row-trees as the peers' 4 fits on 100%.
- ``econml@J`` / ``causalml@J``: one fit on all rows and the CATE of the same rows (4 LightGBM
  fits on 100%, J LightGBM threads) – an *in-sample* CATE, what their fit-then-effect API gives.
- ``lightgbm-floor@1``: only the training of the four LightGBM models of one in-sample
  X-learner on one binning, single-threaded, nothing else timed – the CPU time no tool with
  these learners and this work can beat (at J threads at best this ÷ J). Not in the default list.
- ``econml-oof@J``: EconML in a 5-fold loop giving the out-of-fold CATE Cerebro gives (equal
  work; not in the default list – slow at 1.5M rows).

Runs are interleaved (rep 1: every configuration, rep 2: …); medians are reported with the PEHE
of each tool's CATE against the truth, and ratios to ``cerebro@2``.

Usage: python bench/bench_uplift.py [--rows 1500000] [--reps 3]
       [--tools cerebro@1,cerebro@2,...]
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

TOOLS = (
    "cerebro@1", "cerebro@2", "cerebro2@1", "cerebro2@2",
    "econml@1", "econml@2", "causalml@1", "causalml@2",
)  # fmt: skip
DATA_SEED = 2026
FOLDS = 5


def _data(rows: int):
    from cerebro.uplift.synthetic import design_matrix, uplift_data

    frame, truth = uplift_data(rows, p=10, kind="continuous", seed=DATA_SEED)
    X = design_matrix(frame)
    return X, frame.outcome.to_numpy(float), frame.treatment.to_numpy(), truth["cate"]


def worker(config: str, rows: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from cerebro.ml.crossfit import fold_ids
    from cerebro.uplift.crossfit import lightgbm_estimator

    tool, threads = config.split("@")
    threads = int(threads)
    X, y, t, cate = _data(rows)
    reg = lightgbm_estimator(False, 0, threads)
    score = float("nan")
    cpu = time.process_time()
    start = time.perf_counter()
    if tool in ("cerebro", "cerebro2"):
        from cerebro.uplift.learners import fit_learner

        folds = FOLDS if tool == "cerebro" else 2
        fit = fit_learner("x_learner", X, y, t, propensity=0.5, folds=folds, seed=0, jobs=threads)
        est = fit.cate_oof
        seconds = time.perf_counter() - start
        begin = time.perf_counter()
        fit.predict(X)  # scoring all rows with the fold models, as for new data
        score = time.perf_counter() - begin
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
        seconds = time.perf_counter() - start
    elif tool == "causalml":
        from causalml.inference.meta import BaseXRegressor

        model = BaseXRegressor(learner=reg)
        p = np.full(len(y), 0.5)
        model.fit(X, treatment=t, y=y, p=p)
        est = np.ravel(model.predict(X, p=p))
        seconds = time.perf_counter() - start
    elif tool == "lightgbm-floor":
        est, seconds = _floor(X, y, t)
    else:
        raise SystemExit(f"unknown tool {config}")
    cpu = time.process_time() - cpu  # all threads; includes the scoring pass for Cerebro
    pehe = float(np.sqrt(np.mean((est - cate) ** 2)))
    return {"tool": config, "fit_s": seconds, "score_s": score, "cpu_s": cpu, "pehe": pehe}


def _floor(X: np.ndarray, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, float]:
    """Only the LightGBM training of one in-sample X-learner with the shared learner, one thread:
    X binned once, then m̂₀ (control rows), m̂₁ (treated rows) and the two effect models on
    the imputed effects, timed fit by fit (binning, the imputation and scoring untimed). No tool
    that trains these four models – the peers' in-sample fit, or Cerebro's `folds=2`, which trains
    the same row-trees – can take less CPU time than this."""
    from cerebro.uplift.crossfit import _Binned

    binned = _Binned(X, seed=0, jobs=1)
    arms = [np.flatnonzero(t == arm) for arm in (0, 1)]
    seconds = 0.0

    def fit(rows: np.ndarray, target: np.ndarray):
        nonlocal seconds
        begin = time.perf_counter()
        model = binned.fit(rows, target, False, None)
        seconds += time.perf_counter() - begin
        return model

    m0, m1 = (fit(rows, y[rows]) for rows in arms)
    d1 = y[arms[1]] - m0.predict(X, arms[1])  # imputed effects on treated rows
    d0 = m1.predict(X, arms[0]) - y[arms[0]]  # and on control rows
    tau1, tau0 = fit(arms[1], d1), fit(arms[0], d0)
    return 0.5 * (tau0.predict(X) + tau1.predict(X)), seconds


def run_one(config: str, rows: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".txt") as log:
        cmd = ["/usr/bin/time", "-v", "-o", log.name, sys.executable, __file__,
               "--worker", config, "--rows", str(rows)]  # fmt: skip
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
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows)))
        return
    tools = args.tools.split(",")
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    for rep in range(args.reps):
        for tool in tools:
            r = run_one(tool, args.rows)
            runs[tool].append(r)
            print(f"rep {rep + 1} {tool:13s} fit {r['fit_s']:7.1f} s  score {r['score_s']:5.1f} s  "
                  f"cpu {r['cpu_s']:7.1f} s  wall {r['wall_s']:7.1f} s  peak {r['peak_mib']:6.0f} MiB  PEHE {r['pehe']:.4f}",
                  flush=True)  # fmt: skip
    print(f"\nX-learner, {args.rows:,} rows × 12 features, medians of {args.reps}")
    print("| tool@threads | fit s | score all rows s | wall s | peak MiB | PEHE |")
    print("|---|---:|---:|---:|---:|---:|")
    med = {}
    for tool, rs in runs.items():
        med[tool] = {k: statistics.median(r[k] for r in rs)
                     for k in ("fit_s", "score_s", "wall_s", "peak_mib", "pehe")}  # fmt: skip
        m = med[tool]
        score = "–" if np.isnan(m["score_s"]) else f"{m['score_s']:.1f}"
        print(f"| {tool} | {m['fit_s']:.1f} | {score} | {m['wall_s']:.1f} | {m['peak_mib']:.0f} | "
              f"{m['pehe']:.4f} |")  # fmt: skip
    for ref in ("cerebro@2", "cerebro2@2"):
        if ref not in med:
            continue
        for tool in med:
            if tool != ref:
                print(
                    f"{tool} / {ref}: fit time ×{med[tool]['fit_s'] / med[ref]['fit_s']:.2f}, "
                    f"peak memory ×{med[tool]['peak_mib'] / med[ref]['peak_mib']:.2f}"
                )


if __name__ == "__main__":
    main()

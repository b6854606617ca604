"""AIPW and double machine learning with 5-fold cross-fitting: Cerebro versus EconML and DoWhy.

Data: `simulate` – n rows × 20 standard-normal confounders, a confounded binary treatment
(logistic propensity in x0, x1 and x2·x3) and an outcome nonlinear in x0–x9 with a constant
effect of 1, so the ATE (interactive model / AIPW) and the partially linear θ are both 1; the
naive difference in means is about 1.24.

Every tool gets the same nuisance learners with the same hyper-parameters – LightGBM, 100
trees, learning rate 0.05, 8 leaves, at least 50 rows per leaf, one thread, seed 0 (Cerebro's
`make_learner`) – and the same five folds (Cerebro's seeded partition, passed to EconML as
explicit train/test splits, and through DoWhy to EconML):

- AIPW / interactive model: `cerebro.causal(method="dml", dml_model="irm")`; EconML
  `LinearDRLearner` (one outcome model with the treatment as a feature, where Cerebro fits
  one per arm – EconML's design, not a setting); DoWhy `backdoor.econml.dr.LinearDRLearner`.
  Propensities clipped to [0.01, 0.99] by all.
- Partially linear model: `cerebro.causal(method="dml", dml_model="plr")`; EconML `LinearDML`
  (discrete treatment, so its treatment model is the classifier, as ours); DoWhy
  `backdoor.econml.dml.LinearDML`.
- `cerebro-core`: `dml.dml_irm` / `dml.dml_plr` on the prepared arrays – the estimator alone,
  without `cerebro.causal`'s logistic propensity fit, overlap and balance diagnostics.
- `lightgbm-floor`: only the LightGBM training every tool must do with these learners (one
  binning, the nuisance × fold models, no predictions, no estimate) – a lower bound for any
  tool using them; with k threads the ideal is its single-threaded time divided by k.

A tool named `tool@k` (e.g. `econml@2`) runs with k threads, so that one interleaved run can
compare thread counts. `--threads k` lets every tool use k cores, each in its own way: Cerebro runs the
nuisance × fold fits concurrently (`jobs=k`, single-threaded models, numbers unchanged); EconML
and DoWhy fit folds one after another, so their LightGBM models get `n_jobs=k` threads instead
(what a user gets from LightGBM's default of every core).

Each (tool, method) is a fresh process timed by /usr/bin/time (wall seconds, peak RSS); inside,
the data are simulated first and only the estimation is timed ("fit s"). Runs are interleaved
(rep 1: every tool and method, rep 2: …) so the shared machine's noise hits all alike; medians.

EconML and DoWhy do not install into the main venv together (DoWhy 0.14 pins scipy ≤ 1.15.3):
`make bench-causal` builds `.cache/bench-venv` with Cerebro (editable) and both peers.

Usage: python bench/bench_causal.py [--rows 1000000] [--reps 3] [--tools cerebro,econml,…]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

P = 20
TRUE_EFFECT = 1.0
DATA_SEED = 2026
FOLD_SEED = 0
FOLDS = 5
CLIP = 0.01
METHODS = ("irm", "plr")
TOOLS = ("cerebro", "cerebro-core", "econml", "dowhy", "lightgbm-floor")
CONFOUNDERS = [f"x{i}" for i in range(P)]
THREADS = 1  # set by --threads


def simulate(n: int, seed: int = DATA_SEED):
    """Confounded data with a known constant effect of 1 (the ATE and the PLR θ)."""
    import pandas as pd
    from scipy import special

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, P))
    e = special.expit(0.5 * x[:, 0] - 0.5 * x[:, 1] + 0.25 * x[:, 2] * x[:, 3])
    a = (rng.random(n) < e).astype(float)
    g = (
        x[:, 0]
        + 0.5 * x[:, 1]
        + 0.5 * np.sin(2 * x[:, 2])
        + 0.25 * x[:, 3] ** 2
        + 0.2 * x[:, 4:10].sum(axis=1)
    )
    y = TRUE_EFFECT * a + g + rng.standard_normal(n)
    return pd.DataFrame({"a": a, "y": y, **{c: x[:, i] for i, c in enumerate(CONFOUNDERS)}})


def learners():
    """Cerebro's LightGBM nuisances, handed to the peers unchanged (same class, same params)."""
    from cerebro.ml.crossfit import make_learner

    models = make_learner("lightgbm", False, FOLD_SEED), make_learner("lightgbm", True, FOLD_SEED)
    return tuple(model.set_params(n_jobs=THREADS) for model in models)


def folds(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cerebro's seeded partition as explicit (train, test) index pairs for EconML."""
    from cerebro.ml.crossfit import fold_ids

    ids = fold_ids(n, FOLDS, FOLD_SEED)
    return [(np.flatnonzero(ids != k), np.flatnonzero(ids == k)) for k in range(FOLDS)]


def run_cerebro(df, method: str) -> tuple[float, float]:
    import cerebro

    res = cerebro.causal(
        df, treatment="a", outcome="y", confounders=CONFOUNDERS, method="dml",
        dml_model=method, learner="lightgbm", folds=FOLDS, seed=FOLD_SEED, clip=CLIP, jobs=THREADS,
    )  # fmt: skip
    return res.estimates[0].value, res.estimates[0].se


def run_cerebro_core(df, method: str) -> tuple[float, float]:
    from cerebro.observational import dml
    from cerebro.observational.data import prepare
    from cerebro.observational.spec import CausalSpec

    spec = CausalSpec(treatment="a", outcome="y", confounders=CONFOUNDERS, method="dml")
    data = prepare(df, spec)
    if method == "plr":
        return dml.dml_plr(data, "lightgbm", FOLDS, FOLD_SEED, THREADS)
    means, _ = dml.dml_irm(data, "lightgbm", FOLDS, FOLD_SEED, "ate", CLIP, THREADS)
    c = means.cov
    return float(means.mu[1] - means.mu[0]), float(np.sqrt(c[0, 0] + c[1, 1] - 2 * c[0, 1]))


def _econml_estimator(method: str, n: int):
    from econml.dml import LinearDML
    from econml.dr import LinearDRLearner

    regressor, classifier = learners()
    if method == "plr":
        return LinearDML(
            model_y=regressor, model_t=classifier, discrete_treatment=True, cv=folds(n),
            random_state=FOLD_SEED,
        )  # fmt: skip
    return LinearDRLearner(
        model_propensity=classifier, model_regression=regressor, min_propensity=CLIP,
        cv=folds(n), random_state=FOLD_SEED,
    )  # fmt: skip


def run_econml(df, method: str) -> tuple[float, float]:
    est = _econml_estimator(method, len(df))
    W = df[CONFOUNDERS].to_numpy()
    est.fit(df["y"].to_numpy(), df["a"].to_numpy(), X=None, W=W)
    inference = est.ate_inference()
    return float(inference.mean_point), float(inference.stderr_mean)


def run_dowhy(df, method: str) -> tuple[float, float]:
    import warnings

    from dowhy import CausalModel

    regressor, classifier = learners()
    frame = df.assign(a=df["a"].astype(bool))  # DoWhy reads a bool treatment as discrete
    model = CausalModel(data=frame, treatment="a", outcome="y", common_causes=CONFOUNDERS)
    identified = model.identify_effect(proceed_when_unidentifiable=True)
    if method == "plr":
        name = "backdoor.econml.dml.LinearDML"
        init = dict(model_y=regressor, model_t=classifier, discrete_treatment=True)
    else:
        name = "backdoor.econml.dr.LinearDRLearner"
        init = dict(model_propensity=classifier, model_regression=regressor, min_propensity=CLIP)
    init.update(cv=folds(len(df)), random_state=FOLD_SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = model.estimate_effect(
            identified, method_name=name, method_params={"init_params": init, "fit_params": {}}
        )
    inference = estimate.estimator.estimator.ate_inference()
    return float(estimate.value), float(inference.stderr_mean)


def run_lightgbm_floor(df, method: str) -> tuple[float, float]:
    """The LightGBM training every tool must do, and nothing else: the confounders binned once,
    then the nuisance × fold models of `method` trained on row subsets (no predictions, no
    estimate). With the same learners no tool can be faster than this; at k threads the ideal is
    this single-threaded time divided by k."""
    from cerebro.ml.crossfit import BinnedLightGBM

    regressor, _ = learners()
    X, y, a = df[CONFOUNDERS].to_numpy(), df["y"].to_numpy(), df["a"].to_numpy()
    binned = BinnedLightGBM(X, regressor.set_params(n_jobs=1))
    for train, _ in folds(len(df)):
        fits = [(train, a, True), (train, y, False)]
        if method == "irm":  # one outcome model per arm, on that arm's training rows
            fits[1:] = [(train[a[train] == arm], y, False) for arm in (0, 1)]
        for rows, target, classify in fits:
            binned.fit(rows, target[rows], classify)
    return float("nan"), float("nan")


RUNNERS = {
    "cerebro": run_cerebro,
    "lightgbm-floor": run_lightgbm_floor,
    "cerebro-core": run_cerebro_core,
    "econml": run_econml,
    "dowhy": run_dowhy,
}


def worker(tool: str, method: str, rows: int) -> None:
    """One measured run: simulate (untimed), estimate (timed), print a JSON line."""
    df = simulate(rows)
    start = time.perf_counter()
    value, se = RUNNERS[tool](df, method)
    fit = time.perf_counter() - start
    print(json.dumps({"tool": tool, "method": method, "estimate": value, "se": se, "fit": fit}))


def measure(tool: str, method: str, rows: int, threads: int) -> dict[str, float]:
    """A fresh process under /usr/bin/time: its JSON line plus wall seconds and peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", report.name, sys.executable, __file__,
             "--worker", tool, method, "--rows", str(rows), "--threads", str(threads)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        wall, rss_kib = report.read().split()[-2:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {**out, "wall": float(wall), "rss": float(rss_kib) / 1024}


def summarise(
    samples: list[dict[str, float]], rows: int, reps: int, tools: list[str], threads: int
) -> None:
    med = {}
    for tool in tools:
        for method in METHODS:
            runs = [s for s in samples if s["tool"] == tool and s["method"] == method]
            if runs:
                med[tool, method] = {
                    k: statistics.median(r[k] for r in runs) for k in ("fit", "wall", "rss")
                } | {"estimate": runs[0]["estimate"], "se": runs[0]["se"]}
                spread = max(r["estimate"] for r in runs) - min(r["estimate"] for r in runs)
                med[tool, method]["spread"] = spread
    print(
        f"\n{rows:,} rows × {P} confounders, {FOLDS}-fold cross-fitting, true effect "
        f"{TRUE_EFFECT}; {threads} thread(s) per tool; {platform.machine()}, Python {platform.python_version()}; {reps} "
        "interleaved repetitions, medians\n"
    )
    peers = [t for t in tools if t.split("@")[0] in ("econml", "dowhy")]
    print(
        "| rows | method | tool | fit s | process s | peak RSS MiB | estimate (SE) | "
        "(est − truth)/SE | ratio to fastest peer (fit, process) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for method in METHODS:
        fastest = {
            k: min((med[p, method][k] for p in peers if (p, method) in med), default=np.nan)
            for k in ("fit", "wall")
        }
        for tool in tools:
            if (tool, method) not in med:
                continue
            m = med[tool, method]
            z = (m["estimate"] - TRUE_EFFECT) / m["se"]
            ratio = f"{m['fit'] / fastest['fit']:.2f}×, {m['wall'] / fastest['wall']:.2f}×"
            label = "AIPW (IRM)" if method == "irm" else "PLR"
            estimate = "– | –" if np.isnan(z) else f"{m['estimate']:.4f} ({m['se']:.4f}) | {z:+.1f}"
            print(
                f"| {rows:,} | {label} | {tool} | {m['fit']:.1f} | {m['wall']:.1f} | "
                f"{m['rss']:.0f} | {estimate} | {ratio} |"
            )
    print("\nAgreement with Cerebro on the same data and folds (|Δ| in units of Cerebro's SE):")
    for method in METHODS:
        base = next((t for t in tools if t.startswith("cerebro") and (t, method) in med), None)
        if base is None:
            continue
        ours = med[base, method]
        for tool in tools:
            if tool != base and (tool, method) in med and not np.isnan(med[tool, method]["se"]):
                theirs = med[tool, method]
                delta = abs(theirs["estimate"] - ours["estimate"]) / ours["se"]
                se_ratio = theirs["se"] / ours["se"]
                print(
                    f"- {method} {tool}: |Δ estimate| = {delta:.2f} SE, SE ratio {se_ratio:.3f}, "
                    f"estimate spread over reps {theirs['spread']:.1e}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="cores each tool may use")
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global THREADS
    THREADS = args.threads
    if args.worker:
        worker(*args.worker, args.rows)
        return
    tools, methods = args.tools.split(","), args.methods.split(",")
    samples = []
    for rep in range(args.reps):
        for method in methods:
            for tool in tools:
                name, _, k = tool.partition("@")
                sample = measure(name, method, args.rows, int(k) if k else args.threads)
                sample["tool"] = tool
                samples.append(sample)
                print(
                    f"rep {rep + 1} {method} {tool}: fit {sample['fit']:.1f} s, process "
                    f"{sample['wall']:.1f} s, {sample['rss']:.0f} MiB, estimate "
                    f"{sample['estimate']:.4f} ({sample['se']:.4f})",
                    file=sys.stderr,
                    flush=True,
                )
    summarise(samples, args.rows, args.reps, tools, args.threads)


if __name__ == "__main__":
    main()

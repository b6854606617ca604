"""Cross-fitting: seeded fold partitions, the learners every family shares, and out-of-fold
predictions of several nuisance functions from one binning of the design matrix.

Learners: `lightgbm` (default: fast gradient boosting), `hist_gb` (scikit-learn's histogram
gradient boosting), `random_forest`, `linear` (OLS / unpenalised logistic – deterministic, used
to check agreement with DoubleML to machine precision). Every learner is seeded; folds are a
seeded random partition.

Speed (LightGBM): binning the confounders into histograms costs about as much as growing the
100 trees, and fitting `LGBMRegressor` on each training fold repeats it for every fold and
nuisance (15 times for the interactive model). Here the confounders are binned once per call
into a LightGBM `Dataset` and every fold's model trains on a row subset of it (no re-binning,
no copies of X), with the same hyper-parameters as `make_learner`'s estimator. The bin edges
(≤ 255 quantiles per column, from a seeded sample of at most 200,000 rows – LightGBM's own
`subsample_for_bin`) are then those of all rows rather than of the training folds: they depend
on the confounders' marginal distribution only, never on treatment or outcome, so no held-out
label reaches a nuisance model (as when features are standardised on all rows before
cross-fitting); the estimates move by a small fraction of their SE (bench/bench_causal.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.spec import worker_count

LEARNERS = ("lightgbm", "hist_gb", "random_forest", "linear")


def make_learner(name: str, classify: bool, seed: int) -> Any:
    """A fresh scikit-learn-compatible learner (classifier for 0/1 targets)."""
    if name == "lightgbm":
        try:
            import lightgbm as lgb
        except ImportError as exc:
            raise UserInputError(
                "--learner lightgbm needs LightGBM: pip install lightgbm, or use --learner hist_gb."
            ) from exc
        kind = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
        # Small, regularised trees: with LightGBM's own defaults (31 leaves, 20 rows per leaf)
        # the propensity overfits on a few thousand rows and its extreme scores blow up the
        # AIPW variance (NHEFS: SE 2.6 kg instead of 0.58).
        return kind(n_estimators=100, learning_rate=0.05, num_leaves=8, min_child_samples=50,
                    random_state=seed, verbose=-1, n_jobs=1)  # fmt: skip
    if name == "hist_gb":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        kind = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        return kind(random_state=seed)
    if name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        kind = RandomForestClassifier if classify else RandomForestRegressor
        return kind(n_estimators=200, min_samples_leaf=5, random_state=seed, n_jobs=1)
    if name == "linear":
        from sklearn.linear_model import LinearRegression, LogisticRegression

        return LogisticRegression(C=np.inf, max_iter=5000) if classify else LinearRegression()
    raise UserInputError(f"unknown learner {name!r}; use one of {', '.join(LEARNERS)}.")


def fold_ids(n: int, folds: int, seed: int) -> np.ndarray:
    """A seeded random partition of the rows into `folds` parts of (nearly) equal size."""
    if not 2 <= folds <= n // 2:
        raise UserInputError(f"--folds must be between 2 and {n // 2} for {n:,} rows, got {folds}.")
    ids = np.empty(n, int)
    ids[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    return ids


@dataclass(frozen=True)
class Nuisance:
    """One nuisance function to cross-fit: its target, whether it is a class probability, and
    the rows its models may train on (None: all rows of the training folds)."""

    target: np.ndarray
    classify: bool
    rows: np.ndarray | None = None


def cross_fit(
    name: str, X: np.ndarray, y: np.ndarray, ids: np.ndarray, classify: bool, seed: int,
    rows: np.ndarray | None = None, jobs: int = 1,
) -> np.ndarray:  # fmt: skip
    """Out-of-fold predictions for every row; models see training folds (∩ `rows`) only."""
    return cross_fit_all(name, X, [Nuisance(y, classify, rows)], ids, seed, jobs)[0]


def cross_fit_all(
    name: str, X: np.ndarray, nuisances: list[Nuisance], ids: np.ndarray, seed: int,
    jobs: int = 1,
) -> list[np.ndarray]:  # fmt: skip
    """Out-of-fold predictions of each nuisance, from one binning of X.

    The nuisances × folds fits are independent, so with `jobs` ≠ 1 they run concurrently in a
    thread pool (−1: one thread per core). LightGBM and NumPy release the GIL while they work,
    and every model is single-threaded with its own seed, so the numbers do not depend on `jobs`.
    """
    folds = np.unique(ids)
    masks = []
    for j, nuisance in enumerate(nuisances):
        for k in folds:
            train = ids != k if nuisance.rows is None else (ids != k) & nuisance.rows
            if nuisance.classify and np.unique(nuisance.target[train]).size < 2:
                raise UserInputError(
                    "a training fold has one class only; use fewer --folds or more data."
                )
            masks.append((j, np.flatnonzero(train), np.flatnonzero(ids == k)))
    binned = _binned(name, X, seed)
    if binned is not None:  # numba's import (~0.5 s) only when LightGBM models are scored
        from cerebro.ml.lightgbm_walk import BoosterModel

    def fit_one(task: tuple[int, np.ndarray, np.ndarray]) -> np.ndarray:
        j, train, test = task
        y, classify = nuisances[j].target, nuisances[j].classify
        if binned is not None:
            # P(class 1) for the binary objective, like predict_proba; the compiled walker
            # gives Booster.predict's bits faster and without copying X[test].
            booster = binned.fit(train, y[train], classify)
            return BoosterModel(booster).predict(X, test)
        model = make_learner(name, classify, seed).fit(X[train], y[train])
        return model.predict_proba(X[test])[:, 1] if classify else model.predict(X[test])

    workers = min(len(masks), worker_count(jobs))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            predictions = list(pool.map(fit_one, masks))
    else:
        predictions = [fit_one(task) for task in masks]
    out = [np.empty(len(n.target)) for n in nuisances]
    for (j, _, test), prediction in zip(masks, predictions, strict=True):
        out[j][test] = prediction
    return out


class BinnedLightGBM:
    """A design matrix binned once into a LightGBM `Dataset` with the training parameters of a
    LightGBM scikit-learn estimator (`model`); each fit trains on a row subset of it, so the
    folds and nuisances of one cross-fitting share one binning and no copy of X."""

    def __init__(self, X: np.ndarray, model: Any) -> None:
        import lightgbm as lgb

        params = {
            k: v
            for k, v in model.get_params().items()
            if k not in ("objective", "n_estimators", "class_weight", "importance_type")
        }
        # The estimator's names, in LightGBM's core spelling (they are aliases there too).
        params["seed"] = params.pop("random_state")
        params["num_threads"] = params.pop("n_jobs")
        self.rounds = model.n_estimators
        self.params = params
        # The label is set per fit; the Dataset needs one to be built.
        self.full = lgb.Dataset(
            X, label=np.zeros(len(X)), params=params, free_raw_data=True
        ).construct()

    def fit(
        self, train: np.ndarray, target: np.ndarray, classify: bool,
        weight: np.ndarray | None = None,
    ) -> Any:  # fmt: skip
        """A booster trained on rows `train` (sorted indices) with labels `target`."""
        import lightgbm as lgb

        part = self.full.subset(train).construct()
        part.set_label(target)
        if weight is not None:
            part.set_weight(weight)
        objective = "binary" if classify else "regression"
        return lgb.train({**self.params, "objective": objective}, part, self.rounds)


def _binned(name: str, X: np.ndarray, seed: int) -> BinnedLightGBM | None:
    if name != "lightgbm":
        return None
    return BinnedLightGBM(X, make_learner("lightgbm", False, seed))

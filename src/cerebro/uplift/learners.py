"""Meta-learners of the conditional average treatment effect (CATE), with cross-fitting.

Estimand: τ(x) = E[Y(1) − Y(0) | X = x] for a binary treatment t (0 = control) and an outcome y
(continuous, or 0/1 – then τ is a difference of probabilities), and the average treatment
effect E[τ(X)]. Assumptions: no unmeasured confounding given X (true by design when the
treatment is randomised), overlap (0 < P(t = 1 | x) < 1), no interference between units.

Learners (m₀, m₁ the outcome regressions of each arm, m = E[Y | X], e the propensity):

- ``s_learner``: one outcome model f(x, t) on the features plus the treatment;
  τ̂(x) = f(x, 1) − f(x, 0) (Künzel et al. 2019, §2).
- ``t_learner``: m̂₁ on the treated, m̂₀ on the controls; τ̂ = m̂₁ − m̂₀ (Künzel et al. 2019).
- ``x_learner``: stage 1 as the T-learner; imputed effects D₁ = y − m̂₀(x) on the treated and
  D₀ = m̂₁(x) − y on the controls, regressed on x (τ̂₁, τ̂₀); τ̂ = e(x)·τ̂₀ + (1 − e(x))·τ̂₁
  (Künzel, Sekhon, Bickel & Yu 2019, PNAS 116(10), "Metalearners for estimating heterogeneous
  treatment effects using machine learning", §3). Stage 2 uses stage 1's predictions on its own
  training rows, as in the paper and EconML.
- ``r_learner``: minimises Σ ((y − m̂(x)) − τ(x)(t − ê(x)))², i.e. a regression of
  (y − m̂)/(t − ê) on x with weights (t − ê)², with cross-fitted m̂ and ê (Nie & Wager 2021,
  Biometrika 108(2), "Quasi-oracle estimation of heterogeneous treatment effects").
- ``dr_learner``: regresses the AIPW pseudo-outcome
  φ = m̂₁ − m̂₀ + t(y − m̂₁)/ê − (1 − t)(y − m̂₀)/(1 − ê) on x, with cross-fitted nuisances
  (Kennedy 2023, Electronic Journal of Statistics 17(2), "Towards optimal doubly robust
  estimation of heterogeneous causal effects").

Cross-fitting. Rows are split into K seeded folds. ``cate_oof[i]`` for a row i of fold k comes
from models fitted on the other folds only, **including every nuisance model behind the
pseudo-outcomes they were trained on**: the R- and DR-learners' nuisances for a training row of
fold j (outer fold k) are fitted on the folds other than j and k (one nuisance fit per pair of
folds, K(K − 1)/2 of them), so neither y_i nor t_i reaches any model that scores row i – the
CATE of a fold does not move when the outcomes or treatments of that fold are changed
(tested). This needs K ≥ 3 for those two learners. ``predict(X_new)`` averages the K fold
models' CATE: the same models the out-of-fold evaluation measured (bagged over folds), with no
extra refit on all rows.

The ATE is the AIPW (doubly robust) mean of ψ = m̂₁ − m̂₀ + t(y − m̂₁)/ê − (1 − t)(y − m̂₀)/(1 − ê)
with out-of-fold nuisances (each learner's own outcome models – for the R-learner m̂₁ = m̂ +
(1 − ê)τ̂, m̂₀ = m̂ − êτ̂ – and a cross-fitted or known propensity), SE = sd(ψ)/√n, its
influence-function standard error (Robins, Rotnitzky & Zhao 1994; Chernozhukov et al. 2018).
Estimated propensities are clipped to [0.01, 0.99].
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.spec import worker_count
from cerebro.ml.crossfit import fold_ids
from cerebro.uplift.crossfit import (
    ConstantModel,
    Fitter,
    make_estimator,
    model_from_state,
)

LEARNERS = ("s_learner", "t_learner", "x_learner", "r_learner", "dr_learner")
STATE_FORMAT = "cerebro.uplift.learner"
STATE_VERSION = 1
CLIP = 0.01
PREDICT_CHUNK = 20_000  # rows per thread at least when `predict` uses threads


def base_learner(
    kind: str = "lightgbm",
    task: Literal["regression", "classification"] = "regression",
    seed: int = 0,
    jobs: int = 1,
) -> Any:
    """A fresh scikit-learn estimator: ``lightgbm`` (fast default), ``linear`` (OLS / unpenalised
    logistic) or ``random_forest``, for a regression or a classification (0/1) task."""
    if task not in ("regression", "classification"):
        raise UserInputError(f"task must be 'regression' or 'classification', got {task!r}.")
    return make_estimator(kind, task == "classification", seed, jobs)


@dataclass
class FittedUplift:
    """A fitted meta-learner: out-of-fold CATE of the training rows, the fold models, the ATE.

    ``cate_oof``, ``mu0``, ``mu1`` and ``propensity`` (out-of-fold nuisances behind the ATE) are
    None after `from_state` – a saved learner keeps the models, not the training rows.
    """

    name: str
    ate: float
    ate_se: float
    fold_models: list[dict[str, Any]]
    n_features: int
    binary_outcome: bool
    seed: int = 0
    jobs: int = 1
    propensity_known: bool = False
    clipped: int = 0
    cate_oof: np.ndarray | None = None
    mu0: np.ndarray | None = None
    mu1: np.ndarray | None = None
    propensity: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def folds(self) -> int:
        return len(self.fold_models)

    def ate_interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Normal (1 − α) interval of the ATE."""
        from cerebro.stats.intervals import normal_interval

        low, high, _ = normal_interval(self.ate, self.ate_se, alpha)
        return low, high

    def predict(self, X: Any) -> np.ndarray:
        """CATE of new rows: the mean of the K fold models' CATE."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise UserInputError(
                f"X must have {self.n_features} feature columns like the training data, got "
                f"shape {X.shape}; build it with the same features."
            )
        workers = min(worker_count(self.jobs), len(X) // PREDICT_CHUNK)
        if workers <= 1:
            return self._predict(X)
        # Rows are independent: contiguous chunks in threads give the same numbers.
        bounds = np.linspace(0, len(X), workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda i: self._predict(X[bounds[i] : bounds[i + 1]]),
                                  range(workers)))  # fmt: skip
        return np.concatenate(parts)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        total = np.zeros(len(X))
        for models in self.fold_models:
            total += _fold_cate(self.name, models, X)
        return total / len(self.fold_models)

    def to_state(self) -> dict[str, Any]:
        """JSON-able description (LightGBM model strings, coefficients); no training rows."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "name": self.name,
            "n_features": self.n_features,
            "binary_outcome": self.binary_outcome,
            "seed": self.seed,
            "propensity_known": self.propensity_known,
            "clipped": self.clipped,
            "ate": self.ate,
            "ate_se": self.ate_se,
            "fold_models": [
                {part: model.to_state() for part, model in models.items()}
                for models in self.fold_models
            ],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], jobs: int = 1) -> FittedUplift:
        """The learner a `to_state()` dict describes (predictions identical to the original)."""
        if state.get("format") != STATE_FORMAT or state.get("version") != STATE_VERSION:
            raise UserInputError(
                f"not a saved uplift learner of format {STATE_FORMAT} version {STATE_VERSION} "
                f"(got {state.get('format')!r} version {state.get('version')!r})."
            )
        if state["name"] not in LEARNERS:
            raise UserInputError(f"unknown learner {state['name']!r} in a saved uplift learner.")
        fold_models = [
            {part: model_from_state(s, jobs) for part, s in models.items()}
            for models in state["fold_models"]
        ]
        return cls(
            name=state["name"],
            ate=float(state["ate"]),
            ate_se=float(state["ate_se"]),
            fold_models=fold_models,
            n_features=int(state["n_features"]),
            binary_outcome=bool(state["binary_outcome"]),
            seed=int(state["seed"]),
            jobs=jobs,
            propensity_known=bool(state["propensity_known"]),
            clipped=int(state["clipped"]),
        )


def _with_t(X: np.ndarray, value: float) -> np.ndarray:
    return np.column_stack([X, np.full(len(X), value)])


def _fold_cate(name: str, models: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """CATE of one fold's models on X."""
    if name == "s_learner":
        f = models["outcome"]
        return f.predict(_with_t(X, 1.0)) - f.predict(_with_t(X, 0.0))
    if name == "t_learner":
        return models["mu1"].predict(X) - models["mu0"].predict(X)
    if name == "x_learner":
        e = np.clip(models["propensity"].predict(X), CLIP, 1 - CLIP)
        return e * models["tau0"].predict(X) + (1 - e) * models["tau1"].predict(X)
    return models["effect"].predict(X)


# ---------------------------------------------------------------------------------------------
# Input checks


def _arrays(
    X: Any, y: Any, t: Any, binary_outcome: bool, folds: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise UserInputError(f"X must be a 2-D array (rows × features), got shape {X.shape}.")
    n = len(X)
    y = np.asarray(y, dtype=float).ravel()
    t_raw = np.asarray(t).ravel()
    if len(y) != n or len(t_raw) != n:
        raise UserInputError(
            f"X, y and t must have the same number of rows, got {n}, {len(y)} and {len(t_raw)}."
        )
    bad = ~np.isfinite(X).all(axis=0)
    if bad.any():
        raise UserInputError(
            f"feature column {int(np.flatnonzero(bad)[0])} has missing or infinite values; "
            "impute or drop them first."
        )
    if not np.isfinite(y).all():
        raise UserInputError("the outcome has missing or infinite values; drop those rows first.")
    if not np.isin(t_raw, (0, 1)).all():
        raise UserInputError(
            "the treatment must be 0 (control) or 1 (treated) in every row; recode it."
        )
    t = t_raw.astype(np.int64)
    if binary_outcome and not np.isin(y, (0.0, 1.0)).all():
        raise UserInputError(
            "binary_outcome=True needs an outcome of 0/1 values; recode it or set "
            "binary_outcome=False."
        )
    for arm, label in ((0, "control"), (1, "treated")):
        if (t == arm).sum() < 2 * folds:
            raise UserInputError(
                f"the {label} arm has {(t == arm).sum()} rows, fewer than 2 × folds = "
                f"{2 * folds}; use fewer folds or more data."
            )
    return X, y, t


def _known_propensity(propensity: Any, n: int) -> np.ndarray | None:
    if propensity is None:
        return None
    e = np.asarray(propensity, dtype=float)
    if e.ndim == 0:
        e = np.full(n, float(e))
    if e.shape != (n,):
        raise UserInputError(
            f"propensity must be a number or one value per row ({n}), got shape {e.shape}."
        )
    if not ((e > 0) & (e < 1)).all():
        raise UserInputError("a known propensity must lie strictly between 0 and 1 in every row.")
    return e


# ---------------------------------------------------------------------------------------------
# Fitting


def fit_learner(
    name: str,
    X: Any,
    y: Any,
    t: Any,
    *,
    outcome_learner: Any = None,
    effect_learner: Any = None,
    propensity_learner: Any = None,
    propensity: float | np.ndarray | None = None,
    binary_outcome: bool = False,
    folds: int = 5,
    seed: int = 0,
    jobs: int = 1,
    groups: Any = None,
) -> FittedUplift:
    """Fit a meta-learner with K-fold cross-fitting (see the module docstring).

    `groups`: a unit id per row (e.g. user on user × day rows): the folds then never split a
    unit (`group_fold_ids`) and the ATE's standard error is clustered by unit; with one row
    per unit the numbers equal those without `groups`.

    `outcome_learner`, `effect_learner`, `propensity_learner`: a base-learner name
    (``lightgbm`` default, ``linear``, ``random_forest``) or a scikit-learn estimator. The outcome
    learner is a classifier (probabilities) when ``binary_outcome``; effect learners always
    regress. `propensity`: None = estimated (cross-fitted, clipped to [0.01, 0.99]); a number or
    one value per row = known (randomised). `jobs`: fold (and fold-pair) fits run at once in
    threads, each model single-threaded (−1: every core); the numbers do not depend on it.
    """
    if name not in LEARNERS:
        raise UserInputError(f"unknown uplift learner {name!r}; use one of {', '.join(LEARNERS)}.")
    if isinstance(folds, bool) or not isinstance(folds, int | np.integer):
        raise UserInputError(f"folds must be a whole number, got {folds!r}.")
    if name in ("r_learner", "dr_learner") and folds < 3:
        raise UserInputError(
            f"{name} needs folds ≥ 3 (its nuisances for each pair of folds are fitted on the "
            f"remaining folds), got {folds}."
        )
    X, y, t = _arrays(X, y, t, binary_outcome, folds)
    n = len(y)
    codes = None if groups is None else unit_codes(groups, n)
    ids = (
        fold_ids(n, int(folds), seed) if codes is None else group_fold_ids(codes, int(folds), seed)
    )
    known = _known_propensity(propensity, n)
    ctx = _Context(X, y, t, ids, int(folds), seed, jobs, binary_outcome, known)
    fit = {
        "s_learner": _fit_s,
        "t_learner": _fit_t,
        "x_learner": _fit_x,
        "r_learner": _fit_r,
        "dr_learner": _fit_dr,
    }[name]
    from threadpoolctl import threadpool_limits

    # One BLAS thread per fit (the folds run in parallel instead): BLAS threads spinning on
    # small linear fits on a busy machine made them ten times slower than one thread.
    with threadpool_limits(limits=1):
        fold_models, cate, mu0, mu1, e = fit(
            ctx, outcome_learner, effect_learner, propensity_learner
        )
    clipped = 0
    if known is None:
        clipped = int(np.sum((e < CLIP) | (e > 1 - CLIP)))
        e = np.clip(e, CLIP, 1 - CLIP)
    ate, se = aipw(y, t, mu0, mu1, e, codes)
    return FittedUplift(
        name=name,
        ate=ate,
        ate_se=se,
        fold_models=fold_models,
        n_features=X.shape[1],
        binary_outcome=binary_outcome,
        seed=seed,
        jobs=jobs,
        propensity_known=known is not None,
        clipped=clipped,
        cate_oof=cate,
        mu0=mu0,
        mu1=mu1,
        propensity=e,
        info={"fold_ids": ids},
    )


def aipw(
    y: np.ndarray,
    t: np.ndarray,
    mu0: np.ndarray,
    mu1: np.ndarray,
    e: np.ndarray,
    groups: np.ndarray | None = None,
) -> tuple[float, float]:
    """AIPW estimate of the ATE and its influence-function SE, sd(ψ)/√n (clustered by
    `groups` when given, `clustered_se`)."""
    psi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    return float(psi.mean()), clustered_se(psi, groups)


def clustered_se(psi: np.ndarray, groups: np.ndarray | None = None) -> float:
    """SE of the mean of ψ: sd(ψ)/√n, or with unit codes `groups` (0…G−1) the cluster-robust
    √(G/(G−1) · Σ_g (Σ_{i∈g} (ψ_i − ψ̄))²)/n – the same number when every unit has one row."""
    n = len(psi)
    g = 0 if groups is None else int((np.bincount(groups) > 0).sum())
    if g in (0, n):  # no units, or one row each: the same number, computed the plain way
        return float(psi.std(ddof=1) / np.sqrt(n))
    totals = np.bincount(groups, weights=psi - psi.mean())
    return float(np.sqrt(g / (g - 1) * (totals @ totals)) / n)


def unit_codes(groups: Any, n: int) -> np.ndarray:
    """Integer codes 0…G−1 of a unit id per row, in order of first appearance."""
    import pandas as pd

    groups = np.asarray(groups).ravel()
    if len(groups) != n:
        raise UserInputError(f"groups must give one unit per row ({n}), got {len(groups)}.")
    codes = pd.factorize(groups)[0]
    if (codes < 0).any():
        raise UserInputError("groups (the unit of each row) has missing values; drop those rows.")
    return codes.astype(np.int64)


def group_fold_ids(codes: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Group k-fold: units (codes 0…G−1 in order of first appearance) get the seeded folds
    `fold_ids(G, folds, seed)` gives G rows, and each row its unit's fold – no unit spans two
    folds, and with one row per unit this is `fold_ids(n, folds, seed)` itself."""
    units = int(codes.max()) + 1 if codes.size else 0
    if not 2 <= folds <= units // 2:
        raise UserInputError(
            f"--folds must be between 2 and {units // 2} for {units:,} units, got {folds}."
        )
    return fold_ids(units, folds, seed)[codes]


@dataclass
class _Context:
    X: np.ndarray
    y: np.ndarray
    t: np.ndarray
    ids: np.ndarray
    K: int
    seed: int
    jobs: int
    binary: bool
    known: np.ndarray | None
    cache: dict = field(default_factory=dict)

    def fitter(self, spec: Any, classify: bool, X: np.ndarray | None = None) -> Fitter:
        # Single-threaded models: the parallelism is across folds (`run`), which on two cores
        # is faster than LightGBM's own threads on small trees and gives the same numbers.
        return Fitter(spec, self.X if X is None else X, classify, self.seed, 1, self.cache)

    def folds(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(k, training row indices, held-out row indices) for each fold."""
        return [
            (k, np.flatnonzero(self.ids != k), np.flatnonzero(self.ids == k)) for k in range(self.K)
        ]

    def run(self, work: Any, tasks: list[tuple]) -> list[Any]:
        """`work(*task)` for every task, in `jobs` threads (LightGBM and NumPy release the
        GIL); results in task order, so the numbers do not depend on `jobs`."""
        workers = min(len(tasks), worker_count(self.jobs))
        if workers <= 1:
            return [work(*task) for task in tasks]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda task: work(*task), tasks))


def _propensity_task(ctx: _Context, spec: Any) -> tuple[np.ndarray, Any]:
    """The propensity array and the task `fit(k)` that fits fold k's model and scores the
    held-out fold into it (tasks write disjoint cells); a known propensity has no task."""
    if ctx.known is not None:
        return ctx.known, None
    fitter = ctx.fitter(spec, classify=True)
    e = np.empty(len(ctx.y))

    def fit(k: int) -> Any:
        train, test = np.flatnonzero(ctx.ids != k), np.flatnonzero(ctx.ids == k)
        model = fitter.fit(train, ctx.t[train].astype(float))
        e[test] = model.predict(ctx.X, test)
        return model

    return e, fit


def _propensity_models(ctx: _Context, fitted: list[Any] | None) -> list[Any]:
    """The fold propensity models: fitted, or the known propensity's mean as a constant."""
    return fitted if fitted is not None else [ConstantModel(float(ctx.known.mean()))] * ctx.K


def _propensity_oof(ctx: _Context, spec: Any) -> tuple[np.ndarray, list[Any]]:
    """Known propensity, or out-of-fold estimates and the fold models."""
    e, fit = _propensity_task(ctx, spec)
    fitted = None if fit is None else ctx.run(fit, [(k,) for k in range(ctx.K)])
    return e, _propensity_models(ctx, fitted)


def _arm_task(ctx: _Context, fitter: Fitter, mu: tuple[np.ndarray, np.ndarray]) -> Any:
    """The task `fit(k, arm)`: m̂_arm of fold k on the arm's training rows, scoring the held-out
    fold into mu[arm] (tasks write disjoint cells). One task per fold and arm, not per fold:
    finer tasks keep every thread busy."""

    def fit(k: int, arm: int) -> Any:
        rows = _arm_rows(ctx, k, arm)
        model = fitter.fit(rows, ctx.y[rows])
        test = np.flatnonzero(ctx.ids == k)
        mu[arm][test] = model.predict(ctx.X, test)
        return model

    return fit


def _arm_rows(ctx: _Context, k: int, arm: int) -> np.ndarray:
    """The training rows of fold k in `arm`, found when needed (one pass over the fold ids)
    instead of holding index arrays of every fold at once: at 1.5M rows those were ~100 MB."""
    return np.flatnonzero((ctx.ids != k) & (ctx.t == arm))


def _fit_s(ctx: _Context, outcome: Any, effect: Any, prop: Any):
    XT = np.column_stack([ctx.X, ctx.t.astype(float)])
    fitter = ctx.fitter(outcome, ctx.binary, XT)
    n = len(ctx.y)
    mu0, mu1 = np.empty(n), np.empty(n)

    def fold(k: int, train: np.ndarray, test: np.ndarray) -> Any:
        f = fitter.fit(train, ctx.y[train])
        mu0[test] = f.predict(_with_t(ctx.X[test], 0.0))  # folds write disjoint rows
        mu1[test] = f.predict(_with_t(ctx.X[test], 1.0))
        return {"outcome": f}

    fold_models = ctx.run(fold, ctx.folds())
    e, _ = _propensity_oof(ctx, prop)
    return fold_models, mu1 - mu0, mu0, mu1, e


def _fit_t(ctx: _Context, outcome: Any, effect: Any, prop: Any):
    n = len(ctx.y)
    mu = (np.empty(n), np.empty(n))
    fit = _arm_task(ctx, ctx.fitter(outcome, ctx.binary), mu)
    models = ctx.run(fit, [(k, arm) for k in range(ctx.K) for arm in (0, 1)])
    fold_models = [{"mu0": models[2 * k], "mu1": models[2 * k + 1]} for k in range(ctx.K)]
    e, _ = _propensity_oof(ctx, prop)
    return fold_models, mu[1] - mu[0], mu[0], mu[1], e


def _fit_x(ctx: _Context, outcome: Any, effect: Any, prop: Any):
    eff_fitter = ctx.fitter(effect, False)
    y, X, ids = ctx.y, ctx.X, ctx.ids
    n = len(y)
    mu = (np.empty(n), np.empty(n))
    fit_arm = _arm_task(ctx, ctx.fitter(outcome, ctx.binary), mu)
    e, fit_propensity = _propensity_task(ctx, prop)

    # Stage 1 – the 2K arm outcome models (scoring the held-out fold: the m̂₀, m̂₁ behind the
    # ATE) and the K propensity models as one batch of single-fit tasks; arm −1 is the
    # propensity.
    def stage1(k: int, arm: int) -> Any:
        return fit_propensity(k) if arm < 0 else fit_arm(k, arm)

    tasks = [(k, arm) for k in range(ctx.K) for arm in (0, 1)]
    if fit_propensity is not None:
        tasks += [(k, -1) for k in range(ctx.K)]
    first = dict(zip(tasks, ctx.run(stage1, tasks), strict=True))
    fitted = None if fit_propensity is None else [first[k, -1] for k in range(ctx.K)]
    prop_models = _propensity_models(ctx, fitted)
    w = np.clip(e, CLIP, 1 - CLIP)

    # Stage 2 – imputed effects on the training rows (stage 1 in-sample, as in the paper):
    # D₀ = m̂₁(x) − y on the controls, D₁ = y − m̂₀(x) on the treated; τ̂₀, τ̂₁ fitted to them
    # score the held-out fold, as e·τ̂₀ and (1 − e)·τ̂₁.
    parts = (np.empty(n), np.empty(n))

    def stage2(k: int, arm: int) -> Any:
        test, rows = np.flatnonzero(ids == k), _arm_rows(ctx, k, arm)
        imputed = first[k, 1 - arm].predict(X, rows)  # the other arm's outcome model
        model = eff_fitter.fit(rows, imputed - y[rows] if arm == 0 else y[rows] - imputed)
        weight = w[test] if arm == 0 else 1 - w[test]
        parts[arm][test] = weight * model.predict(X, test)
        return model

    second = ctx.run(stage2, [(k, arm) for k in range(ctx.K) for arm in (0, 1)])
    fold_models = [
        {
            "mu0": first[k, 0],
            "mu1": first[k, 1],
            "tau0": second[2 * k],
            "tau1": second[2 * k + 1],
            "propensity": prop_models[k],
        }
        for k in range(ctx.K)
    ]
    cate = parts[0]
    cate += parts[1]
    return fold_models, cate, mu[0], mu[1], e


def _pairwise(ctx: _Context, fitter: Fitter, target: np.ndarray, arm: int | None) -> np.ndarray:
    """(K, n) nuisance predictions: P[k, i] for a row i of fold j ≠ k comes from a model fitted
    on the folds other than j and k (restricted to `arm` when given); P[k, fold k] = 0."""
    K = ctx.K
    P = np.zeros((K, len(target)))
    rows_of = [np.flatnonzero(ctx.ids == k) for k in range(K)]

    def pair(a: int, b: int) -> None:
        train = np.flatnonzero((ctx.ids != a) & (ctx.ids != b))
        if arm is not None:
            train = train[ctx.t[train] == arm]
        model = fitter.fit(train, target[train])
        P[a, rows_of[b]] = model.predict(ctx.X, rows_of[b])  # each pair writes its own cells
        P[b, rows_of[a]] = model.predict(ctx.X, rows_of[a])

    ctx.run(pair, [(a, b) for a in range(K) for b in range(a + 1, K)])
    return P


def _oof(P: np.ndarray) -> np.ndarray:
    """Out-of-fold nuisance of each row: the mean of the K − 1 pair models that excluded its
    fold (P[fold, row] is 0, so the column sum holds exactly those K − 1 predictions)."""
    return P.sum(axis=0) / (P.shape[0] - 1)


def _pairwise_propensity(ctx: _Context, spec: Any) -> tuple[np.ndarray | None, np.ndarray]:
    """Pair-model propensities (clipped; None when known) and the out-of-fold propensity."""
    if ctx.known is not None:
        return None, ctx.known
    P = _pairwise(ctx, ctx.fitter(spec, classify=True), ctx.t.astype(float), None)
    return np.clip(P, CLIP, 1 - CLIP), _oof(P)


def _fit_dr(ctx: _Context, outcome: Any, effect: Any, prop: Any):
    out_fitter = ctx.fitter(outcome, ctx.binary)
    eff_fitter = ctx.fitter(effect, False)
    P0 = _pairwise(ctx, out_fitter, ctx.y, 0)
    P1 = _pairwise(ctx, out_fitter, ctx.y, 1)
    Pe, e_oof = _pairwise_propensity(ctx, prop)
    y, t = ctx.y, ctx.t
    cate = np.empty(len(y))

    def fold(k: int, train: np.ndarray, test: np.ndarray) -> Any:
        m0, m1 = P0[k, train], P1[k, train]
        e = ctx.known[train] if Pe is None else Pe[k, train]
        yt, tt = y[train], t[train]
        phi = m1 - m0 + tt * (yt - m1) / e - (1 - tt) * (yt - m0) / (1 - e)
        model = eff_fitter.fit(train, phi)
        cate[test] = model.predict(ctx.X, test)
        return {"effect": model}

    fold_models = ctx.run(fold, ctx.folds())
    return fold_models, cate, _oof(P0), _oof(P1), e_oof


def _fit_r(ctx: _Context, outcome: Any, effect: Any, prop: Any):
    out_fitter = ctx.fitter(outcome, ctx.binary)
    eff_fitter = ctx.fitter(effect, False)
    Pm = _pairwise(ctx, out_fitter, ctx.y, None)
    Pe, e_oof = _pairwise_propensity(ctx, prop)
    y, t = ctx.y, ctx.t
    cate = np.empty(len(y))

    def fold(k: int, train: np.ndarray, test: np.ndarray) -> Any:
        e = ctx.known[train] if Pe is None else Pe[k, train]
        resid_t = t[train] - e
        # Nie & Wager's loss as a weighted regression: target (y − m)/(t − e), weight (t − e)².
        model = eff_fitter.fit(train, (y[train] - Pm[k, train]) / resid_t, resid_t**2)
        cate[test] = model.predict(ctx.X, test)
        return {"effect": model}

    fold_models = ctx.run(fold, ctx.folds())
    m = _oof(Pm)
    e_c = e_oof if ctx.known is not None else np.clip(e_oof, CLIP, 1 - CLIP)
    # m = e·m₁ + (1 − e)·m₀ and τ = m₁ − m₀ give the arm means behind the AIPW ATE.
    return fold_models, cate, m - e_c * cate, m + (1 - e_c) * cate, e_oof

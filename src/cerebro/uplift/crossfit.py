"""Cross-fitting machinery of the meta-learners: folds, base-learner fits and fitted models.

Folds are a seeded random partition of the rows. A *fitter* fits one base learner on a subset of
rows (a target and optional weights) and returns a fitted *model* with ``predict(X)`` (the
regression mean, or P(class 1) for a classifier) and ``to_state()``.

Three kinds of base learner:

- ``"lightgbm"`` (the default): the design matrix is binned **once** into a LightGBM `Dataset`
  and every fold's model trains on a row subset of it – no re-binning and no copy of X per fit
  (binning costs about as much as growing the trees). The bin edges (≤ 255 quantiles per
  column, from a seeded sample of at most 200,000 rows) depend on the features' marginal
  distribution only – never on the treatment or the outcome – so no held-out label reaches a
  model, as when features are standardised on all rows before cross-fitting. The trees are
  LightGBM's with the hyper-parameters of `lightgbm_estimator` (the same model a scikit-learn
  user would get), except that the bins come from all rows instead of the training rows.
- ``"linear"``: OLS, or unpenalised logistic regression for 0/1 targets (deterministic; used to
  check agreement with EconML to machine precision).
- ``"random_forest"`` or any scikit-learn-compatible estimator: cloned and fitted on each subset.

Fitted LightGBM, `LinearRegression` and `LogisticRegression` models (whichever way they were
given) are kept as booster model strings or coefficients so that a fitted learner can be saved
without pickle; other estimators are kept as objects and cannot be saved.

LightGBM models are scored by the compiled tree walker of
`cerebro.ml.lightgbm_walk` (bit-identical to `Booster.predict`, faster).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.ml.crossfit import BinnedLightGBM
from cerebro.ml.lightgbm_walk import BoosterModel

BASE_LEARNERS = ("lightgbm", "linear", "random_forest")
LIGHTGBM_ROUNDS = 100


def lightgbm_estimator(classify: bool, seed: int, jobs: int = 1) -> Any:
    """The fast default base learner: LightGBM, 100 trees of at most 16 leaves, learning rate
    0.1, at least 50 rows per leaf (CATE targets are noisy; LightGBM's own 20 overfits small
    arms), histogram splits over ≤ 255 bins, column-wise histograms with deterministic sums
    (the same numbers for any thread count), `jobs` threads."""
    import lightgbm as lgb

    kind = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
    return kind(
        n_estimators=LIGHTGBM_ROUNDS, learning_rate=0.1, num_leaves=16, min_child_samples=50,
        max_bin=255, random_state=seed, n_jobs=jobs, verbose=-1, deterministic=True,
        force_col_wise=True,
    )  # fmt: skip


def make_estimator(kind: str, classify: bool, seed: int, jobs: int = 1) -> Any:
    """A fresh scikit-learn-compatible estimator for a base-learner name."""
    if kind == "lightgbm":
        return lightgbm_estimator(classify, seed, jobs)
    if kind == "linear":
        from sklearn.linear_model import LinearRegression, LogisticRegression

        return LogisticRegression(C=np.inf, max_iter=5000) if classify else LinearRegression()
    if kind == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        forest = RandomForestClassifier if classify else RandomForestRegressor
        return forest(n_estimators=200, min_samples_leaf=5, random_state=seed, n_jobs=jobs)
    raise UserInputError(f"unknown base learner {kind!r}; use one of {', '.join(BASE_LEARNERS)}.")


# ---------------------------------------------------------------------------------------------
# Fitted models


class LinearModel:
    """x'β + b, or expit of it for a logistic model."""

    def __init__(self, coef: np.ndarray, intercept: float, logistic: bool) -> None:
        self.coef = np.asarray(coef, float).ravel()
        self.intercept = float(intercept)
        self.logistic = logistic

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        eta = (X if rows is None else X[rows]) @ self.coef + self.intercept
        if not self.logistic:
            return eta
        from scipy import special

        return special.expit(eta)

    def to_state(self) -> dict[str, Any]:
        return {
            "type": "linear",
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "logistic": self.logistic,
        }


class ConstantModel:
    """One value for every row (a known propensity used as the X-learner's weight)."""

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        return np.full(len(X) if rows is None else len(rows), self.value)

    def to_state(self) -> dict[str, Any]:
        return {"type": "constant", "value": self.value}


class EstimatorModel:
    """Any fitted scikit-learn-compatible estimator (cannot be saved without pickle)."""

    def __init__(self, estimator: Any, classify: bool) -> None:
        self.estimator = estimator
        self.classify = classify

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        X = X if rows is None else X[rows]
        if self.classify:
            return np.asarray(self.estimator.predict_proba(X)[:, 1], float)
        return np.asarray(self.estimator.predict(X), float).ravel()

    def to_state(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"a fitted {type(self.estimator).__name__} cannot be saved; only the 'lightgbm' and "
            "'linear' base learners (or LightGBM / LinearRegression / LogisticRegression "
            "estimators) can, because saving any other model would need pickle."
        )


def model_from_state(state: dict[str, Any], jobs: int = 1) -> Any:
    """The fitted model a `to_state()` dict describes."""
    kind = state.get("type")
    if kind == "lightgbm":
        import lightgbm as lgb

        return BoosterModel(lgb.Booster(model_str=state["model"]), jobs)
    if kind == "linear":
        return LinearModel(np.asarray(state["coef"], float), state["intercept"], state["logistic"])
    if kind == "constant":
        return ConstantModel(state["value"])
    raise UserInputError(f"unknown model type {kind!r} in a saved uplift learner.")


def wrap_fitted(estimator: Any, classify: bool, jobs: int = 1) -> Any:
    """A fitted estimator as a model; LightGBM and plain linear models become savable."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    try:
        import lightgbm as lgb
    except ImportError:  # pragma: no cover - lightgbm is a dependency
        lgb = None
    if lgb is not None and isinstance(estimator, lgb.LGBMModel):
        if classify and len(estimator.classes_) != 2:
            return EstimatorModel(estimator, classify)
        return BoosterModel(estimator.booster_, jobs)
    if type(estimator) is LinearRegression and np.ndim(estimator.coef_) == 1:
        return LinearModel(estimator.coef_, estimator.intercept_, logistic=False)
    if type(estimator) is LogisticRegression and estimator.coef_.shape[0] == 1:
        return LinearModel(estimator.coef_[0], estimator.intercept_[0], logistic=True)
    return EstimatorModel(estimator, classify)


# ---------------------------------------------------------------------------------------------
# Fitters


class _Binned(BinnedLightGBM):
    """`lightgbm_estimator`'s parameters on a matrix binned once; fits return `BoosterModel`s."""

    def __init__(self, X: np.ndarray, seed: int, jobs: int) -> None:
        super().__init__(X, lightgbm_estimator(False, seed, jobs))
        self.jobs = jobs

    def fit(self, rows: np.ndarray, target: np.ndarray, classify: bool, weight: Any) -> Any:
        return BoosterModel(super().fit(rows, target, classify, weight), self.jobs)


class Fitter:
    """Fits one base learner (a name or an estimator) on row subsets of one design matrix.

    `cache` is shared by the fitters of one `fit_learner` call so that every LightGBM learner on
    the same matrix uses the same binned `Dataset`.
    """

    def __init__(
        self, spec: Any, X: np.ndarray, classify: bool, seed: int, jobs: int, cache: dict
    ) -> None:
        self.X = X
        self.classify = classify
        self.jobs = jobs
        self.seed = seed
        self.binned: _Binned | None = None
        self.estimator: Any = None
        spec = "lightgbm" if spec is None else spec
        if isinstance(spec, str):
            if spec == "lightgbm":
                key = id(X)
                if key not in cache:
                    cache[key] = _Binned(X, seed, jobs)
                self.binned = cache[key]
            else:
                self.estimator = make_estimator(spec, classify, seed, jobs)
        elif hasattr(spec, "fit") and hasattr(spec, "get_params"):
            if classify and not hasattr(spec, "predict_proba"):
                raise UserInputError(
                    f"{type(spec).__name__} has no predict_proba; a 0/1 target needs a "
                    "classifier (pass a classifier, or a base-learner name)."
                )
            self.estimator = spec
        else:
            raise UserInputError(
                f"a base learner must be one of {', '.join(BASE_LEARNERS)} or a scikit-learn "
                f"estimator, got {spec!r}."
            )

    def fit(self, rows: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None) -> Any:
        """A model fitted on X[rows] (rows: sorted integer indices) to `target` (len(rows))."""
        if self.classify and np.unique(target).size < 2:
            raise UserInputError(
                "a training fold has one class of a 0/1 target only; use fewer folds or more data."
            )
        if self.binned is not None:
            return self.binned.fit(rows, target, self.classify, weight)
        from sklearn.base import clone

        est = clone(self.estimator)
        if weight is None:
            est.fit(self.X[rows], target)
        else:
            est.fit(self.X[rows], target, sample_weight=weight)
        return wrap_fitted(est, self.classify, self.jobs)

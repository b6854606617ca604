"""Reference agreement with EconML and DoWhy: AIPW, DML (interactive and partially linear) and
IPW point estimates and SEs on the same data, folds and nuisance models.

EconML installs into the main venv; DoWhy 0.14 pins scipy ≤ 1.15.3, so its tests run in the
bench venv (`make bench-causal` builds `.cache/bench-venv` with both) and skip elsewhere.

Conventions matched (read from their code, EconML 0.17 / DoWhy 0.14):
- EconML's `LinearDRLearner` fits one outcome model on [W, T]; Cerebro fits one per arm. The
  exact-agreement tests hand EconML `_PerArmOLS`, a regression that splits on that T column, so
  both sides fit the same models. Its propensities are clipped to [min_propensity, 1 − it], ours
  to [clip, 1 − clip] (DML) or not at all (`method="aipw"`, where min_propensity is set far
  below every score). `cv=1` means no cross-fitting there, as in our `method="aipw"`; a list of
  (train, test) pairs means exactly those folds.
- Its final stage regresses the pseudo-outcome on a constant (`LinearDRLearner`) or ỹ on ã
  (`LinearDML`); its default inference (`inference="auto"`) is HC1, i.e. HC0 × n/(n − k) with
  k = 1 regressor. HC0 for one regressor is exactly our influence-function variance Σψ²/n²
  (ψ the centred score), so their SE = ours × √(n/(n − 1)) (`_hc1`).
- Our propensity (`method="aipw"|"ipw"`) is the unpenalised logistic MLE by statsmodels (Newton);
  the peers get scikit-learn's `LogisticRegression(C=inf)` (lbfgs). Both reach the same MLE to
  the optimisers' tolerance, ~1e-9 in the scores here, hence rel 1e-6 on the effects. With
  identical estimator objects on both sides (DML with `learner="linear"`) the tolerance is 1e-8.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, LogisticRegression

from cerebro.ml import crossfit
from cerebro.observational import dml
from cerebro.observational.analysis import causal
from cerebro.observational.estimators import aipw_scores
from test_causal_estimators import _data, _simulate

CONFOUNDERS = ["x1", "x2", "x3"]


class _PerArmOLS(RegressorMixin, BaseEstimator):
    """OLS of y on the leading columns, fitted separately for each value of the last column
    (EconML's treatment indicator) – Cerebro's per-arm outcome models in EconML's interface."""

    def fit(self, X, y):
        arm = X[:, -1] == 1
        self.fits_ = [LinearRegression().fit(X[rows, :-1], y[rows]) for rows in (~arm, arm)]
        return self

    def predict(self, X):
        arm = X[:, -1] == 1
        return np.where(arm, self.fits_[1].predict(X[:, :-1]), self.fits_[0].predict(X[:, :-1]))


def _logistic():
    return LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)


@pytest.fixture(scope="module")
def frame():
    return _simulate(2000, np.random.default_rng(11))


def _folds(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    ids = crossfit.fold_ids(n, 5, 0)
    return [(np.flatnonzero(ids != k), np.flatnonzero(ids == k)) for k in range(5)]


def _econml(estimator, frame) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(frame["y"].to_numpy(), frame["a"].to_numpy(), X=None, W=frame[CONFOUNDERS])
        inference = estimator.ate_inference()
    return float(inference.mean_point), float(inference.stderr_mean)


def _hc1(estimate: tuple[float, float], n: int) -> tuple[float, float]:
    """Our (point, SE) with EconML's HC1 small-sample factor on the SE."""
    return estimate[0], estimate[1] * np.sqrt(n / (n - 1))


def _effect(means) -> tuple[float, float]:
    c = means.cov
    return float(means.mu[1] - means.mu[0]), float(np.sqrt(c[0, 0] + c[1, 1] - 2 * c[0, 1]))


def test_aipw_equals_econml_drlearner_without_cross_fitting(frame):
    """`method="aipw"` (logistic propensity, linear outcome model per arm, all rows) against
    `LinearDRLearner(cv=1)` with the same models: point and SE to rel 1e-6 (the two logistic
    optimisers; see the module docstring). The data have a heterogeneous effect (0.5·a·x1), so
    per-arm outcome models matter."""
    from econml.dr import LinearDRLearner

    ours = causal(frame, treatment="a", outcome="y", confounders=CONFOUNDERS, method="aipw")
    theirs = _econml(
        LinearDRLearner(model_propensity=_logistic(), model_regression=_PerArmOLS(),
                        min_propensity=1e-12, cv=1),
        frame,
    )  # fmt: skip
    ours = _hc1((ours.estimates[0].value, ours.estimates[0].se), len(frame))
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_dml_irm_equals_econml_drlearner_on_the_same_folds(frame):
    """Cross-fitted AIPW (interactive model, clip 0.01) with our `linear` learners against
    `LinearDRLearner` on the same five folds with the same estimators: rel 1e-8."""
    from econml.dr import LinearDRLearner

    means, _ = dml.dml_irm(_data(frame), "linear", 5, 0, "ate", 0.01)
    theirs = _econml(
        LinearDRLearner(model_propensity=crossfit.make_learner("linear", True, 0),
                        model_regression=_PerArmOLS(), min_propensity=0.01, cv=_folds(len(frame))),
        frame,
    )  # fmt: skip
    assert _hc1(_effect(means), len(frame)) == pytest.approx(theirs, rel=1e-8)


def test_dml_plr_equals_econml_lineardml_on_the_same_folds(frame):
    """Partially linear model, partialling out, same folds and estimators as `LinearDML` with a
    discrete treatment (its treatment model is the classifier, residual a − P(a = 1 | x)):
    θ and SE (with EconML's HC1 factor) to rel 1e-8."""
    from econml.dml import LinearDML

    ours = _hc1(dml.dml_plr(_data(frame), "linear", 5, 0), len(frame))
    theirs = _econml(
        LinearDML(model_y=crossfit.make_learner("linear", False, 0),
                  model_t=crossfit.make_learner("linear", True, 0), discrete_treatment=True,
                  cv=_folds(len(frame))),
        frame,
    )  # fmt: skip
    assert ours == pytest.approx(theirs, rel=1e-8)


@pytest.mark.parametrize(("model", "tolerance"), [("irm", 0.5), ("plr", 0.25)])
def test_lightgbm_dml_agrees_with_econml_within_a_fraction_of_the_se(model, tolerance):
    """LightGBM nuisances with identical hyper-parameters (`make_learner`'s estimators handed to
    EconML) and the same folds on 10,000 rows of bench/bench_causal.py's design. What still
    differs: our bin edges come from all rows, EconML's from each training fold (both PLR and
    IRM), and for IRM EconML's single outcome model with T as a feature versus our one per arm.
    Two valid fits of the same nuisances on the same data differ by much less than the
    sampling SE (at 20,000 rows: 0.09 SE for PLR, 0.36 SE for IRM), so |Δ| < 0.25 SE (PLR) and
    < 0.5 SE (IRM); SEs within 5%. The truth (1) is within 3 SE of both."""
    import sys
    from pathlib import Path

    from econml.dml import LinearDML
    from econml.dr import LinearDRLearner

    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    from bench_causal import CONFOUNDERS as COLUMNS
    from bench_causal import simulate

    sample = simulate(10_000, seed=7)
    data = _data_with(sample, COLUMNS)
    regressor, classifier = (crossfit.make_learner("lightgbm", c, 0) for c in (False, True))
    folds = _folds(len(sample))
    if model == "plr":
        ours = dml.dml_plr(data, "lightgbm", 5, 0)
        peer = LinearDML(model_y=regressor, model_t=classifier, discrete_treatment=True, cv=folds)
    else:
        ours = _effect(dml.dml_irm(data, "lightgbm", 5, 0, "ate", 0.01)[0])
        peer = LinearDRLearner(model_propensity=classifier, model_regression=regressor,
                               min_propensity=0.01, cv=folds)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer.fit(sample["y"].to_numpy(), sample["a"].to_numpy(), X=None, W=sample[COLUMNS])
        inference = peer.ate_inference()
    theirs = float(inference.mean_point), float(inference.stderr_mean)
    assert abs(ours[0] - theirs[0]) < tolerance * ours[1]
    assert theirs[1] == pytest.approx(ours[1], rel=0.05)
    assert abs(ours[0] - 1) < 3 * ours[1] and abs(theirs[0] - 1) < 3 * theirs[1]


def _data_with(frame, columns):
    from cerebro.observational.data import prepare
    from cerebro.observational.spec import CausalSpec

    return prepare(frame, CausalSpec(treatment="a", outcome="y", confounders=columns))


# DoWhy ---------------------------------------------------------------------------------------


def _dowhy_model(frame):
    dowhy = pytest.importorskip("dowhy")
    model = dowhy.CausalModel(
        data=frame.assign(a=frame["a"].astype(bool)), treatment="a", outcome="y",
        common_causes=CONFOUNDERS,
    )  # fmt: skip
    return model, model.identify_effect(proceed_when_unidentifiable=True)


def test_dowhy_lineardml_equals_our_plr(frame):
    """DoWhy's `backdoor.econml.dml.LinearDML` path (its data handling, EconML underneath) with
    our folds and linear learners: θ and SE (HC1 factor, as EconML) equal our PLR to rel 1e-8."""
    model, identified = _dowhy_model(frame)
    init = dict(model_y=crossfit.make_learner("linear", False, 0),
                model_t=crossfit.make_learner("linear", True, 0), discrete_treatment=True,
                cv=_folds(len(frame)))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = model.estimate_effect(
            identified, method_name="backdoor.econml.dml.LinearDML",
            method_params={"init_params": init, "fit_params": {}},
        )  # fmt: skip
        se = float(estimate.estimator.estimator.ate_inference().stderr_mean)
    ours = _hc1(dml.dml_plr(_data(frame), "linear", 5, 0), len(frame))
    assert ours == pytest.approx((float(estimate.value), se), rel=1e-8)


def test_dowhy_doubly_robust_equals_our_aipw_score_with_its_nuisances(frame):
    """DoWhy's own `backdoor.doubly_robust` (no cross-fitting; an additive linear outcome model
    y ~ a + x and a propensity clipped to [0.01, 0.99]) equals our AIPW score evaluated at the
    same nuisances (fitted here with numpy/scikit-learn): rel 1e-6 (logistic optimisers). DoWhy
    gives no analytic SE, so only the point is compared."""
    model, identified = _dowhy_model(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = model.estimate_effect(
            identified, method_name="backdoor.doubly_robust",
            method_params={"propensity_score_model": _logistic()},
        )  # fmt: skip
    data = _data(frame)
    e = np.clip(_logistic().fit(data.X, data.a).predict_proba(data.X)[:, 1], 0.01, 0.99)
    design = np.column_stack([np.ones(len(data.y)), data.a, data.X])
    beta = np.linalg.lstsq(design, data.y, rcond=None)[0]
    base = data.X @ beta[2:] + beta[0]
    ours = aipw_scores(data, e, base, base + beta[1], "ate")
    assert _effect(ours)[0] == pytest.approx(float(estimate.value), rel=1e-6)


def test_dowhy_normalised_ipw_equals_our_hajek_ipw(frame):
    """DoWhy's `backdoor.propensity_score_weighting` with `ips_normalized_weight` (Hájek) and an
    unpenalised logistic propensity, its default clipping to [0.05, 0.95] turned off (every
    score here is inside (0.03, 0.97) – clipping would change the number): equals
    `method="ipw"` to rel 1e-6 (logistic optimisers). DoWhy's SE is a bootstrap; not compared."""
    model, identified = _dowhy_model(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = model.estimate_effect(
            identified, method_name="backdoor.propensity_score_weighting",
            method_params={"weighting_scheme": "ips_normalized_weight",
                           "propensity_score_model": _logistic(),
                           "min_ps_score": 1e-12, "max_ps_score": 1 - 1e-12},
        )  # fmt: skip
    ours = causal(frame, treatment="a", outcome="y", confounders=CONFOUNDERS, method="ipw")
    assert ours.estimates[0].value == pytest.approx(float(estimate.value), rel=1e-6)

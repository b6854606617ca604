"""Meta-learners on simulated data with a known CATE (cerebro.uplift.synthetic.uplift_data):
PEHE and ATE bias of every learner, PEHE against EconML's learners on the same data and base
learners, and the coverage of the doubly robust ATE interval."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from threadpoolctl import threadpool_limits

from cerebro.uplift.crossfit import lightgbm_estimator
from cerebro.uplift.learners import LEARNERS, fit_learner
from cerebro.uplift.synthetic import design_matrix, uplift_data

# Population ATE of the continuous model: 0.5 + 0.5·P(x2 > 0) + 0.3·0.25 − 0.2·0.25.
POPULATION_ATE = 0.775


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _draw(n, seed, kind="continuous", confounded=True):
    frame, truth = uplift_data(n, p=6, kind=kind, confounded=confounded, seed=seed)
    return design_matrix(frame), frame.outcome.to_numpy(float), frame.treatment.to_numpy(), truth


def _pehe(estimate, truth):
    return float(np.sqrt(np.mean((estimate - truth) ** 2)))


@pytest.fixture(scope="module")
def confounded_fits():
    X, y, t, truth = _draw(8000, seed=101)
    return truth, {name: fit_learner(name, X, y, t, seed=0) for name in LEARNERS}


def test_every_learner_recovers_the_cate_and_the_ate(confounded_fits):
    """Confounded continuous data, 8,000 rows, LightGBM defaults, estimated propensity.
    Measured PEHE (out-of-fold): S 0.25, T 0.42, X 0.25, R 0.36, DR 0.41 – all well under the
    CATE's own spread (0.58, the PEHE of the best constant); the naive ATE is biased by 0.58."""
    truth, fits = confounded_fits
    spread = truth["cate"].std()
    for name, fit in fits.items():
        pehe = _pehe(fit.cate_oof, truth["cate"])
        assert pehe < 0.8 * spread, (name, pehe)
        assert np.corrcoef(fit.cate_oof, truth["cate"])[0, 1] > 0.7, name
        # ATE bias: within 4 SE of the sample ATE (4 SE: five learners, one seed).
        assert abs(fit.ate - truth["ate"]) < 4 * fit.ate_se, (name, fit.ate, truth["ate"])
    # X beats T here (Künzel et al.: the effect is simpler than the baselines).
    assert _pehe(fits["x_learner"].cate_oof, truth["cate"]) < _pehe(
        fits["t_learner"].cate_oof, truth["cate"]
    )


def test_binary_outcome_learners_recover_the_cate():
    """Binary outcome, 8,000 confounded rows: the CATE is a small difference of probabilities
    (spread 0.067). Measured with linear/logistic base learners (3 folds): PEHE X 0.037,
    DR 0.041; LightGBM's noisy trees correlate 0.55 (X) with the truth at this size."""
    X, y, t, truth = _draw(8000, seed=102, kind="binary")
    spread = truth["cate"].std()
    for name in ("x_learner", "dr_learner"):
        fit = fit_learner(name, X, y, t, outcome_learner="linear", effect_learner="linear",
                          propensity_learner="linear", binary_outcome=True, folds=3)  # fmt: skip
        assert _pehe(fit.cate_oof, truth["cate"]) < 0.75 * spread, name
        assert abs(fit.ate - truth["ate"]) < 4 * fit.ate_se, name
    fit = fit_learner("x_learner", X, y, t, binary_outcome=True, folds=3)
    assert np.corrcoef(fit.cate_oof, truth["cate"])[0, 1] > 0.4
    assert abs(fit.ate - truth["ate"]) < 4 * fit.ate_se


def test_best_learners_pehe_within_ten_percent_of_econml():
    """X- and DR-learners (Cerebro's default LightGBM path: bins once, bagged fold models) against
    EconML's XLearner and DRLearner with the same LightGBM estimator, all fitted on the same
    12,000 rows, scored on 5,000 fresh rows with their true CATE."""
    from econml.dr import DRLearner
    from econml.metalearners import XLearner

    X, y, t, _ = _draw(12_000, seed=103)
    X_new, _, _, truth_new = _draw(5000, seed=104)
    reg, clf = lightgbm_estimator(False, 0), lightgbm_estimator(True, 0)
    econ = {
        "x_learner": XLearner(models=reg, cate_models=reg, propensity_model=clf),
        "dr_learner": DRLearner(
            model_propensity=clf,
            model_regression=reg,
            model_final=reg,
            cv=5,
            min_propensity=0.01,
            random_state=0,
        ),
    }
    for name, est in econ.items():
        ours = fit_learner(name, X, y, t, seed=0).predict(X_new)
        est.fit(y, t, X=X)
        ref = np.ravel(est.effect(X_new))
        ratio = _pehe(ours, truth_new["cate"]) / _pehe(ref, truth_new["cate"])
        assert ratio <= 1.10, (name, ratio)


class _OLS(BaseEstimator, RegressorMixin):
    """Least squares with an intercept (numpy only: the coverage loop fits thousands)."""

    def fit(self, X, y, sample_weight=None):
        A = np.column_stack([np.ones(len(X)), X])
        self.beta_ = np.linalg.lstsq(A, y, rcond=None)[0]
        return self

    def predict(self, X):
        return self.beta_[0] + X @ self.beta_[1:]


class _Logit(BaseEstimator, ClassifierMixin):
    """Unpenalised logistic regression by Newton's method."""

    def fit(self, X, y):
        A = np.column_stack([np.ones(len(X)), X])
        beta = np.zeros(A.shape[1])
        for _ in range(25):
            p = special.expit(A @ beta)
            step = np.linalg.solve((A * (p * (1 - p))[:, None]).T @ A, A.T @ (y - p))
            beta += step
            if np.abs(step).max() < 1e-10:
                break
        self.beta_ = beta
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X):
        p = special.expit(self.beta_[0] + X @ self.beta_[1:])
        return np.column_stack([1 - p, p])


def test_dr_ate_interval_covers_the_population_ate():
    """800 replications of 1,000 confounded rows; DR-learner with linear outcome models (wrong:
    the baseline is nonlinear) and a logistic propensity (right), 3 folds. Double robustness
    makes the AIPW ATE consistent; its 95% influence-function interval should cover the
    population ATE 0.775 in 95% of replications: Monte Carlo SE √(0.95·0.05/800) = 0.0077, so
    [0.93, 0.97] is about ±2.6 MC SE. Mean bias is checked against 4 MC SE of the mean."""
    reps, n = 800, 1000
    hits, estimates = 0, []
    for rep in range(reps):
        X, y, t, _ = _draw(n, seed=10_000 + rep)
        fit = fit_learner("dr_learner", X, y, t, outcome_learner=_OLS(), effect_learner=_OLS(),
                          propensity_learner=_Logit(), folds=3, seed=rep)  # fmt: skip
        lo, hi = fit.ate_interval(0.05)
        hits += lo <= POPULATION_ATE <= hi
        estimates.append(fit.ate)
    coverage = hits / reps
    estimates = np.asarray(estimates)
    assert 0.93 <= coverage <= 0.97, coverage
    assert abs(estimates.mean() - POPULATION_ATE) < 4 * estimates.std() / np.sqrt(reps)

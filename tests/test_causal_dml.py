"""Double machine learning: agreement with DoubleML on the same folds and learners, recovery of a
known effect with machine-learning nuisances, faces and refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.ml import crossfit
from cerebro.observational import dml
from cerebro.observational.analysis import causal
from test_causal_estimators import _data, _simulate


@pytest.fixture(scope="module")
def sample():
    return _data(_simulate(1000, np.random.default_rng(1)))


def _doubleml(sample, model: str, score: str | None = None):
    """DoubleML on the same data, folds and (deterministic) linear learners."""
    import doubleml as doubleml
    from sklearn.linear_model import LinearRegression, LogisticRegression

    ids = crossfit.fold_ids(len(sample.y), 5, 0)
    folds = [[(np.flatnonzero(ids != k), np.flatnonzero(ids == k)) for k in range(5)]]
    data = doubleml.DoubleMLData.from_arrays(sample.X, sample.y, sample.a)
    learners = (LinearRegression(), LogisticRegression(C=np.inf, max_iter=5000))
    if model == "plr":
        fit = doubleml.DoubleMLPLR(data, *learners, n_folds=5, draw_sample_splitting=False)
    else:
        fit = doubleml.DoubleMLIRM(data, *learners, n_folds=5, score=score,
                                   draw_sample_splitting=False, trimming_threshold=0.01)  # fmt: skip
    fit.set_sample_splitting(folds)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit.fit()
    return float(fit.coef[0]), float(fit.se[0])


def test_plr_equals_doubleml(sample):
    assert dml.dml_plr(sample, "linear", 5, 0) == pytest.approx(_doubleml(sample, "plr"), rel=1e-8)


@pytest.mark.parametrize(("estimand", "score"), [("ate", "ATE"), ("att", "ATTE")])
def test_irm_equals_doubleml(sample, estimand, score):
    means, _ = dml.dml_irm(sample, "linear", 5, 0, estimand, 0.01)
    c = means.cov
    ours = (means.mu[1] - means.mu[0], np.sqrt(c[0, 0] + c[1, 1] - 2 * c[0, 1]))
    assert ours == pytest.approx(_doubleml(sample, "irm", score), rel=1e-8)


@pytest.mark.parametrize("learner", ["lightgbm", "linear"])
def test_threaded_cross_fitting_gives_the_same_numbers(sample, learner):
    """The nuisance × fold fits run in a thread pool with jobs ≠ 1; each model is
    single-threaded and seeded, so every number must be bit-identical to the serial run."""
    serial, _ = dml.dml_irm(sample, learner, 5, 3, "ate", 0.01)
    threaded, _ = dml.dml_irm(sample, learner, 5, 3, "ate", 0.01, jobs=2)
    np.testing.assert_array_equal(serial.mu, threaded.mu)
    np.testing.assert_array_equal(serial.cov, threaded.cov)
    assert dml.dml_plr(sample, learner, 5, 3) == dml.dml_plr(sample, learner, 5, 3, jobs=-1)


def test_cross_fit_all_keeps_each_nuisance_out_of_fold(sample):
    """Each fold's predictions equal, to rounding, a least-squares fit on the other folds (and,
    for an arm's outcome model, on that arm's rows only) computed here by hand; threads must not
    mix up which fold or nuisance a prediction belongs to."""
    ids = crossfit.fold_ids(len(sample.y), 5, 0)
    index = np.arange(len(sample.y), dtype=float)
    nuisances = [crossfit.Nuisance(index, False), crossfit.Nuisance(sample.y, False, sample.a == 1)]
    oof_index, oof_y1 = crossfit.cross_fit_all("linear", sample.X, nuisances, ids, 0, jobs=2)
    for k in range(5):
        test, train = ids == k, ids != k
        beta = np.linalg.lstsq(np.c_[np.ones(train.sum()), sample.X[train]], index[train])[0]
        np.testing.assert_allclose(
            oof_index[test], np.c_[np.ones(test.sum()), sample.X[test]] @ beta
        )
        rows = train & (sample.a == 1)
        beta1 = np.linalg.lstsq(np.c_[np.ones(rows.sum()), sample.X[rows]], sample.y[rows])[0]
        np.testing.assert_allclose(oof_y1[test], np.c_[np.ones(test.sum()), sample.X[test]] @ beta1)


def test_folds_are_a_seeded_balanced_partition():
    ids = crossfit.fold_ids(103, 5, 7)
    assert np.bincount(ids).tolist() == [21, 21, 21, 20, 20]
    assert np.array_equal(ids, crossfit.fold_ids(103, 5, 7))
    assert not np.array_equal(ids, crossfit.fold_ids(103, 5, 8))


@pytest.mark.slow
def test_lightgbm_nuisances_recover_a_nonlinear_effect():
    """100 data sets from bench/validate_dml.py's nonlinear design (true ATE 2, n = 1,000):
    |bias| < 4 MC SE, the mean SE within 25% of the SD of the estimates (the SD's own MC error
    is 7%) and 95% coverage in [0.88, 1] (MC SE 2.2 points); the 400-replicate run in
    docs/causal.md gives coverage 0.963 ± 0.009."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    from cerebro.observational.data import prepare
    from cerebro.observational.spec import CausalSpec
    from validate_dml import CONFOUNDERS, simulate

    rng = np.random.default_rng(99)
    spec = CausalSpec(treatment="a", outcome="y", confounders=CONFOUNDERS)
    errors, ses = [], []
    covered = []
    for r in range(100):
        means, _ = dml.dml_irm(prepare(simulate(1000, rng), spec), "lightgbm", 5, r, "ate", 0.01)
        c = means.cov
        errors.append(means.mu[1] - means.mu[0] - 2)
        ses.append(np.sqrt(c[0, 0] + c[1, 1] - 2 * c[0, 1]))
        covered.append(abs(errors[-1]) < 1.96 * ses[-1])
    e = np.array(errors)
    assert 0.88 <= np.mean(covered) <= 1.0
    assert abs(e.mean()) < 4 * e.std() / np.sqrt(len(e))
    assert np.mean(ses) == pytest.approx(e.std(), rel=0.25)


def test_cli_dml_and_refusals(tmp_path):
    path = tmp_path / "obs.csv"
    _simulate(800, np.random.default_rng(3)).to_csv(path, index=False)
    base = ["causal", str(path), "--treatment", "a", "--outcome", "y", "--confounders", "x1,x2,x3"]
    runner = CliRunner()
    ok = runner.invoke(
        app, [*base, "--method", "dml", "--learner", "hist_gb", "--folds", "3", "--json"]
    )
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert (
        "hist_gb nuisances, 3-fold cross-fitting"
        in {f["code"]: f["message"] for f in doc["findings"]}["method"]
    )
    assert doc["estimates"][0]["ci_low"] < 2 < doc["estimates"][0]["ci_high"]
    plr = causal(str(path), treatment="a", outcome="y", confounders=["x1", "x2", "x3"],
                 method="dml", dml_model="plr", learner="linear")  # fmt: skip
    assert plr.estimates[0].label == "ATE (difference in means)"
    for extra, words in (
        (["--method", "dml", "--bootstrap", "100"], "orthogonal score"),
        (["--method", "dml", "--dml-model", "plr", "--estimand", "att"], "constant effect"),
        (["--method", "dml", "--learner", "xgboost"], "learner"),
        (["--method", "dml", "--folds", "1"], "--folds must be between"),
    ):
        bad = runner.invoke(app, [*base, *extra])
        assert bad.exit_code == 2 and words in bad.output and "Traceback" not in bad.output

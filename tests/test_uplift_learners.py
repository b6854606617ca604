"""Meta-learners: out-of-fold property, save/load round trip, inputs, determinism, synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from cerebro.core.errors import UserInputError
from cerebro.uplift.learners import LEARNERS, FittedUplift, base_learner, fit_learner
from cerebro.uplift.synthetic import design_matrix, uplift_data


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with threadpool_limits(limits=1):
        yield


def _arrays(n=1200, kind="continuous", confounded=True, seed=5):
    frame, truth = uplift_data(n, p=6, kind=kind, confounded=confounded, seed=seed)
    return design_matrix(frame), frame.outcome.to_numpy(float), frame.treatment.to_numpy(), truth


LINEAR = {"outcome_learner": "linear", "effect_learner": "linear", "propensity_learner": "linear"}


# --- out-of-fold ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LEARNERS)
def test_out_of_fold_cate_ignores_the_rows_own_outcome_and_treatment(name):
    """Scramble y and t of the rows of fold 0: their cate_oof must not move at all (bit for
    bit), because no model that scores fold 0 – nor any nuisance behind the pseudo-outcomes
    those models were trained on – saw fold 0. Linear models move with every row, so any leak
    would show; the fold-averaged `predict` (whose other fold models did see fold 0) must move,
    which shows the perturbation is felt."""
    X, y, t, _ = _arrays()
    fit = fit_learner(name, X, y, t, **LINEAR, folds=4, seed=3)
    fold0 = fit.info["fold_ids"] == 0
    rng = np.random.default_rng(0)
    y2, t2 = y.copy(), t.copy()
    y2[fold0] = rng.normal(5, 3, fold0.sum())
    t2[fold0] = rng.integers(0, 2, fold0.sum())
    fit2 = fit_learner(name, X, y2, t2, **LINEAR, folds=4, seed=3)
    np.testing.assert_array_equal(fit.cate_oof[fold0], fit2.cate_oof[fold0])
    assert np.abs(fit.cate_oof[~fold0] - fit2.cate_oof[~fold0]).max() > 1e-3
    assert np.abs(fit.predict(X[fold0]) - fit2.predict(X[fold0])).max() > 1e-3


@pytest.mark.parametrize("name", ["x_learner", "dr_learner"])
def test_out_of_fold_with_lightgbm_binned_once(name):
    """The LightGBM path bins the features once on all rows (no labels): outcomes of fold 0
    still reach no model that scores fold 0."""
    X, y, t, _ = _arrays(n=1500)
    fit = fit_learner(name, X, y, t, folds=3, seed=1)
    fold0 = fit.info["fold_ids"] == 0
    y2 = y.copy()
    y2[fold0] = np.random.default_rng(1).normal(0, 10, fold0.sum())
    fit2 = fit_learner(name, X, y2, t, folds=3, seed=1)
    np.testing.assert_array_equal(fit.cate_oof[fold0], fit2.cate_oof[fold0])
    assert np.abs(fit.cate_oof[~fold0] - fit2.cate_oof[~fold0]).max() > 1e-3


# --- save / load ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LEARNERS)
@pytest.mark.parametrize("base", ["lightgbm", "linear"])
def test_state_round_trip_through_json_gives_identical_predictions(name, base):
    X, y, t, _ = _arrays(n=800, kind="binary")
    fit = fit_learner(
        name, X, y, t, outcome_learner=base, effect_learner=base, propensity_learner=base,
        binary_outcome=True, folds=3, seed=2,
    )  # fmt: skip
    text = json.dumps(fit.to_state())
    back = FittedUplift.from_state(json.loads(text))
    X_new = np.random.default_rng(9).normal(size=(300, X.shape[1]))
    np.testing.assert_array_equal(back.predict(X_new), fit.predict(X_new))
    assert (back.name, back.ate, back.ate_se, back.folds) == (name, fit.ate, fit.ate_se, 3)
    assert back.cate_oof is None


def test_known_propensity_x_learner_round_trip_and_estimators_given_as_objects():
    X, y, t, _ = _arrays(n=800, confounded=False)
    fit = fit_learner(
        "x_learner", X, y, t, outcome_learner=base_learner("lightgbm", "regression", seed=1),
        effect_learner=base_learner("linear"), propensity=0.5, folds=3,
    )  # fmt: skip
    back = FittedUplift.from_state(json.loads(json.dumps(fit.to_state())))
    np.testing.assert_array_equal(back.predict(X), fit.predict(X))
    assert fit.propensity_known and np.all(fit.propensity == 0.5)


def test_other_estimators_fit_but_refuse_to_be_saved():
    X, y, t, truth = _arrays(n=600)
    forest = base_learner("random_forest", "regression", seed=0)
    forest.set_params(n_estimators=20)
    fit = fit_learner("t_learner", X, y, t, outcome_learner=forest, propensity=0.5, folds=3)
    assert np.corrcoef(fit.cate_oof, truth["cate"])[0, 1] > 0.3
    with pytest.raises(NotImplementedError, match="cannot be saved"):
        fit.to_state()


def test_from_state_rejects_other_formats():
    with pytest.raises(UserInputError, match="format"):
        FittedUplift.from_state({"format": "pickle", "version": 1})


# --- behaviour --------------------------------------------------------------------------------


def test_same_seed_same_numbers_other_seed_other_folds():
    X, y, t, _ = _arrays(n=900)
    a = fit_learner("dr_learner", X, y, t, folds=3, seed=4)
    b = fit_learner("dr_learner", X, y, t, folds=3, seed=4)
    c = fit_learner("dr_learner", X, y, t, folds=3, seed=5)
    np.testing.assert_array_equal(a.cate_oof, b.cate_oof)
    assert a.ate == b.ate and a.ate_se == b.ate_se
    assert not np.array_equal(a.cate_oof, c.cate_oof)


@pytest.mark.parametrize("name", LEARNERS)
def test_threaded_folds_give_bit_identical_numbers(name):
    """With jobs ≠ 1 the fold (and fold-pair) fits run concurrently in threads; every model is
    single-threaded and seeded and results are assembled in fold order, so nothing may move."""
    X, y, t, _ = _arrays(n=1500)
    serial = fit_learner(name, X, y, t, folds=4, seed=2, jobs=1)
    threaded = fit_learner(name, X, y, t, folds=4, seed=2, jobs=3)
    np.testing.assert_array_equal(serial.cate_oof, threaded.cate_oof)
    np.testing.assert_array_equal(serial.predict(X[:50]), threaded.predict(X[:50]))
    assert (serial.ate, serial.ate_se) == (threaded.ate, threaded.ate_se)


def test_binary_outcome_cate_is_a_difference_of_probabilities():
    X, y, t, truth = _arrays(n=3000, kind="binary")
    fit = fit_learner("t_learner", X, y, t, **LINEAR, binary_outcome=True, folds=3)
    assert np.all(np.abs(fit.cate_oof) <= 1)
    assert np.all((fit.mu0 > 0) & (fit.mu0 < 1) & (fit.mu1 > 0) & (fit.mu1 < 1))
    assert abs(fit.ate - truth["ate"]) < 4 * fit.ate_se


def test_ate_interval():
    X, y, t, _ = _arrays(n=600)
    fit = fit_learner("t_learner", X, y, t, **LINEAR, folds=3)
    lo, hi = fit.ate_interval(0.05)
    assert lo == pytest.approx(fit.ate - 1.959963984540054 * fit.ate_se, rel=1e-12)
    assert hi == pytest.approx(fit.ate + 1.959963984540054 * fit.ate_se, rel=1e-12)


# --- inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"name": "z_learner"}, "unknown uplift learner 'z_learner'"),
        ({"t": "two"}, "treatment must be 0"),
        ({"y": "nan"}, "outcome has missing"),
        ({"X": "nan"}, "feature column 2 has missing"),
        ({"binary_outcome": True}, "0/1 values"),
        ({"propensity": 1.0}, "strictly between 0 and 1"),
        ({"propensity": [0.5, 0.5]}, "one value per row"),
        ({"folds": 1}, "folds must be between 2"),
        ({"name": "r_learner", "folds": 2}, "r_learner needs folds ≥ 3"),
        ({"outcome_learner": "xgboost"}, "unknown base learner 'xgboost'"),
        ({"outcome_learner": 3}, "scikit-learn estimator"),
        ({"t": "one arm"}, "control arm has 0 rows"),
    ],
)
def test_bad_input_names_the_value_and_the_fix(change, match):
    X, y, t, _ = _arrays(n=200)
    kwargs = {"name": "t_learner", "X": X, "y": y, "t": t}
    for key, value in change.items():
        if value == "nan":
            arr = kwargs[key].copy()
            arr[(5, 2) if key == "X" else 5] = np.nan
            kwargs[key] = arr
        elif value == "two":
            kwargs["t"] = np.where(t == 1, 2, 0)
        elif value == "one arm":
            kwargs["t"] = np.ones_like(t)
        else:
            kwargs[key] = value
    name = kwargs.pop("name")
    with pytest.raises(UserInputError, match=match):
        fit_learner(name, kwargs.pop("X"), kwargs.pop("y"), kwargs.pop("t"), **kwargs)


def test_predict_checks_the_feature_count():
    X, y, t, _ = _arrays(n=300)
    fit = fit_learner("s_learner", X, y, t, **LINEAR, folds=3)
    with pytest.raises(UserInputError, match="8 feature columns"):
        fit.predict(X[:, :3])


# --- compiled tree walker (crossfit.TreeArrays) ------------------------------------------------


@pytest.mark.parametrize("classify", [False, True])
def test_tree_walker_is_bit_identical_to_lightgbm_predict(classify):
    """Regression and binary-objective boosters (deep and shallow trees, rounded and integer
    features with ties at thresholds), scored on rows with NaN, ±inf, ±1e-40, −0.0 and
    threshold ties, whole or by row index: every value equal to Booster.predict."""
    from cerebro.uplift.crossfit import BoosterModel, lightgbm_estimator

    rng = np.random.default_rng(3)
    n, p = 3000, 5
    X = rng.normal(size=(n, p))
    X[:, 1] = rng.integers(0, 3, n)
    X[:, 2] = np.round(X[:, 2], 1)
    noise = rng.normal(size=n)
    y = (X[:, 0] + noise > 0).astype(float) if classify else X[:, 0] * X[:, 1] + noise
    for params in ({}, {"num_leaves": 31, "min_child_samples": 5, "n_estimators": 40}):
        est = lightgbm_estimator(classify, 1, 1).set_params(**params).fit(X, y)
        Xt = rng.normal(size=(1500, p))
        Xt[:100, 0] = np.nan
        Xt[100:200, 1] = rng.choice([1e-40, -1e-40, -0.0], 100)
        Xt[200:400, 1] = rng.integers(0, 3, 200)
        Xt[400:600, 2] = np.round(Xt[400:600, 2], 1)
        Xt[600:610], Xt[610:620] = np.inf, -np.inf
        model = BoosterModel(est.booster_)
        expected = est.booster_.predict(Xt)
        np.testing.assert_array_equal(model.predict(Xt), expected)
        assert model._trees is not None  # the walker, not the fallback, was used
        rows = rng.integers(0, len(Xt), 700)
        np.testing.assert_array_equal(model.predict(Xt, rows), expected[rows])


def test_tree_walker_falls_back_to_lightgbm_for_models_it_does_not_cover():
    import lightgbm as lgb

    from cerebro.uplift.crossfit import BoosterModel, lightgbm_estimator

    rng = np.random.default_rng(4)
    X = rng.normal(size=(2000, 3))
    X[:300, 0] = np.nan  # trained with missing values: NaN splits
    y = np.abs(X[:, 1]) + rng.exponential(size=2000)
    for est in (
        lightgbm_estimator(False, 0, 1).fit(X, y),
        lgb.LGBMRegressor(objective="poisson", n_estimators=20, verbose=-1).fit(X, y),
    ):
        model = BoosterModel(est.booster_)
        np.testing.assert_array_equal(model.predict(X[:500]), est.booster_.predict(X[:500]))
        assert model._trees is None


def test_threaded_predict_is_bit_identical():
    X, y, t, _ = _arrays(n=1500)
    fit = fit_learner("x_learner", X, y, t, folds=3, seed=2, jobs=1)
    X_big = np.tile(X, (30, 1))  # 45,000 rows: two chunks of ≥ 20,000
    serial = fit.predict(X_big)
    fit.jobs = 2
    np.testing.assert_array_equal(fit.predict(X_big), serial)


# --- synthetic data ---------------------------------------------------------------------------


def test_uplift_data_is_seeded_and_its_truth_is_consistent():
    frame, truth = uplift_data(40_000, kind="continuous", seed=1)
    again, _ = uplift_data(40_000, kind="continuous", seed=1)
    assert frame.equals(again)
    assert list(frame.columns) == [*(f"x{j}" for j in range(1, 11)), "segment", "treatment",
                                   "outcome"]  # fmt: skip
    # Population ATE of the continuous model: 0.5 + 0.5·P(x2 > 0) + 0.3·0.25 − 0.2·0.25.
    assert truth["ate"] == pytest.approx(0.775, abs=4 * truth["cate"].std() / 200)
    assert truth["ate"] == pytest.approx(truth["cate"].mean(), rel=1e-12)
    # Randomised: the difference in means estimates the ATE (within 4 SE).
    y, t = frame.outcome.to_numpy(), frame.treatment.to_numpy()
    diff = y[t == 1].mean() - y[t == 0].mean()
    se = np.sqrt(y[t == 1].var() / (t == 1).sum() + y[t == 0].var() / (t == 0).sum())
    assert abs(diff - truth["ate"]) < 4 * se
    # The continuous CATE is the conditional mean difference: regress y on the truth by arm.
    resid = y - truth["mu0"] - t * truth["cate"]
    assert abs(resid.mean()) < 4 / np.sqrt(len(y)) and resid.std() == pytest.approx(1, abs=0.02)


def test_uplift_data_confounded_binary_and_multi_arm():
    frame, truth = uplift_data(50_000, kind="binary", confounded=True, seed=2)
    assert set(frame.outcome.unique()) == {0, 1}
    e = truth["propensity"]
    assert e.min() > 0.03 and e.max() < 0.97
    # Confounding is real: the naive contrast is biased upwards by more than 8 SE.
    y, t = frame.outcome.to_numpy(), frame.treatment.to_numpy()
    naive = y[t == 1].mean() - y[t == 0].mean()
    assert naive - truth["ate"] > 8 * np.sqrt(0.25 / (t == 1).sum() + 0.25 / (t == 0).sum())
    # Inverse-propensity weighting with the true propensity removes it (Hájek, within 4 SE).
    w1, w0 = t / e, (1 - t) / (1 - e)
    ipw = (w1 * y).sum() / w1.sum() - (w0 * y).sum() / w0.sum()
    assert abs(ipw - truth["ate"]) < 4 * np.sqrt(2 / len(y))
    multi, mt = uplift_data(3000, kind="continuous", n_arms=3, seed=3)
    assert set(multi.treatment.unique()) == {0, 1, 2}
    assert mt["cate"].shape == (3000, 2) and set(mt["ate"]) == {1, 2}
    np.testing.assert_array_equal(mt["cate_2"], mt["cate"][:, 1])


def test_uplift_data_rejects_bad_arguments():
    with pytest.raises(UserInputError, match="p of at least 4"):
        uplift_data(100, p=2)
    with pytest.raises(UserInputError, match="kind must be"):
        uplift_data(100, kind="count")

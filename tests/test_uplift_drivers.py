"""Drivers of heterogeneity: permutation importance and partial dependence of a CATE model."""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.core.errors import UserInputError
from cerebro.uplift.drivers import partial_dependence, permutation_importance


def design(seed=0, n=4000):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(0, 1, n), rng.uniform(-2, 2, n), rng.normal(5, 3, n)])
    return X, rng


def linear_cate(X):
    """τ(x) = 1 + 2·x1 − 0.5·x2; ignores x3."""
    return 1.0 + 2.0 * X[:, 0] - 0.5 * X[:, 1]


def test_ignored_feature_has_exactly_zero_importance():
    X, _ = design()
    table = permutation_importance(linear_cate, X, ["x1", "x2", "x3"], n_repeats=3, seed=1)
    imp = table.set_index("feature")["importance"]
    assert imp["x3"] == 0.0
    assert list(table["feature"][:2]) == ["x1", "x2"]
    assert table["share"].sum() == pytest.approx(1.0)


def test_importance_of_a_linear_cate_has_its_closed_form():
    """For τ = a + b·x_j, E[importance_j] = 2·b²·Var(x_j) (population variance of the rows
    used); averaged over 200 permutations the MC SD is ~1% of it, tolerance 5 SD."""
    X, _ = design(2)
    table = permutation_importance(linear_cate, X, ["x1", "x2", "x3"], n_repeats=200, seed=3)
    imp = table.set_index("feature")
    for name, b, j in (("x1", 2.0, 0), ("x2", -0.5, 1)):
        expected = 2 * b**2 * X[:, j].var()
        assert imp.loc[name, "importance"] == pytest.approx(
            expected, abs=5 * imp.loc[name, "importance_se"]
        )
        assert imp.loc[name, "importance_se"] < 0.02 * expected


def test_groups_are_permuted_together_and_runs_repeat():
    rng = np.random.default_rng(4)
    n = 3000
    level = rng.integers(0, 3, n)
    onehot = np.eye(3)[level]
    X = np.column_stack([onehot, rng.normal(size=n)])

    def predict(Z):  # depends on the one-hot block only through which level is set
        return Z[:, 0] * 1.0 + Z[:, 1] * 3.0 + Z[:, 2] * (-1.0)

    table = permutation_importance(
        predict, X, ["a", "b", "c", "z"], groups={"plan": [0, 1, 2]}, seed=5
    )
    assert set(table["feature"]) == {"plan", "z"}
    plan = table.set_index("feature").loc["plan"]
    assert plan["columns"] == 3 and plan["share"] == 1.0
    # a joint permutation keeps each row one-hot: the predictions stay in {1, 3, −1}, so the
    # importance is the mean squared change between two levels' effects, bounded by 16
    assert 0 < plan["importance"] <= 16
    again = permutation_importance(
        predict, X, ["a", "b", "c", "z"], groups={"plan": [0, 1, 2]}, seed=5
    )
    assert again.equals(table)


def test_partial_dependence_recovers_a_linear_slope():
    X, _ = design(6)
    pd_x1 = partial_dependence(linear_cate, X, 0, grid=15)
    slope = np.polyfit(pd_x1["value"], pd_x1["cate_mean"], 1)[0]
    assert slope == pytest.approx(2.0, abs=1e-10)
    # additive model: every ICE curve is parallel, so the 10th–90th band has constant width
    width = pd_x1["ice_p90"] - pd_x1["ice_p10"]
    assert np.ptp(width) < 1e-9
    pd_x3 = partial_dependence(linear_cate, X, 2)
    assert np.ptp(pd_x3["cate_mean"]) == pytest.approx(0.0, abs=1e-12)


def test_partial_dependence_of_a_fitted_model_within_sampling_error():
    """T-learner with OLS outcome models on data with τ = 1 + 2·x1: the PD slope of the fitted
    CATE equals the fitted interaction coefficient exactly and covers 2 within 4 SE."""
    import statsmodels.api as sm

    X, rng = design(7, 6000)
    t = (rng.random(X.shape[0]) < 0.5).astype(int)
    y = X[:, 2] + X[:, 0] + t * (1 + 2 * X[:, 0]) + rng.normal(0, 1, X.shape[0])
    design_matrix = sm.add_constant(np.column_stack([X, t, t * X[:, 0]]))
    fit = sm.OLS(y, design_matrix).fit()

    def predict(Z):
        return fit.params[4] + fit.params[5] * Z[:, 0]

    table = partial_dependence(predict, X, 0, grid=10)
    slope = np.polyfit(table["value"], table["cate_mean"], 1)[0]
    assert slope == pytest.approx(fit.params[5], rel=1e-10)
    assert abs(slope - 2.0) < 4 * fit.bse[5]


def test_ice_band_matches_direct_computation():
    X, _ = design(8, 500)

    def predict(Z):
        return Z[:, 0] * Z[:, 1]

    grid = np.array([-1.0, 0.0, 2.0])
    table = partial_dependence(predict, X, 0, grid=grid)
    for g, row in zip(grid, table.itertuples(), strict=True):
        ice = g * X[:, 1]
        assert row.cate_mean == pytest.approx(ice.mean(), abs=1e-12)
        assert row.ice_p10 == pytest.approx(np.quantile(ice, 0.1), abs=1e-12)
        assert row.ice_p90 == pytest.approx(np.quantile(ice, 0.9), abs=1e-12)


def test_binary_feature_grid_uses_its_levels():
    X, rng = design(9, 300)
    X[:, 1] = rng.integers(0, 2, X.shape[0])
    table = partial_dependence(linear_cate, X, 1)
    assert table["value"].tolist() == [0.0, 1.0]


def test_driver_errors():
    X, _ = design(10, 50)
    with pytest.raises(UserInputError, match="2 column names"):
        permutation_importance(linear_cate, X, ["a", "b"])
    with pytest.raises(UserInputError, match="column_index=7"):
        partial_dependence(linear_cate, X, 7)
    with pytest.raises(UserInputError, match="returned 1 predictions"):
        permutation_importance(lambda Z: np.zeros(1), X, ["a", "b", "c"])

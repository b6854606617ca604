"""The shared robust OLS agrees with statsmodels on every covariance type (same data)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from cerebro.stats.ols import ols


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    n = 400
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.gamma(2.0, 1.0, n)])
    cluster = rng.integers(0, 37, n)
    y = X @ [1.0, 0.5, -0.2] + rng.normal(size=n) * (1 + X[:, 2]) + rng.normal(size=37)[cluster]
    return y, X, cluster


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_heteroskedasticity_robust_matches_statsmodels(data, cov_type):
    y, X, _ = data
    ref = sm.OLS(y, X).fit(cov_type=cov_type, use_t=True)
    fit = ols(y, X, cov_type=cov_type)
    assert fit.coef == pytest.approx(ref.params, rel=1e-10)
    assert fit.se == pytest.approx(ref.bse, rel=1e-10)
    low, high, p = fit.interval(0.05)
    assert p == pytest.approx(ref.pvalues, rel=1e-8)
    assert low == pytest.approx(ref.conf_int(0.05)[:, 0], rel=1e-10)
    assert high == pytest.approx(ref.conf_int(0.05)[:, 1], rel=1e-10)


def test_cluster_robust_matches_statsmodels(data):
    y, X, cluster = data
    ref = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cluster}, use_t=True)
    fit = ols(y, X, cluster=cluster)
    assert fit.clusters == 37 and fit.df == 36
    assert fit.se == pytest.approx(ref.bse, rel=1e-10)
    assert fit.interval(0.05)[2] == pytest.approx(ref.pvalues, rel=1e-8)
    stat, q, df2, p = fit.wald(np.array([1, 2]))
    assert (q, df2) == (2, 36)
    ref_f = ref.f_test(np.eye(3)[1:])
    assert stat == pytest.approx(float(np.squeeze(ref_f.fvalue)), rel=1e-8)
    assert p == pytest.approx(float(ref_f.pvalue), rel=1e-6)

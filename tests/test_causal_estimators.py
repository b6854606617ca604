"""Causal estimators: agreement with an independent stacked M-estimation sandwich and statsmodels,
recovery of a known ATE with honest coverage in simulation, risk ratios, trimming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from cerebro.observational import estimators as est
from cerebro.observational.analysis import causal
from cerebro.observational.data import prepare
from cerebro.observational.spec import CausalSpec


def _simulate(n: int, rng: np.random.Generator, binary: bool = False) -> pd.DataFrame:
    """Confounded data: x1, x2 raise both the chance of treatment and the outcome.

    Continuous: y = 1 + 2a + x1 + x2 + 0.5·a·x1 + ε, so ATE = 2 (E x1 = 0) and
    ATT = 2 + 0.5·E[x1 | a = 1]. Binary: P(y = 1) = expit(−1 + 0.8a + 0.6·x1 + 0.4·x2)."""
    x = rng.normal(size=(n, 3))
    e = special.expit(0.6 * x[:, 0] + 0.6 * x[:, 1] + 0.3 * x[:, 2])
    a = (rng.random(n) < e).astype(float)
    if binary:
        y = (rng.random(n) < special.expit(-1 + 0.8 * a + 0.6 * x[:, 0] + 0.4 * x[:, 1])) * 1.0
    else:
        y = 1 + 2 * a + x[:, 0] + x[:, 1] + 0.5 * a * x[:, 0] + rng.normal(size=n)
    return pd.DataFrame({"a": a, "y": y, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})


def _data(frame: pd.DataFrame) -> est.CausalData:
    spec = CausalSpec(treatment="a", outcome="y", confounders=["x1", "x2", "x3"])
    return prepare(frame, spec)


def _sandwich(psi, theta: np.ndarray) -> np.ndarray:
    """Stacked M-estimation covariance A⁻¹ B A⁻ᵀ / n, A by central differences – independent of
    the influence functions the package derives by hand (Stefanski & Boos 2002)."""
    values = psi(theta)
    n, k = values.shape
    jac = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = 1e-6
        jac[:, j] = (psi(theta + step).mean(0) - psi(theta - step).mean(0)) / 2e-6
    bread = np.linalg.inv(jac)
    return bread @ (values.T @ values / n) @ bread.T / n


@pytest.fixture(scope="module")
def sample():
    return _data(_simulate(800, np.random.default_rng(1)))


@pytest.mark.parametrize(
    ("estimand", "kind"), [("ate", "hajek"), ("att", "hajek"), ("ate", "ht"), ("atc", "hajek")]
)
def test_ipw_se_equals_stacked_sandwich(sample, estimand, kind):
    """IPW with the propensity estimated: influence-function variance = numerical sandwich of
    the stacked logistic score and weighted-mean equations (1e-6 relative)."""
    X, a, y = sample.design, sample.a, sample.y
    ps = est.propensity(sample)
    means = est.ipw(sample, ps, estimand, kind)
    p = X.shape[1]

    def psi(theta):
        gamma, mu0, mu1 = theta[:p], theta[p], theta[p + 1]
        e = special.expit(X @ gamma)
        w1, w0 = {
            "ate": (1 / e, 1 / (1 - e)),
            "att": (1 + 0 * e, e / (1 - e)),
            "atc": ((1 - e) / e, 1 + 0 * e),
        }[estimand]
        c = {"ate": 1.0, "att": a, "atc": 1 - a}[estimand]
        if kind == "hajek":
            m1, m0 = a * w1 * (y - mu1), (1 - a) * w0 * (y - mu0)
        else:
            m1, m0 = a * w1 * y - c * mu1, (1 - a) * w0 * y - c * mu0
        return np.column_stack([X * (a - e)[:, None], m0, m1])

    theta = np.concatenate([ps.beta, means.mu])
    assert np.abs(psi(theta).mean(0)).max() < 1e-8  # our estimates solve the equations
    v = _sandwich(psi, theta)
    np.testing.assert_allclose(means.cov, v[p:, p:], rtol=1e-5)


@pytest.mark.parametrize("estimand", ["ate", "att"])
def test_gcomp_se_equals_stacked_sandwich(sample, estimand):
    X, a, y = sample.design, sample.a, sample.y
    means = est.gcomp(sample, estimand)
    p = X.shape[1]
    c = a if estimand == "att" else np.ones_like(a)

    def psi(theta):
        b0, b1, mu0, mu1 = theta[:p], theta[p : 2 * p], theta[2 * p], theta[2 * p + 1]
        return np.column_stack(
            [
                X * ((1 - a) * (y - X @ b0))[:, None],
                X * (a * (y - X @ b1))[:, None],
                c * (X @ b0 - mu0),
                c * (X @ b1 - mu1),
            ]
        )

    import statsmodels.api as sm

    b0 = sm.OLS(y[a == 0], X[a == 0]).fit().params
    b1 = sm.OLS(y[a == 1], X[a == 1]).fit().params
    theta = np.concatenate([b0, b1, means.mu])
    assert np.abs(psi(theta).mean(0)).max() < 1e-8
    np.testing.assert_allclose(means.cov, _sandwich(psi, theta)[2 * p :, 2 * p :], rtol=1e-5)


def test_ipw_point_equals_weighted_regression_and_regression_equals_statsmodels(sample):
    import statsmodels.api as sm

    ps = est.propensity(sample)
    w = est.ipw_weights(ps.mean(sample.design), sample.a, "ate", None)
    wls = sm.WLS(sample.y, sm.add_constant(sample.a), weights=w).fit()
    means = est.ipw(sample, ps, "ate")
    assert means.mu[1] - means.mu[0] == pytest.approx(wls.params[1], abs=1e-10)
    ols = sm.OLS(sample.y, np.column_stack([sample.design[:, :1], sample.a, sample.X])).fit(
        cov_type="HC1"
    )
    assert est.regression(sample) == pytest.approx((ols.params[1], ols.bse[1]), abs=1e-12)


@pytest.mark.slow
def test_known_ate_recovered_with_honest_coverage():
    """300 confounded data sets of 1,500 units, true ATE 2: IPW, AIPW and g-computation are
    unbiased (|mean error| < 4 MC SE) with 95% CI coverage in [0.92, 0.98] (MC SE 1.3 points);
    the naive difference in means is biased by more than 0.5."""
    rng = np.random.default_rng(2024)
    errors: dict[str, list[float]] = {"ipw": [], "aipw": [], "gcomp": [], "naive": []}
    covered: dict[str, list[bool]] = {k: [] for k in errors}
    for _ in range(300):
        data = _data(_simulate(1500, rng))
        ps = est.propensity(data)
        fits = {"ipw": est.ipw(data, ps), "aipw": est.aipw(data, ps), "gcomp": est.gcomp(data)}
        for name, means in fits.items():
            diff = means.mu[1] - means.mu[0]
            se = np.sqrt(means.cov[0, 0] + means.cov[1, 1] - 2 * means.cov[0, 1])
            errors[name].append(diff - 2)
            covered[name].append(abs(diff - 2) < 1.96 * se)
        naive = data.y[data.a == 1].mean() - data.y[data.a == 0].mean()
        errors["naive"].append(naive - 2)
    for name in ("ipw", "aipw", "gcomp"):
        e = np.array(errors[name])
        assert abs(e.mean()) < 4 * e.std() / np.sqrt(len(e)), name
        assert 0.92 <= np.mean(covered[name]) <= 0.98, (name, np.mean(covered[name]))
    assert np.mean(errors["naive"]) > 0.5


def test_binary_outcome_risk_difference_and_ratio():
    """Binary outcome: the risk ratio's CI comes from the delta method on log(μ1/μ0) and
    covers the truth computed from 2,000,000 simulated potential outcomes."""
    rng = np.random.default_rng(7)
    res = causal(_simulate(4000, rng, binary=True), treatment="a", outcome="y",
                 confounders=["x1", "x2", "x3"], method="aipw")  # fmt: skip
    labels = [e.label for e in res.estimates]
    assert labels == ["ATE (risk difference)", "ATE (risk ratio)"]
    x = rng.normal(size=(2_000_000, 2))
    p1 = special.expit(-1 + 0.8 + 0.6 * x[:, 0] + 0.4 * x[:, 1]).mean()
    p0 = special.expit(-1 + 0.6 * x[:, 0] + 0.4 * x[:, 1]).mean()
    rd, rr = res.estimates
    assert rd.ci_low < p1 - p0 < rd.ci_high
    assert rr.ci_low < p1 / p0 < rr.ci_high
    po = res.tables["potential_outcomes"]
    assert rr.value == pytest.approx(po["mean"][1] / po["mean"][0], rel=1e-12)


def test_bootstrap_is_seeded_and_agrees_with_influence_se():
    frame = _simulate(600, np.random.default_rng(3))
    options = dict(treatment="a", outcome="y", confounders=["x1", "x2", "x3"], method="aipw")
    analytic = causal(frame, **options).estimates[0]
    boot = causal(frame, **options, bootstrap=200, seed=5).estimates[0]
    again = causal(frame, **options, bootstrap=200, seed=5).estimates[0]
    assert boot.se == again.se and boot.ci_low == again.ci_low
    # 200 replicates: the SE of a bootstrap SE is about SE/√(2·200) = 5%; allow 4 of those
    assert boot.se == pytest.approx(analytic.se, rel=0.2)
    assert boot.value == analytic.value


def test_parallel_bootstrap_gives_the_serial_numbers():
    """Replicate b always resamples with seed (seed, b), so --jobs changes speed, not numbers."""
    frame = _simulate(400, np.random.default_rng(4))
    options = dict(treatment="a", outcome="y", confounders=["x1", "x2"], method="ipw")
    serial = causal(frame, **options, bootstrap=60, seed=2).estimates[0]
    parallel = causal(frame, **options, bootstrap=60, seed=2, jobs=2).estimates[0]
    assert (parallel.se, parallel.ci_low, parallel.ci_high) == (
        serial.se,
        serial.ci_low,
        serial.ci_high,
    )
    other = causal(frame, **options, bootstrap=60, seed=3).estimates[0]
    assert other.se != serial.se


def test_crump_rule_and_trimming():
    """Crump et al. (2009): α = 0 when max g ≤ 2E[g]; otherwise γ = 2E[g | g ≤ γ] holds at the
    threshold, checked directly; trimming drops exactly the units outside [α, 1 − α]."""
    assert est.crump_bound(np.full(100, 0.5)) == 0.0
    e = special.expit(np.random.default_rng(0).normal(0, 2.5, 5000))
    alpha = est.crump_bound(e)
    g = 1 / (e * (1 - e))
    gamma = 1 / (alpha * (1 - alpha))
    assert gamma == pytest.approx(2 * g[g <= gamma].mean(), rel=1e-9)
    assert 0.02 < alpha < 0.2
    frame = _simulate(3000, np.random.default_rng(4))
    frame["x1"] *= 3  # strong confounding: poor overlap
    res = causal(
        frame,
        treatment="a",
        outcome="y",
        confounders=["x1", "x2", "x3"],
        method="ipw",
        trim="crump",
    )
    codes = {f.code: f for f in res.findings}
    assert "Crump" in codes["trimming"].message
    assert res.summary["units"] < 3000

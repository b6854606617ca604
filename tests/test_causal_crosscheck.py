"""Independent cross-checks of `cerebro causal` on NHEFS: published What If numbers the other
NHEFS tests do not cover (ch. 12 weight ranges, ch. 15 propensity summaries, decile and
propensity-as-covariate regressions, §15.1 outcome regression), and every point estimator, SE
and balance statistic recomputed from scratch with statsmodels / numpy / scikit-learn.

Reference: Hernán MA, Robins JM (2020). *Causal Inference: What If*. Chapman & Hall/CRC –
NHEFS, effect of quitting smoking (qsmk) on weight gain in kg (wt82_71). Data: the `causaldata`
package (`nhefs`: 1,629 smokers; `nhefs_complete`: the 1,566 with a follow-up weight).
"""

from __future__ import annotations

import causaldata as causaldata
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from typer.testing import CliRunner

from cerebro.observational import estimators as est
from cerebro.observational.analysis import causal
from cerebro.observational.data import prepare
from cerebro.observational.spec import CausalSpec

CONFOUNDERS = [
    "sex", "race", "age", "age^2", "C(education)", "smokeintensity", "smokeintensity^2",
    "smokeyrs", "smokeyrs^2", "C(exercise)", "C(active)", "wt71", "wt71^2",
]  # fmt: skip


def _prepare(frame: pd.DataFrame, outcome: str = "wt82_71"):
    spec = CausalSpec(treatment="qsmk", outcome=outcome, confounders=CONFOUNDERS)
    return prepare(frame, spec)


@pytest.fixture(scope="module")
def nhefs() -> pd.DataFrame:
    return causaldata.nhefs_complete.load_pandas().data


@pytest.fixture(scope="module")
def data(nhefs):
    return _prepare(nhefs)


@pytest.fixture(scope="module")
def e(data) -> np.ndarray:
    return est.propensity(data).mean(data.design)


def _fit(frame, **options):
    return causal(frame, treatment="qsmk", outcome="wt82_71", confounders=CONFOUNDERS, **options)


# ---------------------------------------------------------------- published values (What If)


def test_chapter_12_weight_ranges(data, e):
    """What If §12.2: the nonstabilised weights 1/f(A|L) "ranged from 1.05 to 16.7, and their
    mean was 2.00"; §12.3 (Program 12.3): the stabilised weights f(A)/f(A|L) "ranged from 0.33
    to 4.30, and their mean was 1.00" – at the book's rounding, from our propensity model."""
    w = est.ipw_weights(e, data.a, "ate", None)
    assert (round(w.min(), 2), round(w.max(), 1), round(w.mean(), 2)) == (1.05, 16.7, 2.00)
    p = data.a.mean()
    sw = np.where(data.a == 1, p, 1 - p) * w
    assert (round(sw.min(), 2), round(sw.max(), 2), round(sw.mean(), 2)) == (0.33, 4.30, 1.00)
    # Program 12.3: stabilised weights give 3.4 (conservative 95% CI 2.4 to 4.5) as well; a
    # saturated model, so the estimate equals our Hájek estimate exactly
    wls = sm.WLS(data.y, sm.add_constant(data.a), weights=sw).fit(cov_type="HC0")
    low, high = wls.conf_int()[1]
    assert (round(wls.params[1], 1), round(low, 1), round(high, 1)) == (3.4, 2.4, 4.5)
    means = est.ipw(data, est.propensity(data), "ate", "hajek")
    assert means.mu[1] - means.mu[0] == pytest.approx(wls.params[1], abs=1e-10)


def test_chapter_15_1_outcome_regression(nhefs, data):
    """What If §15.1: outcome regression without product terms, 3.5 kg (95% CI 2.6 to 4.3).
    The book's CI is model-based; ours is HC1-robust and so slightly wider (2.5 to 4.4): the
    model-based CI of the same OLS fit reproduces the book, and our SE equals statsmodels' HC1
    SE of that fit to 1e-10."""
    res = _fit(nhefs, method="regression").estimates[0]
    assert round(res.value, 1) == 3.5
    ols = sm.OLS(data.y, np.column_stack([data.design, data.a])).fit()
    low, high = ols.conf_int()[-1]
    assert (round(low, 1), round(high, 1)) == (2.6, 4.3)
    assert res.value == pytest.approx(ols.params[-1], abs=1e-10)
    assert res.se == pytest.approx(ols.get_robustcov_results("HC1").bse[-1], abs=1e-10)
    assert (round(res.ci_low, 1), round(res.ci_high, 1)) == (2.5, 4.4)


@pytest.fixture(scope="module")
def ps_1629():
    """Chapter 15 fits the propensity model on all 1,629 smokers (censored ones included) and
    the outcome analyses on the 1,566 uncensored: our propensity model on the 1,629 rows (the
    outcome is not used by it, so a filled copy lets `prepare` keep every row)."""
    full = causaldata.nhefs.load_pandas().data
    full = full.assign(filled=full["wt82_71"].fillna(0.0))
    d = _prepare(full, outcome="filled")
    return d, est.propensity(d).mean(d.design), full["wt82_71"].to_numpy()


def test_chapter_15_2_propensity_summaries(ps_1629):
    """What If §15.2 (Program 15.2): lowest estimated propensity 0.053, highest 0.793; mean
    0.312 in quitters and 0.245 in non-quitters."""
    d, e, _ = ps_1629
    assert len(e) == 1629
    assert (round(e.min(), 3), round(e.max(), 3)) == (0.053, 0.793)
    assert round(e[d.a == 1].mean(), 3) == 0.312
    assert round(e[d.a == 0].mean(), 3) == 0.245


def test_chapter_15_3_propensity_deciles_and_covariate(ps_1629):
    """What If §15.3 (Program 15.3): decile-specific effects range from 0.0 to 6.6 kg; outcome
    regression on treatment and 9 decile indicators 3.5 (95% CI 2.6, 4.4); with the propensity
    as a continuous covariate 3.6 (2.7, 4.5). Deciles by rank (R's ntile, as the book's
    programs). Our upper limit is 4.4475, which the book rounds up to 4.5 – we assert it to
    the third decimal instead of the first."""
    d, e, y = ps_1629
    seen = ~np.isnan(y)
    decile = np.ceil(pd.Series(e).rank(method="first").to_numpy() * 10 / len(e)).astype(int)
    a = d.a
    effects = [
        y[seen & (decile == k) & (a == 1)].mean() - y[seen & (decile == k) & (a == 0)].mean()
        for k in range(1, 11)
    ]
    assert (round(min(effects), 1), round(max(effects), 1)) == (0.0, 6.6)
    dummies = pd.get_dummies(decile, drop_first=True).to_numpy(float)
    fit = sm.OLS(y[seen], sm.add_constant(np.column_stack([a, dummies]))[seen]).fit()
    low, high = fit.conf_int()[1]
    assert (round(fit.params[1], 1), round(low, 1), round(high, 1)) == (3.5, 2.6, 4.4)
    fit = sm.OLS(y[seen], sm.add_constant(np.column_stack([a, e]))[seen]).fit()
    low, high = fit.conf_int()[1]
    assert (round(fit.params[1], 1), round(low, 1)) == (3.6, 2.7)
    assert high == pytest.approx(4.45, abs=0.005)


def test_missing_outcome_rows_dropped_with_a_finding():
    """The 63 smokers without a follow-up weight are dropped (complete cases, as in the book),
    with a warning finding that counts them; the estimate equals the 1,566-row one."""
    full = causaldata.nhefs.load_pandas().data
    res = _fit(full, method="ipw")
    assert res.summary["units"] == 1566
    dropped = {f.code: f for f in res.findings}["dropped_missing"]
    assert dropped.level == "warning" and "63 of 1,629" in dropped.message
    complete = _fit(causaldata.nhefs_complete.load_pandas().data, method="ipw")
    assert res.estimates[0].value == pytest.approx(complete.estimates[0].value, abs=1e-10)


# ------------------------------------------------------- recomputation from scratch (NHEFS)


def test_propensity_equals_statsmodels_logit_and_sklearn(data, e):
    """Unpenalised logistic MLE: coefficients equal statsmodels' Logit (Newton, a different
    code path from the GLM/IRLS fit we use) to 1e-9 relative (5.6e-12 seen); scikit-learn's
    unpenalised lbfgs on standardised columns gives the same probabilities to 1e-5 (2.5e-6
    seen; its optimiser stops earlier)."""

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    logit = sm.Logit(data.a, data.design).fit(disp=0, tol=1e-12, maxiter=100)
    np.testing.assert_allclose(est.propensity(data).beta, logit.params, rtol=1e-9)
    z = StandardScaler().fit_transform(data.X)
    skl = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(z, data.a)
    np.testing.assert_allclose(e, skl.predict_proba(z)[:, 1], atol=1e-5)


def _ols_predictions(data) -> tuple[np.ndarray, np.ndarray]:
    """Outcome models per arm by least squares (numpy, not statsmodels), predicted for all."""
    m = []
    for arm in (0, 1):
        rows = data.a == arm
        beta = np.linalg.lstsq(data.design[rows], data.y[rows], rcond=None)[0]
        m.append(data.design @ beta)
    return m[0], m[1]


@pytest.mark.parametrize("estimand", ["ate", "att", "atc"])
def test_aipw_and_gcomp_equal_hand_formulas(nhefs, data, e, estimand):
    """AIPW (Lunceford & Davidian 2004; ATT/ATC forms: Moodie et al. 2018) and standardisation
    recomputed from their textbook formulas with independently fitted nuisances: points and
    AIPW SEs (sample variance of the efficient influence function / n) to 1e-8 relative."""
    m0, m1 = _ols_predictions(data)
    a, y = data.a, data.y
    n = len(y)
    if estimand == "ate":
        psi = m1 - m0 + a * (y - m1) / e - (1 - a) * (y - m0) / (1 - e)
        theta = psi.mean()
        influence = psi - theta
        standardised = (m1 - m0).mean()
    elif estimand == "att":
        p = a.mean()
        theta = np.sum(a * (y - m0) - (1 - a) * e / (1 - e) * (y - m0)) / np.sum(a)
        influence = (a * (y - m0) - (1 - a) * e / (1 - e) * (y - m0) - a * theta) / p
        standardised = (m1 - m0)[a == 1].mean()
    else:
        p = 1 - a.mean()
        theta = np.sum((1 - a) * (m1 - y) + a * (1 - e) / e * (y - m1)) / np.sum(1 - a)
        influence = ((1 - a) * (m1 - y) + a * (1 - e) / e * (y - m1) - (1 - a) * theta) / p
        standardised = (m1 - m0)[a == 0].mean()
    aipw = _fit(nhefs, method="aipw", estimand=estimand).estimates[0]
    assert aipw.value == pytest.approx(theta, rel=1e-8)
    assert aipw.se == pytest.approx(np.sqrt(np.mean(influence**2) / n), rel=1e-8)
    gcomp = _fit(nhefs, method="gcomp", estimand=estimand).estimates[0]
    assert gcomp.value == pytest.approx(standardised, rel=1e-8)


@pytest.mark.parametrize("estimand", ["ate", "att", "atc"])
def test_horvitz_thompson_and_truncated_weights_equal_hand_formulas(nhefs, data, e, estimand):
    """Horvitz–Thompson means divide by the target's size, not the weights' sum (What If
    Technical Point 12.1); truncation at the 99th percentile caps every weight at the value
    pandas computes for it. Both to 1e-10."""
    a, y = data.a, data.y
    w1, w0 = {
        "ate": (1 / e, 1 / (1 - e)),
        "att": (np.ones_like(e), e / (1 - e)),
        "atc": ((1 - e) / e, np.ones_like(e)),
    }[estimand]
    size = {"ate": len(y), "att": a.sum(), "atc": (1 - a).sum()}[estimand]
    ht = (np.sum(a * w1 * y) - np.sum((1 - a) * w0 * y)) / size
    value = _fit(nhefs, method="ipw", estimand=estimand, ipw_weights="ht").estimates[0].value
    assert value == pytest.approx(ht, abs=1e-10)
    w = np.where(a == 1, w1, w0)
    capped = np.minimum(w, pd.Series(w).quantile(0.99))
    hajek = np.sum(a * capped * y) / np.sum(a * capped) - np.sum((1 - a) * capped * y) / np.sum(
        (1 - a) * capped
    )
    value = _fit(nhefs, method="ipw", estimand=estimand, truncate=99).estimates[0].value
    assert value == pytest.approx(hajek, abs=1e-10)


@pytest.mark.parametrize(("estimand", "strata"), [("ate", 5), ("att", 5), ("ate", 10)])
def test_stratification_equals_groupby(nhefs, data, e, estimand, strata):
    """Propensity quantile strata (What If §15.3): the estimate is Σ_k share_k (ȳ1k − ȳ0k) with
    the target's shares, its SE √(Σ share_k² (s²1k/n1k + s²0k/n0k)) with strata fixed –
    recomputed with pandas groupby, to 1e-10."""
    edges = np.quantile(e, np.linspace(0, 1, strata + 1)[1:-1])
    frame = pd.DataFrame({"s": np.searchsorted(edges, e, side="right"), "a": data.a, "y": data.y})
    cells = frame.groupby(["s", "a"])["y"].agg(["mean", lambda v: v.var(ddof=0), "size"])
    cells.columns = ["mean", "var", "size"]
    cells = cells.unstack("a")
    target = frame[frame.a == 1] if estimand == "att" else frame
    share = target.groupby("s").size() / len(target)
    diff = cells["mean"][1.0] - cells["mean"][0.0]
    var = cells["var"][1.0] / cells["size"][1.0] + cells["var"][0.0] / cells["size"][0.0]
    res = _fit(nhefs, method="stratification", estimand=estimand, strata=strata).estimates[0]
    assert res.value == pytest.approx(float((share * diff).sum()), abs=1e-10)
    assert res.se == pytest.approx(float(np.sqrt((share**2 * var).sum())), abs=1e-10)


@pytest.mark.parametrize("estimand", ["ate", "att"])
def test_balance_table_equals_hand_computation(nhefs, data, e, estimand):
    """SMD with the unweighted pooled SD in both columns and variance ratios treated/control
    (Austin & Stuart 2015), before and after the estimand's IP weights, recomputed with
    numpy's weighted averages for every confounder term, to 1e-10."""
    table = _fit(nhefs, method="ipw", estimand=estimand).tables.columns("balance")
    assert table["confounder"] == list(data.names)
    w = est.ipw_weights(e, data.a, estimand, None)
    t, c = data.a == 1, data.a == 0
    for j in range(data.X.shape[1]):
        x = data.X[:, j]
        pooled = np.sqrt((x[t].var() + x[c].var()) / 2)
        assert table["smd_before"][j] == pytest.approx(
            (x[t].mean() - x[c].mean()) / pooled, abs=1e-10
        )
        assert table["variance_ratio_before"][j] == pytest.approx(
            x[t].var() / x[c].var(), rel=1e-10
        )
        mt, mc = np.average(x[t], weights=w[t]), np.average(x[c], weights=w[c])
        vt = np.average((x[t] - mt) ** 2, weights=w[t])
        vc = np.average((x[c] - mc) ** 2, weights=w[c])
        assert table["smd_after"][j] == pytest.approx((mt - mc) / pooled, abs=1e-10)
        assert table["variance_ratio_after"][j] == pytest.approx(vt / vc, rel=1e-10)


def test_fixed_trim_keeps_exactly_the_units_inside_the_bounds(nhefs, e):
    """--trim 0.1 keeps the units whose first-fit propensity lies in [0.1, 0.9], then refits:
    the unit count equals the hand count and the estimate equals IPW on those rows alone."""
    keep = (e >= 0.1) & (e <= 0.9)
    res = _fit(nhefs, method="ipw", trim=0.1)
    assert res.summary["units"] == int(keep.sum()) < len(e)
    assert {f.code: f for f in res.findings}["trimming"].level == "warning"
    alone = _fit(nhefs.loc[keep], method="ipw").estimates[0]
    assert res.estimates[0].value == pytest.approx(alone.value, abs=1e-10)
    assert res.estimates[0].se == pytest.approx(alone.se, abs=1e-10)


@pytest.mark.parametrize(
    ("method", "missing"),
    [("rdd", "--running-variable"), ("did", "--post"), ("iv", "--instrument")],
)
def test_designs_name_the_columns_they_miss(tmp_path, nhefs, method, missing):
    """The seeds' call: a design method without its design columns says which flags it needs."""
    from cerebro.cli.main import app

    path = tmp_path / "nhefs.csv"
    nhefs[["qsmk", "wt82_71", "age", "sex"]].to_csv(path, index=False)
    result = CliRunner().invoke(
        app,
        ["causal", str(path), "--treatment", "qsmk", "--outcome", "wt82_71",
         "--confounders", "age,sex", "--method", method],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"--method {method} needs" in result.output and missing in result.output
    assert "Traceback" not in result.output

"""Reference agreement: every A/B test against scipy / statsmodels on the same data.

Tolerance: 1e-6 relative (VALIDATION.md §1) unless a documented convention explains a
difference; then the reference is run with the same convention.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from cerebro.experiments.abtest.analysis import abtest

REL = 1e-6


def pair(df: pd.DataFrame, variant: str, column: str = "revenue") -> tuple[np.ndarray, np.ndarray]:
    return (
        df.loc[df.arm == "control", column].to_numpy(float),
        df.loc[df.arm == variant, column].to_numpy(float),
    )


def first(result, label_part: str = "−"):
    return next(e for e in result.estimates if label_part in e.label)


@pytest.mark.parametrize("test_type,equal_var", [("welch", False), ("ttest", True)])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_tests_match_scipy(ab, test_type, equal_var, alternative):
    res = abtest(
        ab, treatment="arm", outcome="revenue", test_type=test_type, alternative=alternative
    )
    for variant in ("B", "C"):
        c, v = pair(ab, variant)
        ref = stats.ttest_ind(v, c, equal_var=equal_var, alternative=alternative)
        ci = ref.confidence_interval(0.95)
        est = res.estimate(f"revenue: {variant} − control")
        assert est.value == pytest.approx(v.mean() - c.mean(), rel=REL)
        assert est.extra["statistic"] == pytest.approx(ref.statistic, rel=REL)
        assert est.p_value == pytest.approx(ref.pvalue, rel=REL)
        assert est.extra["df"] == pytest.approx(ref.df, rel=REL)
        if np.isfinite(ci.low):
            assert est.ci_low == pytest.approx(ci.low, rel=REL)
        if np.isfinite(ci.high):
            assert est.ci_high == pytest.approx(ci.high, rel=REL)


def test_default_for_continuous_is_welch_and_says_so(ab):
    res = abtest(ab, treatment="arm", outcome="revenue")
    c, v = pair(ab, "B")
    assert res.estimate("revenue: B − control").p_value == pytest.approx(
        stats.ttest_ind(v, c, equal_var=False).pvalue, rel=REL
    )
    messages = [f.message for f in res.findings if f.code == "test_choice"]
    assert any("Welch" in m and "default" in m for m in messages)


def test_multiplicity_matches_statsmodels(ab):
    res = abtest(ab, treatment="arm", outcome="revenue")
    ests = [res.estimate(f"revenue: {v} − control") for v in ("B", "C")]
    p = np.array([e.p_value for e in ests])
    for method, key in (("holm", "p_holm"), ("fdr_bh", "p_bh")):
        ref = multipletests(p, method=method)[1]
        assert [e.extra[key] for e in ests] == pytest.approx(ref, rel=REL)


def test_relative_lift_delta_method(ab2):
    res = abtest(ab2, treatment="arm", outcome="revenue")
    c, v = pair(ab2, "treatment")
    rel = res.estimate("revenue: treatment vs control (relative)")
    var = (
        v.var(ddof=1) / len(v) / c.mean() ** 2
        + v.mean() ** 2 * c.var(ddof=1) / len(c) / c.mean() ** 4
    )
    assert rel.value == pytest.approx(v.mean() / c.mean() - 1, rel=REL)
    assert rel.se == pytest.approx(np.sqrt(var), rel=REL)
    df = res.estimate("revenue: treatment − control").extra["df"]
    q = stats.t.ppf(0.975, df)
    assert rel.ci_low == pytest.approx(rel.value - q * rel.se, rel=REL)


def two_arm_design(df: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    sub = df[df.arm.isin(["control", "B"])]
    d = (sub.arm == "B").to_numpy(float)
    x = sm.add_constant(
        np.column_stack([d, sub[columns].to_numpy(float)]) if columns else d[:, None]
    )
    return sub.revenue.to_numpy(float), x


def test_cuped_student_equals_ancova_ols(ab):
    """CUPED with the pooled Student variance is exactly ANCOVA: OLS y ~ D + covariates."""
    res = abtest(
        ab,
        treatment="arm",
        outcome="revenue",
        covariates=["pre_revenue", "pre_other"],
        test_type="ttest",
    )
    y, x = two_arm_design(ab, ["pre_revenue", "pre_other"])
    fit = sm.OLS(y, x).fit()
    est = res.estimate("revenue: B − control")
    assert est.value == pytest.approx(fit.params[1], rel=REL)
    assert est.se == pytest.approx(fit.bse[1], rel=REL)
    assert est.p_value == pytest.approx(fit.pvalues[1], rel=REL)
    assert [est.ci_low, est.ci_high] == pytest.approx(fit.conf_int()[1], rel=REL)


def test_cuped_welch_equals_adjust_then_welch(ab):
    """Default CUPED: adjust y by the pooled within-arm slope, then Welch (Deng et al. 2013)."""
    res = abtest(ab, treatment="arm", outcome="revenue", covariates="pre_revenue")
    sub = ab[ab.arm.isin(["control", "B"])]
    within = sub.groupby("arm")[["revenue", "pre_revenue"]].transform(lambda s: s - s.mean())
    theta = np.linalg.lstsq(
        within[["pre_revenue"]].to_numpy(), within.revenue.to_numpy(), rcond=None
    )[0][0]
    adjusted = sub.revenue - theta * (sub.pre_revenue - sub.pre_revenue.mean())
    c, v = adjusted[sub.arm == "control"], adjusted[sub.arm == "B"]
    ref = stats.ttest_ind(v, c, equal_var=False)
    est = res.estimate("revenue: B − control")
    assert est.extra["cuped_theta"][0] == pytest.approx(theta, rel=REL)
    assert est.value == pytest.approx(v.mean() - c.mean(), rel=REL)
    assert est.p_value == pytest.approx(ref.pvalue, rel=REL)
    assert est.extra["df"] == pytest.approx(ref.df, rel=REL)
    assert any(f.code == "cuped" and "reduced the variance" in f.message for f in res.findings)


def test_cuped_variance_reduction_is_reported_correctly(ab):
    res = abtest(ab, treatment="arm", outcome="revenue", covariates="pre_revenue")
    plain = abtest(ab, treatment="arm", outcome="revenue")
    est, raw = res.estimate("revenue: B − control"), plain.estimate("revenue: B − control")
    assert est.extra["variance_reduction"] == pytest.approx(1 - est.se**2 / raw.se**2, rel=1e-9)
    assert est.extra["variance_reduction"] > 0.3


def test_ratio_metric_delta_method_equals_wls_hc1(ab2):
    """Ratio of means by the delta method = per-arm WLS of num/den on 1, weights den, HC1."""
    res = abtest(ab2, treatment="arm", outcome="revenue/sessions")
    est = res.estimate("revenue/sessions: treatment − control")
    ses, ratios = [], []
    for arm in ("control", "treatment"):
        sub = ab2[ab2.arm == arm]
        fit = sm.WLS(
            (sub.revenue / sub.sessions).to_numpy(),
            np.ones(len(sub)),
            weights=sub.sessions.to_numpy(),
        ).fit(cov_type="HC1")
        ratios.append(fit.params[0])
        ses.append(fit.bse[0])
    assert est.value == pytest.approx(ratios[1] - ratios[0], rel=REL)
    assert est.se == pytest.approx(np.hypot(*ses), rel=REL)
    assert est.p_value == pytest.approx(2 * stats.norm.sf(abs(est.value / est.se)), rel=REL)


def test_cluster_robust_matches_statsmodels_cr1():
    rng = np.random.default_rng(7)
    g = 120
    sizes = rng.integers(1, 12, g)
    arm_of = rng.integers(0, 2, g)
    cluster = np.repeat(np.arange(g), sizes)
    d = arm_of[cluster]
    y = rng.normal(0, 1, len(cluster)) + rng.normal(0, 1, g)[cluster] + 0.3 * d
    df = pd.DataFrame({"arm": np.where(d == 1, "treatment", "control"), "y": y, "user": cluster})
    res = abtest(df, treatment="arm", outcome="y", cluster="user")
    fit = sm.OLS(y, sm.add_constant(d.astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": cluster}, use_t=True
    )
    est = res.estimate("y: treatment − control")
    assert est.value == pytest.approx(fit.params[1], rel=REL)
    assert est.se == pytest.approx(fit.bse[1], rel=REL)
    assert est.p_value == pytest.approx(fit.pvalues[1], rel=REL)
    assert [est.ci_low, est.ci_high] == pytest.approx(fit.conf_int()[1], rel=REL)
    assert est.extra["df"] == g - 1


def test_cluster_must_nest_treatment():
    from cerebro.core.errors import UserInputError

    df = pd.DataFrame(
        {"arm": ["a", "b", "a", "b"] * 5, "y": np.arange(20.0), "user": [1, 1, 2, 2] * 5}
    )
    with pytest.raises(UserInputError, match="more than one arm"):
        abtest(df, treatment="arm", outcome="y", cluster="user")


def test_post_stratified_equals_interacted_ols_hc2(ab):
    """Post-stratification = OLS with D × centred stratum dummies (Lin 2013), HC2 errors."""
    res = abtest(ab, treatment="arm", outcome="revenue", strata="region")
    sub = ab[ab.arm.isin(["control", "B"])]
    d = (sub.arm == "B").to_numpy(float)
    dummies = pd.get_dummies(sub.region, drop_first=True).to_numpy(float)
    centred = dummies - dummies.mean(axis=0)
    x = sm.add_constant(np.column_stack([d, centred, d[:, None] * centred]))
    fit = sm.OLS(sub.revenue.to_numpy(float), x).fit(cov_type="HC2")
    est = res.estimate("revenue: B − control")
    assert est.value == pytest.approx(fit.params[1], rel=REL)
    assert est.se == pytest.approx(fit.bse[1], rel=REL)
    assert est.p_value == pytest.approx(fit.pvalues[1], rel=REL)


def counts(df: pd.DataFrame, variant: str) -> tuple[int, int, int, int]:
    c, v = pair(df, variant, "converted")
    return int(c.sum()), len(c), int(v.sum()), len(v)


def test_binary_default_is_two_proportion_z(ab):
    res = abtest(ab, treatment="arm", outcome="converted")
    x_c, n_c, x_v, n_v = counts(ab, "B")
    stat, p = proportions_ztest([x_v, x_c], [n_v, n_c])
    low, high = confint_proportions_2indep(x_v, n_v, x_c, n_c, method="wald", compare="diff")
    est = res.estimate("converted: B − control")
    assert est.p_value == pytest.approx(p, rel=REL)
    assert est.extra["statistic"] == pytest.approx(stat, rel=REL)
    assert [est.ci_low, est.ci_high] == pytest.approx([low, high], rel=REL)
    assert any("two-proportion z-test" in f.message for f in res.findings)


def test_chi_square_and_fisher_match_scipy(ab):
    x_c, n_c, x_v, n_v = counts(ab, "C")
    table = [[x_v, n_v - x_v], [x_c, n_c - x_c]]
    chi = abtest(ab, treatment="arm", outcome="converted", test_type="chi_square").estimate(
        "converted: C − control"
    )
    assert chi.p_value == pytest.approx(stats.chi2_contingency(table, correction=False)[1], rel=REL)
    yates = abtest(ab, treatment="arm", outcome="converted", test_type="chi_square", yates=True)
    assert yates.estimate("converted: C − control").p_value == pytest.approx(
        stats.chi2_contingency(table, correction=True)[1], rel=REL
    )
    fisher = abtest(ab, treatment="arm", outcome="converted", test_type="fisher").estimate(
        "converted: C − control"
    )
    assert fisher.p_value == pytest.approx(stats.fisher_exact(table)[1], rel=REL)


def test_stratified_binary_uses_cmh(ab):
    res = abtest(ab, treatment="arm", outcome="converted", strata="region")
    tables = []
    for region in sorted(ab.region.unique()):
        part = ab[ab.region == region]
        x_c, n_c, x_v, n_v = counts(part, "B")
        tables.append([[x_v, n_v - x_v], [x_c, n_c - x_c]])
    ref = StratifiedTable(np.array(tables).transpose(1, 2, 0).astype(float)).test_null_odds(
        correction=False
    )
    est = res.estimate("converted: B − control")
    assert est.p_value == pytest.approx(ref.pvalue, rel=REL)
    assert "Mantel" in est.extra["test"]


def test_mann_whitney_matches_scipy(ab):
    res = abtest(ab, treatment="arm", outcome="revenue", test_type="mann_whitney")
    c, v = pair(ab, "B")
    est = res.estimate("revenue: B − control")
    assert est.p_value == pytest.approx(stats.mannwhitneyu(v, c).pvalue, rel=REL)
    assert est.value == pytest.approx(np.median(np.subtract.outer(v, c)), rel=REL)


def test_srm_check_matches_scipy_and_flags_imbalance():
    df = pd.DataFrame({"arm": ["control"] * 5300 + ["B"] * 4700, "y": np.arange(10000.0) % 7})
    res = abtest(df, treatment="arm", outcome="y")
    srm = next(f for f in res.findings if f.code == "srm")
    p = stats.chisquare([4700, 5300]).pvalue
    assert srm.level == "error" and f"{p:.2g}" in srm.message
    planned = abtest(df, treatment="arm", outcome="y", expected_allocation={"control": 53, "B": 47})
    assert next(f for f in planned.findings if f.code == "srm").level == "info"


def test_two_strata_columns_with_missing_values(ab):
    """Strata of two columns = strata of their combination; rows missing a stratum are dropped."""
    df = ab.assign(segment=np.where(np.arange(len(ab)) % 3 == 0, "new", "old"))
    df.loc[5, "segment"] = None
    combined = df.assign(cell=df.region + " | " + df.segment)
    both = abtest(df, treatment="arm", outcome="revenue", strata=["region", "segment"])
    one = abtest(
        combined.dropna(subset=["segment"]), treatment="arm", outcome="revenue", strata="cell"
    )
    for a, b in zip(both.estimates, one.estimates, strict=True):
        assert a.value == pytest.approx(b.value, rel=1e-12)
        assert a.se == pytest.approx(b.se, rel=1e-12)
    assert any(f.code == "dropped_missing" and "dropped 1 of" in f.message for f in both.findings)


def test_narrative_states_the_numbers(ab2):
    res = abtest(ab2, treatment="arm", outcome="revenue")
    rel = res.estimate("revenue: treatment vs control (relative)")
    p = res.estimate("revenue: treatment − control").p_value
    text = res.narrative()
    assert f"{rel.value:+.1%}" in text and f"{rel.ci_low:+.1%} to {rel.ci_high:+.1%}" in text
    assert f"p = {p:.2g}" in text
    assert ("not statistically significant" in text) == (p >= 0.05)


def test_omnibus_chi_square_for_binary_abn(ab):
    from scipy import stats as sps

    res = abtest(ab, treatment="arm", outcome="converted")
    table = ab.groupby("arm").converted.agg(["sum", "count"]).loc[["control", "B", "C"]]
    ref = sps.chi2_contingency(
        np.column_stack([table["sum"], table["count"] - table["sum"]]), correction=False
    )
    omnibus = next(f for f in res.findings if f.code == "omnibus")
    assert f"chi2(2) = {ref[0]:.3g}" in omnibus.message and f"p = {ref[1]:.2g}" in omnibus.message


def test_html_rendering_for_notebooks(ab2):
    html = abtest(ab2, treatment="arm", outcome="revenue")._repr_html_()
    assert "<table" in html and "rel lift CI" in html and "control arm" in html

"""Count-based tests against scipy and statsmodels on the same tables, and under the null."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from cerebro.core.errors import UserInputError
from cerebro.experiments import proportion_tests
from cerebro.experiments.proportion_tests import (
    chi_square_omnibus,
    chi_square_test,
    cmh_test,
    fisher_exact_test,
    newcombe_interval,
    suggest_fisher,
    two_proportion_ztest,
)

# (x_control, n_control, x_variant, n_variant): large, unequal, small, a zero cell, lower rate.
TABLES = [
    (120, 1000, 150, 1000),
    (30, 412, 21, 388),
    (3, 40, 9, 35),
    (0, 25, 4, 30),
    (520, 5100, 500, 5000),
]
ALTERNATIVES = ["two-sided", "greater", "less"]
SM_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}
REL = 1e-9


def table_of(x_c: int, n_c: int, x_v: int, n_v: int) -> np.ndarray:
    return np.array([[x_v, n_v - x_v], [x_c, n_c - x_c]])


def one_sided(low_high: tuple[float, float], alternative: str) -> list[float]:
    """The one-sided interval at 1 − α from the two-sided one at 1 − 2α."""
    low, high = low_high
    return [low, np.inf] if alternative == "greater" else [-np.inf, high]


@pytest.mark.parametrize("counts", TABLES)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_ztest_matches_statsmodels(counts, alternative):
    """Pooled statistic as `proportions_ztest`; unpooled Wald CI as `confint_proportions_2indep`."""
    x_c, n_c, x_v, n_v = counts
    res = two_proportion_ztest(*counts, alpha=0.05, alternative=alternative)
    stat, p = proportions_ztest([x_v, x_c], [n_v, n_c], alternative=SM_ALTERNATIVE[alternative])
    assert res.statistic == pytest.approx(stat, rel=REL)
    assert res.p_value == pytest.approx(p, rel=REL)
    assert res.estimate == pytest.approx(x_v / n_v - x_c / n_c, rel=REL)
    level = 0.05 if alternative == "two-sided" else 0.10
    wald = confint_proportions_2indep(
        x_v, n_v, x_c, n_c, method="wald", compare="diff", alpha=level
    )
    expected = list(wald) if alternative == "two-sided" else one_sided(wald, alternative)
    assert [res.ci_low, res.ci_high] == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("counts", TABLES)
@pytest.mark.parametrize("yates", [False, True])
def test_chi_square_matches_scipy(counts, yates):
    stat, p, _, _ = stats.chi2_contingency(table_of(*counts), correction=yates)
    res = chi_square_test(*counts, yates=yates)
    assert res.statistic == pytest.approx(stat, rel=REL)
    assert res.p_value == pytest.approx(p, rel=REL)
    z = two_proportion_ztest(*counts)
    assert (res.estimate, res.ci_low, res.ci_high) == (z.estimate, z.ci_low, z.ci_high)
    if not yates:
        assert res.statistic == pytest.approx(z.statistic**2, rel=REL)


def test_chi_square_is_two_sided_only():
    with pytest.raises(UserInputError, match="two-sided only"):
        chi_square_test(120, 1000, 150, 1000, alternative="greater")


def test_no_successes_anywhere_means_nothing_to_test():
    for test in (two_proportion_ztest, chi_square_test):
        res = test(0, 100, 0, 120)
        assert (res.statistic, res.p_value, res.estimate) == (0.0, 1.0, 0.0)
    fisher = fisher_exact_test(0, 100, 0, 120)
    assert (fisher.p_value, fisher.estimate) == (1.0, 0.0)
    assert np.isnan(fisher.extra["odds_ratio"])  # undefined, as scipy says
    assert chi_square_omnibus([5, 7, 9], [5, 7, 9]) == (0.0, 2, 1.0)


def test_chi_square_omnibus_matches_scipy():
    x, n = [120, 150, 131, 97], [1000, 1000, 990, 1010]
    stat, df, p = chi_square_omnibus(x, n)
    ref = stats.chi2_contingency(np.column_stack([x, np.subtract(n, x)]), correction=False)
    assert (stat, df, p) == (pytest.approx(ref[0], rel=REL), 3, pytest.approx(ref[1], rel=REL))


@pytest.mark.parametrize(
    "x,n,pattern", [([1, 2], [10], "two or more arms"), ([1, 12], [10, 10], "12 successes")]
)
def test_chi_square_omnibus_rejects_bad_counts(x, n, pattern):
    with pytest.raises(UserInputError, match=pattern):
        chi_square_omnibus(x, n)


@pytest.mark.parametrize("counts", TABLES)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_fisher_matches_scipy_and_statsmodels(counts, alternative):
    x_c, n_c, x_v, n_v = counts
    table = table_of(*counts)
    res = fisher_exact_test(*counts, alpha=0.05, alternative=alternative)
    assert res.p_value == pytest.approx(
        stats.fisher_exact(table, alternative=alternative)[1], rel=REL
    )
    odds = stats.contingency.odds_ratio(table, kind="conditional")
    ci = odds.confidence_interval(0.95, alternative=alternative)
    assert res.extra["odds_ratio"] == pytest.approx(odds.statistic, rel=REL)
    assert res.extra["odds_ratio_ci_method"] == "exact conditional"
    assert [res.extra["odds_ratio_ci_low"], res.extra["odds_ratio_ci_high"]] == pytest.approx(
        [ci.low, ci.high], rel=REL
    )
    level = 0.05 if alternative == "two-sided" else 0.10
    newcombe = confint_proportions_2indep(
        x_v, n_v, x_c, n_c, method="newcomb", compare="diff", alpha=level
    )
    expected = list(newcombe) if alternative == "two-sided" else one_sided(newcombe, alternative)
    assert [res.ci_low, res.ci_high] == pytest.approx(expected, rel=REL, abs=1e-15)


def test_fisher_odds_ratio_ci_is_woolf_for_large_tables(monkeypatch):
    """Above the margin limit the odds-ratio CI is scipy's sample (Woolf) interval."""
    monkeypatch.setattr(proportion_tests, "_EXACT_ODDS_CI_MARGIN", 100)
    res = fisher_exact_test(120, 1000, 150, 1000, alternative="greater")
    ref = stats.contingency.odds_ratio(table_of(120, 1000, 150, 1000), kind="sample")
    ci = ref.confidence_interval(0.95, alternative="greater")
    assert res.extra["odds_ratio_ci_method"] == "Woolf (log odds ratio)"
    assert (res.extra["odds_ratio_ci_low"], res.extra["odds_ratio_ci_high"]) == (ci.low, ci.high)


def test_newcombe_reproduces_the_published_examples():
    """Newcombe (1998), worked examples, method 10 (hybrid score), published to 4 decimals.

    Each as (x_1, n_1, x_2, n_2) for p_1 − p_2, with the published interval.
    """
    published = [
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((0, 10, 0, 10), (-0.2775, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0000)),
        ((10, 10, 0, 10), (0.6075, 1.0000)),
    ]
    for (x1, n1, x2, n2), interval in published:
        assert newcombe_interval(x2, n2, x1, n1) == pytest.approx(interval, abs=5e-5)


def strata_as_tables(strata: list[tuple[int, int, int, int]]) -> np.ndarray:
    """(K, 2, 2): rows control, variant; columns successes, failures."""
    return np.array([[[x_c, n_c - x_c], [x_v, n_v - x_v]] for x_c, n_c, x_v, n_v in strata])


def china_smoking() -> list[tuple[int, int, int, int]]:
    """Lung cancer by smoking in eight Chinese cities (Liu 1992), as shipped with statsmodels.

    Control = non-smokers, variant = smokers, success = lung cancer.
    """
    data = sm.datasets.china_smoking.load_pandas().data.to_numpy()
    return [(nc_y, nc_y + nc_n, s_y, s_y + s_n) for s_y, s_n, nc_y, nc_n in data]


@pytest.mark.parametrize("correction", [False, True])
@pytest.mark.parametrize(
    "strata", [[(20, 100, 30, 100), (15, 80, 22, 90), (8, 60, 10, 50)], china_smoking()]
)
def test_cmh_matches_statsmodels_and_hand_computation(strata, correction):
    res = cmh_test(strata, alpha=0.1, correction=correction)
    assert res == cmh_test(strata_as_tables(strata), alpha=0.1, correction=correction)
    # statsmodels' layout: (2, 2, K), rows variant, control.
    ref = StratifiedTable(strata_as_tables(strata)[:, ::-1].transpose(1, 2, 0).astype(float))
    assert res.p_value == pytest.approx(ref.test_null_odds(correction=correction).pvalue, rel=REL)
    assert [res.ci_low, res.ci_high] == pytest.approx(
        list(ref.oddsratio_pooled_confint(alpha=0.1)), rel=REL
    )
    assert res.extra["breslow_day_p_value"] == pytest.approx(ref.test_equal_odds().pvalue, rel=REL)
    # By hand (Agresti 2013, §6.4): a = variant successes in each stratum.
    num = var = mh_top = mh_bottom = 0.0
    for x_c, n_c, x_v, n_v in strata:
        a, b, c, d = x_v, n_v - x_v, x_c, n_c - x_c
        n = a + b + c + d
        num += a - (a + b) * (a + c) / n
        var += (a + b) * (c + d) * (a + c) * (b + d) / (n**2 * (n - 1))
        mh_top, mh_bottom = mh_top + a * d / n, mh_bottom + b * c / n
    assert res.statistic == pytest.approx((abs(num) - 0.5 * correction) ** 2 / var, rel=REL)
    assert res.p_value == pytest.approx(stats.chi2.sf(res.statistic, 1), rel=REL)
    assert res.estimate == pytest.approx(mh_top / mh_bottom, rel=REL)


def test_cmh_rejects_tables_of_the_wrong_shape():
    with pytest.raises(UserInputError, match="shape"):
        cmh_test([(1, 10, 2)])


def test_suggest_fisher_by_cochrans_rule():
    assert suggest_fisher(2, 30, 4, 25)  # expected successes 3.3 and 2.7
    assert not suggest_fisher(3, 40, 9, 35)  # expected 6.4 and 5.6
    assert not suggest_fisher(120, 1000, 150, 1000)
    assert suggest_fisher(997, 1000, 995, 1000)  # failures count too: 4 expected per arm
    assert not suggest_fisher(995, 1000, 990, 1000)  # 7.5 expected failures per arm


@pytest.mark.parametrize(
    "args,pattern",
    [
        ((5, 0, 1, 10), "control arm has 0 units"),
        ((1, 10, 1, -3), "variant arm has -3 units"),
        ((11, 10, 1, 10), "11 successes out of 10"),
        ((1, 10, -1, 10), "-1 successes out of 10"),
        ((1, 10, 1, 10, 1.2), "alpha must be strictly between 0 and 1, got 1.2"),
        ((1, 10, 1, 10, 0.05, "larger"), "alternative 'larger' is unknown"),
    ],
)
@pytest.mark.parametrize("test", [two_proportion_ztest, chi_square_test, fisher_exact_test])
def test_bad_counts_are_user_errors(test, args, pattern):
    with pytest.raises(UserInputError, match=pattern):
        if test is chi_square_test and len(args) == 6:
            test(*args[:5], alternative=args[5])
        else:
            test(*args)


def test_type_one_error_under_the_null():
    """n = 2000 per arm, p = 0.1, 4000 replications (seeded), alpha 0.05.

    Measured with this seed: z 0.0535, chi-square 0.0535 (the same test without Yates), Fisher
    0.0470 (exact tests are conservative by construction; at this n hardly so). With equal
    arms the two-sided p-values do not change when the arms swap, so each unordered pair of
    counts is tested once (1,458 distinct pairs) and counted as often as it was drawn. Fisher's
    p-value is scipy's, as `fisher_exact_test` returns it (checked above), without the exact
    odds-ratio CI that costs that function 75 ms a table at this size.
    """
    rng = np.random.default_rng(99)
    pairs, seen = np.unique(
        np.sort(rng.binomial(2000, 0.1, (4000, 2)), axis=1), axis=0, return_counts=True
    )
    z = np.array([two_proportion_ztest(a, 2000, b, 2000).p_value for a, b in pairs])
    chi = np.array([chi_square_test(a, 2000, b, 2000).p_value for a, b in pairs])
    fisher = np.array([stats.fisher_exact(table_of(a, 2000, b, 2000))[1] for a, b in pairs])
    rate = {
        name: seen[p < 0.05].sum() / 4000
        for name, p in [("z", z), ("chi", chi), ("fisher", fisher)]
    }
    assert 0.04 <= rate["z"] <= 0.06
    assert 0.04 <= rate["chi"] <= 0.06
    assert rate["fisher"] <= 0.06

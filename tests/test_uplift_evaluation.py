"""Uplift evaluation: curves, AUUC and Qini against scikit-uplift, hand cases, ties, bins, speed.

Reference: scikit-uplift 0.5.1 (`sklift.metrics`), installed in the venv for the tests only;
it changes none of numpy, scipy, pandas, scikit-learn, statsmodels or lightgbm. Its metrics
accept binary outcomes only, so continuous outcomes are checked against a slow loop over the
distinct scores written from the published definitions (below, independent of the code).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cerebro.core.errors import UserInputError
from cerebro.uplift import evaluation as ev

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from sklift import metrics as skm

AGREE = 1e-9  # what the issue asks for


def sk(fun, *args, **kw):
    with warnings.catch_warnings():  # sklearn deprecation warnings inside sklift
        warnings.simplefilter("ignore")
        return fun(*args, **kw)


def loop_curve(y, t, score):
    """Slow reference: for every distinct score (high to low) take all rows at or above it."""
    xs, ups, qs = [0.0], [0.0], [0.0]
    for s in sorted(set(score.tolist()), reverse=True):
        top = score >= s
        nt, nc = int(np.sum(top & (t == 1))), int(np.sum(top & (t == 0)))
        yt, yc = float(np.sum(y[top & (t == 1)])), float(np.sum(y[top & (t == 0)]))
        mt = yt / nt if nt else 0.0
        mc = yc / nc if nc else 0.0
        xs.append(float(top.sum()))
        ups.append((mt - mc) * top.sum())
        qs.append(yt - yc * (nt / nc if nc else 0.0))
    return np.array(xs), np.array(ups), np.array(qs)


def loop_area(x, g):
    area = sum((x[i + 1] - x[i]) * (g[i + 1] + g[i]) / 2 for i in range(len(x) - 1))
    return area - x[-1] * g[-1] / 2


def random_case(rng, n, decimals, p_treat=0.5, p_y=0.3):
    y = (rng.random(n) < p_y).astype(int)
    t = (rng.random(n) < p_treat).astype(int)
    score = np.round(rng.normal(size=n), decimals)
    return y, t, score


CASES = [(50, 0), (300, 1), (1000, 2), (2500, 6), (777, 1)]


@pytest.mark.parametrize(("n", "decimals"), CASES)
def test_curves_match_scikit_uplift(n, decimals):
    rng = np.random.default_rng(n + decimals)
    for p_treat, p_y in [(0.5, 0.3), (0.2, 0.6), (0.8, 0.1)]:
        y, t, score = random_case(rng, n, decimals, p_treat, p_y)
        curve = ev.uplift_curve(y, t, score)
        x_up, g_up = sk(skm.uplift_curve, y, score, t)
        x_q, g_q = sk(skm.qini_curve, y, score, t)
        np.testing.assert_array_equal(curve["n"].to_numpy(), x_up)
        np.testing.assert_array_equal(curve["n"].to_numpy(), x_q)
        np.testing.assert_allclose(curve["uplift_gain"], g_up, rtol=0, atol=AGREE)
        np.testing.assert_allclose(curve["qini_gain"], g_q, rtol=0, atol=AGREE)
        assert ev.auuc(y, t, score) == pytest.approx(
            sk(skm.uplift_auc_score, y, score, t), abs=AGREE
        )
        assert ev.qini_coefficient(y, t, score) == pytest.approx(
            sk(skm.qini_auc_score, y, score, t), abs=AGREE
        )


def test_qini_without_negative_effects_matches_scikit_uplift():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(20):
        y, t, score = random_case(rng, 600, 1)
        total = ev.uplift_curve(y, t, score)["qini_gain"].iloc[-1]
        if total <= 0:  # scikit-uplift's perfect curve is then not monotone (sklearn raises)
            assert np.isnan(ev.qini_coefficient(y, t, score, negative_effect=False))
            continue
        ref = sk(skm.qini_auc_score, y, score, t, negative_effect=False)
        assert ev.qini_coefficient(y, t, score, negative_effect=False) == pytest.approx(
            ref, abs=AGREE
        )
        checked += 1
    assert checked >= 5


def test_uplift_at_top_matches_scikit_uplift_without_ties():
    rng = np.random.default_rng(4)
    y, t, _ = random_case(rng, 1234, 0)
    score = rng.normal(size=1234)
    for k in (0.05, 0.1, 0.3, 0.5):
        ref = sk(skm.uplift_at_k, y, score, t, strategy="overall", k=k)
        assert ev.uplift_at(y, t, score, k) == pytest.approx(ref, abs=1e-12)


def test_hand_computed_tiny_case():
    """Six rows worked by hand (scores 0.9 0.9 0.5 0.2 0.1 0.1).

    Curve points (N, uplift gain, Qini gain): (0,0,0) (2,2,1) (3,1.5,1) (4,0,0) (6,2,1).
    Areas above the chord: uplift 6.5 − 6 = 0.5, Qini 3.5 − 3 = 0.5. Perfect uplift ranking
    (TR, CN, TN, CR as CR = TN = 1): points (2,2) (4,4) (5,10/3) (6,2), area 43/3 − 6 = 25/3,
    so AUUC = 0.5 / (25/3) = 0.06. Perfect Qini (TR, TN+CN, CR): (2,2) (5,2) (6,1), area
    9.5 − 3 = 6.5, so Qini = 0.5/6.5 = 1/13.
    """
    score = np.array([0.9, 0.9, 0.5, 0.2, 0.1, 0.1])
    t = np.array([1, 0, 1, 0, 1, 0])
    y = np.array([1, 0, 0, 1, 1, 0])
    curve = ev.uplift_curve(y, t, score)
    np.testing.assert_array_equal(curve["n"], [0, 2, 3, 4, 6])
    np.testing.assert_array_equal(curve["n_treated"], [0, 1, 2, 2, 3])
    np.testing.assert_allclose(curve["uplift_gain"], [0, 2, 1.5, 0, 2], atol=1e-15)
    np.testing.assert_allclose(curve["qini_gain"], [0, 1, 1, 0, 1], atol=1e-15)
    np.testing.assert_allclose(curve["fraction"], [0, 2 / 6, 3 / 6, 4 / 6, 1])
    assert ev.auuc(y, t, score) == pytest.approx(0.06, abs=1e-15)
    assert ev.qini_coefficient(y, t, score) == pytest.approx(1 / 13, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1])
def test_continuous_outcome_matches_loop_reference(seed):
    rng = np.random.default_rng(seed)
    n = 400
    t = rng.integers(0, 2, n)
    y = rng.gamma(2.0, 3.0, n) + 2.0 * t
    score = np.round(rng.normal(size=n), 1)
    curve = ev.uplift_curve(y, t, score)
    x, up, q = loop_curve(y, t, score)
    np.testing.assert_array_equal(curve["n"], x)
    np.testing.assert_allclose(curve["uplift_gain"], up, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(curve["qini_gain"], q, rtol=1e-12, atol=1e-9)
    perfect = y * (2 * t - 1)  # the documented perfect ranking for continuous outcomes
    xp, upp, qp = loop_curve(y, t, perfect)
    assert ev.auuc(y, t, score) == pytest.approx(loop_area(x, up) / loop_area(xp, upp), abs=AGREE)
    assert ev.qini_coefficient(y, t, score) == pytest.approx(
        loop_area(x, q) / loop_area(xp, qp), abs=AGREE
    )
    assert ev.qini_coefficient(y, t, perfect) == pytest.approx(1.0, abs=1e-12)


def test_ties_enter_together():
    rng = np.random.default_rng(5)
    y, t, score = random_case(rng, 3000, 1)
    curve = ev.uplift_curve(y, t, score)
    assert len(curve) == np.unique(score).size + 1
    # reordering rows (so ties are met in another order) changes nothing
    perm = rng.permutation(score.size)
    again = ev.uplift_curve(y[perm], t[perm], score[perm])
    pd.testing.assert_frame_equal(curve, again, check_exact=False, rtol=1e-12, atol=1e-9)
    assert ev.auuc(y[perm], t[perm], score[perm]) == pytest.approx(ev.auuc(y, t, score), abs=1e-12)
    # a constant score is one tie group: the curve is the chord, areas 0
    flat = ev.uplift_curve(y, t, np.zeros_like(score))
    assert len(flat) == 2
    assert ev.qini_coefficient(y, t, np.zeros_like(score)) == pytest.approx(0.0, abs=1e-12)


def test_descending_order_exact_for_near_ties():
    """Scores one ulp apart share the packed key's kept bits; the fix-up must order them."""
    rng = np.random.default_rng(6)
    n = 200_000
    base = 1.0 + np.cumsum(rng.integers(0, 3, n)) * np.finfo(float).eps
    score = rng.permutation(np.concatenate([base, -base, np.zeros(10)]))
    order = ev.descending_order(score)
    assert np.array_equal(np.sort(order), np.arange(score.size))
    assert np.all(np.diff(score[order]) <= 0)
    ranking = ev.rank_scores(score)
    np.testing.assert_array_equal(ranking.values, np.unique(score)[::-1])


def heterogeneous(seed, n):
    """Binary outcome with CATE tau(x) = 0.25 (x − 0.3), x ~ U(0, 1), randomised 50/50."""
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    tau = 0.25 * (x - 0.3)
    t = (rng.random(n) < 0.5).astype(int)
    p = 0.2 + 0.1 * x + t * tau
    y = (rng.random(n) < p).astype(int)
    return y, t, tau, rng


def test_perfect_random_and_reversed_scores():
    y, t, tau, rng = heterogeneous(7, 20_000)
    # the perfect ranking scores exactly 1 on both metrics
    assert ev.qini_coefficient(y, t, y * (2 * t - 1)) == pytest.approx(1.0, abs=1e-12)
    cr, tn = np.sum((y == 1) & (t == 0)), np.sum((y == 0) & (t == 1))
    perfect_uplift = 2 * (y == t) + (y if cr > tn else t)
    assert ev.auuc(y, t, perfect_uplift) == pytest.approx(1.0, abs=1e-12)
    # random scores: the coefficient is centred at 0; its sampling SD is measured over 200
    # random scores, and the mean must be within 4 SD/√200 of 0
    random_q = np.array([ev.qini_coefficient(y, t, rng.random(y.size)) for _ in range(200)])
    sd = random_q.std(ddof=1)
    assert abs(random_q.mean()) < 4 * sd / np.sqrt(200)
    # the true CATE ranks well above random, its reverse well below
    q_true = ev.qini_coefficient(y, t, tau)
    q_rev = ev.qini_coefficient(y, t, -tau)
    assert q_true > 4 * sd
    assert q_rev < -4 * sd
    assert ev.auuc(y, t, tau) > 0 > ev.auuc(y, t, -tau)


def reference_bins(score, bins):
    """Independent bin assignment for distinct scores: sorted position p → ⌊(p + ½)·B/n⌋ + 1."""
    pos = np.empty(score.size, dtype=int)
    pos[np.argsort(-score, kind="stable")] = np.arange(score.size)
    return np.floor((pos + 0.5) * bins / score.size).astype(int) + 1


def test_uplift_by_bin_equals_groupby_and_welch():
    y, t, tau, rng = heterogeneous(8, 5003)
    score = tau + rng.normal(0, 0.05, y.size)
    table = ev.uplift_by_bin(y, t, score, bins=10, alpha=0.1)
    frame = pd.DataFrame({"y": y, "t": t, "s": score, "bin": reference_bins(score, 10)})
    means = frame.groupby(["bin", "t"])["y"].mean().unstack()
    np.testing.assert_allclose(table["observed"], (means[1] - means[0]).to_numpy(), atol=1e-12)
    np.testing.assert_allclose(table["predicted"], frame.groupby("bin")["s"].mean(), atol=1e-12)
    counts = frame.groupby(["bin", "t"]).size().unstack()
    np.testing.assert_array_equal(table["n_treated"], counts[1])
    np.testing.assert_array_equal(table["n_control"], counts[0])
    for b, row in table.iterrows():
        part = frame[frame["bin"] == b + 1]
        res = stats.ttest_ind(part.y[part.t == 1], part.y[part.t == 0], equal_var=False)
        ci = res.confidence_interval(0.9)
        assert row["observed"] / res.statistic == pytest.approx(row["se"], rel=1e-10)
        assert row["ci_low"] == pytest.approx(ci.low, rel=1e-9)
        assert row["ci_high"] == pytest.approx(ci.high, rel=1e-9)


def test_uplift_by_bin_keeps_ties_together():
    rng = np.random.default_rng(9)
    y, t, score = random_case(rng, 2000, 1)
    bins = ev.bin_rows(score, 10)
    for value in np.unique(score):
        assert np.unique(bins[score == value]).size == 1
    # higher scores never sit in a later bin
    order = np.argsort(-score, kind="stable")
    assert np.all(np.diff(bins[order]) >= 0)
    table = ev.uplift_by_bin(y, t, score)
    assert table["n_treated"].sum() + table["n_control"].sum() == y.size


def test_bin_interval_coverage():
    """Coverage of the per-bin effect over 400 replications × 10 bins (4,000 intervals).

    Fixed design (x, score), fresh randomisation and noise per replication; the truth of a bin
    is the mean CATE of its rows (what the difference in means estimates under randomisation).
    Monte Carlo SD of the coverage ≈ √(0.95·0.05/4000) = 0.0034; [0.93, 0.97] is ±6 SD.
    """
    rng = np.random.default_rng(10)
    n, reps, bins = 2000, 400, 10
    x = rng.random(n)
    tau = 1.0 + 0.5 * x
    mu0 = 3.0 * x**2
    score = tau + rng.normal(0, 0.2, n)
    row_bin = ev.bin_rows(score, bins)
    truth = np.array([tau[row_bin == b].mean() for b in range(1, bins + 1)])
    covered = 0
    for _ in range(reps):
        t = (rng.random(n) < 0.5).astype(int)
        y = mu0 + t * tau + rng.normal(0, 1.0 + x, n)
        table = ev.uplift_by_bin(y, t, score, bins=bins)
        covered += int(np.sum((table["ci_low"] <= truth) & (truth <= table["ci_high"])))
    coverage = covered / (reps * bins)
    assert 0.93 <= coverage <= 0.97


def test_calibration_slope_against_wls_and_truth():
    import statsmodels.api as sm

    y, t, tau, _rng = heterogeneous(11, 40_000)
    table = ev.uplift_by_bin(y, t, tau)
    slope, se = ev.calibration_slope(y, t, tau)
    fit = sm.WLS(
        table["observed"], sm.add_constant(table["predicted"]), weights=1 / table["se"] ** 2
    ).fit()
    assert slope == pytest.approx(fit.params.iloc[1], rel=1e-10)
    assert se == pytest.approx(fit.bse.iloc[1] / np.sqrt(fit.scale), rel=1e-10)  # known variances
    # the true CATE is calibrated (slope 1); doubling it halves the slope; both within 4 SE
    assert abs(slope - 1) < 4 * se
    slope2, se2 = ev.calibration_slope(y, t, 2 * tau)
    assert abs(slope2 - 0.5) < 4 * se2


def test_calibration_slope_interval_coverage():
    """±1.96 SE around the slope covers 1 for the true CATE in 300 replications (MC SD 0.013)."""
    rng = np.random.default_rng(12)
    n = 3000
    x = rng.random(n)
    tau = 2.0 * x
    hits = 0
    for _ in range(300):
        t = (rng.random(n) < 0.5).astype(int)
        y = x + t * tau + rng.normal(0, 1.0, n)
        slope, se = ev.calibration_slope(y, t, tau)
        hits += abs(slope - 1) <= 1.96 * se
    assert 0.91 <= hits / 300 <= 0.98


def test_compare_models_matches_single_functions():
    y, t, tau, rng = heterogeneous(13, 6000)
    scores = {"truth": tau, "noisy": tau + rng.normal(0, 0.1, y.size), "random": rng.random(y.size)}
    table = ev.compare_models(y, t, scores)
    assert list(table["model"]) == list(scores)
    for _, row in table.iterrows():
        s = scores[row["model"]]
        assert row["auuc"] == pytest.approx(ev.auuc(y, t, s), abs=1e-12)
        assert row["qini"] == pytest.approx(ev.qini_coefficient(y, t, s), abs=1e-12)
        assert row["uplift_at_top"] == pytest.approx(ev.uplift_at(y, t, s, 0.1), abs=1e-12)
        first = ev.uplift_by_bin(y, t, s).iloc[0]
        assert row["top_bin_observed"] == pytest.approx(first["observed"], abs=1e-12)
        assert row["calibration_slope"] == pytest.approx(
            ev.calibration_slope(y, t, s)[0], abs=1e-12
        )
    assert (
        table.set_index("model").loc["truth", "qini"]
        > table.set_index("model").loc["random", "qini"]
    )


def test_thin_curve_keeps_ends():
    rng = np.random.default_rng(14)
    y, t, score = random_case(rng, 10_000, 6)
    curve = ev.uplift_curve(y, t, score)
    thin = ev.thin_curve(curve, 101)
    assert len(thin) <= 101
    assert thin["n"].iloc[0] == 0 and thin["n"].iloc[-1] == y.size
    assert set(thin["n"]).issubset(set(curve["n"]))


def test_five_million_rows_are_fast():
    """5M rows: one sort and cumulative sums. Measured 0.7–1.3 s CPU for `auuc` on the shared
    machine at load 6–8 (see docs); the bound is loose for that reason, and guards against an
    accidental quadratic path or a per-row Python loop (minutes)."""
    rng = np.random.default_rng(15)
    n = 5_000_000
    y = (rng.random(n) < 0.1).astype(float)
    t = (rng.random(n) < 0.5).astype(np.int8)
    score = rng.normal(size=n)
    start = time.process_time()
    value = ev.auuc(y, t, score)
    elapsed = time.process_time() - start
    assert abs(value) < 0.05
    assert elapsed < 4.0


@pytest.mark.parametrize(
    ("y", "t", "score", "match"),
    [
        ([1, 0, 1], [1, 0, 2], [0.1, 0.2, 0.3], "value 2"),
        ([1, 0, 1], [1, 0], [0.1, 0.2, 0.3], "treatment has 2 values"),
        ([1, 0, 1], [1, 0, 1], [0.1, np.nan, 0.3], "missing or infinite"),
        ([1, 0, 1], [1, 1, 1], [0.1, 0.2, 0.3], "no control rows"),
        ([1, np.nan, 1], [1, 0, 1], [0.1, 0.2, 0.3], "outcome has missing"),
        ([1, 0, 1], [1, 0, 1], [0.1, 0.2], "score has 2 values"),
    ],
)
def test_bad_input_names_the_problem(y, t, score, match):
    with pytest.raises(UserInputError, match=match):
        ev.auuc(np.array(y), np.array(t), np.array(score))


def test_bad_bins_and_alpha():
    with pytest.raises(UserInputError, match="bins=0"):
        ev.uplift_by_bin([1, 0], [1, 0], [0.1, 0.2], bins=0)
    with pytest.raises(UserInputError, match=r"alpha=1\.5"):
        ev.uplift_by_bin([1, 0], [1, 0], [0.1, 0.2], alpha=1.5)

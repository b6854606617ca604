"""Mann–Whitney U with the Hodges–Lehmann shift: scipy for the test, brute force for HL."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cerebro.experiments import rank_tests
from cerebro.experiments.rank_tests import hodges_lehmann, kth_pairwise_difference, mann_whitney


def samples(seed: int, tied: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    m, n = rng.integers(1, 70, 2)
    if tied:
        return rng.integers(0, 5, m).astype(float), rng.integers(0, 6, n).astype(float)
    return rng.normal(0, 1, m), rng.normal(0.3, 2, n)


@pytest.mark.parametrize("enumerate_limit", [2_000_000, 7])
@pytest.mark.parametrize("tied", [False, True])
def test_kth_difference_equals_brute_force(monkeypatch, tied, enumerate_limit):
    """With a tiny enumeration limit the bracketing search itself is exercised."""
    monkeypatch.setattr(rank_tests, "_ENUMERATE", enumerate_limit)
    for seed in range(40):
        c, v = samples(seed, tied)
        d = np.sort(np.subtract.outer(v, c).ravel())
        for k in np.random.default_rng(seed).integers(1, len(d) + 1, 6):
            assert kth_pairwise_difference(c, v, int(k)) == d[k - 1]
        assert hodges_lehmann(c, v) == np.median(d)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("tied", [False, True])
def test_p_value_and_interval(alternative, tied):
    c, v = samples(11, tied)
    c, v = np.r_[c, c + 0.5], np.r_[v, v - 0.25]
    res = mann_whitney(c, v, alpha=0.1, alternative=alternative)
    ref = stats.mannwhitneyu(v, c, alternative=alternative)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.statistic == ref.statistic
    # The interval: the C-th smallest / largest difference, C from U's tie-corrected variance.
    m, n = len(c), len(v)
    big = m + n
    _, t = np.unique(np.r_[c, v], return_counts=True)
    sd = np.sqrt(m * n / 12 * ((big + 1) - (t**3 - t).sum() / (big * (big - 1))))
    z = stats.norm.ppf(0.95 if alternative == "two-sided" else 0.9)
    k = round(m * n / 2 - z * sd)
    d = np.sort(np.subtract.outer(v, c).ravel())
    if alternative != "less":
        assert res.ci_low == d[k - 1]
    else:
        assert res.ci_low == -np.inf
    if alternative != "greater":
        assert res.ci_high == d[m * n - k]
    else:
        assert res.ci_high == np.inf


def test_large_arms_do_not_build_all_pairs():
    """200k × 200k = 4e10 pairs (320 GB as float64) must work from sorted arrays alone."""
    rng = np.random.default_rng(3)
    c, v = rng.lognormal(0, 1, 200_000), rng.lognormal(0.1, 1, 200_000)
    res = mann_whitney(c, v)
    assert res.ci_low < res.estimate < res.ci_high
    # HL shift of log-normals differing by a factor e^0.1 lies between the median shift
    # (e^0.1 − 1 ≈ 0.105) and 0; a sample of pairs agrees to within its own error.
    idx = rng.integers(0, 200_000, (2, 400_000))
    assert res.estimate == pytest.approx(np.median(v[idx[1]] - c[idx[0]]), abs=0.01)


def test_shift_interval_covers_in_simulation():
    """Location shift 0.5, n = 60 per arm, 400 replications: coverage within [0.93, 0.97]."""
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(400):
        c, v = rng.standard_t(4, 60), rng.standard_t(4, 60) + 0.5
        res = mann_whitney(c, v)
        covered += res.ci_low <= 0.5 <= res.ci_high
    assert 0.93 <= covered / 400 <= 0.97

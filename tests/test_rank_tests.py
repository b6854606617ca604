"""Mann–Whitney U with the Hodges–Lehmann shift: scipy for the test, brute force for HL."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import stats

from cerebro.core.errors import UserInputError
from cerebro.experiments import rank_tests
from cerebro.experiments.rank_tests import hodges_lehmann, kth_pairwise_difference, mann_whitney

KINDS = ["continuous", "integers", "cents"]


def samples(seed: int, kind: str, high: int = 70) -> tuple[np.ndarray, np.ndarray]:
    """Two arms of random sizes: continuous, heavily tied integers, or prices in cents.

    Cents make differences such as 3.12 − 2.35 and 10.02 − 9.25 round to different floats,
    which is where counting by `searchsorted(c, v − d)` alone goes wrong.
    """
    rng = np.random.default_rng(seed)
    m, n = rng.integers(1, high, 2)
    if kind == "integers":
        return rng.integers(0, 5, m).astype(float), rng.integers(0, 6, n).astype(float)
    if kind == "cents":
        return np.round(rng.lognormal(2, 1, m), 2), np.round(rng.lognormal(2.1, 1, n), 2)
    return rng.normal(0, 1, m), rng.normal(0.3, 2, n)


def brute_force(c: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.sort(np.subtract.outer(v, c).ravel())


@pytest.fixture(params=["list directly", "select in rounds"])
def selection(request, monkeypatch):
    """Small enumeration and sample sizes make small data go through the selection rounds."""
    if request.param == "select in rounds":
        monkeypatch.setattr(rank_tests, "_ENUMERATE", 7)
        monkeypatch.setattr(rank_tests, "_SAMPLE", 25)


@pytest.mark.usefixtures("selection")
@pytest.mark.parametrize("kind", KINDS)
def test_kth_difference_and_median_equal_brute_force(kind):
    for seed in range(30):
        c, v = samples(seed, kind)
        d = brute_force(c, v)
        for k in [1, len(d), *np.random.default_rng(seed).integers(1, len(d) + 1, 6)]:
            assert kth_pairwise_difference(c, v, int(k)) == d[k - 1]
        assert hodges_lehmann(c, v) == np.median(d)


def test_kth_difference_rejects_a_rank_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        kth_pairwise_difference(np.arange(3.0), np.arange(4.0), 13)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("kind", KINDS)
def test_against_scipy_and_brute_force(alternative, kind):
    """p and U as scipy; HL and the interval as the sorted m·n differences with the same C."""
    for seed in range(8):
        # Seeds give arm sizes from 1 up: scipy's exact branch (an arm ≤ 8, no ties) included.
        c, v = samples(100 + seed, kind, high=120)
        res = mann_whitney(c, v, alpha=0.1, alternative=alternative)
        ref = stats.mannwhitneyu(v, c, alternative=alternative)
        assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-300)
        assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
        m, n = len(c), len(v)
        d = brute_force(c, v)
        wins = (np.subtract.outer(v, c) > 0).sum() + 0.5 * (np.subtract.outer(v, c) == 0).sum()
        assert res.extra["common_language_effect"] == pytest.approx(wins / (m * n), rel=1e-12)
        assert res.estimate == np.median(d)
        # C from U's null variance with the tie correction of the pooled sample.
        _, t = np.unique(np.r_[c, v], return_counts=True)
        big = m + n
        sd = np.sqrt(m * n / 12 * ((big + 1) - (t**3 - t).sum() / (big * (big - 1))))
        z = stats.norm.ppf(0.95 if alternative == "two-sided" else 0.9)
        k = round(m * n / 2 - z * sd)
        low = d[k - 1] if k >= 1 and alternative != "less" else -np.inf
        high = d[m * n - k] if k >= 1 and alternative != "greater" else np.inf
        assert (res.ci_low, res.ci_high) == (low, high)


def test_large_arms_do_not_build_all_pairs():
    """200k × 200k = 4e10 pairs (320 GB as float64): sorted arrays and counts only."""
    rng = np.random.default_rng(3)
    c, v = rng.lognormal(0, 1, 200_000), rng.lognormal(0.1, 1, 200_000)
    tracemalloc.start()
    try:
        res = mann_whitney(c, v)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300e6
    assert res.ci_low < res.estimate < res.ci_high
    # The median by definition, counted independently: half the pairs on either side.
    cs, half = np.sort(c), 200_000**2 / 2
    assert 200_000**2 - np.searchsorted(cs, v - res.estimate, side="left").sum() >= half
    assert 200_000**2 - np.searchsorted(cs, v - res.estimate, side="right").sum() <= half
    # And a random sample of pairs agrees within its own error.
    idx = rng.integers(0, 200_000, (2, 400_000))
    assert res.estimate == pytest.approx(np.median(v[idx[1]] - c[idx[0]]), abs=0.01)


def test_shift_interval_covers_in_simulation():
    """Heavy-tailed location shift 0.5, n = 60 per arm, 400 replications (seeded).

    Coverage must lie in [0.93, 0.97]; measured 0.960 with this seed.
    """
    rng = np.random.default_rng(2024)
    arms = rng.standard_t(4, (400, 2, 60)) + np.array([0.0, 0.5])[:, None]
    covered = [(res := mann_whitney(c, v)).ci_low <= 0.5 <= res.ci_high for c, v in arms]
    assert 0.93 <= np.mean(covered) <= 0.97


@pytest.mark.parametrize(
    "control,kwargs,pattern",
    [
        ([1.0, np.nan], {}, "control arm has missing or infinite"),
        ([], {}, "control arm has no values"),
        ([1.0, 2.0], {"alpha": 0.0}, "alpha"),
        ([1.0, 2.0], {"alternative": "larger"}, "alternative 'larger' is unknown"),
    ],
)
def test_bad_input_is_a_user_error(control, kwargs, pattern):
    with pytest.raises(UserInputError, match=pattern):
        mann_whitney(np.array(control), np.array([1.0, 3.0]), **kwargs)

"""Seeded simulations with a known jump: the robust bias-corrected CI covers it ~95% of the time.

Data: `cerebro.quasi.rdd.synthetic` (smooth quadratic/cubic regression functions, jump 0.5,
Gaussian noise), n = 3000 per replication (at n = 1000 the robust CI of rdrobust, and ours,
undercovers slightly: 0.92–0.93 in 600 replications). With R replications the Monte Carlo SE of a 0.95 coverage is √(0.95·0.05/R):
0.0069 at R = 1000, so [0.93, 0.97] is ±2.9 MC SE.
"""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.quasi.rdd.estimate import rd_fit
from cerebro.quasi.rdd.synthetic import make_rdd, simulate_arrays

Z95 = 1.959963984540054


def coverage(reps: int, n: int, fuzzy: bool, seed0: int) -> tuple[float, float]:
    hits, estimates = [], []
    for r in range(reps):
        y, x, t, *_ = simulate_arrays(n, 0.5, seed=seed0 + r, fuzzy=fuzzy)
        f = rd_fit(y, x, treatment=t if fuzzy else None).fit
        hits.append(abs(f.tau_bc - 0.5) <= Z95 * f.se_rb)
        estimates.append(f.tau)
    return float(np.mean(hits)), float(np.mean(estimates))


def test_sharp_robust_ci_coverage():
    cover, mean = coverage(1000, 3000, False, 10_000)
    assert 0.93 <= cover <= 0.97
    assert mean == pytest.approx(0.5, abs=0.02)  # MC SE of the mean ≈ 0.004


def test_fuzzy_robust_ci_coverage():
    cover, mean = coverage(400, 3000, True, 20_000)
    # 400 reps: MC SE 0.011; the fuzzy ratio is slightly skewed, so a wider band.
    assert 0.92 <= cover <= 0.98
    assert mean == pytest.approx(0.5, abs=0.05)


def test_generator_truth_and_reproducibility():
    a, truth = make_rdd(500, 0.7, seed=4, fuzzy=True)
    b, _ = make_rdd(500, 0.7, seed=4, fuzzy=True)
    assert a.equals(b)
    assert truth == {
        "effect": 0.7,
        "itt_jump": pytest.approx(0.42),
        "first_stage": pytest.approx(0.6),
    }
    assert list(a.columns) == ["score", "outcome", "takeup", "x1", "x2", "cluster"]


def report_coverage() -> None:  # pragma: no cover - used to write docs/rdd.md
    print(coverage(1000, 3000, False, 10_000), coverage(400, 3000, True, 20_000))

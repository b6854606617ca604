"""Sufficient statistics of an arm: count, means and centred co-moments.

Every mean-based test in Cerebro (t-tests, z-tests, ratio metrics, CUPED, post-stratification,
cluster-robust inference) is a function of per-arm `Moments`, so the same numbers come out
whether the input is raw rows or per-arm summaries from a warehouse.

Moments are kept centred (mean vector and co-moment matrix Σ(x - x̄)(x - x̄)ᵀ) and merged with
Chan, Golub & LeVeque's pairwise update, which stays accurate where ``sum_sq - sum²/n`` loses
every digit (large means, small variances).

Reference: Chan, Golub & LeVeque (1983), "Algorithms for computing the sample variance:
analysis and recommendations", The American Statistician 37(3).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import numpy as np


@dataclass(frozen=True)
class Moments:
    """Count `n`, mean vector `mean` (p,) and co-moment matrix `comoment` (p, p)."""

    n: float
    mean: np.ndarray
    comoment: np.ndarray

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of two disjoint samples (Chan et al.'s pairwise update)."""
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        comoment = self.comoment + other.comoment + np.outer(delta, delta) * (self.n * other.n / n)
        return Moments(n, mean, comoment)

    @classmethod
    def of(cls, x: np.ndarray) -> Moments:
        """Moments of the rows of `x` (n, p), computed in two centred passes."""
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        mean = x.mean(axis=0)
        centred = x - mean
        return cls(float(len(x)), mean, centred.T @ centred)

    @classmethod
    def from_sums(cls, n: float, sums: np.ndarray, cross: np.ndarray) -> Moments:
        """Moments from raw sums Σx and cross-products Σxxᵀ (as warehouses report them)."""
        mean = np.asarray(sums, dtype=float) / n
        comoment = np.asarray(cross, dtype=float) - n * np.outer(mean, mean)
        return cls(float(n), mean, comoment)


def merge_all(parts: list[Moments]) -> Moments:
    return reduce(Moments.merge, parts)


def grouped_moments(x: np.ndarray, codes: np.ndarray, n_groups: int) -> list[Moments]:
    """Moments of `x` (n, p) within each group code 0..n_groups-1, vectorised with bincount."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    p = x.shape[1]
    safe = np.where(counts > 0, counts, 1.0)
    means = np.stack(
        [np.bincount(codes, weights=x[:, j], minlength=n_groups) / safe for j in range(p)], axis=1
    )
    centred = x - means[codes]
    comoments = np.empty((n_groups, p, p))
    for i in range(p):
        for j in range(i, p):
            s = np.bincount(codes, weights=centred[:, i] * centred[:, j], minlength=n_groups)
            comoments[:, i, j] = s
            comoments[:, j, i] = s
    return [Moments(counts[g], means[g], comoments[g]) for g in range(n_groups)]


def with_unit_denominator(m: Moments) -> Moments:
    """Insert a constant column of ones after the first (the denominator of a plain mean)."""
    p = len(m.mean)
    mean = np.insert(m.mean, 1, 1.0)
    comoment = np.zeros((p + 1, p + 1))
    keep = [0, *range(2, p + 1)]
    comoment[np.ix_(keep, keep)] = m.comoment
    return Moments(m.n, mean, comoment)

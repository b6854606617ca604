"""Seeded nonparametric bootstrap of any vector statistic of `CausalData`, serial or parallel.

Resamples rows with replacement (Efron & Tibshirani 1993, ch. 6); the replicate index arrays
are drawn from one seeded generator before any work is dealt out, so the numbers are the same
whatever `jobs` is. Parallel runs use joblib's process pool in chunks (large arrays are shared
by memory-mapping, not copied per task) and advance the progress bar as chunks finish.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.spec import worker_count
from cerebro.observational.data import CausalData

Statistic = Callable[[CausalData], np.ndarray]


def _chunk(data: CausalData, statistic: Statistic, seed: int, first: int, size: int) -> np.ndarray:
    """Replicates first … first+size−1; replicate b resamples with its own child seed."""
    n, out = len(data.y), []
    for b in range(first, first + size):
        rows = np.random.default_rng([seed, b]).integers(0, n, n)
        try:
            out.append(np.asarray(statistic(data.subset(rows)), float))
        except UserInputError:  # an empty arm or a separated model in a resample
            out.append(None)
    return out


def bootstrap(
    data: CausalData, statistic: Statistic, replicates: int, seed: int, jobs: int = 1
) -> np.ndarray:
    """(replicates kept, len(statistic)) array; refuses when more than 5% cannot be fitted.

    `statistic` must be picklable (a module-level function or a functools.partial of one)
    when `jobs` ≠ 1.
    """
    from cerebro.core.context import progress

    chunks = max(1, min(replicates, 4 * worker_count(jobs)))
    if jobs == 1:
        chunks = max(1, replicates // 10)
    bounds = np.linspace(0, replicates, chunks + 1).astype(int)
    tasks = [(int(a), int(b - a)) for a, b in pairwise(bounds) if b > a]
    results: list = []
    advance = progress("bootstrap", replicates)
    if jobs == 1:
        outcomes = (_chunk(data, statistic, seed, a, k) for a, k in tasks)
    else:
        from joblib import Parallel, delayed

        outcomes = Parallel(n_jobs=jobs, return_as="generator")(
            delayed(_chunk)(data, statistic, seed, a, k) for a, k in tasks
        )
    for chunk in outcomes:
        results.extend(chunk)
        advance(len(chunk))
    kept = [r for r in results if r is not None]
    failed = replicates - len(kept)
    if failed > 0.05 * replicates:
        raise UserInputError(
            f"{failed} of {replicates} bootstrap resamples could not be fitted (an arm or "
            "category too small); use analytic SEs (--bootstrap 0) or fewer confounder terms."
        )
    return np.vstack(kept)

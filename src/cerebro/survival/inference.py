"""Nonparametric bootstrap of the survival curves: units resampled with replacement (all their
person-time with them, as the book's Programs 17.3–17.4 resample individuals), every model
refitted in each replicate; percentile intervals. Seeded; progress through the run context."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cerebro.core.context import progress
from cerebro.core.errors import UserInputError
from cerebro.survival.data import SurvivalData
from cerebro.survival.hazards import Curves


def bootstrap_curves(
    data: SurvivalData, fit: Callable[[SurvivalData, int], Curves], K: int, reps: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reps × (K+1) control curves, treated curves, hazard ratios); a replicate whose models
    cannot be fitted (an arm drawn empty, a separated propensity) is drawn again, at most
    `reps` times in all."""
    rng = np.random.default_rng(seed)
    s0, s1, hr = np.empty((reps, K + 1)), np.empty((reps, K + 1)), np.full(reps, np.nan)
    advance = progress("Bootstrapping the survival curves", reps)
    done, failed = 0, 0
    while done < reps:
        rows = rng.integers(0, data.n, data.n)
        sample = data.take(rows)
        if np.unique(sample.a).size < 2:
            failed += 1
            continue
        try:
            curves = fit(sample, K)
        except UserInputError:
            failed += 1
            if failed > reps:
                raise UserInputError(
                    "more than half of the bootstrap samples could not be fitted (an arm or a "
                    "category too small); use fewer confounder terms or --bootstrap 0."
                ) from None
            continue
        s0[done], s1[done] = curves.s0, curves.s1
        if curves.hazard_ratio is not None:
            hr[done] = curves.hazard_ratio
        done += 1
        advance(1)
    return s0, s1, hr

"""Randomisation inference for an A/B test (`cerebro abtest --permutations N`).

The Fisher randomisation test of the sharp null "the variant changed no unit's outcome": under
it the outcomes are fixed and only the assignment is random, so re-drawing the assignment the
way the experiment drew it – the same arm sizes, within each stratum, whole clusters together –
gives the statistic's exact null distribution, approximated by N seeded re-draws. The statistic
is the test's own p-value (the same test, re-run on each re-draw): it orders outcomes exactly
as the test statistic does for the chosen alternative, and a studentised statistic keeps the
test asymptotically valid for the weak null of equal means too (Chung & Romano 2013, Annals of
Statistics 41(2)). The p-value counts the observed assignment among the draws,
(1 + #{p* ≤ p_obs}) / (1 + N) (Phipson & Smyth 2010), so it is never 0 and the smallest is
1/(N + 1). References: Imbens & Rubin (2015), *Causal Inference*, ch. 5; Cunningham (2021),
*Causal Inference: The Mixtape*, §4.3 (Thornton 2008's HIV-results experiment).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from cerebro.core.context import progress
from cerebro.experiments.abtest.data import OutcomeData

# the observed draw counts itself when a re-draw's p-value equals it up to rounding
_TIES = 1 + 1e-9


def _shuffler(
    outcome: OutcomeData, rows: np.ndarray
) -> Callable[[np.random.Generator], np.ndarray]:
    """A function returning, for one re-draw, the arm codes of `rows` assigned as the
    experiment assigned them: whole clusters, within strata, the same number per arm."""
    codes = outcome.codes[rows]
    if outcome.cluster is not None:
        cluster = outcome.cluster[rows]
        # the data layer has checked that each cluster lies in one arm
        _, first, member = np.unique(cluster, return_index=True, return_inverse=True)
        arm_of = codes[first]
        return lambda rng: rng.permutation(arm_of)[member]
    if outcome.strata is not None:
        strata = outcome.strata[rows]
        groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]

        def within(rng: np.random.Generator) -> np.ndarray:
            out = codes.copy()
            for g in groups:
                out[g] = rng.permutation(codes[g])
            return out

        return within
    return lambda rng: rng.permutation(codes)


def permutation_p(
    outcome: OutcomeData,
    pair: tuple[int, int],
    p_observed: float,
    test: Callable[[OutcomeData], float],
    draws: int,
    seed: int,
) -> float:
    """Randomisation p-value of the `pair` of arms (reference, compared) from `draws` seeded
    re-draws of the assignment between them; `test` returns the test's p-value on an outcome."""
    rows = np.flatnonzero(np.isin(outcome.codes, pair))
    shuffle = _shuffler(outcome, rows)
    rng = np.random.default_rng([seed, *pair] if pair[0] else [seed, pair[1]])
    names = f"{outcome.arms[pair[1]]} vs {outcome.arms[pair[0]]}"
    advance = progress(f"{outcome.metric.name}: re-randomising {names}", draws)
    codes = outcome.codes.copy()
    extreme = 0
    for k in range(draws):
        codes[rows] = shuffle(rng)
        redrawn = dataclasses.replace(outcome, codes=codes.copy(), _cache={})
        extreme += test(redrawn) <= p_observed * _TIES
        if k % 50 == 49:
            advance(50)
    return (1 + extreme) / (1 + draws)

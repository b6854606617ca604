"""Propensity-score matching: nearest neighbours on the logit of the score, Abadie–Imbens SEs.

Each unit of the target arm (treated for ATT, controls for ATC, both for ATE) is matched to its
`k` nearest units of the other arm by |logit e_i − logit e_j|, optionally only within equal
values of `exact` columns and only within a caliper of c standard deviations of the logit
(Austin 2011 recommends c = 0.2). The imputed missing potential outcome is the mean outcome of
the matches; the estimate averages the observed-minus-imputed differences (Abadie & Imbens 2006,
"Large sample properties of matching estimators for average treatment effects", Econometrica 74).

Variance with replacement (their Theorem 7 estimator): with K(i) the number of times unit i is
used as a match (each use counting 1/k),
    ATE: V = Σ (Ŷ_i(1) − Ŷ_i(0) − τ)² / N² + Σ [K(i)² + (2k − 1)/k · K(i)] σ²(X_i) / N²,
    ATT: V = Σ_treated (Y_i − Ŷ_i(0) − τ)² / N₁² + Σ_controls K(i)(K(i) − 1/k) σ²(X_i) / N₁²,
with K(i) in units of whole matches divided by k, and σ²(X_i) estimated by matching i to its two
nearest units in its own arm. The bootstrap is not valid for matching estimators (Abadie &
Imbens 2008) and is refused. The adjustment for an estimated propensity score (Abadie & Imbens
2016) is not applied; for the ATE ignoring it is conservative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError

_OWN_ARM = 2  # neighbours in the unit's own arm for its conditional variance (as Stata's nn(2))


def _nearest(sorted_x: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices into `sorted_x` of the k nearest values to each query (1-D: they are contiguous)."""
    n = len(sorted_x)
    k = min(k, n)
    pos = np.searchsorted(sorted_x, queries)
    offsets = np.arange(-k, k)
    cand = np.clip(pos[:, None] + offsets[None, :], 0, n - 1)
    dist = np.abs(sorted_x[cand] - queries[:, None])
    # duplicates from clipping at the ends are pushed back so each index is taken once
    dup = np.zeros_like(dist, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    dist[dup] = np.inf
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cand, order, axis=1)


@dataclass
class Matches:
    """For each target unit, its matches' indices (−1 where none within the caliper)."""

    target: np.ndarray  # indices of matched target units
    partners: np.ndarray  # (len(target), k) indices into the whole sample, −1 = unused slot
    dropped: int  # target units with no match inside the caliper


def match(
    score: np.ndarray,
    a: np.ndarray,
    from_arm: int,
    k: int,
    caliper: float | None,
    groups: np.ndarray,
    replace: bool,
    rng: np.random.Generator,
) -> Matches:
    """Match every unit with a == from_arm to k units of the other arm."""
    targets, partners, dropped = [], [], 0
    for g in np.unique(groups):
        mine = np.flatnonzero((a == from_arm) & (groups == g))
        pool = np.flatnonzero((a != from_arm) & (groups == g))
        if len(mine) == 0:
            continue
        if len(pool) == 0:
            dropped += len(mine)
            continue
        order = np.argsort(score[pool], kind="stable")
        pool, values = pool[order], score[pool][order]
        if replace:
            found = pool[_nearest(values, score[mine], k)]
            if found.shape[1] < k:  # fewer units in the pool than k
                found = np.pad(found, ((0, 0), (0, k - found.shape[1])), constant_values=-1)
        else:
            found = _greedy(values, pool, score[mine], k, rng)
        if caliper is not None:
            far = np.abs(score[np.maximum(found, 0)] - score[mine][:, None]) > caliper
            found = np.where(far, -1, found)
        has = (found >= 0).any(axis=1)
        dropped += int((~has).sum())
        targets.append(mine[has])
        partners.append(found[has])
    if not targets or sum(len(t) for t in targets) == 0:
        raise UserInputError(
            "no unit found a match (caliper too narrow, or the exact-match groups have no "
            "units of the other arm); widen --caliper or drop --exact columns."
        )
    return Matches(np.concatenate(targets), np.vstack(partners), dropped)


def _greedy(
    values: np.ndarray, pool: np.ndarray, queries: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Greedy matching without replacement, target units in a seeded random order."""
    free = np.ones(len(values), bool)
    out = np.full((len(queries), k), -1)
    for i in rng.permutation(len(queries)):
        for slot in range(k):
            left = right = int(np.searchsorted(values, queries[i]))
            left -= 1
            while left >= 0 and not free[left]:
                left -= 1
            while right < len(values) and not free[right]:
                right += 1
            options = [j for j in (left, right) if 0 <= j < len(values)]
            if not options:
                break
            j = min(options, key=lambda j: abs(values[j] - queries[i]))
            free[j] = False
            out[i, slot] = pool[j]
    return out


def _imputed(y: np.ndarray, m: Matches) -> np.ndarray:
    used = m.partners >= 0
    return np.where(used, y[np.maximum(m.partners, 0)], 0.0).sum(axis=1) / used.sum(axis=1)


def _uses(n: int, m: Matches) -> np.ndarray:
    """K(i): how often each unit serves as a match, each use weighted by 1/(its target's matches)."""
    used = m.partners >= 0
    share = (used / used.sum(axis=1, keepdims=True))[used]
    return np.bincount(m.partners[used], weights=share, minlength=n)


def _own_arm_variance(
    score: np.ndarray, a: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """σ²(X_i) = J/(J+1) (Y_i − mean of its J nearest own-arm units)² (Abadie & Imbens 2006)."""
    out = np.zeros(len(y))
    for g in np.unique(groups):
        for arm in (0, 1):
            idx = np.flatnonzero((a == arm) & (groups == g))
            if len(idx) < 2:
                continue
            order = idx[np.argsort(score[idx], kind="stable")]
            near = _nearest(score[order], score[order], min(_OWN_ARM + 1, len(order)))
            near = near[:, 1:]  # the nearest is the unit itself
            j = near.shape[1]
            out[order] = j / (j + 1) * (y[order] - y[order][near].mean(axis=1)) ** 2
    return out


@dataclass
class MatchResult:
    """The matching estimate, its Abadie–Imbens SE, matching weights for balance, notes."""

    effect: float
    se: float
    mu: np.ndarray  # (control, treated) means over the matched target
    weights: np.ndarray  # per unit, for balance after matching
    notes: list[str]
    differences: np.ndarray | None = None  # per matched target unit: treated − control
    # per matched target unit: its outcome then its matches' (NaN: unused slot), negated when
    # the target is a control (ATC), so the set's one unit of its arm comes first and a higher
    # value means "treated higher" (Rosenbaum bounds of matched sets)
    sets: np.ndarray | None = None


def matching_estimate(
    score: np.ndarray,
    a: np.ndarray,
    y: np.ndarray,
    estimand: str,
    k: int = 1,
    caliper_sd: float | None = None,
    groups: np.ndarray | None = None,
    replace: bool = True,
    seed: int = 0,
) -> MatchResult:
    """Nearest-neighbour matching on `score` (the logit of the propensity)."""
    if not replace and estimand == "ate":
        raise UserInputError(
            "matching without replacement estimates the ATT or the ATC, not the ATE; add "
            "--estimand att, or match with replacement."
        )
    if k < 1:
        raise UserInputError(f"--neighbours must be at least 1, got {k}.")
    groups = np.zeros(len(y), int) if groups is None else groups
    caliper = None if caliper_sd is None else caliper_sd * float(np.std(score))
    rng = np.random.default_rng(seed)
    n = len(y)
    directions = {"att": [1], "atc": [0], "ate": [1, 0]}[estimand]
    notes, diffs, uses, imputed_pairs, sets = [], [], np.zeros(n), [], []
    for from_arm in directions:
        m = match(score, a, from_arm, k, caliper, groups, replace, rng)
        other = _imputed(y, m)
        observed = y[m.target]
        diffs.append((observed - other) if from_arm == 1 else (other - observed))
        uses += _uses(n, m)
        imputed_pairs.append((m.target, observed, other, from_arm))
        outcomes = np.column_stack(
            [observed, np.where(m.partners >= 0, y[np.maximum(m.partners, 0)], np.nan)]
        )
        sets.append(outcomes if from_arm == 1 else -outcomes)
        if m.dropped:
            label = "treated" if from_arm == 1 else "control"
            notes.append(
                f"{m.dropped:,} {label} units had no match within the caliper and were left out: "
                "the estimate is for the matched units only."
            )
    diff = np.concatenate(diffs)
    tau = float(diff.mean())
    sigma2 = _own_arm_variance(score, a, y, groups)
    if estimand == "ate":
        kk = uses
        variance = (
            np.sum((diff - tau) ** 2) + np.sum((kk**2 + (2 * k - 1) / k * kk) * sigma2)
        ) / len(diff) ** 2
    else:
        target_n = len(diff)
        kk = uses
        variance = (
            np.sum((diff - tau) ** 2) + np.sum(kk * (kk - 1 / k) * sigma2 * (kk > 0))
        ) / target_n**2
    means = np.zeros(2)
    for target, observed, other, from_arm in imputed_pairs:
        share = len(target) / len(diff)
        means[from_arm] += share * observed.mean()
        means[1 - from_arm] += share * other.mean()
    weights = uses.copy()
    for target, *_ in imputed_pairs:
        weights[target] += 1
    return MatchResult(tau, float(np.sqrt(max(variance, 0.0))), means, weights, notes, diff,
                       sets[0] if len(sets) == 1 else None)  # fmt: skip

"""Market selection: which geos to treat, for how long, and what it costs to see the effect.

Candidates (GeoLift's ``GeoLiftMarketSelection`` builds them this way; Meta's GeoLift, R,
``MarketCorrelations`` and ``stochastic_market_selector``): rank every geo's partners by the
Pearson correlation of their outcome series; the candidate of size N seeded by geo g is g and
its N − 1 most correlated partners. That gives at most one set per geo and size – similarity-
ranked sets of markets that move together, not all C(G, N) combinations (91,390 for 40 geos
and N = 4). Excluded geos are never treated but stay donors; included geos are put in every
set (seed and partners then fill the remaining places, a superset of GeoLift's candidates,
which keeps only the sets that happen to contain them).

Each candidate × duration is scored (see `cerebro.geo.power`): the synthetic control's
pre-period fit (scaled L2 imbalance, pre RMSE), the correlation of the treated total with the
total of all other geos (GeoLift's ``CorrelationCoefficient``), the simulated power curve, the
MDE (smallest effect with power ≥ 0.8), the detected lift at the MDE and its distance from the
injected MDE, and the investment MDE × treated outcome over the test × cost per incremental
unit. Designs over budget are dropped; the rest are ranked by the mean of the dense ranks of
MDE, |detected − injected| lift, imbalance and (negated) correlation.

Multi-cell designs: the treated sets of all cells are disjoint and share one donor pool – the
geos in no cell. Cells are chosen jointly by a greedy search over the ranked single-cell
candidates (each of the best few as the first cell, then the best disjoint candidate for each
further cell), and every cell's power is recomputed against the shared pool.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.spec import worker_count
from cerebro.geo.power import TARGET_POWER, DesignPower, design_power


def correlation_order(Y: np.ndarray) -> np.ndarray:
    """(geos × geos−1) partners of every geo, most correlated first (ties by row order)."""
    C = np.corrcoef(Y)
    C = np.where(np.isfinite(C), C, -np.inf)
    np.fill_diagonal(C, np.inf)
    order = np.argsort(-C, axis=1, kind="stable")
    return order[:, 1:]


def candidate_sets(
    Y: np.ndarray,
    size: int,
    include: Sequence[int] = (),
    exclude: Sequence[int] = (),
) -> list[tuple[int, ...]]:
    """Sorted, de-duplicated treated sets of `size` geos (see the module docstring)."""
    include = [int(i) for i in include]
    banned = set(int(i) for i in exclude)
    if len(include) > size:
        raise UserInputError(
            f"--include names {len(include)} geos but the smallest market count is {size}; "
            "raise --markets or include fewer geos."
        )
    order = correlation_order(Y)
    seen: dict[tuple[int, ...], None] = {}
    for seed in range(Y.shape[0]):
        if seed in banned:
            continue
        chosen = list(include)
        for geo in [seed, *order[seed]]:
            if len(chosen) == size:
                break
            if geo not in banned and geo not in chosen:
                chosen.append(int(geo))
        if len(chosen) == size:
            seen[tuple(sorted(chosen))] = None
    return list(seen)


def total_correlation(Y: np.ndarray, treated: Sequence[int], pool: Sequence[int]) -> float:
    """Correlation over time of the treated geos' total with the total of the pool's geos."""
    a = Y[list(treated)].sum(axis=0)
    b = Y[list(pool)].sum(axis=0)
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


@dataclass
class Design:
    """One candidate (a tuple of treated sets, one per cell) for one duration, scored."""

    cells: tuple[tuple[int, ...], ...]
    duration: int
    powers: list[DesignPower]
    correlations: list[float]
    shares: list[float]  # each cell's share of the total outcome over the history
    cpic: float
    extra: dict = field(default_factory=dict)

    def mde(self, cell: int = 0) -> float:
        i = self.powers[cell].mde_index()
        return float("nan") if i is None else float(self.powers[cell].effects[i])

    def investment(self, cell: int = 0) -> float:
        return self.mde(cell) * self.powers[cell].baseline * self.cpic

    def detected(self, cell: int = 0) -> float:
        i = self.powers[cell].mde_index()
        return float("nan") if i is None else float(self.powers[cell].detected_lift[i])

    def power_at_mde(self, cell: int = 0) -> float:
        i = self.powers[cell].mde_index()
        return float("nan") if i is None else float(self.powers[cell].power[i])

    @property
    def total_investment(self) -> float:
        return float(sum(self.investment(c) for c in range(len(self.cells))))

    @property
    def worst_mde(self) -> float:
        values = [abs(self.mde(c)) for c in range(len(self.cells))]
        return float("nan") if any(np.isnan(values)) else max(values)


def _evaluate(
    Y: np.ndarray,
    cells: tuple[tuple[int, ...], ...],
    durations: Sequence[int],
    effects: np.ndarray,
    settings: dict,
) -> list[Design]:
    """Score one candidate (all its cells against the shared pool) for every duration."""
    used = {g for cell in cells for g in cell}
    pool = np.array([g for g in range(Y.shape[0]) if g not in used], int)
    total = Y.sum()
    out = []
    for duration in durations:
        powers = [
            design_power(
                Y,
                np.array(cell),
                pool,
                duration,
                effects,
                lookbacks=settings["lookbacks"],
                alpha=settings["alpha"],
                alternative=settings["alternative"],
                fixed_effects=settings["fixed_effects"],
            )
            for cell in cells
        ]
        out.append(
            Design(
                cells=cells,
                duration=duration,
                powers=powers,
                correlations=[total_correlation(Y, cell, pool) for cell in cells],
                shares=[float(Y[list(cell)].sum() / total) for cell in cells],
                cpic=settings["cpic"],
            )
        )
    return out


def _chunk(Y, candidates, durations, effects, settings) -> list[list[Design]]:  # type: ignore[no-untyped-def]
    return [_evaluate(Y, c, durations, effects, settings) for c in candidates]


def evaluate(
    Y: np.ndarray,
    candidates: list[tuple[tuple[int, ...], ...]],
    durations: Sequence[int],
    effects: np.ndarray,
    settings: dict,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[Design]:
    """Score every candidate for every duration, in order; `jobs` worker processes (joblib)
    share the candidates in chunks and `progress(k)` is told as each chunk of k finishes. The
    numbers do not depend on `jobs` (there are no random draws)."""
    if not candidates:
        return []
    workers = worker_count(jobs)
    n_chunks = min(len(candidates), 1 if workers == 1 else 4 * workers)
    if workers == 1:
        n_chunks = min(len(candidates), max(1, len(candidates) // 4))
    bounds = np.linspace(0, len(candidates), n_chunks + 1).astype(int)
    pieces = [candidates[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    results: list[Design] = []
    if workers == 1:
        outcomes = (_chunk(Y, p, durations, effects, settings) for p in pieces)
    else:
        from joblib import Parallel, delayed

        outcomes = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_chunk)(Y, p, durations, effects, settings) for p in pieces
        )
    for piece in outcomes:
        for designs in piece:
            results.extend(designs)
        if progress is not None:
            progress(len(piece))
    return results


def _dense(values: np.ndarray) -> np.ndarray:
    """Dense ranks (1 = smallest); NaN ranks last."""
    finite = np.where(np.isfinite(values), values, np.inf)
    _, inverse = np.unique(finite, return_inverse=True)
    return inverse.astype(float) + 1


def rank(designs: list[Design], budget: float | None) -> list[Design]:
    """Designs with an MDE (and within budget) first, ordered by the mean of the dense ranks
    of MDE, |detected − injected| lift at the MDE (3 decimals, as GeoLift), scaled imbalance and
    −correlation (2 decimals); ties by investment, then geo names' order. Writes
    `extra["rank"]` (None for designs without an MDE or over budget) and `extra["score"]`."""
    if not designs:
        return []
    mde = np.array([d.worst_mde for d in designs])
    gap = np.array(
        [
            max(abs(d.detected(c) - d.mde(c)) for c in range(len(d.cells)))
            if np.isfinite(d.worst_mde)
            else np.nan
            for d in designs
        ]
    )
    imbalance = np.array([max(p.scaled_imbalance for p in d.powers) for d in designs])
    correlation = np.array([min(d.correlations) for d in designs])
    score = (
        _dense(np.round(mde, 6))
        + _dense(np.round(gap, 3))
        + _dense(np.round(imbalance, 2))
        + _dense(-np.round(correlation, 2))
    ) / 4
    investment = np.array([d.total_investment for d in designs])
    eligible = np.isfinite(mde)
    if budget is not None:
        eligible &= np.abs(investment) <= budget
    for d, s in zip(designs, score, strict=True):
        d.extra["score"] = float(s)
    order = sorted(
        range(len(designs)),
        key=lambda i: (not eligible[i], score[i], abs(investment[i]) if eligible[i] else 0, i),
    )
    ranked = [designs[i] for i in order]
    position = 0
    previous = None
    for k, i in enumerate(order):
        if not eligible[i]:
            designs[i].extra["rank"] = None
            continue
        if previous is None or score[i] != previous:
            position = k + 1
            previous = score[i]
        designs[i].extra["rank"] = position
    return ranked


def multi_cell_candidates(
    ranked: list[Design], cells: int, seeds: int = 10
) -> list[tuple[tuple[int, ...], ...]]:
    """Joint designs of `cells` disjoint sets: each of the best `seeds` single-cell sets as
    cell 1, then greedily the best-ranked set disjoint from those chosen, per further cell."""
    sets: list[tuple[int, ...]] = []
    for d in ranked:
        if d.extra.get("rank") is not None and d.cells[0] not in sets:
            sets.append(d.cells[0])
    out: dict[tuple[tuple[int, ...], ...], None] = {}
    for first in sets[:seeds]:
        chosen = [first]
        used = set(first)
        for candidate in sets:
            if len(chosen) == cells:
                break
            if used.isdisjoint(candidate):
                chosen.append(candidate)
                used |= set(candidate)
        if len(chosen) == cells:
            out[tuple(chosen)] = None
    return list(out)


def check_sizes(n_geos: int, sizes: Sequence[int], cells: int, excluded: int) -> None:
    """Enough treatable geos, and donors left over, for every size and cell count."""
    biggest = max(sizes)
    treatable = n_geos - excluded
    if biggest * cells > treatable:
        raise UserInputError(
            f"--markets up to {biggest} in {cells} cell(s) needs {biggest * cells} treatable "
            f"geos but the data has {treatable} (after --exclude); lower --markets or --cells."
        )
    if n_geos - biggest * cells < 2:
        raise UserInputError(
            f"treating {biggest * cells} of {n_geos} geos leaves fewer than 2 donors for the "
            "synthetic control; lower --markets or --cells."
        )


__all__ = [
    "TARGET_POWER",
    "Design",
    "candidate_sets",
    "check_sizes",
    "correlation_order",
    "evaluate",
    "multi_cell_candidates",
    "rank",
    "total_correlation",
]

"""Which treatment to give which segment, under a capacity and a budget: a linear programme over
measured segment effects.

A **segment** is a group of units with a measured average effect of one treatment arm on them –
an uplift analysis's response tier (treated − control difference within the tier, from the
held-out experiment, with its Welch SE) or a whole experiment's arm. Treating a share f ∈ [0, 1]
of segment i (n_i units, effect τ_i per unit, cost c_i per treated unit) brings f·n_i·τ_i
incremental outcomes at cost f·n_i·c_i. The recommendation maximises

    objective "outcome": Σ f_i n_i τ_i        or   "profit": Σ f_i n_i (v τ_i − c_i)

subject to Σ f_i n_i ≤ capacity (units treated), Σ f_i n_i c_i ≤ budget, and, per pool of
segments that hold the same units (the tiers of one analysis for its different arms), at most
the pool's units treated – one treatment per unit. Segments whose effect is not positive
(outcome) or whose net value is not positive (profit) are never chosen. This is a linear
programme (HiGHS through `scipy.optimize.linprog`); without the pool and budget constraints its
solution is the greedy one – segments by value per unit, the last one partly – which the tests
check. The expected total and its SE (√Σ (f_i n_i se_i)², segments independent) carry a
normal interval; the choice is made on estimates, so the chosen segments' total is optimistic
(winner's curse), as with `uplift.policy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.stats.intervals import normal_interval


@dataclass(frozen=True)
class Segment:
    """One arm's measured effect on one group of units; `pool` names the units it shares."""

    source: str
    arm: str
    segment: str
    n: int
    effect: float
    se: float
    cost: float
    pool: str


@dataclass(frozen=True)
class Recommendation:
    segments: tuple[Segment, ...]
    share: np.ndarray  # f_i
    objective: str
    value_per_outcome: float
    total_outcome: float
    total_se: float
    total_cost: float
    treated: float
    interval: tuple[float, float]


def recommend(
    segments: Sequence[Segment],
    objective: str = "profit",
    value_per_outcome: float = 1.0,
    capacity: float | None = None,
    budget: float | None = None,
    alpha: float = 0.05,
) -> Recommendation:
    """The shares of each segment to treat that maximise `objective` within the constraints."""
    from scipy.optimize import linprog

    if objective not in ("outcome", "profit"):
        raise UserInputError(f"objective is 'outcome' or 'profit', not {objective!r}.")
    for name, x in (
        ("value_per_outcome", value_per_outcome),
        ("capacity", capacity),
        ("budget", budget),
    ):
        if x is not None and (not math.isfinite(x) or x < 0):
            raise UserInputError(f"{name} must be a finite number, 0 or more, not {x}.")
    if not segments:
        raise UserInputError("no measured segments to choose from; run an uplift analysis first.")
    n = np.array([s.n for s in segments], float)
    tau = np.array([s.effect for s in segments], float)
    cost = np.array([s.cost for s in segments], float)
    gain = tau if objective == "outcome" else value_per_outcome * tau - cost
    rows, limits = [], []
    if capacity is not None:
        rows.append(n), limits.append(capacity)
    if budget is not None:
        rows.append(n * cost), limits.append(budget)
    pools: dict[str, list[int]] = {}
    for i, s in enumerate(segments):
        pools.setdefault(s.pool, []).append(i)
    for members in pools.values():
        arms = {segments[i].arm for i in members}
        if len(arms) > 1:  # the same units under several arms: one treatment per unit
            units = sum(n[i] for i in members) / len(arms)
            rows.append(np.where(np.isin(np.arange(len(n)), members), n, 0.0))
            limits.append(units)
    upper = np.where(gain > 0, 1.0, 0.0)
    solved = linprog(
        -(gain * n),
        A_ub=np.array(rows) if rows else None,
        b_ub=np.array(limits) if rows else None,
        bounds=list(zip(np.zeros(len(n)), upper, strict=True)),
        method="highs",
    )
    if not solved.success:  # a bounded LP with 0 feasible: only numerical failure lands here
        raise UserInputError(f"the recommendation could not be computed ({solved.message}).")
    share = np.clip(solved.x, 0.0, 1.0)
    share[share < 1e-12] = 0.0
    se = np.array([s.se for s in segments], float)
    total = float((share * n * tau).sum())
    total_se = float(np.sqrt(((share * n * se) ** 2).sum()))
    low, high, _ = normal_interval(total, total_se, alpha)
    return Recommendation(
        tuple(segments),
        share,
        objective,
        value_per_outcome,
        total,
        total_se,
        float((share * n * cost).sum()),
        float((share * n).sum()),
        (float(low), float(high)),
    )

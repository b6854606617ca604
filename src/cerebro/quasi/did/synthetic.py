"""Synthetic data with known truth for difference-in-differences (tests, docs, benchmarks).

`staggered_panel`: units adopt an absorbing treatment in different periods (cohorts) or never;
outcomes are unit effect + period effect + (optional) covariate trend + the cohort's dynamic
effect τ(g, e) = effect + cohort_slope·(g − g₀) + dynamic_slope·e for e = t − g ≥ 0, + noise.
With dynamic or cohort heterogeneity the static two-way fixed-effects coefficient is a mix of
these effects with some negative weights, while Callaway–Sant'Anna's ATT(g, t) target them
one by one (Goodman-Bacon 2021; de Chaisemartin & D'Haultfœuille 2020).

`two_by_two`: R replications of a canonical 2×2 panel (two periods, treated and control
groups, unit effects, covariate) drawn at once, for coverage checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class StaggeredTruth:
    att_gt: dict[tuple[int, int], float]  # (cohort period, period) → true ATT(g, t)
    simple: float  # cohort-size-weighted average of the post-treatment ATT(g, t)
    dynamic: dict[int, float]  # event time e → cohort-size-weighted ATT at e
    dynamic_overall: float  # mean of dynamic[e] over e ≥ 0


def staggered_panel(
    n_units: int = 400,
    n_periods: int = 8,
    cohorts: tuple[int, ...] = (2, 4, 6),
    never_share: float = 0.25,
    effect: float = 1.0,
    dynamic_slope: float = 0.5,
    cohort_slope: float = 0.0,
    noise: float = 1.0,
    covariate_trend: float = 0.0,
    missing: float = 0.0,
    seed: int = 0,
):
    """A staggered-adoption panel and its truth.

    Columns: ``unit``, ``period`` (0 … n_periods − 1), ``treated`` (1 from the unit's adoption
    period on), ``cohort`` (adoption period, −1 for never treated), ``x`` (a unit-level
    covariate), ``sales`` (the outcome). With ``covariate_trend`` ≠ 0 trends differ by x, and x
    differs by cohort, so parallel trends hold only conditional on x. ``missing`` drops that
    share of rows at random (an unbalanced panel).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    probs = np.r_[never_share, np.full(len(cohorts), (1 - never_share) / len(cohorts))]
    choice = rng.choice(len(cohorts) + 1, size=n_units, p=probs)
    g = np.where(choice == 0, -1, np.asarray((0, *cohorts))[choice])
    x = rng.normal(size=n_units) + 0.5 * (g > 0) - 0.1 * np.where(g > 0, g, 0)
    unit = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(n_periods), n_units)
    gi = g[unit]
    e = period - gi
    treated = (gi >= 0) & (e >= 0)
    g0 = min(cohorts)
    tau = np.where(treated, effect + cohort_slope * (gi - g0) + dynamic_slope * e, 0.0)
    y = (
        rng.normal(size=n_units)[unit]
        + 0.2 * period
        + 0.3 * np.sin(period)
        + covariate_trend * x[unit] * period
        + tau
        + noise * rng.normal(size=len(unit))
    )
    frame = pd.DataFrame(
        {
            "unit": unit,
            "period": period,
            "treated": treated.astype(int),
            "cohort": gi,
            "x": x[unit],
            "sales": y,
        }
    )
    sizes = {c: int(np.sum(g == c)) for c in cohorts}
    att_gt = {
        (c, t): effect + cohort_slope * (c - g0) + dynamic_slope * (t - c)
        for c in cohorts
        for t in range(c, n_periods)
    }
    post = [(c, t) for (c, t) in att_gt]
    total = sum(sizes[c] for c, _ in post)
    simple = sum(sizes[c] * att_gt[(c, t)] for c, t in post) / total
    dynamic = {}
    for ev in range(0, n_periods - g0):
        cs = [c for c in cohorts if c + ev < n_periods]
        dynamic[ev] = sum(sizes[c] * att_gt[(c, c + ev)] for c in cs) / sum(sizes[c] for c in cs)
    overall = float(np.mean(list(dynamic.values())))
    if missing:
        frame = frame[rng.random(len(frame)) >= missing].reset_index(drop=True)
    return frame, StaggeredTruth(att_gt, simple, dynamic, overall)


def two_by_two(
    replications: int,
    n_units: int = 200,
    effect: float = 0.5,
    treated_share: float = 0.4,
    seed: int = 0,
):
    """R independent 2×2 panels at once: arrays (R, 2·n_units) of outcome, treated group, post
    flag, covariate and unit id (rows: every unit in period 0, then in period 1).

    y = unit effect (correlated with treatment) + 0.5·post + 0.8·x + effect·treated·post + e,
    with serially correlated errors within unit (so clustering matters) and heteroskedastic
    noise. The true DiD effect is `effect`.
    """
    rng = np.random.default_rng(seed)
    shape = (replications, n_units)
    group = (rng.random(shape) < treated_share).astype(float)
    alpha = rng.normal(size=shape) + 0.7 * group
    x = rng.normal(size=(replications, 2 * n_units))
    common = rng.normal(size=shape)
    treat = np.concatenate([group, group], axis=1)
    post = np.concatenate([np.zeros(shape), np.ones(shape)], axis=1)
    unit_effect = np.concatenate([alpha, alpha], axis=1)
    shock = 0.6 * np.concatenate([common, common], axis=1) + rng.normal(
        size=(replications, 2 * n_units)
    ) * (0.6 + 0.6 * treat)
    y = unit_effect + 0.5 * post + 0.8 * x + effect * treat * post + shock
    unit = np.tile(np.r_[np.arange(n_units), np.arange(n_units)], (replications, 1))
    return y, treat, post, x, unit


def example() -> tuple[dict[str, object], object]:
    """A small seeded staggered panel (120 units, 6 periods, adoption in periods 2 and 4) and
    the options of its difference-in-differences (Callaway–Sant'Anna)."""
    frame, _ = staggered_panel(n_units=120, n_periods=6, cohorts=(2, 4), seed=1)
    options = {"treatment": "treated", "outcome": "sales", "unit": "unit", "time": "period"}
    return options, frame

"""Responses for the budget optimiser (`cerebro.mmm.optimize.optimize_budget`) when there is no
saved model: from measured incremental effects, or from a stored MMM result's response curves.

**Measured effects** (geo tests, experiments). Channel c was measured at spend ``s_c`` (over the
plan's window) to bring ``m_c`` incremental KPI with standard error ``se_c``. One measured point
fixes no curve, so a diminishing-returns shape is *assumed* and stated: the power curve through
the measured point,

    KPI_c(x) = m_c · (x / s_c)^β,   0 < β ≤ 1,

zero at no spend, concave for β < 1 (β = 1: constant returns, the measured ROI at any spend;
β = 0.5: doubling spend gives √2 times the KPI). Uncertainty is the measurement's: draws
``m_c^(s) ~ Normal(m_c, se_c²)``, independent across channels (separate tests), seeded, with β
held fixed – the interval does not include doubt about the shape, which the route says.
With a common β the optimum has a closed form: maximise Σ a_c x_c^β subject to Σ x_c = B,
a_c = m_c / s_c^β, gives x_c = B · a_c^{1/(1−β)} / Σ_k a_k^{1/(1−β)} (equal marginal returns,
β a_c x_c^{β−1} the same for every channel) – the test's known optimum.

**Stored MMM result.** Its ``response_curves`` table holds each channel's weekly contribution at
constant weekly spend on a grid from 0 to twice the largest weekly spend, with the posterior
mean and an equal-tailed interval (25 points in `cerebro mmm`). The response of a plan is the sum
over its weeks of the curve at each week's spend, interpolated by monotone cubic Hermite
splines (PCHIP, Fritsch & Carlson 1980: through every stored point, no overshoot, a continuous
slope – the optimiser's marginal returns are not stepped as with straight lines); draws add
``z_c · sd_c(x)``,
``sd_c`` the interval's half-width over the normal quantile, one ``z_c ~ Normal(0, 1)`` per
channel and draw (the channel's curve moves as a whole). It is the model's steady state (a
constant weekly spend), without the carry-over into and out of the window a saved model gives
(`cerebro mmm-optimize`, exact); spend beyond the grid is not allowed (no extrapolation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.stats.intervals import quantile

DRAWS = 4000


@dataclass(frozen=True)
class Measured:
    """A channel's measured incremental KPI `lift` (standard error `se`) at spend `spend`."""

    channel: str
    spend: float
    lift: float
    se: float

    def check(self) -> None:
        for name, value in (("spend", self.spend), ("lift", self.lift), ("se", self.se)):
            if not math.isfinite(value):
                raise UserInputError(f"channel {self.channel!r}: {name} must be a finite number.")
        if self.spend <= 0:
            raise UserInputError(
                f"channel {self.channel!r}: the tested spend must be above 0, got {self.spend:g}."
            )
        if self.lift <= 0:
            raise UserInputError(
                f"channel {self.channel!r}: the measured lift is {self.lift:g}; a channel with no "
                "positive measured effect gets no budget by this model – leave it out."
            )
        if self.se < 0:
            raise UserInputError(
                f"channel {self.channel!r}: se must be 0 or more, got {self.se:g}."
            )


def power_response(measured: Sequence[Measured], exponent: float, seed: int, draws: int = DRAWS):
    """`response(plan) -> (draws,)` incremental KPI of per-channel totals under the power curve
    through each measured point (see the module docstring)."""
    if not 0 < exponent <= 1:
        raise UserInputError(
            f"the curve exponent is {exponent:g}; give a number in (0, 1] (0.5: doubling spend "
            "gives √2 times the KPI; 1: constant returns)."
        )
    for m in measured:
        m.check()
    rng = np.random.default_rng(seed)
    lifts = np.array([m.lift for m in measured])
    ses = np.array([m.se for m in measured])
    scale = lifts + ses * rng.standard_normal((draws, len(measured)))  # (S, C)
    tested = np.array([m.spend for m in measured])

    def response(plan: np.ndarray) -> np.ndarray:
        totals = np.clip(np.asarray(plan, float).sum(axis=0), 0.0, None)
        return (scale * (totals / tested) ** exponent).sum(axis=1)

    return response


def closed_form_split(measured: Sequence[Measured], exponent: float, budget: float) -> np.ndarray:
    """The optimum of Σ a_c x_c^β under Σ x_c = budget without bounds (β < 1)."""
    a = np.array([m.lift / m.spend**exponent for m in measured])
    w = a ** (1.0 / (1.0 - exponent))
    return budget * w / w.sum()


@dataclass(frozen=True)
class Curves:
    """Per channel: the spend grid and the mean and sd of the weekly contribution on it."""

    channels: tuple[str, ...]
    grid: tuple[np.ndarray, ...]
    mean: tuple[np.ndarray, ...]
    sd: tuple[np.ndarray, ...]

    @property
    def top(self) -> np.ndarray:
        """The largest weekly spend each curve covers."""
        return np.array([g[-1] for g in self.grid])


def curves_from_table(table: dict[str, list], alpha: float) -> Curves:
    """The `response_curves` table of an `mmm` result as curves per channel."""
    needed = {"channel", "weekly_spend", "contribution", "low", "high"}
    if not needed <= set(table):
        raise UserInputError("the MMM result has no response_curves table; rerun the mmm analysis.")
    z = quantile(1 - alpha / 2, None)
    channels = tuple(dict.fromkeys(str(c) for c in table["channel"]))
    rows = {c: [i for i, name in enumerate(table["channel"]) if name == c] for c in channels}

    def column(name: str, c: str) -> np.ndarray:
        return np.array([table[name][i] for i in rows[c]], dtype=float)

    return Curves(
        channels,
        tuple(column("weekly_spend", c) for c in channels),
        tuple(column("contribution", c) for c in channels),
        tuple((column("high", c) - column("low", c)) / (2 * z) for c in channels),
    )


def curves_response(curves: Curves, seed: int, draws: int = DRAWS):
    """`response(plan) -> (draws,)`: each week's contribution read off the curves (see the
    module docstring), summed over weeks and channels."""
    z = np.random.default_rng(seed).standard_normal((draws, len(curves.channels)))

    from scipy.interpolate import PchipInterpolator

    mean = [
        PchipInterpolator(g, m, extrapolate=False)
        for g, m in zip(curves.grid, curves.mean, strict=True)
    ]
    sd = [
        PchipInterpolator(g, v, extrapolate=False)
        for g, v in zip(curves.grid, curves.sd, strict=True)
    ]

    def response(plan: np.ndarray) -> np.ndarray:
        plan = np.clip(np.asarray(plan, float), 0.0, curves.top[None, :])  # bounds keep it inside
        total = np.zeros(draws)
        for c in range(len(curves.channels)):
            x = plan[:, c]
            total += mean[c](x).sum() + z[:, c] * sd[c](x).sum()
        return total

    return response

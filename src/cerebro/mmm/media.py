"""Channels given in media units (impressions, GRPs, clicks) with their spend beside them.

A channel named in `spend_columns` enters the model as its units: the units drive adstock and
saturation (`cerebro.mmm.posterior`), while the spend column gives the money. Its cost per unit
is Σ spend ÷ Σ units over the fitted weeks, one constant per channel (for impressions ×1000 it is
the CPM). Everything stated in money – ROI and marginal ROI (contribution ÷ spend), the ROI
prior, a lift test's ``delta_spend``, ``mmm-optimize``'s budget and bounds, ``mmm-predict``'s
plan – is converted to units by that constant: the model assumes each extra unit of money buys
units at the fitted weeks' average price (no volume discounts, no price that moves with demand
or season). A channel not named is its own spend (cost per unit 1), as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.validate import require_nonnegative

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.spec import MMMSpec


def money_of(spec: MMMSpec, frame: pd.DataFrame, units: np.ndarray, n_fit: int,
             dates: list[str], findings: list[Finding]) -> dict[str, Any]:  # fmt: skip
    """{"unit_cost": (C,), "money": (T, C)} of the channels, checked; one sentence for what is
    wrong with a spend column, and a finding stating each cost per unit."""
    from cerebro.mmm.data import _complete

    mapping = spec.spend_columns or {}
    money = np.array(units, float, copy=True)
    cost = np.ones(units.shape[1])
    notes = []
    for c, channel in enumerate(spec.channels):
        column = mapping.get(channel)
        if column is None:
            continue
        require_nonnegative(units[:, c], channel, "media units")
        spend = _complete(frame, column, "spend", dates)
        require_nonnegative(spend, column, "spend")
        total_units, total_spend = float(units[:n_fit, c].sum()), float(spend[:n_fit].sum())
        if total_units == 0:
            raise UserInputError(
                f"channel {channel!r} has 0 media units in every fitted week while its spend "
                f"column {column!r} totals {total_spend:g}; a channel needs units to model – "
                "check the column or leave the channel out."
            )
        if total_spend == 0:
            raise UserInputError(
                f"spend column {column!r} of channel {channel!r} is 0 in every fitted week "
                "while the channel has media units, so its ROI is undefined; give the spend "
                "or leave the channel out of --spend-columns."
            )
        money[:, c] = spend
        cost[c] = total_spend / total_units
        notes.append(
            f"{channel} {cost[c]:.6g} ({column} ÷ {channel}; {1000 * cost[c]:.6g} per 1,000)"
        )
    findings.append(
        Finding(
            "info",
            "media_units",
            "Channels in media units, cost per unit over the fitted weeks (Σ spend ÷ Σ units; per "
            "1,000 is the CPM when the units are impressions): "
            + "; ".join(notes)
            + ". ROI, marginal ROI, ROI priors, lift tests' delta_spend, budgets and spend plans "
            "are in money, converted to units at this constant cost per unit: a price that "
            "changes over time or with volume is not modelled.",
        )
    )
    return {"unit_cost": cost, "money": money}

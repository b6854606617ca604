"""The rows a survival analysis runs on: one follow-up time, event and treatment per unit.

From one row per unit (`time`, `event`) or from person-time rows (`unit`, one row per period,
checked by `cerebro.data.person_time`: no gaps, no time going backwards, nothing after the event,
no event after censoring). Confounders are baseline values (a unit's first row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import confounder_terms, note_dropped, numeric_column, treatment_arms
from cerebro.data.person_time import follow_up, panel_order, whole_periods
from cerebro.data.validate import require_units_per_arm, require_varying

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.survival.spec import SurvivalSpec


@dataclass
class SurvivalData:
    """Per unit: follow-up periods, event (0/1), arm (0 control, 1 treated), confounder terms."""

    time: np.ndarray
    event: np.ndarray
    a: np.ndarray
    L: np.ndarray
    names: list[str]
    arms: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.time)

    def take(self, rows: np.ndarray) -> SurvivalData:
        """The units at `rows` (a bootstrap resample)."""
        return SurvivalData(
            self.time[rows], self.event[rows], self.a[rows], self.L[rows], self.names, self.arms
        )


def _binary(values: np.ndarray, column: str, role: str) -> np.ndarray:
    present = values[~np.isnan(values)]
    odd = present[(present != 0) & (present != 1)]
    if odd.size:
        raise UserInputError(
            f"{role} column {column!r} holds {odd[0]:g}; code it 1 (yes) or 0 (no)."
        )
    return values


def _per_unit(
    frame: pd.DataFrame, spec: SurvivalSpec
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(one row per unit, follow-up time, event) from either layout."""
    event = _binary(numeric_column(frame[spec.event], spec.event, "event"), spec.event, "event")
    raw = numeric_column(frame[spec.time], spec.time, "time")
    if spec.unit is None:
        keep = ~np.isnan(raw)
        time = np.full(len(raw), -1, np.int64)
        time[keep] = whole_periods(raw[keep], spec.time, minimum=1)
        return frame, time, event
    periods = whole_periods(raw, spec.time)
    order = panel_order(frame[spec.unit].to_numpy(), periods, spec.unit, spec.time)
    if np.isnan(event).any():
        raise UserInputError(
            f"event column {spec.event!r} is missing on a person-time row; give 0 or 1 on every "
            "row."
        )
    censored = None
    if spec.censoring is not None:
        censored = _binary(
            numeric_column(frame[spec.censoring], spec.censoring, "censoring"),
            spec.censoring,
            "censoring",
        )[order]
    units = frame[spec.unit].to_numpy()[order]
    first, length, last_event = follow_up(
        units, periods[order], event[order], spec.event, censored, spec.censoring or ""
    )
    rows = frame.iloc[order[first]].reset_index(drop=True)
    return rows, length.astype(np.int64), last_event.astype(float)


def prepare(frame: pd.DataFrame, spec: SurvivalSpec) -> SurvivalData:
    """Validated units, complete cases on every column used, each arm with ≥ 2 units."""
    rows, time, event = _per_unit(frame, spec)
    codes, arms, _how = treatment_arms(rows[spec.treatment], spec.treatment, spec.treated)
    if len(arms) != 2:
        raise UserInputError(
            f"treatment column {spec.treatment!r} has {len(arms)} values; survival compares two "
            "arms (treated and control)."
        )
    columns, names, _notes = confounder_terms(rows, spec.confounders)
    L = np.column_stack(columns) if columns else np.empty((len(rows), 0))
    keep = (time >= 0) & ~np.isnan(event) & ~np.isnan(codes) & ~np.isnan(L).any(axis=1)
    findings: list[Finding] = []
    note_dropped(findings, keep, "time, event, treatment or confounder", "missingness is "
                 "unrelated to survival given the confounders")  # fmt: skip
    a = codes[keep]
    require_units_per_arm(a, arms, spec.treatment, minimum=2, rows="units")
    for j, name in enumerate(names):
        require_varying(L[keep, j], name, "confounder", rows="complete units")
    if event[keep].sum() == 0:
        raise UserInputError(
            f"event column {spec.event!r} has no events (all 0); there is no survival to compare."
        )
    return SurvivalData(time[keep], event[keep], a, L[keep], names, arms, findings)

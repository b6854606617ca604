"""Person-time data: one row per unit and period, checked once for every family that reads it.

Survival analysis by pooled logistic hazards and time-varying treatments both work on the
"long" format of Hernán & Robins (*What If*, §17.2 and Part III): each unit has one row per
period of follow-up, periods consecutive. `panel_order` refuses a table whose periods have a
gap, repeat or run backwards within a unit; `follow_up` turns long survival rows into one
follow-up time and event per unit (refusing rows after the event or an event after censoring);
`expand` turns one row per unit into person-time rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.data.load import label_text

MAX_ROWS = 50_000_000  # person-time rows above which the expansion would not fit in memory


def whole_periods(values: np.ndarray, column: str, *, minimum: int = 0) -> np.ndarray:
    """A period column as integers; fractions and values below `minimum` are refused."""
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise UserInputError(
            f"time column {column!r} is missing at row {row + 1}; every row needs its period."
        )
    if np.any(values != np.round(values)):
        example = values[values != np.round(values)][0]
        raise UserInputError(
            f"time column {column!r} holds {example:g}, not a whole period; round follow-up to "
            "whole periods (months, weeks, days) first."
        )
    if values.min() < minimum:
        raise UserInputError(
            f"time column {column!r} holds {values.min():g}; periods start at {minimum}."
        )
    return values.astype(np.int64)


def panel_order(units: Any, periods: np.ndarray, unit: str, time: str) -> np.ndarray:
    """Row order sorting each unit's rows by period, after refusing a period that repeats, a gap
    (a missing period) and periods that run backwards in the file."""
    codes, first = np.unique(np.asarray([label_text(u) for u in units]), return_inverse=True)
    order = np.lexsort((np.arange(len(periods)), first))  # by unit, file order kept
    u, t = first[order], periods[order]
    same = u[1:] == u[:-1]
    step = np.diff(t)
    bad = np.flatnonzero(same & (step <= 0))
    if bad.size:
        i = bad[0]
        what = "repeats" if step[i] == 0 else "goes backwards"
        raise UserInputError(
            f"unit {str(codes[u[i]])!r}: time in {time!r} {what} (period {t[i]} then {t[i + 1]}); "
            "give each unit one row per period, in time order."
        )
    gap = np.flatnonzero(same & (step > 1))
    if gap.size:
        i = gap[0]
        raise UserInputError(
            f"unit {str(codes[u[i]])!r} has a gap in {time!r}: period {t[i]} is followed by "
            f"{t[i + 1]}; person-time rows need every period between the first and the last."
        )
    return order


def follow_up(
    units: np.ndarray,
    periods: np.ndarray,
    event: np.ndarray,
    event_column: str,
    censored: np.ndarray | None = None,
    censoring_column: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first row of each unit, follow-up time = last period + 1 − first, event) from long
    survival rows already in `panel_order`. Follow-up ends at the event or at censoring: an
    event after a censored row, or any row after the event, is refused."""
    start = np.r_[True, units[1:] != units[:-1]]
    first = np.flatnonzero(start)
    last = np.r_[first[1:] - 1, len(units) - 1]
    if censored is not None:
        owner = np.cumsum(start) - 1
        for i in np.flatnonzero(censored == 1):
            later = np.flatnonzero(
                (owner == owner[i]) & (np.arange(len(units)) >= i) & (event == 1)
            )
            if later.size:
                raise UserInputError(
                    f"unit {label_text(units[i])!r} has an event at period {periods[later[0]]} "
                    f"in {event_column!r} after it was censored at period {periods[i]} in "
                    f"{censoring_column!r}; an event cannot follow censoring – fix one of them."
                )
            if i != last[owner[i]]:
                raise UserInputError(
                    f"unit {label_text(units[i])!r} has rows after it was censored at period "
                    f"{periods[i]} in {censoring_column!r}; drop the rows after censoring."
                )
    events = np.flatnonzero(event == 1)
    late = events[~np.isin(events, last)]
    if late.size:
        i = late[0]
        raise UserInputError(
            f"unit {label_text(units[i])!r} has rows after its event at period {periods[i]} in "
            f"{event_column!r}; follow-up ends at the event (or censoring) – drop the later rows."
        )
    length = periods[last] - periods[first] + 1
    return first, length, event[last]


def expand(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person-time rows of units followed for `time` periods: (unit index, period k = 0 …
    time − 1, event indicator D_{k+1}, 1 only on the last row of a unit with an event)."""
    total = int(time.sum())
    if total > MAX_ROWS:
        raise UserInputError(
            f"the follow-up expands to {total:,} person-periods, more than {MAX_ROWS:,}; use "
            "coarser periods (weeks instead of days) or a shorter horizon."
        )
    unit = np.repeat(np.arange(len(time)), time)
    starts = np.cumsum(time) - time
    k = np.arange(total) - np.repeat(starts, time)
    d = ((k == np.repeat(time, time) - 1) & (np.repeat(event, time) == 1)).astype(float)
    return unit, k, d

"""From a table to difference-in-differences arrays: outcome, treatment timing, panel indices.

Two layouts. A 2×2 design (``--post``): the treatment column marks the treated group and the
post column the post-treatment periods. A panel (``--unit`` and ``--time``): the treatment
column is 0/1 treated in this period (adoption = a unit's first treated period), or, with
``--treat-start T``, marks the treated group, treated from period T on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import (
    confounder_terms,
    note_dropped,
    numeric_column,
    treatment_arms,
    weight_column,
    without_weightless,
)
from cerebro.data.validate import require_finite, require_varying
from cerebro.quasi.did.spec import DiDSpec


@dataclass
class DidData:
    y: np.ndarray
    group: np.ndarray  # the treatment column coded 0/1 (a group, or treated this period)
    X: np.ndarray
    names: list[str]
    findings: list[Finding]
    arms: list[str]
    post: np.ndarray | None = None  # 2×2 only
    unit: np.ndarray | None = None  # integer codes
    time: np.ndarray | None = None  # period index 0 … T − 1
    periods: list[Any] = field(default_factory=list)  # the time values, in order
    cluster: np.ndarray | None = None
    cluster_name: str | None = None
    d: np.ndarray | None = None  # panel: treated in this period (0/1)
    weights: np.ndarray | None = None  # observation weights (`--weights COL`), all > 0

    @property
    def panel(self) -> bool:
        return self.unit is not None and self.time is not None


def _time_values(values: Any, column: str) -> tuple[np.ndarray, bool]:
    """The time column as sortable numbers (dates → nanoseconds); whether it held dates."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_numeric_dtype(values) and not is_bool_dtype(values):
        out = values.to_numpy(float)
        require_finite(out, column, "time")
        return out, False
    parsed = pd.to_datetime(values, errors="coerce")
    bad = values.notna().to_numpy() & parsed.isna().to_numpy()
    if bad.any():
        raise UserInputError(
            f"time column {column!r} has values that are neither numbers nor dates (e.g. "
            f"{values[bad].iloc[0]!r}); give period numbers or dates."
        )
    out = parsed.to_numpy("datetime64[ns]").astype("int64").astype(float)
    out[parsed.isna().to_numpy()] = np.nan
    return out, True


def _start_value(value: float | str, dates: bool, column: str) -> float:
    import pandas as pd

    try:
        if dates:
            return float(pd.Timestamp(str(value)).value)
        return float(value)
    except (TypeError, ValueError):
        kind = "a date" if dates else "a number"
        raise UserInputError(
            f"--treat-start {value!r} is not {kind} like the values of {column!r}; give "
            "the first treated period in the time column's format."
        ) from None


def _binary(values: Any, column: str, role: str) -> np.ndarray:
    x = numeric_column(values, column, role)
    present = x[~np.isnan(x)]
    if not np.isin(present, (0.0, 1.0)).all():
        raise UserInputError(
            f"{role} column {column!r} must be 0/1 (or true/false), found "
            f"{np.setdiff1d(present, [0.0, 1.0])[0]!r}; recode it."
        )
    return x


def prepare_did(frame: Any, spec: DiDSpec) -> DidData:
    """Complete rows of the design's columns, coded for the estimators."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    findings: list[Finding] = []
    assert spec.treatment is not None
    if is_numeric_dtype(frame[spec.treatment]) and not is_bool_dtype(frame[spec.treatment]):
        numeric_column(frame[spec.treatment], spec.treatment, "treatment")  # ±inf, huge
    a, arms, _ = treatment_arms(frame[spec.treatment], spec.treatment, spec.treated, spec.control)
    if len(arms) > 2:
        raise UserInputError(
            f"treatment column {spec.treatment!r} has {len(arms)} values; difference-in-"
            "differences needs a 0/1 treatment (or name the treated value with --treated)."
        )
    y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
    columns, names, _ = confounder_terms(frame, spec.confounders)
    X = np.column_stack(columns) if columns else np.empty((len(y), 0))
    keep = ~np.isnan(a) & ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    post = _binary(frame[spec.post], spec.post, "post") if spec.post else None
    if post is not None:
        keep &= ~np.isnan(post)
    time = dates = None
    if spec.time:
        time, dates = _time_values(frame[spec.time], spec.time)
        keep &= ~np.isnan(time)
    for column in (spec.unit, spec.cluster):
        if column:
            keep &= frame[column].notna().to_numpy()
    note_dropped(
        findings,
        keep,
        "value in the design's columns",
        "missingness is unrelated to the outcome's trend",
    )
    weights = weight_column(frame, spec.weights) if spec.weights else None
    if weights is not None:
        keep = without_weightless(weights, keep, spec.weights, findings)
    if not keep.any():
        raise UserInputError("no complete rows: every row misses a value of a named column.")
    require_varying(y[keep], spec.outcome, "outcome")
    data = DidData(y[keep], a[keep], X[keep], names, findings, arms)
    data.weights = None if weights is None else weights[keep]
    if post is not None:
        data.post = post[keep]
    if spec.cluster:
        data.cluster = np.unique(
            frame[spec.cluster].to_numpy()[keep].astype(str), return_inverse=True
        )[1]
        data.cluster_name = spec.cluster
    if spec.unit and spec.time:
        _panel(data, frame, spec, keep, time[keep], bool(dates))
    elif spec.unit:
        data.unit = np.unique(frame[spec.unit].to_numpy()[keep].astype(str), return_inverse=True)[1]
    constant = [n for n, col in zip(names, data.X.T, strict=True) if np.ptp(col) == 0]
    if constant:
        raise UserInputError(
            f"covariate {constant[0]!r} is constant in the complete rows; drop it from "
            "--confounders."
        )
    return data


def _panel(
    data: DidData, frame: Any, spec: DiDSpec, keep: np.ndarray, time: np.ndarray, dates: bool
) -> None:
    """Unit codes, period index, and the 0/1 treated-this-period indicator."""
    unit = np.unique(frame[spec.unit].to_numpy()[keep].astype(str), return_inverse=True)[1]
    periods, index = np.unique(time, return_inverse=True)
    data.unit, data.time = unit, index
    data.periods = (
        [str(np.datetime64(int(p), "ns").astype("datetime64[D]")) for p in periods]
        if dates
        else [int(p) if float(p).is_integer() else float(p) for p in periods]
    )
    pairs = unit.astype(np.int64) * len(periods) + index
    if len(np.unique(pairs)) < len(pairs):
        raise UserInputError(
            f"some {spec.unit!r} values appear more than once in a period of {spec.time!r}; "
            "give one row per unit and period (aggregate first)."
        )
    if spec.treat_start is not None:
        start = _start_value(spec.treat_start, dates, spec.time)
        group = data.group
        lo = np.full(unit.max() + 1, np.inf)
        hi = np.full(unit.max() + 1, -np.inf)
        np.minimum.at(lo, unit, group)
        np.maximum.at(hi, unit, group)
        if (lo != hi).any():
            raise UserInputError(
                f"with --treat-start, {spec.treatment!r} marks the treated group and must be "
                "constant within each unit; drop --treat-start if it is 0/1 per period."
            )
        if not (periods >= start).any() or not (periods < start).any():
            raise UserInputError(
                f"--treat-start {spec.treat_start} leaves no periods before or none after it in "
                f"{spec.time!r}; give a period inside the data."
            )
        post = time >= start
        if data.post is not None:
            post = post & (data.post == 1)
        data.d = ((group == 1) & post).astype(float)
    elif data.post is not None:
        data.d = ((data.group == 1) & (data.post == 1)).astype(float)
    else:
        data.d = data.group
    n_units, n_periods = unit.max() + 1, len(periods)
    observed = np.bincount(unit, minlength=n_units)
    short = int((observed < n_periods).sum())
    if short:
        data.findings.append(
            Finding(
                "warning",
                "unbalanced_panel",
                f"unbalanced panel: {short:,} of {n_units:,} units miss some of the "
                f"{n_periods} periods ({len(unit):,} of {n_units * n_periods:,} unit-periods "
                "observed); two-way fixed effects use every row, Callaway–Sant'Anna only the "
                "units seen in every period.",
            )
        )


def adoption(data: DidData) -> tuple[np.ndarray, int]:
    """First treated period index of each unit (−1: never treated) and how many units switch
    treatment off again (treatment is assumed absorbing)."""
    assert data.unit is not None and data.time is not None
    n_units = data.unit.max() + 1
    first = np.full(n_units, np.iinfo(np.int64).max)
    treated = data.d == 1
    np.minimum.at(first, data.unit[treated], data.time[treated])
    # A unit switching off has an untreated row after its first treated one.
    late_off = (~treated) & (data.time > first[data.unit])
    switchers = len(np.unique(data.unit[late_off]))
    return np.where(first == np.iinfo(np.int64).max, -1, first), switchers

"""Profile a table: each column's type and the roles it could play in a causal analysis.

The profile is what the advisor (`advise`) reasons from and what `cerebro auto` prints first,
so that every later choice can be traced to a line of it. Roles come from the values (a date
parses as dates, an arm has 2–10 levels, spend is never negative, a unit id repeats) together
with the column's name (`vocabulary`); the command line can override any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cerebro.advisor import vocabulary as v
from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

MAX_ARM_LEVELS = 10  # more levels than this is a dose or a category, not arms
MIN_PANEL_PERIODS = 3
ZERO_HEAVY = 0.5  # share of zeros from which an outcome is zero-heavy (a hurdle: buy or not)


@dataclass
class ColumnProfile:
    """One column: its value type, its candidate roles and a short note for the table."""

    name: str
    kind: str  # binary, count, zero-heavy, continuous, categorical, date, identifier, constant
    distinct: int
    missing: float
    roles: list[str] = field(default_factory=list)
    note: str = ""
    levels: list[str] = field(default_factory=list)

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def numeric(self) -> bool:
        return self.kind in ("binary", "count", "zero-heavy", "continuous")


@dataclass
class Profile:
    """The table: its size, its columns, and its shape (dates, units, panel)."""

    rows: int
    columns: dict[str, ColumnProfile]
    date: str | None = None
    frequency: str | None = None
    rows_per_date: float | None = None
    unit: str | None = None  # a repeating id (user × day rows, a panel's units)
    geo: str | None = None
    panel: str | None = None  # the id column of a panel: one row per id and date

    def with_role(self, role: str) -> list[str]:
        return [name for name, c in self.columns.items() if c.has(role)]

    def usable(self) -> list[str]:
        return [n for n, c in self.columns.items() if c.kind not in ("constant", "identifier")]


def _is_dates(values: pd.Series) -> bool:
    """Text that parses as dates (at least 95% of a sample)."""
    import pandas as pd

    sample = values.astype(str).head(200)
    if sample.str.fullmatch(r"-?\d+(\.\d+)?").all():
        return False  # plain numbers are not dates
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def value_kind(series: pd.Series) -> str:
    """binary, count, zero-heavy, continuous, categorical, date, identifier or constant."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    values = series.dropna()
    distinct = values.nunique()
    if distinct <= 1:
        return "constant"
    if is_bool_dtype(values) or (is_numeric_dtype(values) and set(values.unique()) <= {0, 1}):
        return "binary"
    if is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float)
        zeros = float(np.mean(numbers == 0))
        if zeros >= ZERO_HEAVY and numbers.min() >= 0:
            return "zero-heavy"
        whole = bool(np.all(numbers == np.round(numbers)))
        return "count" if whole and numbers.min() >= 0 else "continuous"
    if _is_dates(values):
        return "date"
    if distinct >= 0.9 * len(values) and distinct > 20:
        return "identifier"
    return "categorical"


def _roles(c: ColumnProfile, series: pd.Series, rows: int) -> None:
    """The roles a column can play, from its name and values (see module docstring)."""
    name = c.name
    is_id_type = c.kind in ("categorical", "identifier", "count")
    if c.kind == "date" or (
        v.named(v.DATE, name) and c.kind in ("count", "continuous") and c.distinct >= 3
    ):
        c.roles.append("date")
    if c.kind == "constant":
        c.roles.append("constant")
        c.note = "one value only: carries no information"
        return
    id_like = c.kind in ("identifier", "categorical") or (
        c.kind == "count" and (v.named(v.UNIT, name) or _consecutive(series))
    )
    if id_like and c.distinct == rows and rows > 20:
        c.kind = "identifier"
        c.note = "a different value on every row: an id, not a variable"
        return
    if 2 <= c.distinct <= MAX_ARM_LEVELS and "date" not in c.roles:
        text_control = any("control" in str(x).lower() for x in c.levels)
        if v.named(v.ARM, name) or text_control:
            c.roles.append("arm")
    if v.named(v.GEO, name) and c.kind in ("categorical", "count", "identifier"):
        c.roles.append("geo")
    if is_id_type and c.distinct < rows and v.named(v.UNIT, name) and "arm" not in c.roles:
        c.roles.append("unit id")
    if c.numeric and "date" not in c.roles:
        nonnegative = float(series.min()) >= 0
        if nonnegative and v.named(v.IMPRESSIONS, name):
            c.roles.append("impressions")
        elif nonnegative and (v.named(v.SPEND, name) or v.named(v.CHANNEL, name)):
            c.roles.append("spend")
        if v.named(v.KPI, name) and not v.named(v.NOT_KPI, name) and "arm" not in c.roles:
            c.roles.append("outcome")
        if v.named(v.PRE, name):
            c.roles.append("pre-period")
        if v.named(v.POST_FLAG, name) and c.kind == "binary":
            c.roles.append("post flag")
        elif v.named(v.POST, name):
            c.roles.append("post-treatment")


def _consecutive(series: pd.Series) -> bool:
    """Whole numbers 1, 2, 3 … (or from any start) without gaps: a row number."""
    values = np.sort(series.to_numpy(dtype=float))
    return bool(values.size > 1 and np.all(np.diff(values) == 1))


def _note(c: ColumnProfile, series: pd.Series) -> str:
    if c.note:
        return c.note
    if "arm" in c.roles or (c.kind == "categorical" and c.distinct <= 6):
        return "levels: " + ", ".join(c.levels[:6])
    if c.numeric:
        values = series.dropna().to_numpy(dtype=float)
        zeros = f", {np.mean(values == 0):.0%} zeros" if c.kind == "zero-heavy" else ""
        return f"{values.min():.4g} … {values.max():.4g}, mean {values.mean():.4g}{zeros}"
    return ""


def _dates(series: pd.Series) -> np.ndarray:
    """The column's distinct dates (or period numbers) as sorted nanoseconds/numbers."""
    import pandas as pd
    from pandas.api.types import is_numeric_dtype

    if is_numeric_dtype(series):
        return np.sort(series.dropna().unique().astype(float))
    parsed = pd.to_datetime(series.dropna().astype(str), errors="coerce", format="mixed")
    return np.sort(parsed.dropna().unique().astype("datetime64[ns]").astype(np.int64))


def frequency_of(series: pd.Series) -> str:
    """daily, weekly, monthly, period numbers, or every N days."""
    from pandas.api.types import is_numeric_dtype

    dates = _dates(series)
    if is_numeric_dtype(series):
        return "period numbers"
    if dates.size < 2:
        return "one date"
    days = float(np.median(np.diff(dates))) / 86400e9
    for label, low, high in (("daily", 0.9, 1.1), ("weekly", 6.5, 7.5), ("monthly", 27, 32)):
        if low <= days <= high:
            return label
    return f"every {days:g} days"


def shape(profile: Profile, frame: pd.DataFrame) -> None:
    """The table's date column and frequency, its repeating unit and whether it is a panel."""
    dates = profile.with_role("date")
    parsed = [d for d in dates if profile.columns[d].kind == "date"]
    if dates:
        profile.date = (parsed or dates)[0]
        profile.frequency = frequency_of(frame[profile.date])
        profile.rows_per_date = profile.rows / max(frame[profile.date].nunique(), 1)
    geos, units = profile.with_role("geo"), profile.with_role("unit id")
    profile.geo = geos[0] if geos else None
    candidates = [*geos, *units]
    if profile.date:
        for name in candidates:
            pairs = frame[[name, profile.date]].dropna()
            if (
                not pairs.duplicated().any()
                and frame[name].nunique() >= 2
                and frame[profile.date].nunique() >= MIN_PANEL_PERIODS
                and profile.rows_per_date > 1
            ):
                profile.panel = name
                break
    repeated = [u for u in units if frame[u].nunique() < profile.rows]
    profile.unit = profile.panel or (repeated[0] if repeated else None)
    if profile.panel:
        for c in profile.columns.values():
            if (
                c.kind == "binary"
                and not c.roles
                and switches_on(frame, profile.panel, profile.date, c.name)
            ):
                c.roles.append("arm")
                c.note = "0/1, switches on over time in some units: a treatment"


def switches_on(frame: pd.DataFrame, unit: str, time: str, column: str) -> bool:
    """A 0/1 column that, within each unit over time, only ever goes from 0 to 1 – and does so
    in some units while others stay 0: an intervention's treated-this-period flag."""
    ordered = frame[[unit, time, column]].dropna().sort_values([unit, time])
    steps = ordered.groupby(unit)[column].diff().dropna()
    per_unit = ordered.groupby(unit)[column].agg(["min", "max"])
    switched = ((per_unit["min"] == 0) & (per_unit["max"] == 1)).any()
    never = (per_unit["max"] == 0).any()
    return bool(switched and never and (steps >= 0).all())


def profile_frame(frame: pd.DataFrame) -> Profile:
    """The profile of a table (see the module docstring); refuses a table with no usable
    column in one sentence."""
    rows = len(frame)
    columns = {}
    for name in frame.columns:
        series = frame[name]
        kind = value_kind(series)
        values = series.dropna()
        c = ColumnProfile(
            str(name), kind, int(values.nunique()), float(series.isna().mean()) if rows else 0.0
        )
        if 0 < c.distinct <= MAX_ARM_LEVELS:
            c.levels = sorted(str(x) for x in values.unique())
        _roles(c, values, rows)
        c.note = _note(c, values)
        columns[str(name)] = c
    profile = Profile(rows, columns)
    if not profile.usable():
        raise UserInputError(
            "no usable column: every column is constant or an id; the table needs at least "
            "an outcome and a treatment (or a date and spend) column."
        )
    shape(profile, frame)
    return profile

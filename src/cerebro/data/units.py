"""Repeated units: finding a unit id whose rows are not independent observations.

A table with one row per user × day (or per session, per order …) holds several rows of each
randomised unit. Analysed as independent rows, every test overstates the evidence: rows of one
user are correlated, so the standard error shrinks with the number of rows instead of the number
of users, and a null effect comes out "significant" (the synthetic SaaS data of
`cerebro datasets saas` are such a table: 50,000 users × 30 days).

**The rule.** A column is a *repeating unit id* when all of these hold:

1. it plays no other role (not the treatment, an outcome or its denominator, a covariate, a
   stratum, the time column or an uplift feature) and it is an **integer or text** column
   (floats, booleans and dates are measurements, not ids);
2. at least `MIN_REPEATED` (10) of its values appear on more than one row, and **most** of its
   values (at least half) do – a panel of units, not an occasional duplicate;
3. **the arm is constant within every value** – no value has rows in two arms;
4. every arm has at least two of its values (a relabelling of the arms is not a unit id);
5. that could not happen by chance if rows were assigned to arms independently of the column:
   the chance that every value's rows share one arm is at most π_max^(rows − values)
   (π_max the largest arm share of the rows), and it must be below `MAX_CHANCE` (1e-6) – about
   20 extra rows with two equal arms, 150 with a 90/10 split.

Rows without an arm or without a value of the column are ignored. When several columns qualify
(e.g. a session id nested in a user id), the one with the fewest values – the coarsest unit –
is used; clustering on it is valid for the finer ones too.

Columns that do not qualify stay unnoticed: a column where only a minority of ids repeat, or a
float id. Name the unit yourself there (``--cluster`` / ``--unit``). ``--cluster none``
(``--unit none``) says the rows are independent and skips the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

MIN_REPEATED = 10
MAX_CHANCE = 1e-6
NONE = "none"  # --cluster none / --unit none: the rows are independent units

_INTEGER_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
)  # fmt: skip
_TEXT_TYPES = ("VARCHAR", "UUID", "ENUM")


@dataclass(frozen=True)
class ColumnRepeats:
    """How the values of one column spread over rows and arms."""

    column: str
    rows: int  # rows with an arm and a value
    values: int  # distinct values
    repeated: int  # values on more than one row
    mixed: int  # values whose rows are in more than one arm
    values_per_arm: tuple[int, ...]  # distinct values per arm (meaningful when mixed == 0)
    largest_share: float  # largest arm share of the rows

    @property
    def log10_chance(self) -> float:
        """log10 of the bound on the chance that every value is in one arm by accident."""
        if self.largest_share >= 1:
            return 0.0
        return (self.rows - self.values) * math.log10(self.largest_share)

    @property
    def is_unit(self) -> bool:
        return (
            self.mixed == 0
            and self.repeated >= MIN_REPEATED
            and 2 * self.repeated >= self.values
            and len(self.values_per_arm) >= 2
            and min(self.values_per_arm) >= 2
            and self.log10_chance < math.log10(MAX_CHANCE)
        )

    def describe(self) -> str:
        if self.repeated == self.values:
            every = "every id on several rows and in one arm"
            return f"{self.values:,} ids on {self.rows:,} rows, {every}"
        return (
            f"{self.values:,} ids on {self.rows:,} rows, {self.repeated:,} of them on several "
            "rows, every id in one arm"
        )


@dataclass(frozen=True)
class RepeatedUnit:
    """The detected unit column and the other columns that qualified too."""

    column: str
    repeats: ColumnRepeats
    others: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"{self.column!r} ({self.repeats.describe()})"
        if self.others:
            text += f"; {', '.join(repr(c) for c in self.others)} also repeat within arms"
        return text


def is_none(value: str | None) -> bool:
    """`--cluster none` / `--unit none`: the user says the rows are independent."""
    return value is not None and value.strip().lower() == NONE


def _choose(stats: list[ColumnRepeats]) -> RepeatedUnit | None:
    units = sorted((s for s in stats if s.is_unit), key=lambda s: (s.values, s.column))
    if not units:
        return None
    return RepeatedUnit(units[0].column, units[0], tuple(s.column for s in units[1:]))


def _repeats(column: str, values: np.ndarray, arm: np.ndarray, arms: int) -> ColumnRepeats:
    """Statistics of a column from integer codes of its values and of the arm (−1: missing)."""
    valid = (values >= 0) & (arm >= 0)
    v, a = values[valid], arm[valid].astype(float)
    if not v.size:
        return ColumnRepeats(column, 0, 0, 0, 0, (), 1.0)
    n = np.bincount(v)
    present = n > 0
    s1 = np.bincount(v, weights=a)
    s2 = np.bincount(v, weights=a * a)
    mixed = int(((n * s2 != s1 * s1) & present).sum())  # exact: small integers in float64
    arm_of = np.where(present, s1 / np.maximum(n, 1), -1).astype(np.int64)
    per_arm = np.bincount(arm_of[present], minlength=arms)
    shares = np.bincount(arm[valid], minlength=arms) / v.size
    per_arm = per_arm[shares > 0]  # the arms with rows that have a value, as in the file path
    return ColumnRepeats(
        column,
        int(v.size),
        int(present.sum()),
        int((n > 1).sum()),
        mixed,
        tuple(int(c) for c in per_arm),
        float(shares.max()),
    )


PREFILTER_ROWS = 100_000  # a value mixed in any subset of rows is mixed in all of them


def _candidate_frame_columns(frame: pd.DataFrame, exclude: set[str]) -> list[Any]:
    """Integer, text and categorical columns that play no other role."""
    from pandas.api.types import is_bool_dtype, is_integer_dtype, is_object_dtype, is_string_dtype

    names = []
    for name in frame.columns:
        series = frame[name]
        if str(name) in exclude or is_bool_dtype(series):
            continue
        if (
            is_integer_dtype(series)
            or is_string_dtype(series)
            or is_object_dtype(series)
            or str(series.dtype) == "category"
        ):
            names.append(name)
    return names


def unit_in_frame(
    frame: pd.DataFrame, arm_codes: np.ndarray, exclude: set[str]
) -> RepeatedUnit | None:
    """The repeating unit id among the columns of an in-memory table (see the module rule)."""
    import pandas as pd

    arms = int(arm_codes.max()) + 1 if arm_codes.size and arm_codes.max() >= 0 else 0
    if arms < 2:
        return None
    stats = []
    head = slice(0, PREFILTER_ROWS)
    for name in _candidate_frame_columns(frame, exclude):
        series = frame[name]
        if series.dtype == object:
            # Ids in an object column must be ids: text or whole numbers, not floats or dates.
            sample = series.dropna().head(1000)
            if not all(isinstance(x, (str, int, np.integer)) for x in sample):
                continue
        if len(series) > PREFILTER_ROWS:  # as the file path: drop columns mixed in the head
            codes = pd.factorize(series.iloc[head])[0].astype(np.int64)
            if _repeats(str(name), codes, arm_codes[head], arms).mixed:
                continue
        codes, _ = pd.factorize(series)
        stats.append(_repeats(str(name), codes.astype(np.int64), arm_codes, arms))
    return _choose(stats)


def unit_in_file(
    source: str, types: dict[str, str], treatment: str, exclude: set[str]
) -> RepeatedUnit | None:
    """The same rule computed by DuckDB: one scan of the first rows drops the columns already
    mixed there (most of them), one scan of the file checks the rest (GROUPING SETS)."""
    import duckdb

    candidates = [
        c
        for c, kind in types.items()
        if c not in exclude
        and c != treatment
        and kind.split("(")[0] in (*_INTEGER_TYPES, *_TEXT_TYPES)
    ]
    con = duckdb.connect()
    try:
        if candidates:
            head = f"(SELECT * FROM {source} LIMIT {PREFILTER_ROWS})"
            stats = _file_stats(con, head, treatment, candidates)
            candidates = [s.column for s in stats if s.mixed == 0]
        if not candidates:
            return None
        return _choose(_file_stats(con, source, treatment, candidates))
    except duckdb.Error as err:
        first = (str(err).strip().splitlines() or ["query failed"])[0]
        raise UserInputError(f"cannot check the data for repeated units: {first}") from None
    finally:
        con.close()


def _file_stats(
    con: Any, source: str, treatment: str, candidates: list[str]
) -> list[ColumnRepeats]:
    """The per-column repeat statistics of a DuckDB source (the portable query every engine
    runs, `_stats_query`)."""
    return _table_stats(con.sql(_stats_query(source, treatment, candidates)).fetchall(), candidates)


def collapse_units(
    frame: pd.DataFrame,
    unit: str,
    outcome: str,
    constant: list[str],
    how: str = "mean",
) -> tuple[pd.DataFrame, list[str]]:
    """One row per unit: the outcome's mean (or sum) over the unit's rows, and every other
    column that is constant within each unit (its value); columns that vary within a unit
    (the day, the daily metrics) are dropped and returned by name. The columns in `constant`
    (the treatment, named features) must be constant: a unit whose treatment or feature changes
    between its rows is refused, naming the column, since it cannot be one row.

    Missing outcome values are skipped in the mean (a unit with none keeps a missing outcome
    and is left out later as an incomplete row), as a per-unit average of observed days.
    """
    if how not in ("mean", "sum"):
        raise UserInputError(f"unknown aggregation {how!r}; use mean or sum.")
    others = [c for c in frame.columns if c not in (unit, outcome)]
    grouped = frame.groupby(unit, sort=False, dropna=True)
    varying = grouped[others].nunique(dropna=False).gt(1).any() if others else None
    for column in constant:
        if varying is not None and bool(varying.get(column, False)):
            raise UserInputError(
                f"column {column!r} changes within a {unit}, so the rows cannot be collapsed to "
                f"one row per {unit}; give features that are constant per {unit} (or drop "
                "--aggregate)."
            )
    kept = [c for c in others if varying is None or not bool(varying[c])]
    dropped = [str(c) for c in others if c not in kept]
    values = grouped[outcome].mean() if how == "mean" else grouped[outcome].sum(min_count=1)
    out = grouped[kept].first() if kept else values.to_frame().iloc[:, :0]
    out[outcome] = values
    return out.reset_index(), dropped


def duckdb_kind(kind: str) -> str:
    """A DuckDB column type as `unit_in_table` reads it: 'integer', 'text' or 'other'."""
    base = kind.upper().split("(")[0]
    return "integer" if base in _INTEGER_TYPES else "text" if base in _TEXT_TYPES else "other"


def unit_in_table(
    run: Any, kinds: dict[str, str], treatment: str, exclude: set[str], source: str
) -> RepeatedUnit | None:
    """The same rule computed by any SQL engine (`cerebro.engine.tables`): `run` executes a
    query written in DuckDB's dialect that reads `source` (the engine's placeholder table) and
    returns its rows; `kinds` says which columns are 'integer' or 'text'. The queries are those
    of `unit_in_file`, with FILTER written as CASE so that every dialect has it."""
    candidates = [
        c
        for c, kind in kinds.items()
        if c not in exclude and c != treatment and kind in ("integer", "text")
    ]
    if candidates:
        head = f"(SELECT * FROM {source} LIMIT {PREFILTER_ROWS}) AS head"
        stats = _table_stats(run(_stats_query(head, treatment, candidates)), candidates)
        candidates = [s.column for s in stats if s.mixed == 0]
    if not candidates:
        return None
    return _choose(_table_stats(run(_stats_query(source, treatment, candidates)), candidates))


def _stats_query(source: str, treatment: str, candidates: list[str]) -> str:
    from cerebro.engine.duckdb_moments import sql_identifier

    t = sql_identifier(treatment)
    sets = ", ".join(f"({sql_identifier(c)})" for c in candidates)
    which = " ".join(
        f"WHEN GROUPING({sql_identifier(c)}) = 0 THEN {i}" for i, c in enumerate(candidates)
    )
    present = " ".join(
        f"WHEN GROUPING({sql_identifier(c)}) = 0 AND {sql_identifier(c)} IS NOT NULL THEN 1"
        for c in candidates
    )
    return f"""
        WITH per_value AS (
            SELECT CASE {which} END AS col, CASE {present} ELSE 0 END AS present,
                   min({t}) AS lo, CASE WHEN min({t}) <> max({t}) THEN 1 ELSE 0 END AS mixed,
                   count(*) AS n
            FROM {source} WHERE {t} IS NOT NULL
            GROUP BY GROUPING SETS ({sets})
        )
        SELECT col, lo, count(*), count(CASE WHEN n > 1 THEN 1 END),
               count(CASE WHEN mixed = 1 THEN 1 END), sum(n)
        FROM per_value WHERE present = 1 GROUP BY col, lo"""


def _table_stats(rows: list[Any], candidates: list[str]) -> list[ColumnRepeats]:
    by_column: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_column.setdefault(int(row[0]), []).append(tuple(row[1:]))
    stats = []
    for i, groups in by_column.items():
        total = sum(int(g[4]) for g in groups)
        stats.append(
            ColumnRepeats(
                candidates[i],
                total,
                sum(int(g[1]) for g in groups),
                sum(int(g[2]) for g in groups),
                sum(int(g[3]) for g in groups),
                tuple(int(g[1]) for g in groups),
                max(int(g[4]) for g in groups) / total,
            )
        )
    return stats

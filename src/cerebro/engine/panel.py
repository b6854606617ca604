"""Daily or weekly totals per unit (geo, store, channel…) from a raw event table, computed by
the engine the rows live in – the panel geo tests, DiD and MMM start from.

One query, defined once (DuckDB dialect) and transpiled by sqlglot: per unit and period (the
day, or the ISO week starting on Monday, of the time column), the number of rows, the sum of
each value column, and the smallest and largest value of each column that must be constant
within a unit and period (a geo's population, a unit's treatment group). On Spark the
executors aggregate; in a database the server does; only the panel – units × periods rows –
reaches Python. `event_panel` is what the families call with their spec's `panel_freq`,
`engine`, `db` and `table` (`cerebro.core.event_source`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.engine.duckdb_moments import sql_identifier
from cerebro.engine.sql_moments import SOURCE

GRAINS = ("day", "week")


def panel_sql(
    unit: str | None,
    time: str,
    values: list[str],
    grain: str = "day",
    constants: list[str] | tuple[str, ...] = (),
) -> str:
    """The panel query (DuckDB dialect, reading `SOURCE`); without `unit`, totals per period.
    Columns: unit, period, rows, one sum per value, then min and max of each constant."""
    if grain not in GRAINS:
        raise UserInputError(f"grain {grain!r} is not one of {', '.join(GRAINS)}.")
    t = sql_identifier(time)
    period = f"CAST({t} AS DATE)"
    if grain == "week":
        period = f"CAST(date_trunc('week', CAST({t} AS DATE)) AS DATE)"
    items = [f"{period} AS {t}", f"count(*) AS {sql_identifier('rows')}"]
    items += [f"sum(CAST({sql_identifier(v)} AS DOUBLE)) AS {sql_identifier(v)}" for v in values]
    for i, c in enumerate(constants):
        items += [f"min({sql_identifier(c)}) AS lo{i}", f"max({sql_identifier(c)}) AS hi{i}"]
    keep = f"{t} IS NOT NULL"
    if unit is None:
        return f"SELECT {', '.join(items)} FROM {SOURCE} WHERE {keep} GROUP BY 1 ORDER BY 1"
    u = sql_identifier(unit)
    return (
        f"SELECT {u} AS {u}, {', '.join(items)} FROM {SOURCE} "
        f"WHERE {u} IS NOT NULL AND {keep} GROUP BY 1, 2 ORDER BY 1, 2"
    )


def panel_totals(
    data: Any,
    unit: str | None,
    time: str,
    values: list[str],
    grain: str = "day",
    db: str | None = None,
    table: str | None = None,
    constants: list[str] | tuple[str, ...] = (),
) -> Any:
    """A pandas frame of `unit`, `time` (the day or week), `rows`, the sum of each of `values`
    and the value of each of `constants` per unit and period (refused in one sentence when a
    constant takes two values in one). `data`: a Spark DataFrame, a SQLAlchemy table or select
    (with `db`), a DuckDB relation, a pandas frame, or a CSV/Parquet/JSON path (read by
    DuckDB); or None with `db` and `table`. Without `unit`, totals per period."""
    if data is None:
        if not (db and table):
            raise UserInputError("give data, or db and table, to aggregate.")
        from cerebro.engine.tables import open_database

        return _totals(open_database(db, table), unit, time, values, grain, constants)
    return _totals(_table(data, db), unit, time, values, grain, constants)


def event_panel(
    spec: Any,
    data: Any,
    unit: str | None,
    time: str,
    sums: list[str],
    constants: list[str] | tuple[str, ...] = (),
) -> tuple[Any, Any]:
    """(data, spec) for a family whose spec may have `panel_freq`: then the events in `data` (a
    frame or an engine table), in `spec.db`'s `spec.table`, or in `spec.data` read by
    `spec.engine`, totalled per `unit` (None: per period only) and period – a frame of
    `unit`, `time`, `sums` and `constants` –, and the spec with the password of its `db` URL
    hidden (it is shown and saved with the result). Without `panel_freq`, both unchanged."""
    if spec.panel_freq is None:
        return data, spec
    sums = list(dict.fromkeys(c for c in sums if c))
    constants = [c for c in dict.fromkeys(constants) if c and c not in (unit, time, *sums)]
    if data is not None:
        engine = _table(data, spec.db)
    elif spec.db:
        from cerebro.engine.tables import open_database

        engine = open_database(spec.db, spec.table)
    elif spec.data is None:
        raise UserInputError("no events: give a data file, or --db URL and --table NAME.")
    elif spec.engine == "spark":
        from cerebro.engine.tables import spark_file

        engine = spark_file(str(spec.data), spec.spark_master)
    else:
        engine = _table(str(spec.data), None)
    frame = _totals(engine, unit, time, sums, spec.panel_freq, constants)
    if spec.db:
        from cerebro.engine.tables import redacted_url

        spec = spec.model_copy(update={"db": redacted_url(spec.db)})
    return frame.drop(columns="rows"), spec


def _totals(
    engine: Any,
    unit: str | None,
    time: str,
    values: list[str],
    grain: str,
    constants: list[str] | tuple[str, ...],
) -> Any:
    import pandas as pd

    try:
        keys = [unit] if unit else []
        missing = [c for c in [*keys, time, *values, *constants] if c not in engine.columns]
        if missing:
            raise UserInputError(
                f"{engine.name} has no column {missing[0]!r}; its columns are "
                f"{', '.join(engine.columns)}."
            )
        engine.require_numeric(values)
        columns = engine.query(panel_sql(unit, time, values, grain, constants))
    finally:
        engine.close()
    names = [*keys, time, "rows", *values]
    width = len(names) + 2 * len(constants)
    columns = columns or [[] for _ in range(width)]
    frame = pd.DataFrame(dict(zip(names, columns[: len(names)], strict=True)))
    frame[time] = pd.to_datetime(frame[time])
    for v in values:
        frame[v] = frame[v].astype(float)
    for i, c in enumerate(constants):
        low, high = columns[len(names) + 2 * i], columns[len(names) + 2 * i + 1]
        _require_constant(c, low, high, frame, unit, time, engine.name)
        frame[c] = low
    return frame


def _require_constant(
    column: str, low: list[Any], high: list[Any], frame: Any, unit: str | None, time: str, name: str
) -> None:
    """Refuse a column that takes two values within one unit and period."""
    for i, (a, b) in enumerate(zip(low, high, strict=True)):
        if a != b:
            where = f"{unit} {frame[unit].iloc[i]!r} " if unit else ""
            raise UserInputError(
                f"column {column!r} of {name} takes two values ({a!r} and {b!r}) within "
                f"{where}on {frame[time].iloc[i].date()}; with --panel-freq it must be constant "
                "within each unit and period (a property of the unit, not of the event)."
            )


def _table(data: Any, db: str | None) -> Any:
    import duckdb

    from cerebro.engine import tables

    found = tables.as_table(data, db)
    if found is not None:
        return found
    if isinstance(data, str | Path):
        from cerebro.data.load import describe_file

        source, _ = describe_file(Path(data))
        return tables.duckdb_table(duckdb.sql(f"SELECT * FROM {source}"))
    return tables.duckdb_table(duckdb.from_df(data))

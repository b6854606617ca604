"""Daily or weekly totals per unit (geo, store, channel…) from a raw event table, computed by
the engine the rows live in – the panel geo tests, DiD and MMM start from.

One query, defined once (DuckDB dialect) and transpiled by sqlglot: per unit and period (the
day, or the ISO week starting on Monday, of the time column), the number of rows and the sum
of each value column. On Spark the executors aggregate; in a database the server does; only
the panel – units × periods rows – reaches Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.engine.duckdb_moments import sql_identifier
from cerebro.engine.sql_moments import SOURCE

GRAINS = ("day", "week")


def panel_sql(unit: str, time: str, values: list[str], grain: str = "day") -> str:
    """The panel query (DuckDB dialect, reading `SOURCE`)."""
    if grain not in GRAINS:
        raise UserInputError(f"grain {grain!r} is not one of {', '.join(GRAINS)}.")
    u, t = sql_identifier(unit), sql_identifier(time)
    period = f"CAST({t} AS DATE)"
    if grain == "week":
        period = f"CAST(date_trunc('week', CAST({t} AS DATE)) AS DATE)"
    sums = ", ".join(
        f"sum(CAST({sql_identifier(v)} AS DOUBLE)) AS {sql_identifier(v)}" for v in values
    )
    return (
        f"SELECT {u} AS {u}, {period} AS {t}, count(*) AS {sql_identifier('rows')}"
        f"{', ' + sums if sums else ''} FROM {SOURCE} "
        f"WHERE {u} IS NOT NULL AND {t} IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
    )


def panel_totals(
    data: Any,
    unit: str,
    time: str,
    values: list[str],
    grain: str = "day",
    db: str | None = None,
    table: str | None = None,
) -> Any:
    """A pandas frame of `unit`, `time` (the day or week), `rows` and the sum of each of
    `values` per unit and period. `data`: a Spark DataFrame, a SQLAlchemy table or select
    (with `db`), a DuckDB relation, a pandas frame, or a CSV/Parquet/JSON path (read by
    DuckDB); or None with `db` and `table`."""
    import pandas as pd

    engine = _table(data, db, table)
    try:
        missing = [c for c in [unit, time, *values] if c not in engine.columns]
        if missing:
            raise UserInputError(
                f"{engine.name} has no column {missing[0]!r}; its columns are "
                f"{', '.join(engine.columns)}."
            )
        engine.require_numeric(values)
        columns = engine.query(panel_sql(unit, time, values, grain))
    finally:
        engine.close()
    names = [unit, time, "rows", *values]
    frame = pd.DataFrame(
        dict(zip(names, columns, strict=True)) if columns else {n: [] for n in names}
    )
    frame[time] = pd.to_datetime(frame[time])
    for v in values:
        frame[v] = frame[v].astype(float)
    return frame


def _table(data: Any, db: str | None, table: str | None) -> Any:
    import duckdb

    from cerebro.engine import tables

    if data is None:
        if not (db and table):
            raise UserInputError("give data, or db and table, to aggregate.")
        return tables.open_database(db, table)
    found = tables.as_table(data, db)
    if found is not None:
        return found
    if isinstance(data, str | Path):
        from cerebro.data.load import describe_file

        source, _ = describe_file(Path(data))
        return tables.duckdb_table(duckdb.sql(f"SELECT * FROM {source}"))
    return tables.duckdb_table(duckdb.from_df(data))

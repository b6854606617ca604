"""The options that let a panel family – geo tests, DiD, MMM – start from a raw event table.

With `panel_freq` the family's data are events (one row per order, visit, sale…), not a panel:
the engine the rows live in (DuckDB on a file, Spark, a SQL database) totals them per unit and
day or week (`cerebro.engine.panel`), and the family's method runs on that small panel. Each
spec declares these fields with the types below (``panel_freq: PanelFreq``) and calls
`check_event_source` from its validator, so a default, a help text or a check is written here
only. (`ABTestSpec` has its own `engine`/`db`/`table`: there the engine computes moments.)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

PanelFreq = Annotated[
    Literal["day", "week"] | None,
    Field(
        None,
        description="The data are raw events (one row per order, visit…): total them per unit "
        "and day, or ISO week starting Monday, of the date column on `engine` (or in `db`) and "
        "analyse that panel. Outcome and spend columns are summed; the other named columns must "
        "be constant within a unit and period.",
    ),
]
EventEngine = Annotated[
    Literal["duckdb", "spark"],
    Field(
        "duckdb",
        description="With `panel_freq`: where the events are totalled – DuckDB in this process, "
        "or Apache Spark (`spark_master`; needs pyspark and Java 17+).",
    ),
]
SparkMaster = Annotated[
    str | None,
    Field(
        None,
        description="Spark master URL for `engine` spark, e.g. spark://host:7077 (default "
        "local[*]: every core of this machine).",
    ),
]
Db = Annotated[
    str | None,
    Field(
        None,
        description="SQLAlchemy URL of the database holding the events, e.g. "
        "postgresql://host/db, with `table` and `panel_freq`: the database totals them.",
    ),
]
Table = Annotated[
    str | None, Field(None, description="Table (or schema.table) in `db` holding the events.")
]


def check_event_source(spec: Any) -> None:
    """One sentence (ValueError) for a combination of the event-source fields that cannot
    work; `spec` has `data`, `panel_freq`, `engine`, `spark_master`, `db` and `table`."""
    if spec.spark_master and spec.engine != "spark":
        raise ValueError("--spark-master needs --engine spark")
    if spec.table and not spec.db:
        raise ValueError("--table names a table in a database: add --db URL")
    if spec.db and not spec.table:
        raise ValueError("--db needs --table: the table holding the events")
    if spec.db and (spec.data or spec.engine != "duckdb"):
        raise ValueError(
            "--db reads the events from a database table; drop the data file and --engine"
        )
    if (spec.db or spec.engine != "duckdb") and not spec.panel_freq:
        where = "--db" if spec.db else "--engine spark"
        raise ValueError(
            f"{where} totals raw events into a panel: add --panel-freq day or --panel-freq week"
        )

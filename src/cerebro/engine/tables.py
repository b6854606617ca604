"""Tables that live in an engine: a Spark DataFrame, a SQL database table, a DuckDB relation.

Each `EngineTable` knows its columns, which of them are numeric, and runs a query of
`cerebro.engine.sql_moments` (written once, transpiled by sqlglot to its dialect) where the
rows are, returning the few result rows as columns of Python values. The rows themselves never
reach this process: on Spark, the executors aggregate their partitions and the driver merges
one partial row per group; in a database, the server does it all.

`as_table(data)` recognises such a table passed as `data` (without importing pyspark or
SQLAlchemy unless the object comes from them); `open_table` opens one a spec names
(``--db URL --table NAME``, or a file on ``--engine spark``).
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.engine.sql_moments import transpile

_VIEWS = itertools.count()


@dataclass
class EngineTable:
    """A table in an engine: its `name` for messages, `columns` (name → numeric?), `dialect`,
    the `source` its queries read (a table name or a sqlglot expression) and `execute`."""

    name: str
    columns: dict[str, bool]
    dialect: str
    source: Any
    run: Any  # (sql text) -> list of result rows
    close: Any = field(default=lambda: None)

    kinds: dict[str, str] = field(default_factory=dict)  # name → 'integer', 'text' or 'other'

    def rows(self, sql: str) -> list[Any]:
        """Run a query written in DuckDB's dialect reading `SOURCE` here; its rows."""
        text = transpile(sql, self.dialect, self.source)
        try:
            return list(self.run(text))
        except Exception as err:  # each engine raises its own error types
            first = (str(err).strip().splitlines() or ["query failed"])[0]
            raise UserInputError(f"cannot summarise {self.name}: {first}") from None

    def query(self, sql: str) -> list[list[Any]]:
        """Run a `sql_moments` query (DuckDB dialect) here; the result's columns."""
        rows = self.rows(sql)
        width = len(rows[0]) if rows else 0
        return [[row[i] for row in rows] for i in range(width)]

    def require_numeric(self, names: list[str]) -> None:
        for column in names:
            if not self.columns.get(column, False):
                raise UserInputError(
                    f"column {column!r} of {self.name} is not numeric; recode it as numbers "
                    "(e.g. 0/1 for conversions) or pick a numeric column."
                )


def _module(data: Any) -> str:
    return type(data).__module__ or ""


def is_engine_table(data: Any) -> bool:
    """Is `data` a table `as_table` takes (judged by its type alone, nothing imported)?"""
    module = _module(data)
    return isinstance(data, Bound) or module.startswith(
        ("pyspark.sql", "sqlalchemy", "duckdb", "_duckdb")
    )


def as_table(data: Any, db: str | None = None) -> EngineTable | None:
    """The engine table `data` is, if it is one (Spark DataFrame, SQLAlchemy table or select –
    with `db` its database URL, or wrapped in `Bound` –, DuckDB relation); None for anything
    else (a pandas frame, a path)."""
    if isinstance(data, Bound):
        return sqlalchemy_table(data.selectable, data.bind)
    module = _module(data)
    if module.startswith("pyspark.sql"):
        return spark_table(data)
    if module.startswith("sqlalchemy"):
        return sqlalchemy_table(data, db)
    if module.startswith("duckdb") or module.startswith("_duckdb"):
        return duckdb_table(data)
    return None


def spark_table(frame: Any, name: str = "the Spark DataFrame") -> EngineTable:
    """A Spark DataFrame as a temporary view; queries run as Spark SQL on its session."""
    from pyspark.sql import types as T

    view = f"cerebro_source_{next(_VIEWS)}"
    frame.createOrReplaceTempView(view)
    numeric = {f.name: isinstance(f.dataType, T.NumericType | T.BooleanType) for f in frame.schema}
    session = frame.sparkSession

    def run(sql: str) -> list[Any]:
        return [tuple(r) for r in session.sql(sql).collect()]

    def close() -> None:
        session.catalog.dropTempView(view)

    kinds = {
        f.name: "integer"
        if isinstance(f.dataType, T.IntegralType)
        else "text"
        if isinstance(f.dataType, T.StringType)
        else "other"
        for f in frame.schema
    }
    return EngineTable(name, numeric, "spark", view, run, close, kinds)


_SQLALCHEMY_DIALECTS = {
    "postgresql": "postgres",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mssql": "tsql",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
    "oracle": "oracle",
    "trino": "trino",
}


def sqlalchemy_table(selectable: Any, bind: Any = None) -> EngineTable:
    """A SQLAlchemy `Table` or select (bound through `bind`, or the table's metadata bind)."""
    import sqlalchemy as sa
    import sqlglot

    if bind is None:
        raise UserInputError(
            "a SQLAlchemy table or select passed as data needs its database: give db= its URL "
            "(or pass cerebro.engine.tables.Bound(table, engine))."
        )
    if isinstance(bind, str):
        bind = sa.create_engine(_driver_url(bind))
    dialect = _SQLALCHEMY_DIALECTS.get(bind.dialect.name, bind.dialect.name)
    if isinstance(selectable, sa.Table):
        parts = [p for p in (selectable.schema, selectable.name) if p]
        source: Any = sqlglot.exp.table_(
            parts[-1], db=parts[0] if len(parts) > 1 else None, quoted=True
        )
        columns = selectable.columns
        name = f"table {selectable.fullname!r}"
    else:
        compiled = selectable.compile(bind, compile_kwargs={"literal_binds": True})
        source = sqlglot.parse_one(str(compiled), read=dialect).subquery("cerebro_source")
        columns = selectable.selected_columns
        name = "the SQL query"
    numeric = {c.name: _numeric(c.type) for c in columns}
    kinds = {c.name: _kind(c.type) for c in columns}

    def run(sql: str) -> list[Any]:
        with bind.connect() as connection:
            return [tuple(r) for r in connection.exec_driver_sql(sql).fetchall()]

    return EngineTable(name, numeric, dialect, source, run, kinds=kinds)


def _kind(kind: Any) -> str:
    try:
        python = kind.python_type
    except NotImplementedError:
        return "other"
    return "integer" if python is int else "text" if python is str else "other"


def _numeric(kind: Any) -> bool:
    try:
        return kind.python_type in (int, float, bool) or kind.python_type.__name__ == "Decimal"
    except NotImplementedError:
        return False


@dataclass
class Bound:
    """A SQLAlchemy table or select with the engine (or URL) its queries run on:
    `cerebro.abtest(Bound(table, engine), …)` works like a DataFrame."""

    selectable: Any
    bind: Any


def duckdb_table(relation: Any) -> EngineTable:
    """A DuckDB relation, queried on its own connection through a view."""
    view = f"cerebro_source_{next(_VIEWS)}"
    described = relation.types
    numeric = {c: _duckdb_numeric(str(t)) for c, t in zip(relation.columns, described, strict=True)}
    kinds = {c: _duckdb_kind(str(t)) for c, t in zip(relation.columns, described, strict=True)}

    def run(sql: str) -> list[Any]:
        return relation.query(view, sql).fetchall()

    return EngineTable("the DuckDB relation", numeric, "duckdb", view, run, kinds=kinds)


def _duckdb_kind(kind: str) -> str:
    from cerebro.data.units import duckdb_kind

    return duckdb_kind(kind)


def _duckdb_numeric(kind: str) -> bool:
    from cerebro.engine.duckdb_moments import _NUMERIC

    return kind.upper().split("(")[0] in _NUMERIC


def open_database(url: str, table: str) -> EngineTable:
    """Table `table` (``schema.name`` allowed) of the database at SQLAlchemy URL `url`."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(_driver_url(url))
        schema, _, name = table.rpartition(".")
        reflected = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)
    except sa.exc.NoSuchTableError:
        raise UserInputError(
            f"table {table!r} does not exist in {redacted_url(url)}; check --table."
        ) from None
    except (sa.exc.SQLAlchemyError, ImportError) as err:
        first = (str(err).strip().splitlines() or ["cannot connect"])[0]
        raise UserInputError(f"cannot open {redacted_url(url)}: {first}; check --db.") from None
    out = sqlalchemy_table(reflected, engine)
    out.close = engine.dispose
    return out


def _driver_url(url: str) -> str:
    """postgresql:// means psycopg 3 here (SQLAlchemy's default driver is psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def redacted_url(url: str) -> str:
    """The URL with its password, if any, replaced by ***, for messages and saved specs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{credentials}{at}{host}"


def spark_session(master: str | None) -> Any:
    """The active SparkSession, or a new one on `master` (local[*] by default)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserInputError(
            "--engine spark needs pyspark: pip install 'cerebro[spark]' (and Java 17+)."
        ) from None
    # Python work on the executors (uplift scoring) needs this interpreter's packages locally;
    # on a cluster, PYSPARK_PYTHON names the executors' interpreter, which must have cerebro.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("cerebro").master(master or "local[*]")
    return builder.getOrCreate()


def spark_file(path: str, master: str | None) -> EngineTable:
    """A Parquet/CSV/JSON file read by Spark (`master`: a cluster URL; local[*] by default)."""
    session = spark_session(master)
    suffix = path.rsplit(".", 1)[-1].lower()
    reader = session.read
    if suffix in ("csv", "tsv", "txt"):
        sep = "\t" if suffix == "tsv" else ","
        frame = reader.csv(path, header=True, inferSchema=True, sep=sep)
    elif suffix in ("json", "jsonl", "ndjson"):
        frame = reader.json(path)
    else:
        frame = reader.parquet(path)
    return spark_table(frame, f"{path.rsplit('/', 1)[-1]!r}")

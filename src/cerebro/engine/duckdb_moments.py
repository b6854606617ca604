"""Per-arm moments of a file computed by DuckDB in one scan, as a summary table.

For every outcome the query returns, per arm (and stratum), the count of complete rows and the
mean, variance and pairwise covariances of the outcome's columns (numerator, denominator,
covariates) – the centred `--from-summary` format – over the rows where all of that outcome's
columns are present. The query is `cerebro.engine.sql_moments`' (sums of values shifted by a
pilot mean), the one every engine runs; on values near 1e9 with spread 0.01 DuckDB's own
`var_samp` was 1e-6 relative off, the shifted sums agree with numpy's two-pass variance to
1e-9 (`tests/test_engine_precision.py`, docs/engines.md).

Used by `cerebro abtest FILE` whenever the analysis needs only moments (no `--cluster`, no
Mann–Whitney): the file is never materialised in Python, which on the 1.5M-row demo cuts peak
memory by more than half (BENCHMARKS.md).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError

_READERS = {
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".txt": "read_csv",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
    ".json": "read_json_auto",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
}
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "BOOLEAN",
)


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class FileMoments:
    """The groups (arm, strata…) with their row counts, and one summary table per outcome."""

    groups: dict[str, np.ndarray]  # treatment, strata…, rows (groups with a treatment value)
    missing_treatment: int
    summaries: list[dict[str, np.ndarray]]  # aligned with `groups`: n, v_mean, v_var, a_x_b_cov
    complete_rows: list[int]  # rows with every column of each outcome present
    largest: dict[str, float]  # each column's largest |value| over all rows (NaN: no value)


_KEPT: dict[int, Any] = {}  # thread ident → that thread's connection
_INHERITED: list[dict[int, Any]] = []  # a forked child's copies of the parent's: never closed
_LOCK = threading.Lock()


def _forget_in_child() -> None:
    """After a fork the child must not use, close or collect the parent's connections: their
    DuckDB instances' worker threads did not survive the fork (closing one would wait for them,
    and a connection kept in a `threading.local` of another thread was collected by the child's
    thread clean-up and crashed it). The child keeps them referenced and starts with none."""
    global _KEPT, _LOCK
    _INHERITED.append(_KEPT)
    _KEPT, _LOCK = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def connection() -> Any:
    """This thread's DuckDB connection (in memory), made on first use and kept: the sniff, the
    DESCRIBE and the moments query of a run share it – opening one costs ≈ 0.02 s of CPU, a
    thirtieth of a Parquet run – and threads never share one (a connection is not safe to use
    from two threads at once). Nothing is stored in it; each query's result is fetched whole.
    The connections of threads that have ended are closed when a new one is made."""
    ident = threading.get_ident()
    con = _KEPT.get(ident)
    if con is None:
        import duckdb

        con = duckdb.connect()
        with _LOCK:
            alive = {t.ident for t in threading.enumerate()}
            for gone in [k for k in _KEPT if k not in alive]:
                _KEPT.pop(gone).close()
            _KEPT[ident] = con
    return con


def file_columns(path: Path, encoding: str | None = None) -> tuple[str, dict[str, str]]:
    """The DuckDB source expression of a file and its column types; `encoding` a CSV's text
    encoding other than UTF-8 (DuckDB reads 'latin-1' and 'utf-16')."""
    import duckdb

    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UserInputError(
            f"cannot read {path.name!r}: unknown file type {path.suffix!r}; use .csv, .parquet or .json."
        )
    options = ", delim='\\t'" if path.suffix.lower() == ".tsv" else ""
    options += f", encoding='{encoding}'" if encoding else ""
    source = f"{reader}('{str(path).replace(chr(39), chr(39) * 2)}'{options})"
    con = connection()
    try:
        if reader == "read_csv":
            # Sniff the dialect and types once; the returned read_csv call states them all, so
            # neither DESCRIBE nor the main query sniffs again (~0.1 s each on the demo).
            sniff = source.replace("read_csv(", "sniff_csv(", 1)
            prompt = con.sql(f"SELECT Prompt FROM {sniff}").fetchall()[0][0]
            source = prompt.removeprefix("FROM ").rstrip(";")
        rows = con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as err:
        first = (str(err).strip().splitlines() or ["unreadable"])[0]
        raise UserInputError(f"cannot read {path.name!r}: {first}") from None
    return source, {r[0]: str(r[1]).upper() for r in rows}


def file_moments(
    source: str,
    types: dict[str, str],
    treatment: str,
    strata: list[str],
    outcomes: list[list[str]],
) -> FileMoments:
    """One scan: counts, means, variances and covariances per group for each outcome (the
    shifted sums of `cerebro.engine.sql_moments`, run on DuckDB without transpiling)."""
    from cerebro.engine.sql_moments import finish_moments, moments_sql

    _check_numeric(types, [c for columns in outcomes for c in columns])
    result = run_duckdb(moments_sql(treatment, strata, outcomes), source)
    return finish_moments(result, treatment, strata, outcomes)


def run_duckdb(sql: str, source: str) -> list[list[object]]:
    """A `sql_moments` query (DuckDB dialect) on `source`, a DuckDB FROM item; its columns."""
    import duckdb

    from cerebro.engine.sql_moments import SOURCE

    con = connection()
    try:
        rows = con.sql(sql.replace(SOURCE, source)).fetchall()
    except duckdb.Error as err:
        first = (str(err).strip().splitlines() or ["query failed"])[0]
        raise UserInputError(f"cannot summarise the data: {first}") from None
    width = len(rows[0]) if rows else 0
    return [[row[i] for row in rows] for i in range(width)]


@dataclass
class FileClusterMoments:
    """Per-arm moments of cluster totals for each outcome (cluster-randomised tests)."""

    arms: dict[str, np.ndarray]  # treatment, clusters (every cluster with a treatment)
    missing_treatment: int
    total_rows: int
    moments: list[list[tuple[float, list[float], list[list[float]]]]]  # per outcome, per arm
    rows: list[list[float]]  # per outcome, per arm: complete rows
    binary: list[bool]
    largest: dict[str, float]  # each column's largest |value| over all rows (NaN: no value)


def file_cluster_moments(
    source: str,
    types: dict[str, str],
    treatment: str,
    cluster: str,
    outcomes: list[tuple[str, str | None, list[str]]],
) -> FileClusterMoments:
    """Two-level aggregation: totals per cluster, then moments of the totals per arm.

    `outcomes` holds (numerator, denominator or None, covariates). A plain mean's cluster
    denominator is its number of complete rows. Raises when a cluster spans several arms.
    """
    from cerebro.engine.sql_moments import cluster_sql, finish_cluster

    _check_numeric(
        types, [c for num, den, cov in outcomes for c in [num, *([den] if den else []), *cov]]
    )
    result = run_duckdb(cluster_sql(treatment, cluster, outcomes), source)
    return finish_cluster(result, treatment, outcomes)


def _check_numeric(types: dict[str, str], columns: list[str]) -> None:
    for column in columns:
        if types[column].split("(")[0] not in _NUMERIC:
            raise UserInputError(
                f"column {column!r} is not numeric (type {types[column]}); recode it as "
                "numbers (e.g. 0/1 for conversions) or pick a numeric column."
            )

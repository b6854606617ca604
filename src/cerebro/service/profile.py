"""A dataset's profile and data-quality assessment: column types, missingness, distinct values,
duplicate rows and time order – computed once on upload and stored with the dataset.

The profile is SQL run by DuckDB over the stored file (`profile_sql.py` says how columns are
typed): the file is streamed, never loaded, so a multi-GB upload is profiled in the API process
within `MEMORY_LIMIT` (DuckDB spills the distinct-value and duplicate-row hash tables to a
folder beside the file past it). Four scans: the column types, then per column its missing and
distinct values (exact `count(DISTINCT)`) and a date column's range, then the distinct rows,
then each date column's order in the file. "Sorted" is: no present timestamp is below the
largest one before it in the file – a running `max() OVER (ROWS UNBOUNDED PRECEDING)`, which
DuckDB computes as a streaming window in the scan's order (`preserve_insertion_order`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.data.load import check_separator, describe_file
from cerebro.service.profile_sql import (
    DATE_SHARE,
    RAW_NULL,
    Column,
    csv_classes,
    csv_column,
    quoted,
    typed_column,
    typed_share,
)

MOSTLY_MISSING = 0.2  # a column missing in more than this share of rows gets a warning
MEMORY_LIMIT = (
    "512MB"  # DuckDB's budget for one profile; it spills to disk past it (256MB: out of memory
)
# counting the distinct rows of a 1 GB CSV, 23.6 million of them – BENCHMARKS.md)
THREADS = 2
GUESS_ROWS = 50_000  # the rows a column's type is guessed from (the full scan checks it)
SPILL_FOLDER = ".profile-spill"


def _findings(rows: int, columns: list[dict[str, Any]], duplicates: int, times: list[dict]):
    found = []
    for column in columns:
        if column["missing"] == rows:
            found.append(("warning", "all_missing", f"column {column['name']!r} is empty."))
        elif column["missing_share"] > MOSTLY_MISSING:
            share = f"{column['missing_share']:.0%}"
            found.append(
                ("warning", "mostly_missing", f"column {column['name']!r} is {share} missing.")
            )
        if column["distinct"] == 1:
            found.append(("info", "constant", f"column {column['name']!r} has one value."))
    if duplicates:
        found.append(("warning", "duplicate_rows", f"{duplicates} rows repeat an earlier row."))
    for time in times:
        if not time["sorted"]:
            found.append(
                ("info", "not_time_ordered", f"rows are not in the order of {time['column']!r}.")
            )
    return [{"level": level, "code": code, "message": msg} for level, code, msg in found]


def _connect(spill: Path):
    import duckdb

    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": THREADS,
                                  "temp_directory": str(spill),
                                  "preserve_insertion_order": True})  # fmt: skip
    con.execute("SET enable_progress_bar = false")
    return con


def _header(path: Path, delim: str) -> list[str]:
    """The column names of a CSV's first record (describe_file has checked it is UTF-8)."""
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle, delimiter=delim), [])


def _text_source(path: Path) -> tuple[str, list[str]]:
    """Every cell of a CSV or TSV as its text, in pyarrow's dialect (comma or tab, '"' quotes
    doubled to escape, a header, no comments): stated in full, as DuckDB's sniffer could
    otherwise choose to skip lines or treat '#' as a comment. Also the header's names."""
    tab = path.suffix.lower() == ".tsv"
    names = _header(path, "\t" if tab else ",")
    # the columns are read as c0, c1, …: a header name may be empty, which SQL cannot quote
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    source = (f"read_csv({quoted(str(path))}, auto_detect=false, header=true, columns={columns}, "
              f"delim=E'{chr(92) + 't' if tab else ','}', quote='\"', escape='\"', "
              f"nullstr=E'{RAW_NULL}', allow_quoted_nulls=false)")  # fmt: skip
    return source, names


def _source(con, path: Path) -> tuple[str, list[str], list[str] | None]:
    """The file's DuckDB source, its column names and (Parquet, JSON) their stored types."""
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        source, names = _text_source(path)
        check_separator(path, "tsv" if path.suffix.lower() == ".tsv" else "csv", names, None)
        return source, names, None
    source = describe_file(path)[0]
    described = con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    return source, [str(r[0]) for r in described], [str(r[1]).upper() for r in described]


def _classify(
    con, source: str, names: list[str], types: list[str] | None, at: list[int]
) -> list[Column]:
    """The types of the columns at positions `at` over the rows of `source` (the first rows: a
    guess the full scan checks; or the whole file)."""
    if types is None:  # a CSV's columns are read as c0, c1, …
        counts = [c for i in at for c in csv_classes(f"c{i}")]
        row = con.execute(f"SELECT {', '.join(counts)} FROM {source}").fetchone()
        return [csv_column(names[i], list(row[7 * k : 7 * k + 7]), f"c{i}")
                for k, i in enumerate(at)]  # fmt: skip
    shares = [typed_share(names[i], types[i]) for i in at]
    row = con.execute(f"SELECT count(*), {', '.join(shares)} FROM {source}").fetchone()
    return [typed_column(names[i], types[i], s) for i, s in zip(at, row[1:], strict=True)]


def _scan(con, source: str, columns: list[Column]) -> tuple[int, list[list[Any]], list[str]]:
    """The row count; per column its missing and distinct values and, for a date column, its
    timestamps' first, last, count and distinct count; and the columns whose guessed type the
    file contradicts (a value of another type, or a text column's share of ISO dates on the
    other side of `DATE_SHARE`). Each row's expressions are computed once, in the inner query."""
    inner, parts = [], ["count(*)"]
    for i, c in enumerate(columns):
        inner += [f"{c.value} AS v{i}", f"{c.present} AS p{i}", f"{c.wrong} AS k{i}"]
        parts += [f"count(*) - count(v{i})", f"count(DISTINCT v{i})"]
        if c.when is not None:
            inner.append(f"{c.when} AS w{i}" if c.when != c.value else f"v{i} AS w{i}")
            parts += [f"min(w{i})", f"max(w{i})", f"count(w{i})", f"count(DISTINCT w{i})"]
        inner.append(f"{c.iso or 'false'} AS d{i}")
        dates = f"count(w{i})" if c.when is not None else f"count(*) FILTER (WHERE d{i})"
        parts += [f"count(*) FILTER (WHERE p{i} AND (k{i} OR v{i} IS NULL))", dates,
                  f"count(*) FILTER (WHERE p{i})"]  # fmt: skip
    query = f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(inner)} FROM {source})"
    row = list(con.execute(query).fetchone())
    rows, row = row[0], row[1:]
    stats, wrong = [], []
    for c in columns:
        width = 6 if c.when is not None else 2
        stats.append(row[:width])
        contradicted, iso, present = row[width : width + 3]
        row = row[width + 3 :]
        flips = c.by_share and (iso >= DATE_SHARE * present) != (c.type == "date")
        if contradicted or flips:
            wrong.append(c.name)
    return rows, stats, wrong


def _columns(con, path: Path) -> tuple[str, int, list[Column], list[list[Any]]]:
    """The source, row count, typed columns and their statistics: types guessed from the first
    `GUESS_ROWS` rows and checked in the one full scan that counts everything else; a column
    whose guess the file contradicts is typed over the whole file and counted again."""
    source, names, types = _source(con, path)
    first = f"(SELECT * FROM {source} LIMIT {GUESS_ROWS})"
    columns = _classify(con, first, names, types, list(range(len(names))))
    rows, stats, wrong = _scan(con, source, columns)
    if wrong:
        at = [names.index(n) for n in wrong]
        fixed = _classify(con, source, names, types, at)
        _, again, _ = _scan(con, source, fixed)
        for i, column, stat in zip(at, fixed, again, strict=True):
            columns[i], stats[i] = column, stat
    return source, rows, columns, stats


def _duplicates(con, source: str, rows: int, columns: list[Column]) -> int:
    """Rows that repeat an earlier row, on the typed values (third scan)."""
    values = ", ".join(c.value for c in columns)
    distinct = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {values} FROM {source})"
    ).fetchone()
    return rows - distinct[0]


def _unsorted(con, source: str, dates: list[Column]) -> list[bool]:
    """Per date column: whether a timestamp comes after a larger one in the file (fourth scan;
    the running max is a streaming window over the rows in file order)."""
    running = [f"{c.when} AS d{i}, max({c.when}) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND "
               f"CURRENT ROW) AS m{i}" for i, c in enumerate(dates)]  # fmt: skip
    tests = [f"bool_or(d{i} < m{i})" for i in range(len(dates))]
    query = f"SELECT {', '.join(tests)} FROM (SELECT {', '.join(running)} FROM {source})"
    return [bool(x) for x in con.execute(query).fetchone()]


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _profile(con, path: Path) -> dict[str, Any]:
    source, rows, columns, stats = _columns(con, path)
    if rows == 0:
        names = "a header" if path.suffix.lower() in (".csv", ".tsv", ".txt") else "column names"
        raise UserInputError(f"{path.name!r} has {names} but no data rows; check the file.")
    duplicates = _duplicates(con, source, rows, columns)
    dates = [c for c in columns if c.when is not None]
    unsorted = _unsorted(con, source, dates) if dates else []
    profiled, times = [], []
    for c, (missing, distinct, *time) in zip(columns, stats, strict=True):
        profiled.append({"name": c.name, "type": c.type, "missing": missing,
                         "missing_share": missing / rows, "distinct": distinct})  # fmt: skip
        if c.when is not None:
            first, last, count, unique = time
            times.append({"column": c.name, "first": _iso(first), "last": _iso(last),
                          "sorted": not unsorted[len(times)], "distinct": unique,
                          "repeated_values": count - unique})  # fmt: skip
    return {
        "rows": rows,
        "columns": profiled,
        "duplicate_rows": duplicates,
        "time_order": times,
        "findings": _findings(rows, profiled, duplicates, times),
    }


def profile_file(path: Path) -> dict[str, Any]:
    """The profile of a stored file; a file Cerebro cannot read raises the `UserInputError` that
    `load_table` would (empty, a header without rows, another separator, not UTF-8, a column
    name given twice), so an upload is refused in the CLI's words."""
    import duckdb

    describe_file(path, columns=lambda names: names)  # the file-level refusals, sniffed cheaply
    spill = path.parent / SPILL_FOLDER
    con = _connect(spill)
    try:
        return _profile(con, path)
    except duckdb.OutOfMemoryException:
        raise UserInputError(
            f"{path.name!r} is too large to profile within the server's memory limit for it "
            f"({MEMORY_LIMIT}); upload it in parts, or ask the administrator to raise the limit."
        ) from None
    except (duckdb.InvalidInputException, duckdb.ConversionException) as err:
        first = (str(err).strip().splitlines() or ["unreadable"])[0]
        first = first.replace(str(path), path.name)  # the server's folders are not the user's
        kind = path.suffix.lower().lstrip(".").upper()
        raise UserInputError(f"cannot read {path.name!r} as {kind}: {first}") from None
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)

"""Read tabular data and validate column roles.

CSV and Parquet are read with pyarrow, JSON with DuckDB. Only the columns an analysis needs
are parsed, which is what makes `cerebro abtest big.csv` fast. (DuckDB reads CSV too, but on
the 1.5M-row demo its reader measured 0.85–1.0 s against pyarrow's 0.4–0.6 s for the same six
columns on this 2-core machine; see BENCHMARKS.md.)

File-level problems are refused here, each in one sentence naming the user's file: an empty
file, a header without data rows, a comma-separated reader given a semicolon-separated (or tab-
separated) file, text that is not UTF-8, a column name that appears twice among the columns read,
and a named column whose every value is missing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

_KINDS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}


def _unreadable(path: Path, kind: str, err: Exception) -> UserInputError:
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if isinstance(err, UnicodeDecodeError) or "utf8" in first.lower().replace("-", ""):
        return _not_utf8(path)
    if "Empty CSV file" in first:
        return UserInputError(f"{path.name!r} has no header and no data rows; check the file.")
    return UserInputError(f"cannot read {path.name!r} as {kind.upper()}: {first}")


def _empty(path: Path) -> UserInputError:
    return UserInputError(f"{path.name!r} is empty (0 bytes); check the path or export again.")


def _not_utf8(path: Path, column: str | None = None) -> UserInputError:
    where = f" (column {column!r})" if column else ""
    return UserInputError(
        f"{path.name!r} is not UTF-8 text{where}; convert it to UTF-8, e.g. with "
        f"`iconv -f latin1 -t utf-8 {path.name} > utf8-{path.name}` or by saving it as "
        "'CSV UTF-8' in a spreadsheet."
    )


def _read_arrow_csv(path: Path, kind: str, columns: Callable[[list[str]], list[str]]):
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    parse = pa_csv.ParseOptions(delimiter="\t" if kind == "tsv" else ",")
    try:
        with pa_csv.open_csv(path, parse_options=parse) as reader:
            available = reader.schema.names
        wanted = columns(available)
        return pa_csv.read_csv(
            path,
            parse_options=parse,
            convert_options=pa_csv.ConvertOptions(include_columns=wanted),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        raise _unreadable(path, kind, err) from None


def _read_parquet(path: Path, columns: Callable[[list[str]], list[str]]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        available = pq.read_schema(path).names
        return pq.read_table(path, columns=columns(available))
    except (pa.ArrowInvalid, OSError) as err:
        raise _unreadable(path, "parquet", err) from None


def _read_json(path: Path, columns: Callable[[list[str]], list[str]]):
    import duckdb

    con = duckdb.connect()
    try:
        source = "read_json_auto('" + str(path).replace("'", "''") + "')"
        try:
            available = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        except duckdb.Error as err:
            raise _unreadable(path, "json", err) from None
        select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns(available))
        arrow = con.sql(f"SELECT {select} FROM {source}").arrow()
        return arrow.read_all() if hasattr(arrow, "read_all") else arrow
    finally:
        con.close()


def load_table(
    path: str | Path,
    columns: Sequence[str] | Callable[[list[str]], Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Load a CSV / TSV / Parquet / JSON file into a DataFrame, keeping only `columns` if given.

    `columns` may be a function of the file's column names (for names that only make sense
    against them, like ratio metrics ``num/den``). Missing columns raise `UserInputError`
    naming them and the columns that exist; so do an empty file, a header without rows, another
    separator than the suffix says, non-UTF-8 text, a column read that appears twice in the
    header, and a named column with no values (see the module docstring).
    """
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"data file {str(path)!r} does not exist; check the path.")
    if path.is_dir():
        raise UserInputError(f"{str(path)!r} is a directory; pass a CSV, Parquet or JSON file.")
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"cannot read {path.name!r}: unknown file type {path.suffix!r}; "
            "use .csv, .tsv, .parquet or .json."
        )

    if path.stat().st_size == 0:
        raise _empty(path)
    named: list[str] = []

    def select(available: list[str]) -> list[str]:
        if columns is None:
            wanted = list(dict.fromkeys(available))
        else:
            wanted = list(dict.fromkeys(columns(available) if callable(columns) else columns))
            named.extend(wanted)
        twice = [c for c in wanted if available.count(c) > 1]
        if twice:
            raise UserInputError(
                f"column {twice[0]!r} appears {available.count(twice[0])} times in the header of "
                f"{path.name!r}; rename the copies so that every column name is unique."
            )
        if columns is None:
            check_separator(path, kind, available, None)
        else:
            if kind == "json" and available == ["json"]:  # DuckDB's name for no fields
                raise UserInputError(
                    f"{path.name!r} holds no records with named fields; give an array of "
                    "objects, or one object per line."
                )
            check_separator(path, kind, available, wanted)
            require_columns(available, wanted, source_name=path.name)
        return wanted

    if kind in ("csv", "tsv"):
        table = _read_arrow_csv(path, kind, select)
    elif kind == "parquet":
        table = _read_parquet(path, select)
    else:
        table = _read_json(path, select)
    _check_table(path, table, named)
    return table.to_pandas()


def check_separator(path: Path, kind: str, available: list[str], wanted: list[str] | None) -> None:
    """A CSV read as one column whose name holds ';' or a tab: the file uses another separator
    (`wanted` None: every column is read, so a one-column header with a ';' is enough)."""
    if kind not in ("csv", "tsv") or len(available) != 1:
        return
    if wanted is not None and set(wanted) <= set(available):
        return
    header = available[0]
    for mark, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if mark in header and mark != ("\t" if kind == "tsv" else ","):
            fix = (
                "rename it to .tsv"
                if mark == "\t"
                else f"save it with commas (e.g. pandas.read_csv(path, sep={mark!r}).to_csv(new, "
                "index=False))"
            )
            raise UserInputError(
                f"{path.name!r} looks separated by {name}, not {'tabs' if kind == 'tsv' else 'commas'}"
                f" (its header reads {header[:60]!r}); {fix}."
            )


def _check_table(path: Path, table: Any, named: list[str]) -> None:
    """Refuse a table without rows, text that is not UTF-8, and named columns with no values."""
    import pyarrow as pa

    if table.num_rows == 0:
        names = "a header" if path.suffix.lower() in (".csv", ".tsv", ".txt") else "column names"
        raise UserInputError(f"{path.name!r} has {names} but no data rows; check the file.")
    for name, column in zip(table.column_names, table.columns, strict=True):
        binary = pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)
        if binary and path.suffix.lower() not in (".parquet", ".pq"):
            raise _not_utf8(path, name)  # pyarrow reads invalid UTF-8 text as bytes
        if name in named and column.null_count == len(column):
            raise _all_missing(path, name)


def _all_missing(path: Path, column: str) -> UserInputError:
    return UserInputError(
        f"all values missing in column {column!r} of {path.name!r}; fill it in or choose "
        "another column."
    )


def require_file_values(path: Path, source: str, types: dict[str, str], columns: list[str]) -> None:
    """Refuse a column of a DuckDB-read file without a single value, as `load_table` does.

    DuckDB's sniffer types an empty column VARCHAR, so a numeric column left empty would
    otherwise be reported as text; only VARCHAR columns are queried, and the query stops at
    the first value."""
    import duckdb

    from cerebro.engine.duckdb_moments import sql_identifier

    for column in columns:
        if types.get(column) != "VARCHAR":
            continue
        name = sql_identifier(column)
        query = f"SELECT 1 FROM {source} WHERE {name} IS NOT NULL LIMIT 1"
        if not duckdb.sql(query).fetchall():
            raise _all_missing(path, column)


def label_text(value: object) -> str:
    """Group labels as strings, so that 0/1, 1.0/2.0, True/False and names print the same way."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def require_columns(
    available: Iterable[str], wanted: Iterable[str], source_name: str = "the data"
) -> None:
    """Raise one sentence naming every missing column and what the data does have (or a
    wanted column that the data has twice)."""
    have = list(available)
    wanted = list(wanted)
    twice = [c for c in wanted if have.count(c) > 1]
    if twice:
        raise UserInputError(
            f"column {twice[0]!r} appears {have.count(twice[0])} times in {source_name}; rename "
            "the copies so that every column name is unique."
        )
    missing = [c for c in wanted if c not in set(have)]
    if missing:
        shown = ", ".join(have[:20]) + (" …" if len(have) > 20 else "")
        noun = "column" if len(missing) == 1 else "columns"
        raise UserInputError(
            f"{noun} {', '.join(repr(m) for m in missing)} not found in {source_name}; "
            f"available columns: {shown}."
        )


def describe_file(
    path: Path, columns: Sequence[str] | Callable[[list[str]], Sequence[str]] = ()
) -> tuple[str, dict[str, str]]:
    """The file's DuckDB source and column types, sniffed once per version of the file (the
    repeated-unit check and the analysis both need them; sniffing a CSV takes ~0.1 s).

    The file-level defects `load_table` refuses are refused here too, in the same words: an
    empty file, a header without rows, a column name given twice (DuckDB would rename the copy)
    and text that is not UTF-8 (DuckDB's "CSV Error on Line 2") – in one of `columns`, the
    columns the caller reads (or a function of the file's column names, as in `load_table`).
    A CSV whose only non-UTF-8 text lies in other columns is read as latin-1 (every byte one
    character), which reads ASCII columns exactly as UTF-8 does; a column read that then holds
    non-ASCII UTF-8 text would be misread and is refused."""
    if not path.is_file():
        load_table(path)  # raises the clear "does not exist" / "is a directory" error
    stat = path.stat()
    if stat.st_size == 0:
        raise _empty(path)
    source, types, encodings = _sniffed(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    for column in columns(list(types)) if callable(columns) else columns:
        if encodings.get(column) == _NOT_UTF8:
            raise _not_utf8(path, column)
        if column in encodings:
            other = next(c for c, e in encodings.items() if e == _NOT_UTF8)
            raise UserInputError(
                f"{path.name!r} mixes encodings: column {other!r} is not UTF-8 while column "
                f"{column!r} holds UTF-8 text; convert the file to one encoding, UTF-8."
            )
    return source, types


_HEAD = 1 << 16


def _check_text_head(path: Path) -> None:
    """A CSV with no line but blank ones, or a header and nothing else."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD)
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        raise UserInputError(f"{path.name!r} has no header and no data rows; check the file.")
    if len(head) < _HEAD and len(lines) < 2:
        raise UserInputError(f"{path.name!r} has a header but no data rows; check the file.")


def _header_fields(path: Path, n_columns: int) -> tuple[bytes, list[bytes]]:
    """The header line and its names, split at the separator that gives the sniffed count."""
    with open(path, "rb") as handle:
        header = handle.readline().rstrip(b"\r\n")
    for mark in (b",", b";", b"\t", b"|"):
        names = [name.strip().strip(b'"') for name in header.split(mark)]
        if len(names) == n_columns:
            return mark, names
    return b",", header.split(b",")


def _check_header_names(path: Path, n_columns: int) -> None:
    """Refuse a column name that the header gives twice."""
    _, names = _header_fields(path, n_columns)
    decoded = [name.decode("utf-8", errors="replace") for name in names]
    twice = next((n for n in decoded if decoded.count(n) > 1), None)
    if twice is not None:
        raise UserInputError(
            f"column {twice!r} appears {decoded.count(twice)} times in the header of "
            f"{path.name!r}; rename the copies so that every column name is unique."
        )


_NOT_UTF8 = "not utf-8"


def _encodings(path: Path) -> dict[str, str]:
    """After DuckDB could not read a CSV as UTF-8: the columns holding non-ASCII bytes, each
    'utf-8' or `_NOT_UTF8`, named as a latin-1 read names them. Only lines with non-ASCII bytes
    are parsed, so this costs one pass over the bytes of a file that failed anyway."""
    import csv

    with open(path, "rb") as handle:
        header = handle.readline()
        widest = max(header.count(m) for m in (b",", b";", b"\t", b"|")) + 1
        mark, names = _header_fields(path, widest)
        labels = [name.decode("latin-1") for name in names]
        found: dict[str, str] = {}
        for line in handle:
            if line.isascii():
                continue
            fields = next(csv.reader([line.decode("latin-1")], delimiter=mark.decode()), [])
            for i, field in enumerate(fields):
                if field.isascii():
                    continue
                if i >= len(labels):
                    raise _not_utf8(path)
                utf8 = _is_utf8(field.encode("latin-1"))
                if found.get(labels[i]) != _NOT_UTF8:
                    found[labels[i]] = "utf-8" if utf8 else _NOT_UTF8
    return found


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@functools.lru_cache(maxsize=8)
def _sniffed(path: str, mtime_ns: int, size: int) -> tuple[str, dict[str, str], dict[str, str]]:
    """Checked and sniffed once per version of the file (the arguments key the cache); the
    third part maps the columns of a CSV read as latin-1 to their encoding (`_encodings`)."""
    from cerebro.engine.duckdb_moments import file_columns

    file = Path(path)
    text = file.suffix.lower() in (".csv", ".tsv")
    if text:
        _check_text_head(file)
    encodings: dict[str, str] = {}
    try:
        source, types = file_columns(file)
    except UserInputError:
        encodings = _encodings(file) if text else {}
        if _NOT_UTF8 not in encodings.values():
            raise
        source, types = file_columns(file, encoding="latin-1")
    if text:
        _check_header_names(file, len(types))
    return source, dict(types), encodings

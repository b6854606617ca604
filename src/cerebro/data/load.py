"""Read tabular data and validate column roles.

CSV and Parquet are read with pyarrow, JSON with DuckDB. Only the columns an analysis needs
are parsed, which is what makes `cerebro abtest big.csv` fast. (DuckDB reads CSV too, but on
the 1.5M-row demo its reader measured 0.85–1.0 s against pyarrow's 0.4–0.6 s for the same six
columns on this 2-core machine; see BENCHMARKS.md.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
    return UserInputError(f"cannot read {path.name!r} as {kind.upper()}: {first}")


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
    naming them and the columns that exist.
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

    def select(available: list[str]) -> list[str]:
        if columns is None:
            return list(available)
        wanted = list(dict.fromkeys(columns(available) if callable(columns) else columns))
        require_columns(available, wanted, source_name=path.name)
        return wanted

    if kind in ("csv", "tsv"):
        table = _read_arrow_csv(path, kind, select)
    elif kind == "parquet":
        table = _read_parquet(path, select)
    else:
        table = _read_json(path, select)
    return table.to_pandas()


def label_text(value: object) -> str:
    """Group labels as strings, so that 0/1, 1.0/2.0, True/False and names print the same way."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def require_columns(
    available: Iterable[str], wanted: Iterable[str], source_name: str = "the data"
) -> None:
    """Raise one sentence naming every missing column and what the data does have."""
    have = list(available)
    missing = [c for c in wanted if c not in set(have)]
    if missing:
        shown = ", ".join(have[:20]) + (" …" if len(have) > 20 else "")
        noun = "column" if len(missing) == 1 else "columns"
        raise UserInputError(
            f"{noun} {', '.join(repr(m) for m in missing)} not found in {source_name}; "
            f"available columns: {shown}."
        )


def describe_file(path: Path) -> tuple[str, dict[str, str]]:
    """The file's DuckDB source and column types, sniffed once per version of the file (the
    repeated-unit check and the analysis both need them; sniffing a CSV takes ~0.1 s)."""
    if not path.is_file():
        load_table(path)  # raises the clear "does not exist" / "is a directory" error
    stat = path.stat()
    return _sniffed(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _sniffed(path: str, mtime_ns: int, size: int) -> tuple[str, dict[str, str]]:
    from cerebro.engine.duckdb_moments import file_columns

    source, types = file_columns(Path(path))
    return source, dict(types)

"""Read tabular data with DuckDB and validate column roles.

DuckDB reads CSV, Parquet and JSON (newline-delimited or array) in parallel and reads only the
columns an analysis needs, which is what makes `cerebro abtest big.csv` faster than
`pandas.read_csv` on the whole file. It is also the engine later issues push SQL to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

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


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_table(
    path: str | Path,
    columns: Sequence[str] | Callable[[list[str]], Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Load a CSV / Parquet / JSON file into a DataFrame, keeping only `columns` if given.

    `columns` may be a function of the file's column names (for names that only make sense
    against them, like ratio metrics ``num/den``). Missing columns raise `UserInputError`
    naming them and the columns that exist.
    """
    import duckdb

    path = Path(path)
    if not path.exists():
        raise UserInputError(f"data file {str(path)!r} does not exist; check the path.")
    if path.is_dir():
        raise UserInputError(f"{str(path)!r} is a directory; pass a CSV, Parquet or JSON file.")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UserInputError(
            f"cannot read {path.name!r}: unknown file type {path.suffix!r}; "
            "use .csv, .parquet or .json."
        )
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 4")
        source = f"{reader}({_quote_literal(str(path))})"
        try:
            available = [
                row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            ]
        except duckdb.Error as err:
            first = str(err).strip().splitlines()[0]
            raise UserInputError(
                f"cannot read {path.name!r} as {path.suffix.lstrip('.').upper()}: {first}"
            ) from None
        if columns is None:
            wanted = available
        else:
            wanted = list(dict.fromkeys(columns(available) if callable(columns) else columns))
            require_columns(available, wanted, source_name=path.name)
        select = ", ".join(_quote_ident(c) for c in wanted)
        # Through Arrow: measured ~1.6x faster than DuckDB's own .df() on the 1.5M-row demo.
        # DuckDB ≥ 1.4 returns a RecordBatchReader from .arrow(), older releases a Table.
        arrow = con.sql(f"SELECT {select} FROM {source}").arrow()
        table = arrow.read_all() if hasattr(arrow, "read_all") else arrow
        return table.to_pandas()
    finally:
        con.close()


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

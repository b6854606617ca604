"""The pandas profile a dataset's profile is checked against: the whole table read by pyarrow
(every column typed over all its values) into pandas with nullable dtypes, and the profile
computed with pandas – the implementation the service used before the DuckDB one.

Two readings differ from `load_table`'s default, on purpose, and the DuckDB profile follows
them: a text column's null markers ("", "NA", …) are missing (`strings_can_be_null`), and an
integer or boolean column with missing values keeps its type (pandas' NumPy dtypes would make
it a float or object column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cerebro.service.profile import _findings
from cerebro.service.profile_sql import DATE_SHARE


def _dtype(arrow_type: pa.DataType):
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    return None


def read_reference(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        import pyarrow.csv as pa_csv

        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ","),
            convert_options=pa_csv.ConvertOptions(strings_can_be_null=True),
        )
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    else:
        import duckdb

        table = duckdb.sql(f"SELECT * FROM read_json_auto('{path}')").arrow()
        table = table.read_all() if hasattr(table, "read_all") else table
    return table.to_pandas(types_mapper=_dtype)


def column_type(values: pd.Series) -> tuple[str, pd.Series | None]:
    """(type, the values as datetimes for a date column): boolean, integer, number, date, text."""
    if pd.api.types.is_bool_dtype(values):
        return "boolean", None
    if pd.api.types.is_integer_dtype(values):
        return "integer", None
    if pd.api.types.is_numeric_dtype(values):
        return "number", None
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date", values
    present = values.dropna()
    if len(present):
        dates = pd.to_datetime(present.astype(str), errors="coerce", format="ISO8601")
        if dates.notna().mean() >= DATE_SHARE:
            return "date", pd.to_datetime(
                values.astype("string"), errors="coerce", format="ISO8601"
            )
    return "text", None


def _time_order(name: str, dates: pd.Series) -> dict[str, Any]:
    present = dates.dropna()
    return {
        "column": name,
        "first": present.min().isoformat() if len(present) else None,
        "last": present.max().isoformat() if len(present) else None,
        "sorted": bool(present.is_monotonic_increasing),
        "distinct": int(present.nunique()),
        "repeated_values": int(len(present) - present.nunique()),
    }


def profile_frame(frame: pd.DataFrame) -> dict[str, Any]:
    rows = len(frame)
    columns, times = [], []
    for name in frame.columns:
        values = frame[name]
        kind, dates = column_type(values)
        missing = int(values.isna().sum())
        columns.append(
            {
                "name": str(name),
                "type": kind,
                "missing": missing,
                "missing_share": missing / rows if rows else 0.0,
                "distinct": int(values.nunique(dropna=True)),
            }
        )
        if dates is not None:
            times.append(_time_order(str(name), dates))
    duplicates = int(frame.duplicated().sum()) if rows else 0
    return {
        "rows": rows,
        "columns": columns,
        "duplicate_rows": duplicates,
        "time_order": times,
        "findings": _findings(rows, columns, duplicates, times),
    }


def reference_profile(path: Path) -> dict[str, Any]:
    return profile_frame(read_reference(path))

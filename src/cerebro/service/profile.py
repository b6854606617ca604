"""A dataset's profile and data-quality assessment: column types, missingness, duplicate rows
and time order – computed once on upload and stored with the dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cerebro.data.load import load_table

MOSTLY_MISSING = 0.2  # a column missing in more than this share of rows gets a warning
DATE_SHARE = 0.95  # a text column is a date when this share of its values parse as ISO dates
IN_PROCESS_BYTES = 16 * 1024 * 1024  # larger files are profiled in a child process


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


def profile_frame(frame: pd.DataFrame) -> dict[str, Any]:
    """Types, missingness and distinct values per column, duplicate rows, time order and the
    findings a user should see before analysing the data."""
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


def _profile_path(path: str) -> dict[str, Any]:
    return profile_frame(load_table(path))


def profile_file(path: Path) -> dict[str, Any]:
    """The profile of a stored file; a file Cerebro cannot read raises its `UserInputError`.

    The whole table is read to profile it – about 4.6 × a CSV's size at peak (a 200 MB CSV:
    0.9 GB), and a Python process keeps much of that heap after the frame is freed. So a file
    past `IN_PROCESS_BYTES` is profiled in a new (spawned) process that exits after it: the API
    process does not grow with the largest upload it has seen. Small files stay in process, as
    starting a process costs about a second."""
    if path.stat().st_size <= IN_PROCESS_BYTES:
        return _profile_path(str(path))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_profile_path, str(path)).result()  # its UserInputError re-raised

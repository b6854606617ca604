"""The dataset profile (DuckDB SQL over the stored file) equals the pandas profile of the whole
table (`profile_reference.py`) on a corpus of awkward files, refuses what `load_table` refuses
in the same words, and finds the time order of a file larger than DuckDB's scan buffers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.data.load import load_table
from cerebro.service import profile
from cerebro.service.profile import profile_file
from profile_reference import reference_profile

CSV = {
    "nan_and_markers.csv": "x,y,z\n1.5,1,3\nNaN,2,\nnan,3,NA\n,4,null\n2.5,5,7\nN/A,6,8\n",
    "empty_column.csv": "a,empty,b\n1,,x\n2,,y\n3,,x\n",
    "mixed_types.csv": "m,n,h,p\n1,+1,0x10,3\nabc,2,0x1F,\n2.5,3,5,-4\n",
    "spaces.csv": "a,b,d\n 1,2.5 ,2024-01-02\n2 , 3,2024-01-03 \n",
    "dates_text.csv": "d,e,month\n"
    + "".join(
        f"2024-01-{i:02d},{'x' if i % 5 == 0 else f'2024-02-{i:02d}'},2024-{1 + i % 12:02d}\n"
        for i in range(1, 29)
    )
    + "not a date,2024-03-01,2023-12\n",
    "timestamps.csv": "t,u,frac\n2024-01-02T10:00,2024-01-02 10,2024-01-02T10:00:00.25\n"
    "2024-01-02 09:30:00,2024-01-02T11,2024-01-02T10:00:00.5\n,2024-01-01 09,\n",
    "unsorted_repeated.csv": "day,v\n2024-01-03,1\n2024-01-01,2\n2024-01-01,3\n,4\n2024-01-05,5\n",
    "sorted_with_gaps.csv": "day,v\n2024-01-01,1\n,2\n2024-01-01,3\n2024-01-04,4\n,5\n",
    "duplicates.csv": "a,b,c\n1,x,\n1,x,\n2,y,3.0\n2,y,3\n1,x,\n",
    "booleans.csv": "b,c,d,i\ntrue,True,1,0\nfalse,FALSE,0,1\n,true,True,1\ntrue,false,,0\n",
    "quoted.csv": 'q,r,s\n"a, b","1","x ""y"""\n"","2",""\n"NA","3","z"\n"a, b","",""\n',
    "one_row.csv": "a,b,c\n1,x,2024-01-01\n",
    "constant.csv": "k,v\nsame,1\nsame,1\nsame,2\n",
    "times_of_day.csv": "clock,x\n10:30:00,1\n11:45:10,2\n",
    "zeros.csv": "z\n0.0\n-0.0\n1.5\n",
    "separators.csv": "a,b,c\n1_000,1,1e3\n2,2.0,\t4 \n3,3,5\n",
    "unnamed_index.csv": ",a\n0,x\n1,y\n",
    "crlf_hash.csv": "a,b\r\n#c,1\r\n2,3\r\n",
    "tab.tsv": "a\tb\n1\tx y\n2\t\n3\tx y\n",
}


def _parquet(path: Path) -> None:
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 3, 3], dtype="Int64"),
            "f": [1.5, np.nan, None, 1.5],
            "s": ["2024-01-02", "2024-01-01", None, "2024-01-03"],
            "t": pd.to_datetime(["2024-01-02 10:00", None, "2024-01-01 00:00", "2024-01-03 00:00"]),
            "d": [pd.Timestamp("2024-01-01").date(), None, None, pd.Timestamp("2024-01-01").date()],
            "b": pd.array([True, None, False, True], dtype="boolean"),
            "txt": ["a", "", None, "a"],
            "u": pd.to_datetime(["2024-01-02", "2024-01-01", None, None], utc=True),
        }
    )
    frame.to_parquet(path, index=False)


def _json(path: Path) -> None:
    path.write_text('[{"a": 1, "b": "x", "d": "2024-01-02"}, {"a": null, "b": "y", "d": "2024-01-01"},'
                    ' {"a": 1, "b": "x", "d": "2024-01-02"}]')  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, text in CSV.items():
        (folder / name).write_text(text)
    _parquet(folder / "typed.parquet")
    _json(folder / "records.json")
    return folder


NAMES = [*CSV, "typed.parquet", "records.json"]


@pytest.mark.parametrize("name", NAMES)
def test_the_profile_equals_the_pandas_profile(corpus, name):
    assert profile_file(corpus / name) == reference_profile(corpus / name)


@pytest.mark.parametrize("guess_rows", [1, 2])
def test_types_guessed_from_too_few_rows_are_corrected_by_the_full_scan(
    corpus, monkeypatch, guess_rows
):
    """With the type guessed from the first row or two, the full scan finds every column that
    later rows contradict (a text value in a number column, a text column whose share of ISO
    dates crosses the threshold, a column empty at first) and types and counts it again."""
    monkeypatch.setattr(profile, "GUESS_ROWS", guess_rows)
    for name in NAMES:
        assert profile_file(corpus / name) == reference_profile(corpus / name), name


def test_the_corpus_covers_every_type_and_finding(corpus):
    profiles = [profile_file(corpus / name) for name in NAMES]
    types = {c["type"] for p in profiles for c in p["columns"]}
    assert types == {"boolean", "integer", "number", "date", "text"}
    codes = {f["code"] for p in profiles for f in p["findings"]}
    assert codes == {"all_missing", "mostly_missing", "constant", "duplicate_rows",
                     "not_time_ordered"}  # fmt: skip
    by_name = dict(zip(NAMES, profiles, strict=True))
    dates = {c["name"]: c["type"] for c in by_name["dates_text.csv"]["columns"]}
    assert dates == {"d": "date", "e": "text", "month": "date"}  # 28 / 29 = 0.966; 23 / 29
    (order,) = by_name["sorted_with_gaps.csv"]["time_order"]
    assert order["sorted"] is True and order["repeated_values"] == 1


ERRORS = {
    "empty.csv": b"",
    "header_only.csv": b"a,b\n",
    "semicolons.csv": b"a;b\n1;2\n",
    "twice.csv": b"a,b,a\n1,2,3\n",
    "latin1.csv": "name,v\nJos\u00e9,1\n".encode("latin-1"),
    "ragged.csv": b"a,b\n1,2\n3,4,5\n",
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_unreadable_files_are_refused_as_load_table_refuses_them(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ERRORS[name])
    with pytest.raises(UserInputError) as expected:
        load_table(path)
    with pytest.raises(UserInputError) as got:
        profile_file(path)
    if name == "ragged.csv":  # both name the file; the parsers' own words differ
        assert got.value.args[0].startswith(f"cannot read {name!r} as CSV")
    else:
        assert got.value.args[0] == expected.value.args[0]


def test_an_empty_parquet_file_is_refused(tmp_path):
    path = tmp_path / "none.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=float)}).to_parquet(path)
    with pytest.raises(UserInputError, match="has column names but no data rows"):
        profile_file(path)


def _seconds(n: int, swap: int | None = None) -> np.ndarray:
    stamps = np.datetime64("2024-01-01T00:00:00") + np.arange(n).astype("timedelta64[s]")
    if swap is not None:
        stamps[[swap, swap + 1]] = stamps[[swap + 1, swap]]
    return np.datetime_as_string(stamps)


@pytest.mark.parametrize("swap", [None, 599_000])
def test_time_order_follows_the_file_across_parallel_scans(tmp_path, swap):
    """600,000 rows (27 MB of CSV: several of DuckDB's per-thread scan ranges; Parquet in 60
    row groups): increasing timestamps are sorted only if the running max sees the rows in
    file order; one swapped pair near the end is found."""
    n = 600_000
    frame = pd.DataFrame({"at": _seconds(n, swap), "pad": "abcdefghijklmnopqrstuvwx"})
    csv, parquet = tmp_path / "big.csv", tmp_path / "big.parquet"
    frame.to_csv(csv, index=False)
    frame.assign(at=pd.to_datetime(frame["at"])).to_parquet(parquet, row_group_size=10_000)
    assert csv.stat().st_size > 25e6
    for path in (csv, parquet):
        (order,) = profile_file(path)["time_order"]
        assert order["sorted"] is (swap is None), path.name
        assert order["distinct"] == n and order["first"] == "2024-01-01T00:00:00"
    assert profile_file(csv) == reference_profile(csv)


def test_a_file_beyond_the_memory_limit_is_refused_in_one_sentence(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"x": np.arange(200_000), "y": np.arange(200_000) * 0.5}).to_csv(path)
    monkeypatch.setattr(profile, "MEMORY_LIMIT", "1MB")
    with pytest.raises(UserInputError, match=r"'wide.csv' is too large to profile .* \(1MB\)"):
        profile_file(path)
    assert not (tmp_path / profile.SPILL_FOLDER).exists()

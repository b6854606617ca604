"""Reading CSV, TSV, Parquet and JSON files, and the errors for bad files."""

from __future__ import annotations

import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.data.load import load_table

FRAME = pd.DataFrame({"arm": ["a", "b", "a"], "y": [1.5, 2.0, None], "n/d": [1, 2, 3]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".json", ".jsonl"])
def test_formats_round_trip(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        FRAME.to_csv(path, index=False)
    elif suffix == ".tsv":
        FRAME.to_csv(path, index=False, sep="\t")
    elif suffix == ".parquet":
        FRAME.to_parquet(path)
    elif suffix == ".json":
        FRAME.to_json(path, orient="records")
    else:
        FRAME.to_json(path, orient="records", lines=True)
    loaded = load_table(path, ["y", "arm"])
    assert list(loaded.columns) == ["y", "arm"]
    assert loaded.arm.tolist() == ["a", "b", "a"]
    assert loaded.y.iloc[:2].tolist() == [1.5, 2.0] and pd.isna(loaded.y.iloc[2])
    assert list(load_table(path, lambda available: available[::-1]).columns) == ["n/d", "y", "arm"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_missing_column_is_named(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    {
        ".csv": lambda p: FRAME.to_csv(p, index=False),
        ".parquet": FRAME.to_parquet,
        ".json": lambda p: FRAME.to_json(p, orient="records"),
    }[suffix](path)
    with pytest.raises(
        UserInputError, match=r"column 'z' not found in data\.\w+; available columns: arm, y, n/d"
    ):
        load_table(path, ["arm", "z"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_garbage_files(tmp_path, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(b"\x00\xff\x00garbage\n\x01,\x02\n\x03")
    with pytest.raises(UserInputError, match="cannot read 'bad"):
        load_table(path, ["a"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", r"^'data\.csv' is empty \(0 bytes\)"),
        (b"\n\n", r"^'data\.csv' has no header and no data rows"),
        (b"arm,y\n", r"^'data\.csv' has a header but no data rows"),
        (b"arm,y,y\na,1,2\nb,3,4\n", r"^column 'y' appears 2 times in the header of 'data\.csv'"),
        (b"arm;y\na;1\n", r"^'data\.csv' looks separated by semicolons, not commas"),
        (b"arm,y\na,\nb,\n", r"^all values missing in column 'y' of 'data\.csv'"),
        ("arm,y\ncafé,1\nthé,2\n".encode("latin-1"), r"^'data\.csv' is not UTF-8 text \(column 'arm'\)"),
    ],
)  # fmt: skip
def test_file_level_errors_name_the_users_file(tmp_path, content, words):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(UserInputError, match=words) as caught:
        load_table(path, ["arm", "y"])
    assert str(tmp_path) not in str(caught.value)


def test_unused_columns_may_be_odd(tmp_path):
    """Only the columns read are checked: a latin-1, empty or duplicated column left unread is
    no error."""
    path = tmp_path / "data.csv"
    path.write_bytes("arm,y,note,blank,z,z\na,1,café,,1,2\nb,2,thé,,3,4\n".encode("latin-1"))
    assert load_table(path, ["arm", "y"]).y.tolist() == [1, 2]
    with pytest.raises(UserInputError, match="column 'z' appears 2 times"):
        load_table(path)  # every column is read


def test_duplicate_column_in_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([[1, 2], [3, 4]], names=["x", "x"]), path)
    with pytest.raises(UserInputError, match="column 'x' appears 2 times in the header of 'dup"):
        load_table(path, ["x"])


def test_json_and_parquet_without_rows(tmp_path):
    (tmp_path / "none.json").write_text("[]")
    with pytest.raises(UserInputError, match=r"'none\.json' holds no records with named fields"):
        load_table(tmp_path / "none.json", ["arm"])
    FRAME.iloc[:0].to_parquet(tmp_path / "none.parquet")
    with pytest.raises(UserInputError, match=r"'none\.parquet' has column names but no data rows"):
        load_table(tmp_path / "none.parquet", ["arm"])


def _latin1_csv(path, used_text: str = "a") -> None:
    """Arms t (UTF-8 text `used_text`), outcome y, and an unused latin-1 column."""
    rows = [f"{used_text if i % 2 else 'b'},{i},".encode() + b"caf\xe9" for i in range(40)]
    path.write_bytes(b"\n".join([b"t,y,note", *rows]) + b"\n")


def test_describe_file_reads_a_file_whose_unused_column_is_not_utf8(tmp_path):
    """DuckDB refuses the whole file; the columns read are ASCII, so a latin-1 read is exact."""
    from cerebro.data.load import describe_file

    path = tmp_path / "d.csv"
    _latin1_csv(path)
    _, types = describe_file(path, ["t", "y"])
    assert list(types) == ["t", "y", "note"]
    with pytest.raises(UserInputError, match=r"'d\.csv' is not UTF-8 text \(column 'note'\)"):
        describe_file(path, ["t", "note"])


def test_describe_file_refuses_utf8_text_read_from_a_latin1_file(tmp_path):
    """A latin-1 read would turn 'é' of a UTF-8 column into 'Ã©': refused, not misread."""
    from cerebro.data.load import describe_file

    path = tmp_path / "d.csv"
    _latin1_csv(path, used_text="thé")
    describe_file(path, ["y"])
    with pytest.raises(UserInputError, match=r"mixes encodings: column 'note' is not UTF-8 while "
                       r"column 't' holds UTF-8 text"):  # fmt: skip
        describe_file(path, ["t", "y"])

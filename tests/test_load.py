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

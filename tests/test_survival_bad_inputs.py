"""`cerebro survival` refuses bad person-time tables and options: exit code 2, one sentence
naming the unit, column or value, no traceback."""

from __future__ import annotations

import pandas as pd
import pytest

from cli_refusals import invoke, refused

BASE = ["--time", "t", "--event", "d", "--treatment", "a", "--bootstrap", "0"]


def _long(tmp_path, rows, name="long.csv", censoring=False):
    columns = ["id", "t", "d", "a", "x"] + (["c"] if censoring else [])
    path = tmp_path / name
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


GOOD = [(1, 0, 0, 1, 0.5), (1, 1, 1, 1, 0.5), (2, 0, 0, 0, 0.1), (2, 1, 0, 0, 0.1),
        (3, 0, 0, 1, 0.2), (4, 0, 1, 0, 0.3)]  # fmt: skip


def test_a_good_long_table_runs(tmp_path):
    out = invoke("survival", _long(tmp_path, GOOD), *BASE, "--unit", "id", "--method", "km")
    assert out.exit_code == 0, out.output


def test_a_gap_in_time_is_refused(tmp_path):
    rows = [*GOOD, (5, 0, 0, 1, 0.1), (5, 2, 0, 1, 0.1)]
    text = refused(invoke("survival", _long(tmp_path, rows), *BASE, "--unit", "id"),
                   "unit '5'", "gap", "period 0 is followed by 2")  # fmt: skip
    assert text.count(".") <= 2


@pytest.mark.parametrize(("rows", "word"), [
    ([(5, 1, 0, 1, 0.1), (5, 0, 0, 1, 0.1)], "goes backwards"),
    ([(5, 1, 0, 1, 0.1), (5, 1, 0, 1, 0.1)], "repeats"),
])  # fmt: skip
def test_time_going_backwards_or_repeating_is_refused(tmp_path, rows, word):
    refused(invoke("survival", _long(tmp_path, [*GOOD, *rows]), *BASE, "--unit", "id"),
            "unit '5'", word)  # fmt: skip


def test_an_event_after_censoring_is_refused(tmp_path):
    rows = [(*r, 0) for r in GOOD] + [(5, 0, 0, 1, 0.1, 1), (5, 1, 1, 1, 0.1, 0)]
    path = _long(tmp_path, rows, censoring=True)
    refused(invoke("survival", path, *BASE, "--unit", "id", "--censoring", "c"),
            "unit '5'", "event at period 1", "after it was censored at period 0")  # fmt: skip


def test_rows_after_the_event_are_refused(tmp_path):
    rows = [*GOOD, (5, 0, 1, 1, 0.1), (5, 1, 0, 1, 0.1)]
    refused(invoke("survival", _long(tmp_path, rows), *BASE, "--unit", "id"),
            "unit '5'", "rows after its event at period 0")  # fmt: skip


def _wide(tmp_path, **columns):
    frame = pd.DataFrame({"t": [3, 5, 2, 4], "d": [1, 0, 1, 0], "a": [1, 1, 0, 0],
                          "x": [0.1, 0.2, 0.3, 0.4]} | columns)  # fmt: skip
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("columns", "options", "words"), [
    ({"t": [3.5, 5, 2, 4]}, [], ["'t'", "3.5", "whole period"]),
    ({"t": [0, 5, 2, 4]}, [], ["'t'", "periods start at 1"]),
    ({"d": [2, 0, 1, 0]}, [], ["'d'", "1 (yes) or 0 (no)"]),
    ({"d": [0, 0, 0, 0]}, [], ["no events"]),
    ({}, ["--horizon", "9"], ["--horizon 9", "last period of follow-up (5)"]),
    ({}, ["--method", "km", "--confounders", "x"], ["--method km", "--confounders"]),
    ({}, ["--censoring", "x"], ["--censoring", "--unit"]),
    ({"a": [1, 2, 3, 3]}, [], ["'a'", "3 values"]),
])  # fmt: skip
def test_bad_values_and_options_are_refused(tmp_path, columns, options, words):
    refused(invoke("survival", _wide(tmp_path, **columns), *BASE, *options), *words)

"""Bad input: one sentence naming the column/value and the fix (Python face)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.experiments.abtest.analysis import abtest


@pytest.mark.parametrize(
    "options,pattern",
    [
        (
            {"outcome": "nope"},
            r"column 'nope' not found in the data; available columns: arm, revenue",
        ),
        (
            {"outcome": "revenue", "control": "ctrl"},
            r"control 'ctrl' is not a level of 'arm'; levels are: B, C, control",
        ),
        ({"outcome": "revenue", "alpha": 1.5}, r"alpha must be strictly between 0 and 1, got 1.5"),
        (
            {"outcome": "revenue", "test_type": "bayesian", "covariates": ["pre_revenue"]},
            r"--type bayesian does not support --covariates yet",
        ),
        (
            {"outcome": "revenue", "test_type": "sequential"},
            r"--type sequential needs --time",
        ),
        (
            {"outcome": "revenue", "test_type": "fisher"},
            r"needs a binary \(0/1\) outcome, but 'revenue'",
        ),
        ({"outcome": "region"}, r"outcome column 'region' is not numeric \(e.g. 'EU'\)"),
        (
            {"outcome": "revenue", "covariates": "pre_revenue", "test_type": "mann_whitney"},
            r"cannot be used with --covariates",
        ),
        ({"outcome": "revenue", "test_type": "magic"}, r"test_type: Input should be"),
        ({"outcome": "revenue", "expected_allocation": {"control": 1, "B": 1}}, r"missing: C"),
        ({"outcome": "arm", "treatment_override": True}, r"cannot be an outcome"),
    ],
)
def test_user_errors_name_the_problem(ab, options, pattern):
    options = dict(options)
    if options.pop("treatment_override", False):
        options["outcome"] = "arm"
    with pytest.raises(UserInputError, match=pattern):
        abtest(ab, treatment="arm", **options)


def test_one_level_treatment(ab):
    with pytest.raises(UserInputError, match=r"treatment column 'arm' has 1 level \('B'\)"):
        abtest(ab[ab.arm == "B"], treatment="arm", outcome="revenue")


def test_all_nan_outcome(ab):
    with pytest.raises(UserInputError, match=r"outcome 'revenue' has no rows with complete data"):
        abtest(ab.assign(revenue=np.nan), treatment="arm", outcome="revenue")


def test_empty_arm_for_an_outcome(ab):
    df = ab.assign(revenue=np.where(ab.arm == "C", np.nan, ab.revenue))
    with pytest.raises(UserInputError, match=r"arm 'C' has no rows with a value of 'revenue'"):
        abtest(df, treatment="arm", outcome="revenue")


def test_missing_rows_dropped_with_a_count(ab):
    df = ab.copy()
    df.loc[:9, "revenue"] = np.nan
    res = abtest(df, treatment="arm", outcome="revenue")
    dropped = [f for f in res.findings if f.code == "dropped_missing"]
    assert len(dropped) == 1 and "dropped 10 of 600 rows" in dropped[0].message


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01garbage\n\x00")
    with pytest.raises(UserInputError):
        abtest(str(bad), treatment="arm", outcome="y")
    with pytest.raises(UserInputError, match="does not exist"):
        abtest(str(tmp_path / "missing.csv"), treatment="arm", outcome="y")
    with pytest.raises(UserInputError, match=r"unknown file type '\.xlsx'"):
        (tmp_path / "x.xlsx").write_text("a")
        abtest(str(tmp_path / "x.xlsx"), treatment="arm", outcome="y")


def test_constant_outcome(ab):
    with pytest.raises(UserInputError, match="no variation"):
        abtest(ab.assign(revenue=1.0), treatment="arm", outcome="revenue")


def test_numeric_treatment_labels_print_cleanly():
    df = pd.DataFrame({"variant": [0.0, 1.0] * 50, "y": np.arange(100.0)})
    res = abtest(df, treatment="variant", outcome="y")
    assert res.estimates[0].label == "y: 1 − 0"

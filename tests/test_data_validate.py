"""The shared checks of `cerebro.data.validate`: what each refuses, in which words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.data.columns import numeric_column
from cerebro.data.validate import (
    HUGE,
    MAX_ARMS,
    require_bounded,
    require_consistent_summary,
    require_discrete_treatment,
    require_finite,
    require_finite_result,
    require_units_per_arm,
    require_values,
    require_varying,
)


def test_require_values():
    require_values(pd.Series([np.nan, 1.0]), "y", "outcome")
    for empty in (pd.Series([np.nan, None]), pd.Series([], dtype=float), np.array([np.nan])):
        with pytest.raises(UserInputError, match=r"^all values missing in outcome column 'y'; "):
            require_values(empty, "y", "outcome")


def test_require_finite_names_the_first_row_and_the_bound():
    require_finite(np.array([1.0, np.nan, -HUGE]), "y", "outcome")
    with pytest.raises(
        UserInputError,
        match=r"^infinite values in outcome column 'y' \(2, the first in row 2: -inf\); replace",
    ):
        require_finite(np.array([1.0, -np.inf, np.inf]), "y", "outcome")
    with pytest.raises(UserInputError, match=r"too large .* 'y' \(e\.g\. 3e\+200 in row 3; "
                       r"magnitudes must be below 1e150\); rescale"):  # fmt: skip
        require_finite(np.array([1.0, 2.0, 3e200]), "y", "outcome")


def test_numeric_column_refuses_inf_and_huge_values_for_every_family():
    assert numeric_column(pd.Series([1, None, 3]), "x", "confounder")[1] != 1  # NaN kept
    with pytest.raises(UserInputError, match="infinite values in running variable column 'r'"):
        numeric_column(pd.Series(["1", "inf"]), "r", "running variable")
    with pytest.raises(UserInputError, match="too large to compute with in outcome column 'y'"):
        numeric_column(pd.Series([1e300, 1.0]), "y", "outcome")
    # the bound keeps squares and their sums finite
    assert np.isfinite(np.sum(np.full(10**6, HUGE) ** 2))


def test_require_varying():
    require_varying(np.array([1.0, np.nan, 2.0]), "y", "outcome")
    with pytest.raises(UserInputError, match=r"^outcome column 'y' is constant \(0\) in all 2 "):
        require_varying(np.array([0.0, np.nan, 0.0]), "y", "outcome")
    with pytest.raises(UserInputError, match="all values missing"):
        require_varying(np.array([np.nan]), "y", "outcome")


def test_require_units_per_arm():
    require_units_per_arm(np.array([0, 0, 1, 1, np.nan]), ["no", "yes"], "t")
    with pytest.raises(
        UserInputError, match=r"arm 'yes' has only 1 complete row; each arm of 't' needs"
    ):
        require_units_per_arm(np.array([0, 0, 1]), ["no", "yes"], "t")
    with pytest.raises(UserInputError, match=r"arm 'yes' has no complete rows; check 't'"):
        require_units_per_arm(np.array([0, 0, np.nan]), ["no", "yes"], "t")
    with pytest.raises(
        UserInputError, match=r"has only 4 clusters; each arm of .t. needs at least 5"
    ):
        require_units_per_arm(np.array([0] * 5 + [1] * 4), ["A", "B"], "t", 5, "clusters")


def test_require_discrete_treatment():
    require_discrete_treatment(pd.Series(np.arange(MAX_ARMS, dtype=float)), "t")
    require_discrete_treatment(pd.Series([f"arm{i}" for i in range(50)]), "t")  # text: arms
    require_discrete_treatment(pd.Series([True, False]), "t")
    with pytest.raises(
        UserInputError, match=r"'dose' is numeric with 11 distinct values, a continuous treatment"
    ):
        require_discrete_treatment(pd.Series(np.arange(MAX_ARMS + 1) / 2), "dose")


def test_require_discrete_treatment_on_the_distinct_values_a_scan_returns():
    """The A/B file path has the distinct values of a group-by, not a Series (no pandas)."""
    require_discrete_treatment([*range(MAX_ARMS), None], "t")
    require_discrete_treatment([f"arm{i}" for i in range(50)], "t")  # text: arms
    require_discrete_treatment([True, False], "t")
    with pytest.raises(UserInputError, match=r"'t' is numeric with 11 distinct .*; band it"):
        require_discrete_treatment(list(np.arange(11) / 2), "t", fix="band it")


def test_require_bounded_says_what_require_finite_says():
    require_bounded(HUGE, "y", "outcome")
    require_bounded(float("nan"), "y", "outcome")  # no value at all: another check's business
    with pytest.raises(UserInputError, match=r"^values too large to compute with in covariate "
                       r"column 'x' \(largest magnitude 2e\+200; magnitudes must be below "
                       r"1e150\); rescale"):  # fmt: skip
        require_bounded(2e200, "x", "covariate")


def test_require_consistent_summary():
    require_consistent_summary("A", 10, successes=3)
    require_consistent_summary("A", 4, total=10.0, sum_sq=25.0)  # variance 0: fine
    require_consistent_summary("A", 4, variance=0.0)
    bad = [
        ({"n": 0}, r"arm 'A': n is 0; it must be a whole number"),
        ({"n": 2.5}, r"n is 2\.5"),
        ({"n": 10, "successes": 11}, r"11 successes out of n = 10"),
        ({"n": 10, "successes": -1}, r"-1 successes"),
        ({"n": 4, "total": 10.0, "sum_sq": 20.0}, r"sum of squares 20\.0 is below sum²/n = 25"),
        ({"n": 4, "sum_sq": -1.0}, r"sum of squares -1\.0 is negative"),
        ({"n": 4, "variance": -0.1}, r"variance -0\.1 is negative"),
        ({"n": 4, "total": float("nan")}, r"total is nan; summaries must be finite"),
    ]
    for kwargs, words in bad:
        with pytest.raises(UserInputError, match=words):
            require_consistent_summary("A", **kwargs)


def test_require_finite_result_refuses_nan_that_comparisons_let_through():
    e = np.array([0.2, np.nan, 0.5])
    assert not e.min() < 1e-10  # the trap: NaN passes a guard written as a comparison
    require_finite_result(np.array([0.2, 0.5]), "the propensity score", "fix it.")
    with pytest.raises(
        UserInputError, match=r"^the propensity score came out NaN \(1 of 3 values\); fix it\.$"
    ):
        require_finite_result(e, "the propensity score", "fix it.")
    with pytest.raises(UserInputError, match="came out infinite"):
        require_finite_result([np.inf], "the weight", "fix it.")


def test_python_face_refuses_a_frame_with_a_column_twice():
    import cerebro

    frame = pd.DataFrame(np.arange(16.0).reshape(4, 4), columns=["t", "y", "y", "x"])
    with pytest.raises(UserInputError, match=r"column 'y' appears 2 times in the data; rename"):
        cerebro.causal(frame, treatment="t", outcome="y", confounders=["x"])

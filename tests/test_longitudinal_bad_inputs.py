"""`cerebro longitudinal` refuses bad long tables and strategies: exit code 2, one sentence
naming the unit, column or strategy, no traceback."""

from __future__ import annotations

import pytest

from cerebro.longitudinal.synthetic import simulate
from cli_refusals import invoke, refused

BASE = ["--unit", "id", "--time", "period", "--treatment", "campaign", "--confounders",
        "engagement", "--baseline", "segment", "--outcome", "revenue", "--bootstrap", "0",
        "--simulations", "500"]  # fmt: skip


@pytest.fixture
def frame():
    return simulate(n=60, periods=3, seed=1)


def _write(tmp_path, frame):
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_good_table_runs(tmp_path, frame):
    out = invoke("longitudinal", _write(tmp_path, frame), *BASE, "--json")
    assert out.exit_code == 0, out.output


def test_a_strategy_naming_an_unknown_column_is_refused(tmp_path, frame):
    text = refused(invoke("longitudinal", _write(tmp_path, frame), *BASE, "--strategies",
                          "always,treat when engagment < 0.3"),
                   "'treat when engagment < 0.3'", "'engagment'", "--confounders")  # fmt: skip
    assert text.count(";") <= 1


def test_a_strategy_that_is_not_understood_is_refused(tmp_path, frame):
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE, "--strategies",
                   "sometimes"), "'sometimes'", "treat when COLUMN < VALUE")  # fmt: skip


def test_a_gap_in_time_is_refused(tmp_path, frame):
    frame.loc[(frame["id"] == 7) & (frame["period"] == 2), "period"] = 5
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE), "unit '7'", "gap",
            "period 1 is followed by 5")  # fmt: skip


def test_time_going_backwards_is_refused(tmp_path, frame):
    frame.loc[(frame["id"] == 7) & (frame["period"] == 2), "period"] = 0
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE), "unit '7'",
            "goes backwards (period 1 then 0)")  # fmt: skip


def test_a_unit_followed_for_fewer_periods_is_refused(tmp_path, frame):
    frame = frame[~((frame["id"] == 7) & (frame["period"] == 2))]
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE), "unit '7'",
            "same periods")  # fmt: skip


def test_a_treatment_that_is_not_zero_one_is_refused(tmp_path, frame):
    frame.loc[0, "campaign"] = 2
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE), "'campaign'", "1 (treated)")


def test_msm_with_nobody_following_a_strategy_is_refused(tmp_path, frame):
    always = frame.groupby("id")["campaign"].transform("min") == 1
    frame.loc[always & (frame["period"] == 2), "campaign"] = 0  # nobody treated throughout
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE, "--method", "msm",
                   "--strategies", "treat when segment > -100,never"),
            "no unit", "'treat when segment > -100'", "--method gformula")  # fmt: skip


def test_a_period_where_nobody_is_treated_is_refused(tmp_path, frame):
    frame.loc[frame["period"] == 1, "campaign"] = 0
    refused(invoke("longitudinal", _write(tmp_path, frame), *BASE), "in period 1 of 'period'",
            "'campaign' = 0", "positivity")  # fmt: skip

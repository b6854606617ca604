"""Repeated units: rows of one user are not independent observations.

A user × day table analysed row by row makes a null effect "significant". The analysis finds
the repeating unit id (`cerebro.data.units`), clusters by it where the test can
and refuses where it cannot; `--cluster none` opts out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.data.synthetic import SaasEffects, saas_experiment
from cerebro.experiments.abtest.analysis import abtest

runner = CliRunner()
C_RETENTION = "retention_7d: C_adaptive_v2 − A_control"


@pytest.fixture(scope="module")
def saas():
    """2,000 users × 14 days; C has no effect on retention (the truth says 0), yet the rows
    taken as independent give p = 0.0016."""
    frame, truth = saas_experiment(
        n_users=2000, n_days=14, seed=2, effects=SaasEffects(retention_lift=(0.10, 0.0))
    )
    assert truth["effects"]["retention_7d"]["C_adaptive_v2"]["absolute"] == 0.0
    return frame


@pytest.fixture(scope="module")
def saas_csv(saas, tmp_path_factory):
    path = tmp_path_factory.mktemp("saas") / "saas.csv"
    saas.to_csv(path, index=False)
    return path


def _finding(result, code):
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, [f.code for f in result.findings]
    return found[0]


@pytest.mark.parametrize("source", ["frame", "file"])
def test_saas_null_effect_is_not_significant_and_the_unit_is_named(saas, saas_csv, source):
    data = saas if source == "frame" else str(saas_csv)
    res = abtest(
        data, treatment="cohort", outcome=["revenue", "retention_7d"], covariates=["pre_revenue"]
    )
    est = res.estimate(C_RETENTION)
    assert est.p_value > 0.05
    assert est.ci_low < 0 < est.ci_high
    warning = _finding(res, "repeated_units")
    assert warning.level == "warning"
    assert "'user_id'" in warning.message and "--cluster none" in warning.message
    assert "2,000 ids on 28,000 rows" in warning.message
    # The same numbers as naming the unit: the detected column is used as --cluster.
    named = abtest(
        data,
        treatment="cohort",
        outcome=["revenue", "retention_7d"],
        covariates=["pre_revenue"],
        cluster="user_id",
    )
    assert est.p_value == pytest.approx(named.estimate(C_RETENTION).p_value, rel=1e-9)
    assert res.spec.cluster == "user_id"


def test_cluster_none_keeps_the_row_analysis(saas):
    res = abtest(saas, treatment="cohort", outcome="retention_7d", cluster="None")
    assert res.estimate(C_RETENTION).p_value < 0.01  # what the rows alone (wrongly) say
    assert not [f for f in res.findings if f.code == "repeated_units"]
    assert "--cluster none" in _finding(res, "units").message
    assert res.spec.cluster == "none"
    assert "rows split" in _finding(res, "srm").message


def test_srm_counts_units_not_rows():
    """100 users per arm; B's users have 3 rows, the control's 2: rows split 40/60, units 50/50."""
    rng = np.random.default_rng(0)
    users = np.arange(200)
    arm = np.where(users < 100, "control", "B")
    rows = np.where(users < 100, 2, 3)
    user = np.repeat(users, rows)
    frame = pd.DataFrame(
        {"user": user, "arm": np.repeat(arm, rows), "y": rng.normal(size=len(user))}
    )
    res = abtest(frame, treatment="arm", outcome="y")
    srm = _finding(res, "srm")
    assert srm.level == "info" and "control 50.00%, B 50.00%" in srm.message
    assert "user" in srm.message
    explicit = abtest(frame, treatment="arm", outcome="y", cluster="user")
    assert _finding(explicit, "srm").message == srm.message
    # Units split 50/50 but the row split is what --cluster none checks (and it alarms).
    assert _finding(abtest(frame, treatment="arm", outcome="y", cluster="none"), "srm").level == (
        "error"
    )


def test_srm_alarms_on_a_unit_imbalance_hidden_in_rows():
    """300 control users × 2 rows vs 200 B users × 3 rows: 600 rows each, units 60/40."""
    rng = np.random.default_rng(1)
    rows = np.r_[np.full(300, 2), np.full(200, 3)]
    user = np.repeat(np.arange(500), rows)
    arm = np.repeat(np.r_[np.full(300, "control"), np.full(200, "B")], rows)
    frame = pd.DataFrame({"user": user, "arm": arm, "y": rng.normal(size=len(user))})
    assert _finding(abtest(frame, treatment="arm", outcome="y"), "srm").level == "error"


REFUSED = [
    ({"test_type": "bayesian"}, "--type bayesian would overstate the evidence"),
    ({"test_type": "sequential", "time_column": "day"}, "--type sequential would overstate"),
    ({"test_type": "mann_whitney"}, "--type mann_whitney would overstate"),
    ({"test_type": "fisher"}, "--type fisher would overstate"),
    ({"test_type": "chi_square"}, "--type chi_square would overstate"),
    ({"strata": ["plan"]}, "--strata cannot be combined with clustering yet"),
]


@pytest.mark.parametrize("options,pattern", REFUSED)
def test_tests_that_cannot_cluster_refuse_repeated_units(saas, options, pattern):
    with pytest.raises(UserInputError, match=pattern) as err:
        abtest(saas, treatment="cohort", outcome="retention_7d", **options)
    message = str(err.value)
    assert "rows repeat the unit id 'user_id'" in message
    assert "one row per user_id" in message and "--cluster none" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence


@pytest.mark.parametrize("options,pattern", REFUSED[:3])
def test_cli_refusal_is_one_sentence_with_exit_code_2(saas_csv, options, pattern):
    args = ["abtest", str(saas_csv), "-t", "cohort", "-y", "retention_7d"]
    args += ["--type", options["test_type"]]
    if "time_column" in options:
        args += ["--time", "day"]
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert "rows repeat the unit id 'user_id'" in out.output


def test_cluster_none_lets_a_row_test_run(saas_csv):
    args = ["abtest", str(saas_csv), "-t", "cohort", "-y", "retention_7d", "--type", "bayesian"]
    out = runner.invoke(app, [*args, "--cluster", "none"])
    assert out.exit_code == 0, out.output


def test_independent_rows_are_left_alone():
    """Ids that do not qualify: unique per row, repeated in both arms, a minority repeating, or
    a handful of coincidences in a small table."""
    rng = np.random.default_rng(3)
    n = 2000
    frame = pd.DataFrame(
        {
            "arm": rng.choice(["control", "B"], n),
            "y": rng.normal(size=n),
            "order_id": np.arange(n),  # unique
            "store": rng.integers(0, 50, n),  # repeats in both arms
            "day": rng.integers(1, 15, n),
        }
    )
    # A minority of ids repeat (30 of 1,970), each within one arm: not "most values repeat".
    customer = np.arange(n)
    customer[1:60:2] = customer[0:60:2]
    frame["arm"] = frame.arm.to_numpy()[customer]
    frame["customer"] = customer
    res = abtest(frame, treatment="arm", outcome="y")
    assert not [f for f in res.findings if f.code == "repeated_units"]
    small = pd.DataFrame(
        {"arm": ["control", "B"] * 6, "user": np.repeat(np.arange(6), 2), "y": range(12)}
    )
    small["arm"] = np.where(small.user < 3, "control", "B")  # 6 users × 2 rows: chance 1/64
    res = abtest(small, treatment="arm", outcome="y")
    assert not [f for f in res.findings if f.code == "repeated_units"]


def test_coarsest_unit_wins_and_the_others_are_named():
    """Sessions nested in users, users randomised: cluster by user."""
    rng = np.random.default_rng(4)
    user = np.repeat(np.arange(100), 6)
    session = user * 3 + np.tile(np.repeat(np.arange(3), 2), 100)
    arm = np.where(rng.random(100) < 0.5, "control", "B")[user]
    frame = pd.DataFrame({"arm": arm, "user": user, "session": session, "y": rng.normal(size=600)})
    warning = _finding(abtest(frame, treatment="arm", outcome="y"), "repeated_units")
    assert warning.message.startswith("rows repeat the unit id 'user' (100 ids on 600 rows")
    assert "'session' also repeat within arms" in warning.message


def test_an_explicit_cluster_is_not_second_guessed(saas):
    res = abtest(saas, treatment="cohort", outcome="retention_7d", cluster="user_id")
    assert not [f for f in res.findings if f.code == "repeated_units"]

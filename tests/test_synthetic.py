"""The SaaS demo generator: deterministic, plausible, and its stated truth is recovered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.datasets import SaasEffects, saas_experiment
from cerebro.experiments.abtest.analysis import abtest

METRICS = ["ai_calls", "tasks_completed", "satisfaction_score", "retention_7d", "revenue"]


@pytest.fixture(scope="module")
def small():
    return saas_experiment(n_users=6000, n_days=5, seed=4)


def test_same_seed_same_data_and_shape(small):
    frame, truth = small
    again, truth_again = saas_experiment(n_users=6000, n_days=5, seed=4)
    pd.testing.assert_frame_equal(frame, again)
    assert truth == truth_again
    other, _ = saas_experiment(n_users=6000, n_days=5, seed=5)
    assert not frame.equals(other)
    assert frame.shape == (30_000, 16)
    assert frame.groupby("user_id").cohort.nunique().max() == 1
    assert frame.cohort.value_counts().to_dict() == {
        c: 10_000 for c in truth["effects"]["revenue"]
    } | {"A_control": 10_000}


def test_value_ranges(small):
    frame, _ = small
    assert set(frame.satisfaction_score.unique()) <= {1, 2, 3, 4, 5}
    assert set(frame.retention_7d.unique()) <= {0, 1}
    assert (frame.revenue >= 0).all() and (frame.revenue == 0).mean() > 0.8
    assert (frame[["ai_calls", "tasks_completed"]] >= 0).all().all()
    assert frame.churn_risk.between(0, 1).all()


def test_truth_is_recovered_within_four_standard_errors():
    """Per-user means (days within a user are correlated), 20,000 users × 5 days."""
    frame, truth = saas_experiment(
        n_users=20_000, n_days=5, seed=11, effects=SaasEffects(retention_lift=(0.10, 0.0))
    )
    users = frame.groupby(["user_id", "cohort"], as_index=False)[METRICS].mean()
    grouped = users.groupby("cohort")[METRICS]
    mean, var, n = grouped.mean(), grouped.var(), grouped.size()
    for metric in METRICS:
        for variant, effect in truth["effects"][metric].items():
            estimate = mean.loc[variant, metric] - mean.loc["A_control", metric]
            se = np.sqrt(
                var.loc[variant, metric] / n[variant]
                + var.loc["A_control", metric] / n["A_control"]
            )
            assert abs(estimate - effect["absolute"]) < 4 * se, (metric, variant)
    assert truth["effects"]["retention_7d"]["C_adaptive_v2"]["absolute"] == 0.0


def test_cuped_covariates_predict_outcomes(small):
    frame, _ = small
    users = frame.groupby("user_id")[
        [*METRICS, "pre_ai_calls", "pre_tasks_completed", "pre_revenue"]
    ].mean()
    assert users.ai_calls.corr(users.pre_ai_calls) > 0.5
    assert users.tasks_completed.corr(users.pre_tasks_completed) > 0.5
    assert users.revenue.corr(users.pre_revenue) > 0.1


def test_cerebro_recovers_truth_with_cluster_and_cuped(small):
    frame, truth = small
    res = abtest(
        frame,
        treatment="cohort",
        outcome=METRICS,
        cluster="user_id",
        covariates=["pre_ai_calls", "pre_revenue"],
    )
    covered = 0
    for metric in METRICS:
        for variant, effect in truth["effects"][metric].items():
            est = res.estimate(f"{metric}: {variant} − A_control")
            covered += est.ci_low <= effect["absolute"] <= est.ci_high
    assert covered >= 8  # of 10 comparisons (each covers with probability ≈ 0.95)


def test_datasets_cli_writes_data_and_truth(tmp_path):
    target = tmp_path / "saas.csv"
    out = CliRunner().invoke(
        app,
        [
            "datasets",
            "saas",
            "--output",
            str(target),
            "--users",
            "300",
            "--days",
            "2",
            "--seed",
            "1",
        ],
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(target)
    assert len(frame) == 600
    truth = json.loads((tmp_path / "saas_truth.json").read_text())
    assert truth["seed"] == 1 and "ai_calls" in truth["effects"]
    assert "True effects" in out.output
    parquet = tmp_path / "saas.parquet"
    assert (
        CliRunner()
        .invoke(app, ["datasets", "saas", "-o", str(parquet), "--users", "30", "--days", "1"])
        .exit_code
        == 0
    )
    assert len(pd.read_parquet(parquet)) == 30
    bad = CliRunner().invoke(
        app, ["datasets", "saas", "-o", str(tmp_path / "x.xlsx"), "--users", "30"]
    )
    assert bad.exit_code == 2 and "use a .csv or .parquet name" in bad.output

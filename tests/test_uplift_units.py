"""Uplift with several rows per unit: folds never split a unit, the ATE is clustered by unit,
a repeating unit id is detected, and the causal forest (which samples rows) refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.uplift.analysis import uplift
from cerebro.uplift.learners import LEARNERS, fit_learner, group_fold_ids

runner = CliRunner()


def panel(units: int = 400, rows: int = 4, seed: int = 0) -> pd.DataFrame:
    """`rows` rows per customer, treatment by customer, a customer effect shared by its rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=units)
    arm = rng.integers(0, 2, units)
    shared = rng.normal(size=units)
    customer = np.repeat(np.arange(units), rows)
    frame = pd.DataFrame(
        {
            "customer": customer,
            "treat": arm[customer],
            "x": x[customer],
            "z": rng.normal(size=units * rows),
        }
    )
    frame["y"] = (
        0.5 * frame.x + shared[customer] + 0.3 * frame.treat * (frame.x > 0)
        + rng.normal(size=len(frame))
    )  # fmt: skip
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # rows interleaved


def arrays(frame):
    return frame[["x", "z"]].to_numpy(float), frame.y.to_numpy(), frame.treat.to_numpy()


@pytest.mark.parametrize("name", LEARNERS)
def test_no_unit_spans_two_folds(name):
    frame = panel()
    X, y, t = arrays(frame)
    fitted = fit_learner(
        name, X, y, t, outcome_learner="linear", effect_learner="linear",
        propensity_learner="linear", folds=4, seed=3, groups=frame.customer.to_numpy(),
    )  # fmt: skip
    ids = fitted.info["fold_ids"]
    spans = pd.Series(ids).groupby(frame.customer.to_numpy()).nunique()
    assert (spans == 1).all()
    assert set(ids) == {0, 1, 2, 3}


def test_group_folds_are_seeded_and_deterministic():
    codes = pd.factorize(panel().customer)[0]
    a, b = group_fold_ids(codes, 5, 7), group_fold_ids(codes, 5, 7)
    assert (a == b).all()
    assert not (a == group_fold_ids(codes, 5, 8)).all()
    # Units, not rows, are balanced across folds.
    units_per_fold = pd.Series(a).groupby(codes).first().value_counts()
    assert units_per_fold.max() - units_per_fold.min() <= 1
    with pytest.raises(UserInputError, match="--folds must be between 2 and 2 for 5 units"):
        group_fold_ids(np.repeat(np.arange(5), 3), 3, 0)


@pytest.mark.parametrize("name", LEARNERS)
def test_one_row_per_unit_changes_nothing(name):
    rng = np.random.default_rng(5)
    n = 600
    X = rng.normal(size=(n, 2))
    t = rng.integers(0, 2, n)
    y = X[:, 0] + 0.5 * t * (X[:, 1] > 0) + rng.normal(size=n)
    options = {
        "outcome_learner": "linear", "effect_learner": "linear", "propensity_learner": "linear",
        "folds": 3, "seed": 2,
    }  # fmt: skip
    plain = fit_learner(name, X, y, t, **options)
    ids = rng.permutation(n) + 1000  # any unique ids
    grouped = fit_learner(name, X, y, t, groups=ids, **options)
    assert (plain.info["fold_ids"] == grouped.info["fold_ids"]).all()
    assert np.array_equal(plain.cate_oof, grouped.cate_oof)
    assert plain.ate == grouped.ate and plain.ate_se == grouped.ate_se


def test_uplift_with_a_unique_unit_column_equals_uplift_without():
    rng = np.random.default_rng(6)
    n = 800
    frame = pd.DataFrame({"x": rng.normal(size=n), "treat": rng.integers(0, 2, n)})
    frame["y"] = frame.x + 0.4 * frame.treat + rng.normal(size=n)
    frame["visitor"] = rng.permutation(n)
    options = {"treatment": "treat", "outcome": "y", "features": ["x"], "learner": "linear"}
    plain = uplift(frame, **options, model="x_learner")
    with_unit = uplift(frame, **options, model="x_learner", unit="visitor")
    for a, b in zip(plain.estimates, with_unit.estimates, strict=True):
        assert (a.label, a.value, a.se, a.p_value) == (b.label, b.value, b.se, b.p_value)
    assert plain.tables["effects"].equals(with_unit.tables["effects"])


def test_repeating_unit_is_detected_and_clusters_the_ate():
    frame = panel()
    options = {"treatment": "treat", "outcome": "y", "features": ["x", "z"], "learner": "linear"}
    res = uplift(frame, **options, model="t_learner")
    warning = [f for f in res.findings if f.code == "repeated_units"]
    assert len(warning) == 1 and warning[0].level == "warning"
    assert "'customer' (400 ids on 1,600 rows" in warning[0].message
    assert "--unit none" in warning[0].message
    named = uplift(frame, **options, model="t_learner", unit="customer")
    assert named.estimates[0].se == res.estimates[0].se
    rows = uplift(frame, **options, model="t_learner", unit="none")
    assert [f.code for f in rows.findings if f.code in ("units", "repeated_units")] == ["units"]
    # The customer effect is shared by 4 rows: rows alone understate the ATE's SE.
    assert res.estimates[0].se > 1.3 * rows.estimates[0].se


def test_unit_id_is_not_chosen_as_a_feature():
    frame = panel(units=200).drop(columns="z")
    res = uplift(frame, treatment="treat", outcome="y", learner="linear", model="t_learner")
    features = next(f for f in res.findings if f.code == "features")
    assert "using every other usable column (x)" in features.message
    assert "customer (the unit id)" in features.message


def test_causal_forest_refuses_units():
    frame = panel(units=200)
    with pytest.raises(UserInputError, match="the causal forest samples rows, not units") as err:
        uplift(frame, treatment="treat", outcome="y", features=["x"], model="causal_forest")
    assert "'customer'" in str(err.value) and "--unit none" in str(err.value)


def test_cli_unit_option_and_refusal(tmp_path):
    path = tmp_path / "panel.csv"
    panel(units=200).to_csv(path, index=False)
    base = ["uplift", str(path), "--treatment", "treat", "--outcome", "y", "--features", "x,z"]
    out = runner.invoke(app, [*base, "--model", "causal_forest"])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "rows repeat the unit id 'customer'" in out.output and "--unit none" in out.output
    out = runner.invoke(app, [*base, "--learner", "linear", "--unit", "customer", "--json"])
    assert out.exit_code == 0, out.output
    assert '"unit": "customer"' in out.output
    out = runner.invoke(app, [*base, "--learner", "linear", "--unit", "none"])
    assert out.exit_code == 0, out.output

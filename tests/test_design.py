"""Randomisation design: exact counts, balance statistics, reproducibility, faces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.experiments.design import assignment
from cerebro.experiments.design.analysis import design

runner = CliRunner()


@pytest.fixture
def units():
    rng = np.random.default_rng(0)
    n = 997
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "region": rng.choice(["EU", "NA", "APAC"], n, p=[0.5, 0.3, 0.2]),
            "tier": rng.choice(["free", "pro", "team"], n),
            "age": rng.normal(40, 10, n).round(),
            "spend": rng.gamma(2, 50, n),
        }
    )


def test_complete_gives_exact_totals(units):
    res = design(units, arms=3, allocation=[0.5, 0.25, 0.25], seed=1)
    counts = res.data["arm"].value_counts()
    # 997 × (0.5, 0.25, 0.25) = (498.5, 249.25, 249.25): floors 498, 249, 249 and 1 left over.
    assert counts.sum() == 997
    assert {counts["control"], counts["treatment_1"], counts["treatment_2"]} <= {498, 499, 249, 250}
    assert abs(counts["control"] - 498.5) <= 0.5


def test_remainders_favour_no_arm():
    """Leftover units go to arms at random: over many odd-sized blocks each arm gets half."""
    rng = np.random.default_rng(5)
    first = [assignment.arm_counts(7, np.array([0.5, 0.5]), rng)[0] for _ in range(4000)]
    assert np.mean(np.array(first) == 4) == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / 4000))


def test_stratified_counts_within_one_in_every_stratum(units):
    res = design(units, arms=2, strata=["region", "tier"], seed=3)
    cells = pd.crosstab([units["region"], units["tier"]], res.data["arm"])
    assert (cells["control"] - cells["treatment_1"]).abs().max() <= 1
    assert res.method == "stratified"
    three = design(units, arms=3, allocation=[0.5, 0.3, 0.2], strata=["region"], seed=4)
    cells = pd.crosstab(units["region"], three.data["arm"])
    planned = cells.sum(axis=1).to_numpy()[:, None] * np.array([0.5, 0.3, 0.2])
    assert np.abs(cells[["control", "treatment_1", "treatment_2"]].to_numpy() - planned).max() < 1


def test_numeric_stratum_is_binned(units):
    res = design(units, strata=["age"], bins=4, seed=2)
    assert any(f.code == "binned_stratum" for f in res.findings)
    bins = pd.qcut(units["age"], 4, duplicates="drop")
    cells = pd.crosstab(bins, res.data["arm"])
    assert (cells["control"] - cells["treatment_1"]).abs().max() <= 1


def test_simple_randomisation_is_binomial(units):
    shares = [
        design(units, method="simple", seed=s).data["arm"].eq("control").mean() for s in range(60)
    ]
    # Each share ~ Binomial(997, 0.5)/997: SD 0.0158; the mean of 60 has SD 0.0020.
    assert np.mean(shares) == pytest.approx(0.5, abs=4 * 0.0158 / np.sqrt(60))
    assert np.std(shares, ddof=1) == pytest.approx(0.0158, rel=0.35)


def test_balance_statistics_by_hand(units):
    res = design(units, seed=9, covariates=["age", "spend"])
    arm = res.data["arm"].to_numpy()
    t, c = units[arm == "treatment_1"], units[arm == "control"]
    table = res.tables["balance"].set_index("covariate")
    for col in ("age", "spend"):
        smd = (t[col].mean() - c[col].mean()) / np.sqrt((t[col].var() + c[col].var()) / 2)
        assert table.loc[col, "smd_treatment_1"] == pytest.approx(smd, rel=1e-12)
        assert table.loc[col, "var_ratio_treatment_1"] == pytest.approx(
            t[col].var() / c[col].var(), rel=1e-12
        )
    # Two arms: M = n_t n_c / n (x̄_t − x̄_c)ᵀ S⁻¹ (x̄_t − x̄_c) (Morgan & Rubin 2012).
    x = units[["age", "spend"]].to_numpy()
    d = t[["age", "spend"]].mean().to_numpy() - c[["age", "spend"]].mean().to_numpy()
    m = len(t) * len(c) / len(x) * d @ np.linalg.solve(np.cov(x, rowvar=False), d)
    bal = assignment.balance(x, (arm == "treatment_1").astype(int), 2)
    assert bal.statistic == pytest.approx(m, rel=1e-10)
    assert bal.p_value == pytest.approx(stats.chi2(2).sf(m), rel=1e-10)


def test_omnibus_p_value_is_uniform_under_randomisation(units):
    x = units[["age", "spend"]].to_numpy()
    rng = np.random.default_rng(21)
    p = [
        assignment.balance(x, assignment.complete(len(x), np.array([0.5, 0.5]), rng), 2).p_value
        for _ in range(600)
    ]
    rate = np.mean(np.array(p) < 0.05)
    assert 0.03 <= rate <= 0.07  # MC SE of the rate ≈ 0.009
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_rerandomisation_meets_threshold_and_tightens_balance(units):
    res = design(units, method="rerandomise", max_smd=0.02, seed=5)
    assert res.summary["max_abs_smd"] < 0.02 and res.summary["tries"] >= 1
    x = units[["age", "spend"]].to_numpy()
    rng = np.random.default_rng(8)
    plain = [
        assignment.balance(x, assignment.complete(len(x), np.array([0.5, 0.5]), rng), 2).max_abs_smd
        for _ in range(200)
    ]
    rerandomised = [
        design(units, method="rerandomise", max_smd=0.03, seed=s).summary["max_abs_smd"]
        for s in range(20)
    ]
    assert max(rerandomised) < 0.03 < np.median(plain)


def test_same_seed_same_assignment(units):
    a = design(units, strata=["region"], seed=7).data["arm"]
    b = design(units, strata=["region"], seed=7).data["arm"]
    c = design(units, strata=["region"], seed=8).data["arm"]
    assert a.equals(b) and not a.equals(c)


@pytest.mark.parametrize(
    "options, words",
    [
        ({"arms": 1}, "at least 2"),
        ({"allocation": [0.3, 0.3]}, "sum to 1"),
        ({"allocation": [0.5, 0.3, 0.2]}, "3 shares for 2 arms"),
        ({"strata": ["nope"]}, "'nope' not found"),
        ({"arm_names": ["a", "a"]}, "distinct names"),
        ({"method": "stratified"}, "needs --strata"),
        ({"method": "rerandomise", "max_smd": 1e-6, "max_tries": 3}, "no draw in 3 tries"),
        ({"covariates": ["region"]}, "not numeric"),
    ],
)
def test_user_errors(units, options, words):
    with pytest.raises(UserInputError, match=words):
        design(units, **options)


def test_cli_writes_assignment_atomically(units, tmp_path):
    src = tmp_path / "units.csv"
    units.to_csv(src, index=False)
    out = tmp_path / "out" / "assignment.csv"
    args = ["design", str(src), "--strata", "region,tier", "--seed", "7", "--output", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    written = pd.read_csv(out)
    assert list(written.columns) == [*units.columns, "arm"]
    assert written["user_id"].tolist() == units["user_id"].tolist()
    again = runner.invoke(app, [*args[:-1], str(tmp_path / "again.csv"), "--json"])
    assert again.exit_code == 0
    doc = json.loads(again.output)
    assert (
        doc["kind"] == "design" and "balance" in doc["tables"] and "assignment" not in doc["tables"]
    )
    assert pd.read_csv(tmp_path / "again.csv")["arm"].equals(written["arm"])
    bad = runner.invoke(
        app, ["design", str(src), "--arms", "1", "--output", str(tmp_path / "x.csv")]
    )
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert not (tmp_path / "x.csv").exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("user_id,age\n")
    assert runner.invoke(app, ["design", str(empty)]).exit_code == 2


def test_spec_file_runs(units, tmp_path):
    units.to_csv(tmp_path / "units.csv", index=False)
    (tmp_path / "spec.yaml").write_text(
        "kind: design\ndata: units.csv\narms: 2\nstrata: [region]\nseed: 3\n"
    )
    res = runner.invoke(app, ["run", str(tmp_path / "spec.yaml"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["method"] == "stratified"

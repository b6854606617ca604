"""`run_uplift`: data preparation, known-truth recovery, the BLP heterogeneity test, tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.run import run_spec
from cerebro.uplift import analysis
from cerebro.uplift.analysis import blp_test, choose_features, dr_scores, prepare, uplift
from cerebro.uplift.spec import UpliftSpec
from cerebro.uplift.synthetic import uplift_data

FEATURES = ["x1", "x2", "x3", "x4", "segment"]


@pytest.fixture(scope="module")
def continuous():
    return uplift_data(2000, p=4, kind="continuous", seed=11)


@pytest.fixture(scope="module")
def fitted(continuous):
    """One DR-learner run with linear base learners (fast and deterministic), known propensity."""
    df, truth = continuous
    return uplift(
        df, treatment="treatment", outcome="outcome", features=FEATURES, model="dr_learner",
        learner="linear", propensity=0.5, seed=3,
    ), truth  # fmt: skip


def test_recovers_the_ate_and_the_cate(fitted):
    """Truth: the synthetic model's sample ATE and per-row CATE (continuous outcome, τ linear in
    x1 plus a step in x2 and a segment shift; the linear DR-learner misses only the step's shape)."""
    result, truth = fitted
    ate = result.estimate("ATE (1 vs 0)")
    # |bias| within 3.5 SE: fails with probability < 0.001 for a correct SE.
    assert abs(ate.value - truth["ate"]) < 3.5 * ate.se
    assert ate.ci_low < ate.value < ate.ci_high
    assert 0.02 < ate.se < 0.08  # SE of a difference in means of n = 2,000 with sd ≈ 1.5
    cate = result.data["cate_1"].to_numpy()
    assert np.corrcoef(cate, truth["cate"])[0, 1] > 0.85
    # The BLP test detects the heterogeneity, with a slope near 1 for a calibrated model.
    effects = result.tables["effects"]
    assert effects["blp_p"].iloc[0] < 1e-6
    assert 0.7 < effects["blp_slope"].iloc[0] < 1.3
    assert not [f for f in result.findings if f.code == "no_heterogeneity"]


def test_tables_and_thinning(fitted):
    result, _ = fitted
    tables = result.tables
    assert set(tables) >= {
        "effects", "models", "uplift_by_decile", "qini_curve", "tiers", "targeting", "drivers",
        "partial_dependence",
    }  # fmt: skip
    assert len(tables["qini_curve"]) <= 201 and len(tables["targeting"]) <= 201
    assert tables["qini_curve"]["fraction"].iloc[-1] == pytest.approx(1.0)
    assert tables["uplift_by_decile"]["bin"].tolist() == list(range(1, 11))
    assert len(tables["tiers"]) == 5
    # The drivers: x1 carries the linear part of τ, so it is the top driver; x4 (baseline only)
    # matters less than x1 by far.
    drivers = tables["drivers"].set_index("feature")
    assert drivers["importance"].idxmax() == "x1"
    assert drivers.loc["x4", "share"] < 0.1 * drivers.loc["x1", "share"]
    assert drivers["share"].sum() == pytest.approx(1.0, abs=1e-12)
    pd_table = tables["partial_dependence"]
    assert pd_table["feature"].nunique() == 3 and "x1" in set(pd_table["feature"])
    x1 = pd_table[pd_table["feature"] == "x1"]
    assert np.all(np.diff(x1["cate_mean"].to_numpy()) > 0)  # τ increases in x1 (slope 0.5)
    # JSON contract round trip
    payload = result.to_dict()
    assert payload["kind"] == "uplift" and payload["summary"]["headline_table"] == "effects"


def test_blp_matches_statsmodels_ols_hc1():
    """β and HC1 SEs of ψ ~ 1 + (S − S̄) equal statsmodels' OLS with cov_type='HC1'."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    s = rng.normal(size=500)
    psi = 0.3 + 0.8 * (s - s.mean()) + rng.standard_t(4, size=500)
    ours = blp_test(psi, s)
    ref = sm.OLS(psi, sm.add_constant(s - s.mean())).fit(cov_type="HC1")
    np.testing.assert_allclose([ours["beta_mean"], ours["beta_het"]], ref.params, rtol=1e-12)
    np.testing.assert_allclose([ours["se_mean"], ours["se_het"]], ref.bse, rtol=1e-10)
    from scipy import stats

    assert ours["p_het"] == pytest.approx(stats.norm.sf(ref.params[1] / ref.bse[1]), rel=1e-10)


def test_dr_scores_equal_the_aipw_form():
    """grf's ψ = τ + (t − e)/(e(1 − e))·(y − m − (t − e)τ) is AIPW with μ₁ = m + (1 − e)τ,
    μ₀ = m − eτ (algebraic identity, checked to 1e-12)."""
    rng = np.random.default_rng(2)
    n = 1000
    y, t = rng.normal(size=n), rng.integers(0, 2, n)
    m, e, tau = rng.normal(size=n), rng.uniform(0.1, 0.9, n), rng.normal(size=n)
    mu1, mu0 = m + (1 - e) * tau, m - e * tau
    aipw = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    np.testing.assert_allclose(dr_scores(y, t, m, e, tau), aipw, rtol=0, atol=1e-12)


def test_feature_choice_skips_ids_dates_constants_and_free_text():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "code": [f"u{i}" for i in range(n)],  # unique text: an ID
            "age": rng.normal(40, 10, n),
            "plan": rng.choice(["free", "pro"], n),
            "comment": [f"c{i % 60}" for i in range(n)],  # 60 levels: free text
            "signup": pd.date_range("2024-01-01", periods=n, freq="h"),
            "country": "NL",
            "offer": rng.integers(0, 2, n),
            "bought": rng.integers(0, 2, n),
        }
    )
    spec = UpliftSpec(treatment="offer", outcome="bought")
    chosen, skipped = choose_features(frame, spec)
    assert chosen == ["age", "plan"]
    assert skipped == [
        "user_id (ID-like)", "code (ID-like)", "comment (60 distinct text values)",
        "signup (date/time)", "country (constant)",
    ]  # fmt: skip
    data = prepare(frame, spec)
    note = next(f for f in data.findings if f.code == "features")
    assert "using every other usable column (age, plan)" in note.message


def test_prepare_drops_missing_rows_and_names_an_empty_arm():
    df, _ = uplift_data(300, p=4, seed=1)
    df.loc[[3, 7], "x2"] = np.nan
    df.loc[11, "outcome"] = np.nan
    spec = UpliftSpec(treatment="treatment", outcome="outcome", features=FEATURES)
    data = prepare(df, spec)
    assert data.keep.sum() == 297 and not data.keep[[3, 7, 11]].any()
    assert any(f.code == "dropped_missing" and "3 of 300" in f.message for f in data.findings)
    df.loc[df["treatment"] == 1, "x1"] = np.nan
    with pytest.raises(
        UserInputError, match=r"treatment arm '1' of 'treatment' has no complete rows"
    ):
        prepare(df, spec)


def test_control_choice_rules():
    base = pd.DataFrame({"x": np.arange(40.0) % 7, "y": np.arange(40) % 2})
    cases = [
        (["B_new", "A_control", "C_other", "A_control"] * 10, None, "A_control"),
        (["zeta", "my_control", "alpha", "zeta"] * 10, None, "my_control"),
        (["b", "a", "c", "b"] * 10, None, "a"),
        (["b", "a", "c", "b"] * 10, "c", "c"),
        ([1, 0, 2, 1] * 10, None, "0"),
    ]
    for values, control, expected in cases:
        frame = base.assign(arm=values)
        data = prepare(
            frame, UpliftSpec(treatment="arm", outcome="y", features=["x"], control=control)
        )
        assert data.control == expected and len(data.treated) == 2
    with pytest.raises(UserInputError, match=r"--control 'Z' is not a value of 'arm'"):
        prepare(
            base.assign(arm=["a", "b"] * 20), UpliftSpec(treatment="arm", outcome="y", control="Z")
        )
    with pytest.raises(UserInputError, match=r"has 1 value\(s\) \(a\)"):
        prepare(base.assign(arm="a"), UpliftSpec(treatment="arm", outcome="y", features=["x"]))


def test_outcome_type_binary_refuses_other_values():
    frame = pd.DataFrame({"x": np.arange(40.0), "arm": [0, 1] * 20, "y": np.arange(40.0) / 3})
    spec = UpliftSpec(treatment="arm", outcome="y", features=["x"], outcome_type="binary")
    with pytest.raises(
        UserInputError, match=r"outcome 'y' has values other than 0 and 1 \(e\.g\. 0\.333333\)"
    ):
        prepare(frame, spec)


def test_spec_validation_sentences():
    from cerebro.core.spec import spec_from_options

    bad = [
        ({"model": "z_learner"}, "unknown model 'z_learner'"),
        ({"budget": 0, "cost_per_treatment": 1}, "budget must be a positive total cost"),
        ({"budget": 100}, "give --cost per treated unit too"),
        ({"propensity": 1.0}, "strictly between 0 and 1"),
        ({"features": "x1,treatment"}, "the treatment column 'treatment' cannot also be a feature"),
        ({"folds": 1}, "folds must be between 2 and 20"),
        ({"learner": "random_forest", "save": "m.cerebro"}, "cannot be saved without pickle"),
    ]
    for options, message in bad:
        with pytest.raises(UserInputError, match=message):
            spec_from_options(UpliftSpec, {"treatment": "treatment", "outcome": "y", **options})
    assert UpliftSpec(treatment="a", outcome="b", model="X-Learner").model == "x_learner"
    assert UpliftSpec(treatment="a", outcome="b", control=0).control == "0"


def test_multi_arm_all_models_and_run_spec(tmp_path):
    """Three arms, every model compared, via the registry (`run_spec` with kind: uplift)."""
    df, truth = uplift_data(900, p=4, kind="continuous", n_arms=3, seed=8)
    result = run_spec(
        {
            "kind": "uplift", "treatment": "treatment", "outcome": "outcome",
            "features": FEATURES, "model": "all", "learner": "linear", "propensity": 0.5,
            "folds": 3,
        },
        df,
    )  # fmt: skip
    models = result.tables["models"]
    assert len(models) == 2 * 6 and set(models["model"]) == set(analysis.MODELS)
    best = models.groupby("model")["qini"].mean().idxmax()
    assert result.summary["model"] == best
    assert [e.label for e in result.estimates if e.label.startswith("ATE")] == [
        "ATE (1 vs 0)", "ATE (2 vs 0)",
    ]  # fmt: skip
    for arm in (1, 2):
        ate = result.estimate(f"ATE ({arm} vs 0)")
        assert abs(ate.value - truth[f"ate_{arm}"]) < 4 * ate.se
    shares = result.tables["best_treatment"]
    assert shares["treatment"].tolist() == ["0", "1", "2"]
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert shares["units"].sum() == 900

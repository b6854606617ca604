"""sensemakr's published Darfur example (Cinelli & Hazlett 2020, §5; Hazlett 2019): the effect of
being directly harmed in the Darfur violence on attitudes towards peace, adjusted for village
fixed effects and individual covariates. The data ship with PySensemakr (loaded from the package
at test time, not committed); the reference numbers come from PySensemakr on the same data, and
the published ones from the paper and the sensemakr vignette."""

from __future__ import annotations

import numpy as np
import pytest

import cerebro

smkr = pytest.importorskip("sensemakr")
smf = pytest.importorskip("statsmodels.formula.api")

COVARIATES = ["age", "farmer_dar", "herder_dar", "pastvoted", "hhsize_darfur", "female", "village"]
FORMULA = "peacefactor ~ directlyharmed + " + " + ".join(COVARIATES)


@pytest.fixture(scope="module")
def darfur():
    return smkr.load_darfur()


@pytest.fixture(scope="module")
def model(darfur):
    return smf.ols(FORMULA, data=darfur).fit()


@pytest.fixture(scope="module")
def result(darfur):
    return cerebro.sensitivity(
        darfur, treatment="directlyharmed", outcome="peacefactor", confounders=COVARIATES,
        benchmark=["female"], kd=[1, 2, 3], unobserved_confounder_strength=[0.1, 0.2],
        refute=False,
    )  # fmt: skip


def test_published_numbers(result) -> None:
    """Cinelli & Hazlett (2020), Table 1 / the sensemakr vignette."""
    assert result.estimate("effect").value == pytest.approx(0.09731582, abs=5e-9)
    assert result.estimate("effect").se == pytest.approx(0.02325654, abs=5e-9)
    assert result.estimate("effect").extra["dof"] == 783
    assert result.estimate("partial_r2_yd").value == pytest.approx(0.02187309, abs=5e-9)
    assert result.estimate("rv_q").value == pytest.approx(0.1388, abs=5e-5)
    assert result.estimate("rv_q_alpha").value == pytest.approx(0.0763, abs=5e-5)


def test_sensitivity_statistics_equal_pysensemakr(result, model) -> None:
    with np.errstate(divide="ignore"):
        stats = smkr.Sensemakr(model=model, treatment="directlyharmed").sensitivity_stats
    assert result.estimate("effect").value == pytest.approx(stats["estimate"], abs=1e-10)
    assert result.estimate("effect").se == pytest.approx(stats["se"], abs=1e-10)
    assert result.estimate("partial_r2_yd").value == pytest.approx(stats["r2yd_x"], abs=1e-10)
    assert result.estimate("rv_q").value == pytest.approx(float(stats["rv_q"]), abs=1e-10)
    assert result.estimate("rv_q_alpha").value == pytest.approx(float(stats["rv_qa"]), abs=1e-10)


def _within_village(darfur):
    """Every variable minus its village mean: the village fixed effects partialled out
    (Frisch–Waugh), so the benchmark regressions need 7 columns instead of 492."""
    names = ["peacefactor", "directlyharmed", *COVARIATES[:-1]]
    return darfur[names] - darfur.groupby("village")[names].transform("mean")


def _ssr(frame, y: str, xs: list[str]) -> float:
    return float(smf.ols(f"{y} ~ 0 + " + " + ".join(xs), data=frame).fit().ssr)


def test_benchmark_bounds_equal_pysensemakr(result, model, darfur) -> None:
    """1x, 2x, 3x female: the partial R² of female with the treatment and with the outcome as
    the share of the residual sum of squares it removes (statsmodels on the within-village
    data), the implied bounds and adjusted estimates by PySensemakr."""
    w = _within_village(darfur)
    others = [c for c in COVARIATES[:-1] if c != "female"]
    r2dxj = 1 - _ssr(w, "directlyharmed", [*others, "female"]) / _ssr(w, "directlyharmed", others)
    with_d = ["directlyharmed", *others]
    r2yxj = 1 - _ssr(w, "peacefactor", [*with_d, "female"]) / _ssr(w, "peacefactor", with_d)
    table = result.tables["benchmarks"]
    assert table["r2dxj_x"][0] == pytest.approx(r2dxj, abs=1e-10)
    assert table["r2yxj_dx"][0] == pytest.approx(r2yxj, abs=1e-10)
    bounds = smkr.ovb_partial_r2_bound(r2dxj_x=r2dxj, r2yxj_dx=r2yxj, kd=[1, 2, 3])
    ours = result.tables["bounds"].iloc[1:]  # the first row is the --unobserved-confounder-strength
    assert list(ours["confounder"]) == ["1x female", "2x female", "3x female"]
    np.testing.assert_allclose(ours["r2dz_x"], bounds["r2dz_x"], atol=1e-10)
    np.testing.assert_allclose(ours["r2yz_dx"], bounds["r2yz_dx"], atol=1e-10)
    for (_, row), r2dz, r2yz in zip(
        ours.iterrows(), bounds["r2dz_x"], bounds["r2yz_dx"], strict=True
    ):
        est = smkr.adjusted_estimate(r2dz, r2yz, model=model, treatment="directlyharmed")
        se = smkr.adjusted_se(r2dz, r2yz, model=model, treatment="directlyharmed")
        assert row["estimate"] == pytest.approx(float(est), abs=1e-10)
        assert row["se"] == pytest.approx(float(se), abs=1e-10)
    # published (Cinelli & Hazlett 2020, §5): 1x female r2dz 0.009, r2yz 0.125, adjusted 0.0752
    first = ours.iloc[0]
    assert (round(first["r2dz_x"], 3), round(first["r2yz_dx"], 3)) == (0.009, 0.125)
    assert round(first["estimate"], 4) == 0.0752


def test_manual_strength_equals_pysensemakr(result, model) -> None:
    """--unobserved-confounder-strength 0.1,0.2: estimate, SE and interval (PySensemakr 0.0.8
    labels the limits the other way round, so the interval is compared as a set; it takes the
    t quantile with dof degrees of freedom, R's sensemakr and Cerebro dof − 1 – the regression
    with Z has one regressor more – a difference of 1e-7 here)."""
    with np.errstate(divide="ignore"):  # PySensemakr's RV with its default alpha = 1
        ref = smkr.Sensemakr(model=model, treatment="directlyharmed", r2dz_x=0.1, r2yz_dx=0.2)
    ref = ref.bounds
    row = result.tables["bounds"].iloc[0]
    assert (row["r2dz_x"], row["r2yz_dx"]) == (0.1, 0.2)
    assert row["estimate"] == pytest.approx(float(ref["adjusted_estimate"][0]), abs=1e-10)
    assert row["se"] == pytest.approx(float(ref["adjusted_se"][0]), abs=1e-10)
    limits = sorted([float(ref["adjusted_lower_CI"][0]), float(ref["adjusted_upper_CI"][0])])
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(limits, abs=1e-6)


def test_rv_for_half_the_estimate_equals_pysensemakr(darfur, model) -> None:
    res = cerebro.sensitivity(
        darfur, treatment="directlyharmed", outcome="peacefactor", confounders=COVARIATES, q=0.5,
        refute=False,
    )  # fmt: skip
    with np.errstate(divide="ignore"):
        rv = smkr.robustness_value(model=model, covariates="directlyharmed", q=0.5)
        rva = smkr.robustness_value(model=model, covariates="directlyharmed", q=0.5, alpha=0.05)
    assert res.estimate("rv_q").value == pytest.approx(float(rv.iloc[0]), abs=1e-10)
    assert res.estimate("rv_q_alpha").value == pytest.approx(float(rva.iloc[0]), abs=1e-10)

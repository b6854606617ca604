"""IV agreement with `linearmodels` (IV2SLS, IVLIML, IVGMM) on the same data, to 1e-6 relative.

Data: Card's (1995) college-proximity extract as shipped with linearmodels (3,010 men, NLS
1976), two instruments (nearc4, nearc2), five controls and an intercept; clusters are the nine
1966 regions. Every covariance kind (robust HC0, unadjusted, clustered) with and without
linearmodels' `debiased` flag, for 2SLS and LIML, through the public `run`.
"""

from __future__ import annotations

import numpy as np
import pytest
from linearmodels.datasets import card
from linearmodels.iv import IV2SLS, IVGMM, IVLIML

from cerebro.quasi.iv import analysis as iv
from cerebro.quasi.iv import estimators as ive
from cerebro.quasi.iv.spec import IVSpec
from cerebro.quasi.iv.synthetic import iv_frame

CONTROLS = ["exper", "expersq", "black", "south", "smsa"]
INSTRUMENTS = ["nearc4", "nearc2"]
REL = 1e-6


@pytest.fixture(scope="module")
def data():
    df = card.load()
    regions = df[[f"reg66{i}" for i in range(1, 10)]].to_numpy()
    df = df.assign(region=regions.argmax(axis=1), const=1.0)
    return df.dropna(subset=["lwage", "educ", *CONTROLS, *INSTRUMENTS]).reset_index(drop=True)


def _spec(estimator: str, cluster: str | None = None, instruments=INSTRUMENTS) -> IVSpec:
    return IVSpec(
        treatment="educ", outcome="lwage", instrument=list(instruments),
        confounders=CONTROLS, iv_estimator=estimator, cluster=cluster,
    )  # fmt: skip


def _row(result, table: str, key: str, value: str) -> dict:
    t = result.tables.columns(table)
    i = t[key].index(value)
    return {c: v[i] for c, v in t.items()}


CASES = [
    (est, kind, deb)
    for est in ("2sls", "liml")
    for kind in ("robust", "unadjusted", "clustered")
    for deb in (False, True)
]


@pytest.mark.parametrize(("estimator", "kind", "debiased"), CASES)
def test_run_matches_linearmodels(data, estimator, kind, debiased):
    """Estimates, SEs, CIs, first stage (coefficients, F/Wald, partial R²), Sargan, Hansen J,
    Wu–Hausman and the control-function test: all equal to linearmodels to 1e-6 relative."""
    cluster = "region" if kind == "clustered" else None
    res = iv.run(
        data, _spec(estimator, cluster).model_copy(update={"iv_cov": kind, "debiased": debiased})
    )
    fit_kw = {"cov_type": kind, "debiased": debiased}
    if cluster:
        fit_kw["clusters"] = data["region"]
    exog = data[["const", *CONTROLS]]
    model = IV2SLS if estimator == "2sls" else IVLIML
    ref = model(data.lwage, exog, data.educ, data[INSTRUMENTS]).fit(**fit_kw)
    other = (IVLIML if estimator == "2sls" else IV2SLS)(
        data.lwage, exog, data.educ, data[INSTRUMENTS]
    ).fit(**fit_kw)
    ols = IV2SLS(data.lwage, data[["const", *CONTROLS, "educ"]], None, None).fit(**fit_kw)

    head = res.estimates[0]
    assert head.value == pytest.approx(ref.params["educ"], rel=REL)
    assert head.se == pytest.approx(ref.std_errors["educ"], rel=REL)
    ci = ref.conf_int(0.95).loc["educ"]
    assert head.ci_low == pytest.approx(ci["lower"], rel=REL)
    assert head.ci_high == pytest.approx(ci["upper"], rel=REL)
    assert head.p_value == pytest.approx(ref.pvalues["educ"], rel=1e-5, abs=1e-300)
    assert res.estimates[1].value == pytest.approx(other.params["educ"], rel=REL)
    assert res.estimates[1].se == pytest.approx(other.std_errors["educ"], rel=REL)
    assert res.estimates[2].value == pytest.approx(ols.params["educ"], rel=REL)
    assert res.estimates[2].se == pytest.approx(ols.std_errors["educ"], rel=REL)

    first = ref.first_stage
    diag = first.diagnostics.loc["educ"]
    individual = first.individual["educ"]
    for j, name in enumerate(INSTRUMENTS):
        row = _row(res, "first_stage", "instrument", name)
        assert row["coef"] == pytest.approx(individual.params[name], rel=REL)
        assert row["se"] == pytest.approx(individual.std_errors[name], rel=REL)
        assert res.estimates[3 + j].value == pytest.approx(individual.params[name], rel=REL)
    # linearmodels' f.stat is Wald/k (F test) for unadjusted SEs and the Wald χ² otherwise
    f_name = "first-stage F" if kind == "unadjusted" else "first-stage Wald"
    f_row = _row(res, "diagnostics", "test", f_name)
    assert f_row["statistic"] == pytest.approx(diag["f.stat"], rel=REL)
    assert f_row["p_value"] == pytest.approx(diag["f.pval"], rel=1e-5, abs=1e-300)
    assert _row(res, "diagnostics", "test", "partial R²")["statistic"] == pytest.approx(
        diag["partial.rsquared"], rel=REL
    )
    sargan = _row(res, "diagnostics", "test", "Sargan")
    assert sargan["statistic"] == pytest.approx(ref.sargan.stat, rel=REL)
    assert sargan["p_value"] == pytest.approx(ref.sargan.pval, rel=1e-5)
    tests = res.tables.columns("diagnostics")["test"]
    if kind == "unadjusted":
        assert "Hansen J" not in tests
    else:
        gmm_kw = {"clusters": data["region"]} if cluster else {}
        gmm = IVGMM(
            data.lwage, exog, data.educ, data[INSTRUMENTS], weight_type=kind, **gmm_kw
        ).fit()
        j = _row(res, "diagnostics", "test", "Hansen J")
        assert j["statistic"] == pytest.approx(gmm.j_stat.stat, rel=REL)
        assert j["p_value"] == pytest.approx(gmm.j_stat.pval, rel=1e-5)
    wh = _row(res, "diagnostics", "test", "Wu–Hausman")
    assert wh["statistic"] == pytest.approx(ref.wu_hausman().stat, rel=REL)
    assert wh["p_value"] == pytest.approx(ref.wu_hausman().pval, rel=1e-5, abs=1e-300)
    cf = _row(res, "diagnostics", "test", "control-function Wald")
    assert cf["statistic"] == pytest.approx(ref.wooldridge_regression.stat, rel=REL)
    kappa = _row(res, "diagnostics", "test", "LIML kappa")["statistic"]
    liml = IVLIML(data.lwage, exog, data.educ, data[INSTRUMENTS]).fit()
    assert kappa == pytest.approx(liml.kappa, rel=1e-9)


def test_reduced_form_and_wald_ratio(data):
    """One instrument: 2SLS = reduced form / first stage (the Wald ratio), and the reduced form
    equals linearmodels' OLS of the outcome on the instrument and controls."""
    res = iv.run(data, _spec("2sls", instruments=["nearc4"]))
    row = _row(res, "first_stage", "instrument", "nearc4")
    assert res.estimates[0].value == pytest.approx(row["reduced_form"] / row["coef"], rel=1e-10)
    rf = IV2SLS(data.lwage, data[["const", *CONTROLS, "nearc4"]], None, None).fit()
    assert row["reduced_form"] == pytest.approx(rf.params["nearc4"], rel=REL)
    assert row["rf_se"] == pytest.approx(rf.std_errors["nearc4"], rel=REL)


def _arrays(data, instruments):
    y = data.lwage.to_numpy(float)
    d = data.educ.to_numpy(float)
    W = data[["const", *CONTROLS]].to_numpy(float)
    Z = data[instruments].to_numpy(float)
    return y, d, W, np.column_stack([W, Z])


@pytest.mark.parametrize("kind", ["robust", "unadjusted", "clustered"])
def test_effective_f_from_its_definition(data, kind):
    """F_eff recomputed from Montiel Olea & Pflueger's definition (instruments partialled out
    and normalised so that Z'Z/n = I; F_eff = n π̂'π̂ / tr(Ŵ₂) with Ŵ₂ the HC0 / cluster /
    homoskedastic variance of √n π̂) and K_eff from theirs."""
    _, d, W, Zf = _arrays(data, INSTRUMENTS)
    clusters = data["region"].to_numpy() if kind == "clustered" else None
    fs = ive.first_stage(d, Zf, 2, ive.CovSpec(kind, False, clusters))
    n = len(d)
    Zt = Zf[:, -2:] - W @ np.linalg.lstsq(W, Zf[:, -2:], rcond=None)[0]
    dt = d - W @ np.linalg.lstsq(W, d, rcond=None)[0]
    vals, vecs = np.linalg.eigh(Zt.T @ Zt / n)
    Zs = Zt @ vecs @ np.diag(vals**-0.5) @ vecs.T
    pi = Zs.T @ dt / n
    v = dt - Zs @ pi
    if kind == "robust":
        W2 = (Zs * v[:, None] ** 2).T @ Zs / n
    elif kind == "unadjusted":
        W2 = v @ v / n * np.eye(2)
    else:
        sums = np.array([(Zs * v[:, None])[clusters == g].sum(0) for g in np.unique(clusters)])
        W2 = sums.T @ sums / n
    assert fs.effective_f == pytest.approx(n * pi @ pi / np.trace(W2), rel=1e-9)
    x = 10.0
    lam = np.linalg.eigvalsh(W2)
    k_eff = np.trace(W2) ** 2 * (1 + 2 * x) / (np.trace(W2 @ W2) + 2 * x * np.trace(W2) * lam.max())
    assert fs.k_eff == pytest.approx(k_eff, rel=1e-9)
    if kind == "unadjusted":  # homoskedastic: F_eff is the classical (non-debiased) F, K_eff = k
        assert fs.effective_f == pytest.approx(fs.f_stat, rel=1e-10)
        assert fs.k_eff == pytest.approx(2.0, rel=1e-12)
    one = ive.first_stage(d, Zf[:, :-1], 1, ive.CovSpec(kind, False, clusters))
    assert one.effective_f == pytest.approx(one.wald, rel=1e-10)  # one instrument: robust F


def test_mop_critical_values():
    """K_eff = 1: 23.1085 (the familiar 23.1 of Montiel Olea & Pflueger 2013 / Andrews, Stock &
    Sun 2019 for τ = 10%, 5% size); K_eff = 2: 19.29; decreasing in K_eff."""
    assert ive.mop_critical_value(1.0) == pytest.approx(23.1085, abs=1e-4)
    assert ive.mop_critical_value(2.0) == pytest.approx(19.2943, abs=1e-4)
    assert ive.mop_critical_value(5.0) < ive.mop_critical_value(2.0)


@pytest.mark.parametrize("kind", ["robust", "unadjusted", "clustered"])
def test_anderson_rubin_statistic_and_set(data, kind):
    """AR(β₀) is the Wald test that the instruments' coefficients are zero in the OLS of
    y − β₀d on the controls and instruments (linearmodels, same covariance); the set's endpoints
    solve AR(β) = c to 1e-8, and membership on a grid agrees with the set."""
    y, d, _, Zf = _arrays(data, INSTRUMENTS)
    clusters = data["region"].to_numpy() if kind == "clustered" else None
    cov = ive.CovSpec(kind, False, clusters)
    pieces = ive.ar_pieces(y, d, Zf, 2, cov)
    fit_kw = {"cov_type": kind, **({"clusters": data["region"]} if clusters is not None else {})}
    exog = data[["const", *CONTROLS, *INSTRUMENTS]]
    for beta0 in (0.0, 0.1, 0.25):
        ref = IV2SLS(data.lwage - beta0 * data.educ, exog, None, None).fit(**fit_kw)
        b = ref.params[INSTRUMENTS].to_numpy()
        V = ref.cov.loc[INSTRUMENTS, INSTRUMENTS].to_numpy()
        assert pieces.wald(beta0) == pytest.approx(b @ np.linalg.solve(V, b), rel=1e-8)
    c = pieces.critical_value(0.05)
    region = ive.ar_confidence_set(pieces, 0.05)
    assert region, "the AR set on Card's data is not empty"
    for lo, hi in region:
        for end in (lo, hi):
            if np.isfinite(end):
                assert pieces.wald(end) == pytest.approx(c, rel=1e-8)
    grid = np.linspace(-1, 1, 4001)
    inside = np.array([any(lo <= b <= hi for lo, hi in region) for b in grid])
    assert np.array_equal(inside, pieces.wald(grid) <= c)


def test_anderson_rubin_unbounded_when_first_stage_is_weak():
    """With an irrelevant-ish instrument the AR set is unbounded exactly when the first-stage
    Wald statistic is below the critical value (Dufour 1997); both ends checked by the
    statistic itself."""
    found = {"bounded": 0, "unbounded": 0}
    for seed in range(40):
        frame, _ = iv_frame(300, mu2=3.0, rho=0.8, seed=seed)
        W = np.column_stack([np.ones(300), frame.x1])
        Zf = np.column_stack([W, frame.z1])
        cov = ive.CovSpec("robust")
        pieces = ive.ar_pieces(frame.y.to_numpy(), frame.d.to_numpy(), Zf, 1, cov)
        region = ive.ar_confidence_set(pieces, 0.05)
        wald = ive.first_stage(frame.d.to_numpy(), Zf, 1, cov).wald
        c = pieces.critical_value(0.05)
        unbounded = any(np.isinf(lo) or np.isinf(hi) for lo, hi in region)
        assert unbounded == (wald < c)
        found["unbounded" if unbounded else "bounded"] += 1
        if unbounded:
            assert (pieces.wald(1e6) <= c) and (pieces.wald(-1e6) <= c)
    assert found["bounded"] > 0 and found["unbounded"] > 0


def test_batch_axis_gives_the_same_numbers(data):
    """The vectorised path (leading batch axis, as in the simulations) equals one-at-a-time."""
    y, d, W, Zf = _arrays(data, INSTRUMENTS)
    X = np.column_stack([d, W])
    cov = ive.CovSpec("robust")
    single = ive.kclass(y, X, Zf, 1.0, cov)
    batch = ive.kclass(np.stack([y, y]), np.stack([X, X]), np.stack([Zf, Zf]), 1.0, cov)
    np.testing.assert_allclose(batch.params[1], single.params, rtol=1e-12)
    np.testing.assert_allclose(batch.cov[0], single.cov, rtol=1e-10)
    kappa = ive.liml_kappa(np.stack([y, y]), np.stack([d, d]), np.stack([W, W]), np.stack([Zf, Zf]))
    assert kappa[1] == pytest.approx(float(ive.liml_kappa(y, d, W, Zf)), rel=1e-12)

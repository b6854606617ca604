"""Difference-in-differences against reference implementations on the same data.

- 2×2 OLS with cluster-robust (CR1) and HC1 SEs: statsmodels ``OLS.fit(cov_type="cluster",
  use_t=True)`` / ``"HC1"``, estimates, SEs and p-values to 1e-6 relative.
- TWFE and event studies: pyfixest ``feols("y ~ d | unit + time", vcov={"CRV1": ...})`` with its
  default small-sample correction (``ssc(k_adj=True, k_fixef="nonnested", G_adj=True)``), on
  balanced and unbalanced panels, clustered by unit, by a coarser nesting cluster, and HC1.
- Callaway–Sant'Anna: ``csdid`` (a port of R ``did``) with ``bstrap=False``: every ATT(g, t),
  its analytic SE, and the simple / dynamic / group aggregations with SEs; never-treated and
  not-yet-treated comparisons; unconditional (``est_method="dr"``, which equals the plain 2×2
  without covariates) and outcome regression (``est_method="reg"``) with a covariate.
- Each ATT(g, t) equals the treated × post coefficient of a plain OLS 2×2 on the cell's two
  periods and two groups (the obviously-correct direct computation).

The ``mpdta`` data of R ``did``'s documentation ships in no PyPI package we could find offline
(checked: csdid, drdid, pyfixest, differences, py2sdid, cast-panel), so no published mpdta
numbers are reproduced here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm

from cerebro.observational.analysis import run_causal
from cerebro.observational.spec import CausalSpec
from cerebro.quasi.did import callaway_santanna as cs
from cerebro.quasi.did.event_study import event_study
from cerebro.quasi.did.ols import TwoWayDemeaner, treatment_weights, twfe
from cerebro.quasi.did.synthetic import staggered_panel, two_by_two
from cerebro.stats.ols import ols

REL = 1e-6


def _close(a, b, rel=REL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=1e-12)


@pytest.mark.parametrize("clustered", [True, False])
def test_two_by_two_matches_statsmodels(clustered):
    y, treat, post, x, unit = two_by_two(1, n_units=300, seed=11)
    X = np.column_stack([np.ones(600), treat[0], post[0], treat[0] * post[0], x[0]])
    ours = ols(y[0], X, unit[0] if clustered else None)
    model = sm.OLS(y[0], X)
    ref = (
        model.fit(cov_type="cluster", cov_kwds={"groups": unit[0]}, use_t=True)
        if clustered
        else model.fit(cov_type="HC1", use_t=True)
    )
    _close(ours.coef, ref.params)
    _close(ours.se, ref.bse)
    low, high, p = ours.interval(0.05)
    _close(p, ref.pvalues)
    _close(np.column_stack([low, high]), ref.conf_int(0.05))


def test_two_by_two_run_matches_statsmodels():
    """The whole runner (CSV-like frame → Result) gives statsmodels' interaction coefficient."""
    y, treat, post, x, unit = two_by_two(1, n_units=250, seed=5)
    frame = pd.DataFrame({"sales": y[0], "campaign": treat[0], "post": post[0], "age": x[0],
                          "id": unit[0]})  # fmt: skip
    spec = CausalSpec(treatment="campaign", outcome="sales", method="did", post="post",
                      unit="id", confounders=["age"])  # fmt: skip
    res = run_causal(spec, frame)
    X = np.column_stack([np.ones(500), treat[0], post[0], treat[0] * post[0], x[0]])
    ref = sm.OLS(y[0], X).fit(cov_type="cluster", cov_kwds={"groups": unit[0]}, use_t=True)
    head = res.estimates[0]
    _close([head.value, head.se, head.p_value], [ref.params[3], ref.bse[3], ref.pvalues[3]])
    _close([head.ci_low, head.ci_high], ref.conf_int(0.05)[3])


@pytest.fixture(scope="module")
def panel():
    frame, _ = staggered_panel(n_units=240, n_periods=8, seed=7, missing=0.08)
    frame["state"] = frame["unit"] % 17  # units nested in 17 clusters
    frame["z"] = np.random.default_rng(1).normal(size=len(frame))  # a time-varying covariate
    return frame


@pytest.mark.parametrize("vcov", [{"CRV1": "unit"}, {"CRV1": "state"}, "hetero"])
def test_twfe_matches_pyfixest_unbalanced(panel, vcov):
    cluster = None if vcov == "hetero" else panel[vcov["CRV1"]].to_numpy()
    ours = twfe(panel.sales.to_numpy(), panel[["treated", "z"]].to_numpy(float),
                panel.unit.to_numpy(), panel.period.to_numpy(), cluster)  # fmt: skip
    ref = pf.feols("sales ~ treated + z | unit + period", data=panel, vcov=vcov)
    _close(ours.coef, ref.coef().to_numpy())
    _close(ours.se, ref.se().to_numpy())
    _close(ours.interval(0.05)[2], ref.pvalue().to_numpy())
    _close(np.column_stack(ours.interval(0.05)[:2]), ref.confint().to_numpy())


def test_twfe_run_matches_pyfixest_balanced():
    frame, _ = staggered_panel(n_units=150, seed=3, cohorts=(4,))
    spec = CausalSpec(treatment="treated", outcome="sales", method="did", unit="unit",
                      time="period")  # fmt: skip
    res = run_causal(spec, frame)
    assert res.summary["model"] == "twfe"
    ref = pf.feols("sales ~ treated | unit + period", data=frame, vcov={"CRV1": "unit"})
    head = res.estimates[0]
    _close([head.value, head.se, head.p_value],
           [ref.coef().iloc[0], ref.se().iloc[0], ref.pvalue().iloc[0]])  # fmt: skip


@pytest.mark.parametrize(("leads", "lags"), [(None, None), (3, 2)])
def test_event_study_matches_pyfixest(panel, leads, lags):
    rel = np.where(panel.cohort >= 0, panel.period - panel.cohort, np.nan)
    es = event_study(panel.sales.to_numpy(), rel, panel.unit.to_numpy(), panel.period.to_numpy(),
                     panel[["z"]].to_numpy(), panel.unit.to_numpy(), leads, lags)  # fmt: skip
    low, high = -es.leads, es.lags
    binned = np.clip(rel, low, high)
    frame = panel.copy()
    names = []
    for e in es.event_times:
        names.append(f"ev_{e + 100}")
        frame[names[-1]] = (binned == e).astype(float)
    ref = pf.feols(f"sales ~ {' + '.join(names)} + z | unit + period", data=frame,
                   vcov={"CRV1": "unit"})  # fmt: skip
    _close(es.fit.coef, ref.coef().to_numpy())
    _close(es.fit.se, ref.se().to_numpy())
    # Pre-trend Wald statistic: pyfixest reports W = q·F (chi-square form) for a sub-vector.
    R = np.zeros((len(es.lead_index), len(names) + 1))
    R[np.arange(len(es.lead_index)), es.lead_index] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wald = ref.wald_test(R=R)
    F, q, _, p = es.fit.wald(es.lead_index)
    _close(F * q, wald["statistic"])
    from scipy import stats

    assert p == pytest.approx(stats.f.sf(F, q, 239), rel=1e-12)  # F(q, G − 1), G = 240 units
    if leads == 3:
        assert set(es.event_times) == {-3, -2, 0, 1, 2}


def _wide(frame, column="sales"):
    return frame.pivot(index="unit", columns="period", values=column).to_numpy()


@pytest.fixture(scope="module")
def staggered():
    frame, _ = staggered_panel(n_units=300, seed=3, covariate_trend=0.3, cohort_slope=0.4)
    cohort = frame.groupby("unit").cohort.first().to_numpy()
    return frame, np.where(cohort < 0, cs.NEVER, cohort)


def _assert_csdid(gt, data, control, covariate, weights_name=None):
    """Every ATT(g, t), its SE and every aggregation (overall and pieces) equal csdid's on
    `data` (bstrap=False, analytic SEs)."""
    import csdid.att_gt as att_gt_mod

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = att_gt_mod.ATTgt(
            yname="sales", tname="period", idname="unit", gname="gname", data=data,
            control_group="nevertreated" if control == "never" else "notyettreated",
            xformla="~x" if covariate else None, weights_name=weights_name,
        ).fit(est_method="reg" if covariate else "dr", bstrap=False)  # fmt: skip
        _close(gt.group, ref.results["group"])
        _close(gt.time, ref.results["year"])
        _close(gt.att, ref.results["att"])
        _close(cs.standard_errors(gt.psi), ref.results["se"])
        for how in ("simple", "dynamic", "group"):
            agg = ref.aggte(typec=how, bstrap=False).atte
            pieces, (value, psi) = cs.aggregate(gt, how)
            _close(value, agg["overall_att"])
            _close(cs.standard_errors(psi[:, None])[0], agg["overall_se"])
            if how != "simple":
                _close(pieces.key, agg["egt"])
                _close(pieces.att, agg["att_egt"])
                _close(cs.standard_errors(pieces.psi), agg["se_egt"])


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("covariate", [False, True])
def test_callaway_santanna_matches_csdid(staggered, control, covariate):
    frame, cohort = staggered
    X = _wide(frame, "x")[:, :, None] if covariate else None
    gt = cs.group_time_att(_wide(frame), cohort, control, X)
    data = frame.assign(gname=np.where(frame.cohort < 0, 0, frame.cohort))
    _assert_csdid(gt, data, control, covariate)


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("covariate", [False, True])
def test_weighted_callaway_santanna_matches_csdid(staggered, control, covariate):
    """Unit sampling weights (R did's weightsname): every ATT(g, t), SE and aggregation equals
    csdid's with `weights_name`, and the weights move the estimates (so the test can fail)."""
    frame, cohort = staggered
    units = np.sort(frame.unit.unique())
    unit_w = np.random.default_rng(1).uniform(0.2, 3.0, len(units))
    data = frame.assign(gname=np.where(frame.cohort < 0, 0, frame.cohort),
                        w=unit_w[np.searchsorted(units, frame.unit)])  # fmt: skip
    X = _wide(frame, "x")[:, :, None] if covariate else None
    gt = cs.group_time_att(_wide(frame), cohort, control, X, unit_w)
    plain = cs.group_time_att(_wide(frame), cohort, control, X)
    assert np.max(np.abs(gt.att - plain.att)) > 0.01
    _assert_csdid(gt, data, control, covariate, weights_name="w")


def test_callaway_santanna_run_matches_csdid_and_direct_2x2(staggered):
    """End to end: the runner's group-time table equals csdid, and each ATT(g, t) is the
    treated × post OLS coefficient of its own 2×2 (cohort g vs never treated, base vs t)."""
    import csdid.att_gt as att_gt_mod

    frame, _ = staggered
    spec = CausalSpec(treatment="treated", outcome="sales", method="did", unit="unit",
                      time="period", aggregation="dynamic")  # fmt: skip
    res = run_causal(spec, frame)
    assert res.summary["model"] == "callaway_santanna"
    table = res.tables["group_time"]
    data = frame.assign(gname=np.where(frame.cohort < 0, 0, frame.cohort))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = att_gt_mod.ATTgt(yname="sales", tname="period", idname="unit", gname="gname",
                               data=data).fit(bstrap=False)  # fmt: skip
        dyn = ref.aggte(typec="dynamic", bstrap=False).atte
    _close(table["att"], ref.results["att"])
    _close(table["se"], ref.results["se"])
    head = res.estimates[0]
    assert head.label == "ATT (Callaway–Sant'Anna, dynamic)"
    _close([head.value, head.se], [dyn["overall_att"], dyn["overall_se"]])
    for row in table.itertuples():
        g, t = row.group, row.time
        base = g - 1 if t >= g else t - 1
        sub = frame[frame.period.isin([base, t]) & ((frame.cohort == g) | (frame.cohort < 0))]
        X = np.column_stack([np.ones(len(sub)), sub.cohort == g, sub.period == t,
                             (sub.cohort == g) & (sub.period == t)]).astype(float)  # fmt: skip
        direct = ols(sub.sales.to_numpy(), X)
        assert row.att == pytest.approx(direct.coef[3], rel=1e-9, abs=1e-12)


def test_negative_weights_reproduce_twfe_on_noiseless_data():
    """β_TWFE = Σ w_it τ_it exactly when y = unit + time effects + τ·D (de Chaisemartin &
    D'Haultfœuille 2020, Theorem 1), and some weights are negative with staggered dynamics."""
    frame, _ = staggered_panel(n_units=200, seed=2, noise=0.0, dynamic_slope=1.0)
    d = frame.treated.to_numpy()
    tau = np.where(d == 1, 1.0 + 1.0 * (frame.period - frame.cohort), 0.0)
    dm = TwoWayDemeaner(frame.unit.to_numpy(), frame.period.to_numpy())
    w = treatment_weights(d, dm)
    fit = twfe(frame.sales.to_numpy(), d[:, None].astype(float), frame.unit.to_numpy(),
               frame.period.to_numpy(), frame.unit.to_numpy(), dm)  # fmt: skip
    assert fit.coef[0] == pytest.approx(float(w @ tau), rel=1e-9)
    assert w.sum() == pytest.approx(1.0, rel=1e-12)
    assert (w[d == 1] < 0).any()


def test_uniform_band_is_wider_than_pointwise_and_seeded(staggered):
    frame, cohort = staggered
    gt = cs.group_time_att(_wide(frame), cohort)
    pieces, _ = cs.aggregate(gt, "dynamic")
    c1 = cs.uniform_band(pieces.psi, 0.05, seed=4, reps=999)
    c2 = cs.uniform_band(pieces.psi, 0.05, seed=4, reps=999)
    assert c1 == c2
    # Between the pointwise 1.96 and the Bonferroni bound over the event times.
    from scipy import stats

    k = pieces.psi.shape[1]
    assert 1.96 < c1 < stats.norm.ppf(1 - 0.025 / k)

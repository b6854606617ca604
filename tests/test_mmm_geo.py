"""The geo-hierarchical MMM (`cerebro mmm --geo-column`): recovery of known truth on simulated
geo data, the model's mean against the per-geo posterior, save/load, predict and optimize of a
geo model (also geo × channel budgets, `by_geo`), ROI priors on the national ROI, lift-test
calibration (the model's lift against the posterior's, a true test moving ROI to the truth),
bad input.

One NUTS fit (5 geos × 52 weeks × 2 channels, 2 chains × 300 draws) is shared by the tests.
Partial against no pooling is a bench study (`bench/mmm/geo_pooling.py`, docs/mmm.md): on short
series it did not favour pooling, so no test asserts that it does.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numpyro")

from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec
from cerebro.mmm.analysis import run_mmm
from cerebro.mmm.synthetic import simulate_mmm

CHANNELS = ["tv", "search"]


def geo_spec(**extra):
    fields = {
        "kind": "mmm",
        "date_column": "week",
        "kpi": "revenue",
        "channels": CHANNELS,
        "controls": ["price", "promo"],
        "geo_column": "geo",
        "population_column": "population",
        "chains": 2,
        "draws": 300,
        "warmup": 300,
        "seed": 0,
    }
    return parse_spec({**fields, **extra})


@pytest.fixture(scope="module")
def geo_fit():
    frame, truth = simulate_mmm(weeks=52, channels=2, geos=5, seed=3)
    return frame, truth, run_mmm(geo_spec(), frame)


def test_geo_recovers_true_roi(geo_fit):
    _, truth, res = geo_fit
    for c in CHANNELS:
        e = res.estimate(f"roi_{c}")
        assert e.ci_low <= truth["channels"][c]["roi"] <= e.ci_high, (c, e)
    geos = res.tables.columns("geos")
    inside = [
        lo <= truth["geos"]["roi"][g][c] <= hi
        for g, c, lo, hi in zip(
            geos["geo"], geos["channel"], geos["roi_low"], geos["roi_high"], strict=True
        )
    ]
    assert len(inside) == 10 and np.mean(inside) >= 0.7
    assert res.estimate("r2_geo").value > 0.9
    assert res.summary["geos"] == 5


def test_national_numbers_are_sums_of_geos(geo_fit):
    _, _, res = geo_fit
    post = res.data
    geos = res.tables.columns("geos")
    channels = res.tables.columns("channels")
    for c, name in enumerate(CHANNELS):
        per_geo = [
            v for ch, v in zip(geos["channel"], geos["contribution"], strict=True) if ch == name
        ]
        assert np.isclose(sum(per_geo), channels["contribution"][c], rtol=1e-9)
    n = post.data.n_fit
    total = post.contributions()[:, :n].sum(axis=(1, 2))
    assert np.allclose(post.roi(), total / post.data.spend[:n].sum(axis=0), rtol=1e-12)


def test_model_mean_equals_posterior_views(geo_fit):
    """The NumPyro model's media term (JAX, one draw, all geos) equals each geo's
    `MMMPosterior` contributions divided by its KPI scale: scaling and slicing agree."""
    import jax.numpy as jnp

    from cerebro.mmm.geo_model import geo_inputs, geo_media

    _, _, res = geo_fit
    post = res.data
    inputs = geo_inputs(post.geo_data)
    d = 7
    one = {k: jnp.asarray(v[d]) for k, v in post.draws.items()}
    media = np.asarray(geo_media(post.form, one, jnp.asarray(inputs.x), jnp))  # (T, G, C)
    for g, part in enumerate(post.geos):
        expected = part.contributions()[d] / part.data.kpi_scale
        assert np.allclose(media[:, g], expected, rtol=1e-9, atol=1e-12)


def test_geo_model_save_load_predict_optimize(geo_fit, tmp_path):
    import cerebro
    from cerebro.mmm.model_file import load_mmm, mmm_bytes

    _, _, res = geo_fit
    path = tmp_path / "geo.cerebro"
    path.write_bytes(mmm_bytes(res.data))
    loaded = load_mmm(path)
    assert loaded.geo_data.geos == res.data.geo_data.geos
    assert np.allclose(loaded.roi(), res.data.roi(), rtol=1e-12)
    assert np.allclose(loaded.predict(), res.data.predict(), rtol=1e-12)
    last = loaded.data.spend[-4:]
    plan = tmp_path / "plan.csv"
    import pandas as pd

    from cerebro.mmm.forecast import future_dates

    pd.DataFrame({"week": future_dates(loaded, 4), "tv": last[:, 0], "search": last[:, 1]}).to_csv(
        plan, index=False
    )
    predicted = cerebro.mmm_predict(model=str(path), plan=str(plan))
    assert predicted.estimate("incremental_kpi").value > 0
    optimal = cerebro.mmm_optimize(model=str(path), periods=4, seed=0)
    assert optimal.estimate("kpi_optimal").value >= optimal.estimate("kpi_current").value - 1e-6
    budget = float(last.sum())
    assert np.isclose(optimal.estimate("budget").value, budget, rtol=1e-6)


@pytest.mark.parametrize(
    ("change", "extra", "message"),
    [
        (lambda f: f[f["geo"] == "geo_01"], {}, "needs at least two"),
        (lambda f: f.drop(index=f.index[(f["geo"] == "geo_02")][10]), {}, "geo 'geo_02'"),
        (lambda f: f.assign(population=np.arange(len(f)) + 1.0), {}, "population column"),
        (lambda f: f.assign(tv=np.where(f["geo"] == "geo_03", -1.0, f["tv"])), {}, "geo 'geo_03'"),
    ],
)
def test_geo_bad_input(change, extra, message):
    frame, _ = simulate_mmm(weeks=30, channels=2, geos=3, seed=0)
    with pytest.raises(UserInputError, match=message):
        run_mmm(geo_spec(**extra), change(frame))


def test_geo_spec_refusals():
    with pytest.raises(ValueError, match="population_column needs geo_column"):
        parse_spec(
            {
                "kind": "mmm",
                "date_column": "week",
                "kpi": "revenue",
                "channels": ["tv"],
                "population_column": "population",
            }
        )
    with pytest.raises(ValueError, match="roi_prior of 'tv' needs a positive mean"):
        geo_spec(roi_prior={"tv": (0.0, 0.5)})


@pytest.mark.slow
def test_geo_roi_prior_is_the_national_roi_and_pulls_it():
    """With an ROI prior on tv the sampled `roi` is the channel's national ROI draw by draw (as
    the posterior computes it from contributions), and a tight prior at twice the truth moves
    the national ROI there, while the channel without a prior stays near its truth."""
    frame, truth = simulate_mmm(weeks=52, channels=2, geos=4, seed=5)
    true_tv = truth["channels"]["tv"]["roi"]
    fits = {}
    for prior in (None, {"tv": (2 * true_tv, 0.05 * true_tv)}):
        spec = geo_spec(roi_prior=prior, chains=2, draws=200, warmup=200, seed=1)
        fits[prior is not None] = run_mmm(spec, frame).data
    post = fits[True]
    roi = post.roi()
    np.testing.assert_allclose(roi[:, 0], post.draws["roi"][:, 0], rtol=1e-9)
    assert abs(roi[:, 0].mean() / (2 * true_tv) - 1) < 0.05
    assert abs(fits[False].roi()[:, 0].mean() / true_tv - 1) < 0.25


FIRST, LAST = 30, 41  # a go-dark lift test's weeks


def _true_geo_test(frame, truth, channel: str, geos: list[str], delta: float | None = None) -> dict:
    """A go-dark test of `channel` in `geos` (spend cut by 90% of what the geos' smallest week
    allows, or changed by `delta` per week, split
    across the geos by their spend, as the model splits it) measuring the true lift with a 10%
    standard error – computed from the simulation's truth geo by geo."""
    from cerebro.mmm.synthetic import L_MAX
    from cerebro.mmm.transforms import geometric_adstock, hill

    info = truth["channels"][channel]
    population = truth["geos"]["population"]
    share = {g: p / sum(population.values()) for g, p in population.items()}
    spend = {g: frame.loc[frame["geo"] == g, channel].to_numpy(float) for g in geos}
    week_total = sum(spend.values())
    split = {g: spend[g][:52].sum() / sum(s[:52].sum() for s in spend.values()) for g in geos}
    if delta is None:
        delta = -0.9 * min(spend[g][FIRST : LAST + 1].min() / split[g] for g in geos)
        assert delta < -0.2 * week_total[FIRST : LAST + 1].mean()  # a real cut in every geo
    lift = 0.0
    for g in geos:

        def effect(x, g=g):
            stock = geometric_adstock(x / share[g] / info["mean_spend"], info["alpha"], L_MAX, True)
            mult = truth["geos"]["multiplier"][g][channel]
            return share[g] * info["beta"] * mult * hill(stock, info["slope"], info["kappa"])

        changed = spend[g].copy()
        changed[FIRST : LAST + 1] += delta * split[g]
        lift += float((effect(changed) - effect(spend[g]))[FIRST : LAST + 1].sum())
    weeks = frame["week"].unique()
    return {"channel": channel, "start": weeks[FIRST], "end": weeks[LAST], "delta_spend": delta,
            "lift": lift, "lift_se": abs(0.1 * lift), "geo": ", ".join(geos)}  # fmt: skip


def test_geo_model_lift_equals_the_posterior_lift():
    """The lift the NumPyro model observes equals `geo_posterior_lifts` (the national code
    geo by geo) for a draw of the model, to 1e-9, for a test in two geos and a national one."""
    import pandas as pd
    from numpyro import handlers

    from cerebro.mmm.geo import GeoPosterior, prepare_geo
    from cerebro.mmm.geo_calibration import geo_lift_tests_from_frame, geo_posterior_lifts
    from cerebro.mmm.geo_model import geo_inputs, geo_model
    from cerebro.mmm.posterior import ModelForm
    from cerebro.stats.mcmc import import_numpyro

    import_numpyro("the test")  # double precision, as every fit
    frame, truth = simulate_mmm(weeks=52, channels=2, geos=4, seed=2)
    spec = geo_spec()
    data = prepare_geo(spec, frame, [])
    rows = [_true_geo_test(frame, truth, "tv", ["geo_01", "geo_03"], delta=5000.0),
            {**_true_geo_test(frame, truth, "search", data.geos, delta=-100.0), "geo": None}]  # fmt: skip
    tests = geo_lift_tests_from_frame(pd.DataFrame(rows), data, "test")
    form = ModelForm(spec.adstock, spec.saturation, spec.l_max, spec.normalize, spec.likelihood)
    inputs = geo_inputs(data, "partial", spec.l_max, None, tests)
    trace = handlers.trace(handlers.seed(geo_model, 7)).get_trace(form, inputs)
    model_lift = np.asarray(trace["lift"]["fn"].loc) * inputs.kpi_scale.sum()
    draws = {k: np.asarray(v["value"])[None] for k, v in trace.items()
             if v["type"] in ("sample", "deterministic") and not v.get("is_observed")}  # fmt: skip
    post = GeoPosterior(form, data, draws, 1, {})
    np.testing.assert_allclose(geo_posterior_lifts(post, tests)[0], model_lift, rtol=1e-9)
    assert tests.split[0].tolist()[1::2] == [0.0, 0.0] and tests.split[1].all()


@pytest.mark.slow
def test_geo_calibration_moves_roi_to_the_test_and_narrows_it(geo_fit):
    """A true go-dark test of search in all geos: the calibrated national ROI of search is
    nearer the truth than without the test, its interval narrower, the test inside the model's
    interval (5 geos × 52 weeks, the module's uncalibrated fit against one calibrated fit)."""
    import pandas as pd

    frame, truth, raw = geo_fit
    geos = sorted(frame["geo"].unique())
    test = pd.DataFrame([_true_geo_test(frame, truth, "search", geos)])
    calibrated = run_mmm(geo_spec(), frame, calibration=test)
    true = truth["channels"]["search"]["roi"]
    before, after = raw.estimate("roi_search"), calibrated.estimate("roi_search")
    print(true, before, after)
    assert abs(after.value - true) < abs(before.value - true)
    assert after.ci_high - after.ci_low < 0.75 * (before.ci_high - before.ci_low)
    table = calibrated.tables.columns("calibration")
    assert table["model_low"][0] <= table["lift"][0] <= table["model_high"][0]


def test_geo_budget_by_geo_never_below_current_nor_the_national_split(geo_fit):
    """`by_geo` optimises every geo × channel pair: the budget is met, the optimal plan's
    expected KPI is not below the current plan's nor below the optimum with each channel's
    historical geo split (a plan it could also choose), and each pair keeps its bounds."""
    from cerebro.mmm.allocate import run_mmm_optimize
    from cerebro.mmm.plan_spec import MMMOptimizeSpec

    _, _, res = geo_fit
    post = res.data

    def optimize(data, **extra):
        spec = MMMOptimizeSpec(periods=4, seed=0, bounds={"tv": (0.5, 2.0)}, **extra)
        return run_mmm_optimize(spec, data)

    national, by_geo = optimize(post), optimize(post, by_geo=True)
    kpi = by_geo.estimate("kpi_optimal").value
    assert kpi >= by_geo.estimate("kpi_current").value - 1e-6
    assert kpi >= national.estimate("kpi_optimal").value * (1 - 1e-4)
    assert np.isclose(by_geo.estimate("budget").value, national.estimate("budget").value)
    for geo in post.geo_data.geos:
        now = by_geo.estimate(f"spend_current_{geo}:tv").value
        assert 0.5 * now - 1e-6 <= by_geo.estimate(f"spend_{geo}:tv").value <= 2 * now + 1e-6
    with pytest.raises(UserInputError, match="national model"):
        optimize(post.geos[0], by_geo=True)


def test_geo_pooling_options_shape_the_effects():
    """complete pooling: one effect per channel in every geo; none: no pooled mean or spread;
    partial: both (a draw of each model, no fit)."""
    from numpyro import handlers

    from cerebro.mmm.geo import prepare_geo
    from cerebro.mmm.geo_model import geo_inputs, geo_model
    from cerebro.mmm.posterior import ModelForm
    from cerebro.stats.mcmc import import_numpyro

    import_numpyro("the test")
    frame, _ = simulate_mmm(weeks=30, channels=2, geos=3, seed=0)
    spec = geo_spec()
    data = prepare_geo(spec, frame, [])
    form = ModelForm(spec.adstock, spec.saturation, spec.l_max, spec.normalize, spec.likelihood)
    sites = {}
    for pooling in ("partial", "none", "complete"):
        trace = handlers.trace(handlers.seed(geo_model, 3)).get_trace(
            form, geo_inputs(data, pooling, spec.l_max)
        )
        sites[pooling] = trace
    effect = np.asarray(sites["complete"]["effect"]["value"])
    np.testing.assert_array_equal(effect, np.broadcast_to(effect[0], effect.shape))
    assert not np.allclose(
        sites["partial"]["effect"]["value"][0], sites["partial"]["effect"]["value"][1]
    )
    assert "effect_tau" not in sites["complete"] and "effect_mu" not in sites["none"]
    assert {"effect_mu", "effect_tau", "effect_z"} <= set(sites["partial"])


@pytest.mark.slow
def test_partial_pooling_beats_no_pooling_on_per_geo_roi():
    """The CI-sized pooling study (`bench/mmm/geo_pooling.py`, docs/mmm.md): 10 geos × 52 weeks,
    per-geo effects spread by exp(0.2 z), seed 1 – the RMSE of the per-geo ROI posterior means is
    smaller with partial pooling than with none (measured 0.37 against 0.88)."""
    frame, truth = simulate_mmm(weeks=52, channels=2, geos=10, seed=1, geo_sd=0.2)
    rmse = {}
    for pooling in ("partial", "none"):
        g = run_mmm(geo_spec(geo_pooling=pooling), frame).tables.columns("geos")
        true = [truth["geos"]["roi"][a][c] for a, c in zip(g["geo"], g["channel"], strict=True)]
        rmse[pooling] = float(np.sqrt(np.mean((np.asarray(g["roi"]) - np.asarray(true)) ** 2)))
    assert rmse["partial"] < 0.75 * rmse["none"], rmse

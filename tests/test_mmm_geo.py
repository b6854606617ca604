"""The geo-hierarchical MMM (`cerebro mmm --geo-column`): recovery of known truth on simulated
geo data, the model's mean against the per-geo posterior, save/load, predict and optimize of a
geo model, bad input.

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
    with pytest.raises(ValueError, match="no roi_prior or calibration"):
        geo_spec(roi_prior={"tv": (1.0, 0.5)})

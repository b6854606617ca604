"""The ``mmm`` kind: known-truth recovery, reproducibility, the saved model, the command line and
its refusals. Fits are CI-sized (104 weeks × 3 channels, 2 chains × 300 draws, or smaller)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("numpyro")

from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec
from cerebro.mmm.analysis import run_mmm
from cerebro.mmm.examples import mmm as example
from cerebro.mmm.model_file import load_mmm, mmm_bytes
from cerebro.mmm.synthetic import simulate_mmm
from cli_refusals import invoke, refused


@pytest.fixture(scope="module")
def fitted():
    fields, frame = example()
    _, truth = simulate_mmm(weeks=104, channels=3, seed=1)
    return run_mmm(parse_spec({"kind": "mmm", **fields}), frame), truth


def test_every_true_roi_lies_in_its_90_percent_interval(fitted) -> None:
    result, truth = fitted
    for channel, info in truth["channels"].items():
        roi = result.estimate(f"roi_{channel}")
        assert roi.ci_low <= info["roi"] <= roi.ci_high, (channel, info["roi"], roi)


def test_contributions_are_recovered(fitted) -> None:
    """The best-identified channel (tv: flighted, large) within 20% of its true contribution over
    the fitted weeks; total media contribution within 25% (the weaker channels trade off
    against the baseline, so only their sum is checked)."""
    result, truth = fitted
    n = result.summary["fitted_weeks"]
    true = {c: float(np.sum(v[:n])) for c, v in truth["contributions"].items()}
    tv = result.estimate("contribution_tv").value
    assert tv == pytest.approx(true["tv"], rel=0.20)
    total = sum(result.estimate(f"contribution_{c}").value for c in true)
    assert total == pytest.approx(sum(true.values()), rel=0.25)


def test_fit_quality_and_tables(fitted) -> None:
    result, _ = fitted
    assert result.estimate("r2").value > 0.9
    assert result.estimate("mape").value < 3
    assert result.estimate("mape_holdout").value < 10
    assert set(result.tables) == {
        "channels",
        "parameters",
        "decomposition",
        "response_curves",
        "adstock",
    }
    dec = result.tables["decomposition"]
    assert len(dec) == 104 and dec["holdout"].sum() == 8
    parts = dec[["baseline", "tv", "search", "social"]].sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-9)  # additive decomposition
    curves = result.tables["response_curves"]
    for _, curve in curves.groupby("channel"):
        assert curve["contribution"].iloc[0] == 0 and curve["contribution"].is_monotonic_increasing
    params = result.tables["parameters"]
    assert {"alpha_tv", "kappa_search", "beta_social", "intercept", "sigma"} <= set(
        params["parameter"]
    )


def test_the_saved_model_restores_draws_and_scaling(fitted, tmp_path) -> None:
    result, _ = fitted
    path = tmp_path / "mmm.cerebro"
    path.write_bytes(mmm_bytes(result.data))
    loaded = load_mmm(path)
    assert loaded.data.channels == ["tv", "search", "social"]
    assert loaded.data.kpi_scale == result.data.data.kpi_scale
    np.testing.assert_array_equal(loaded.draws["alpha"], result.data.draws["alpha"])
    np.testing.assert_array_equal(loaded.roi(), result.data.roi())
    np.testing.assert_allclose(loaded.roi().mean(axis=0)[0], result.estimate("roi_tv").value)
    bad = tmp_path / "bad.cerebro"
    bad.write_text("not a zip")
    with pytest.raises(UserInputError, match="not a Cerebro MMM file"):
        load_mmm(bad)


def test_the_json_result_round_trips(fitted) -> None:
    from cerebro.core.results import Result

    result, _ = fitted
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert Result.from_dict(payload).to_dict() == result.to_dict()


def test_same_seed_same_result_through_the_python_face() -> None:
    import cerebro

    frame, _ = simulate_mmm(weeks=60, channels=2, seed=4)
    options = dict(
        date_column="week",
        kpi="revenue",
        channels=["tv", "search"],
        chains=2,
        draws=100,
        warmup=100,
        l_max=4,
        seasonality="none",
        seed=7,
    )
    first, second = cerebro.mmm(frame, **options), cerebro.mmm(frame, **options)
    assert first.to_dict()["estimates"] == second.to_dict()["estimates"]
    np.testing.assert_array_equal(first.data.draws["beta"], second.data.draws["beta"])


def test_the_command_line_fits_saves_and_plots(tmp_path) -> None:
    data = tmp_path / "mmm.csv"
    out = invoke("datasets", "mmm", "--output", data, "--weeks", 60, "--channels", 2, "--seed", 3)
    assert out.exit_code == 0, out.output
    truth = json.loads((tmp_path / "mmm_truth.json").read_text())
    assert set(truth["channels"]) == {"tv", "search"}
    out = invoke(
        "mmm",
        data,
        "--date-column",
        "week",
        "--kpi",
        "revenue",
        "--channels",
        "tv,search",
        "--controls",
        "price,promo",
        "--seasonality",
        "none",
        "--l-max",
        4,
        "--holdout",
        6,
        "--chains",
        2,
        "--draws",
        100,
        "--warmup",
        100,
        "--save",
        tmp_path / "m.cerebro",
        "--plot",
        tmp_path / "m.png",
        "--json",
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["kind"] == "mmm" and payload["spec"]["holdout"] == 6
    assert {e["key"] for e in payload["estimates"]} >= {"roi_tv", "mroi_search", "r2_holdout"}
    assert load_mmm(tmp_path / "m.cerebro").data.n_fit == 54
    assert (tmp_path / "m.png").stat().st_size > 0


def test_geo_data_writes_one_row_per_geo_and_week(tmp_path) -> None:
    frame, truth = simulate_mmm(weeks=20, channels=2, geos=3, seed=0)
    assert len(frame) == 60 and set(frame["geo"]) == set(truth["geos"]["roi"])
    assert frame.groupby("geo")["population"].nunique().eq(1).all()


def _write(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return str(path)


BASE = ("--date-column", "week", "--kpi", "revenue", "--channels", "tv,search")


@pytest.mark.parametrize(
    ("damage", "extra", "words"),
    [
        (lambda f: f.drop(index=10), (), ["not evenly spaced", "1 date(s) are missing"]),
        (lambda f: pd.concat([f, f.iloc[[5]]]), (), ["appears more than once"]),
        (lambda f: f.assign(tv=f["tv"].where(f.index != 3, -5.0)), (), ["negative", "'tv'"]),
        (lambda f: f.assign(search=100.0), (), ["'search'", "constant"]),
        (
            lambda f: f.assign(revenue=f["revenue"].where(f.index != 7)),
            (),
            ["missing", "'revenue'"],
        ),
        (lambda f: f.iloc[:12], (), ["week(s) to fit"]),
        (lambda f: f, ("--controls", "temperature"), ["temperature"]),
        (lambda f: f, ("--roi-prior", "radio=1:1"), ["roi_prior", "'radio'"]),
        (lambda f: f, ("--roi-prior", "tv=1"), ["CHANNEL=MEAN:SD"]),
        (lambda f: f, ("--seasonality", "52:40"), ["seasonality"]),
        (lambda f: f, ("--holdout", 55), ["week(s) to fit"]),
        (lambda f: f.assign(revenue=-f["revenue"]), ("--log-kpi",), ["logarithm"]),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, damage, extra, words) -> None:
    frame, _ = simulate_mmm(weeks=60, channels=2, seed=0)
    path = _write(tmp_path, damage(frame))
    save = tmp_path / "m.cerebro"
    text = refused(invoke("mmm", path, *BASE, *extra, "--save", save), *words)
    assert "\n" not in text.strip()
    assert not save.exists()  # nothing half-written


@pytest.mark.parametrize(
    "options",
    [
        {
            "adstock": "weibull_cdf",
            "saturation": "michaelis_menten",
            "likelihood": "student_t",
            "roi_prior": {"tv": (1.2, 0.3)},
        },
        {
            "adstock": "delayed",
            "saturation": "logistic",
            "log_kpi": True,
            "inference": "svi",
            "svi_steps": 300,
        },
        {"adstock": "weibull_pdf", "saturation": "hill", "trend": False},
    ],
)
def test_every_transform_likelihood_and_inference_fits(options) -> None:
    """Each option runs end to end on small data and gives finite ROI inside its interval; a
    tight ROI prior near the truth keeps tv's ROI near it."""
    frame, truth = simulate_mmm(weeks=60, channels=2, seed=5)
    fields = {
        "kind": "mmm",
        "date_column": "week",
        "kpi": "revenue",
        "channels": ["tv", "search"],
        "l_max": 4,
        "seasonality": "none",
        "chains": 2,
        "draws": 100,
        "warmup": 100,
        **options,
    }
    result = run_mmm(parse_spec(fields), frame)
    for c in ("tv", "search"):
        roi = result.estimate(f"roi_{c}")
        assert np.isfinite(roi.value) and roi.ci_low <= roi.value <= roi.ci_high
    if "roi_prior" in options:
        assert result.estimate("roi_tv").value == pytest.approx(
            truth["channels"]["tv"]["roi"], rel=0.3
        )
        assert "roi_tv" in set(result.tables["parameters"]["parameter"])
    if options.get("inference") == "svi":
        assert "approximate" in {f.code for f in result.findings}
    contributions = result.data.contributions()
    assert (contributions >= 0).all()

"""``mmm-predict`` and ``mmm-optimize``: a saved media mix model continued into the weeks after its
data. One small model is fitted once for the module (SVI, 104 weeks × 3 channels, 2 controls,
8 holdout weeks) and saved; the rest reuse its file. Tolerances are stated in each test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("numpyro")

import cerebro
from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec
from cerebro.mmm.analysis import run_mmm
from cerebro.mmm.data import MMMData
from cerebro.mmm.examples import mmm as example
from cerebro.mmm.forecast import PlanWindow, future_dates, plan_csv, plan_frame
from cerebro.mmm.model_file import load_mmm, mmm_bytes
from cerebro.mmm.plan_examples import known_posterior
from cerebro.mmm.posterior import MMMPosterior, ModelForm
from cli_refusals import invoke, refused

PERIODS = 13


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(path of the saved model, its posterior as loaded)."""
    fields, frame = example()
    fields = {**fields, "inference": "svi", "svi_steps": 1500, "draws": 200}
    result = run_mmm(parse_spec({"kind": "mmm", **fields}), frame)
    path = tmp_path_factory.mktemp("mmm") / "mmm.cerebro"
    path.write_bytes(mmm_bytes(result.data))
    return path, load_mmm(path)


def extended(posterior: MMMPosterior, spend: np.ndarray, controls: np.ndarray) -> MMMPosterior:
    """The same draws and scaling on the data's weeks followed by the plan's."""
    d = posterior.data
    longer = MMMData(
        **{
            **d.__dict__,
            "dates": d.dates + future_dates(posterior, len(spend)),
            "kpi": np.concatenate([d.kpi, np.ones(len(spend))]),
            "spend": np.vstack([d.spend, spend]),
            "controls": np.vstack([d.controls, controls]),
        }
    )
    return MMMPosterior(posterior.form, longer, posterior.draws, posterior.chains, posterior.spec)


def test_the_window_on_the_data_weeks_reproduces_predict(saved) -> None:
    """Started inside the data on the data's own spend and controls, the plan machinery gives
    `predict()` for those weeks (relative 1e-9): same model, carry-over from the weeks before."""
    _, posterior = saved
    d = posterior.data
    whole = posterior.predict()
    for start, periods in ((0, d.weeks), (50, PERIODS), (d.n_fit - PERIODS, PERIODS)):
        weeks = slice(start, start + periods)
        window = PlanWindow(posterior, periods, d.controls[weeks], start=start)
        np.testing.assert_allclose(window.kpi(d.spend[weeks]), whole[:, weeks], rtol=1e-9)


def test_future_weeks_equal_the_model_on_longer_data(saved) -> None:
    """After the data: `forecast` equals `predict()` of the same posterior on the data followed
    by the plan (relative 1e-9) – trend, seasonality, controls and carry-over continued."""
    _, posterior = saved
    d = posterior.data
    rng = np.random.default_rng(0)
    spend = d.spend[-PERIODS:] * rng.uniform(0.5, 1.5, size=(PERIODS, len(d.channels)))
    controls = d.controls[-PERIODS:][::-1]
    ahead = posterior.forecast(spend, controls)
    np.testing.assert_allclose(ahead, extended(posterior, spend, controls).predict()[:, d.weeks:],
                               rtol=1e-9)  # fmt: skip
    mean = np.tile(d.control_mean, (PERIODS, 1))
    np.testing.assert_allclose(
        posterior.forecast(spend),
        extended(posterior, spend, mean).predict()[:, d.weeks :],
        rtol=1e-9,
    )
    zero = extended(posterior, np.zeros_like(spend), controls).predict()[:, d.weeks :]
    np.testing.assert_allclose(
        posterior.plan_response(spend, controls), (ahead - zero).sum(axis=1), rtol=1e-9
    )


def hand_prediction(posterior: MMMPosterior, plan: np.ndarray, price: float) -> np.ndarray:
    """Geometric adstock (normalised, 8 lags) → Hill → beta, plus intercept, trend, two yearly
    harmonics and the standardised price, written out week by week and draw by draw."""
    d = posterior.data
    T, H = d.weeks, len(plan)
    spend = np.vstack([d.spend, plan])
    out = np.zeros((posterior.n_draws, H))
    for s in range(posterior.n_draws):
        p = {k: v[s] for k, v in posterior.draws.items()}
        for h in range(H):
            t = T + h
            features = [t / d.n_fit - 0.5]
            for k in (1, 2):
                features += [np.sin(2 * np.pi * k * t / 52), np.cos(2 * np.pi * k * t / 52)]
            features.append((price - d.control_mean[0]) / d.control_sd[0])
            mu = p["intercept"] + float(np.dot(p["coef"], features))
            for c in range(len(d.channels)):
                weights = np.array([p["alpha"][c] ** lag for lag in range(8)])
                weights /= weights.sum()
                x = sum(weights[lag] * spend[t - lag, c] / d.spend_scale[c] for lag in range(8))
                hill = x ** p["slope"][c] / (p["kappa"][c] ** p["slope"][c] + x ** p["slope"][c])
                mu += p["beta"][c] * hill
            out[s, h] = d.kpi_scale * mu
    return out


def test_a_model_from_known_parameters_predicts_the_hand_computation() -> None:
    """No fit: fixed draws; the prediction equals the formula computed by hand (relative 1e-9)."""
    posterior = known_posterior(draws=5)
    plan = posterior.data.spend[-PERIODS:] * 0.9
    price = float(posterior.data.control_mean[0])
    np.testing.assert_allclose(posterior.forecast(plan), hand_prediction(posterior, plan, price),
                               rtol=1e-9)  # fmt: skip
    last = posterior.data.controls[-1, 0]
    np.testing.assert_allclose(
        posterior.forecast(plan, controls_at="last"),
        hand_prediction(posterior, plan, last),
        rtol=1e-9,
    )


def run_json(*args) -> dict:
    out = invoke(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def estimate(payload: dict, key: str) -> dict:
    return next(e for e in payload["estimates"] if e["key"] == key)


def test_optimize_through_the_cli_and_predict_its_plan(saved, tmp_path) -> None:
    """Optimal expected KPI ≥ current (up to 1e-9 relative rounding); bounds held and the budget
    spent (relative 1e-6); the
    written plan, read by mmm-predict, gives the optimiser's expected KPI (relative 1e-6)."""
    path, posterior = saved
    d = posterior.data
    current = d.spend[d.n_fit - PERIODS : d.n_fit].sum(axis=0)
    budget = round(1.2 * float(current.sum()))
    plan_file, figure = tmp_path / "plan.csv", tmp_path / "plan.png"
    payload = run_json(
        "mmm-optimize", path, "--budget", budget, "--periods", PERIODS,
        "--bounds", "tv=0.5:1.5,search=0.8:2", "--plan-output", plan_file, "--plot", figure,
    )  # fmt: skip
    assert payload["kind"] == "mmm_optimize"
    kpi_optimal = estimate(payload, "kpi_optimal")["value"]
    kpi_current = estimate(payload, "kpi_current")["value"]
    assert kpi_optimal >= kpi_current - 1e-9 * abs(kpi_current)
    spend = {c: estimate(payload, f"spend_{c}")["value"] for c in d.channels}
    assert sum(spend.values()) == pytest.approx(budget, rel=1e-6)
    for c, (low, high) in {"tv": (0.5, 1.5), "search": (0.8, 2.0)}.items():
        total = current[d.channels.index(c)]
        assert low * total * (1 - 1e-6) <= spend[c] <= high * total * (1 + 1e-6)
    assert figure.stat().st_size > 0
    written = pd.read_csv(plan_file)
    assert list(written.columns) == ["week", *d.channels, *d.control_names]
    assert written["week"].iloc[0] == future_dates(posterior, 1)[0] and len(written) == PERIODS
    np.testing.assert_allclose(written[d.channels].sum().to_numpy(), list(spend.values()),
                               rtol=1e-9)  # fmt: skip
    predicted = run_json("mmm-predict", path, "--plan", plan_file)
    assert predicted["kind"] == "mmm_predict"
    assert estimate(predicted, "incremental_kpi")["value"] == pytest.approx(kpi_optimal, rel=1e-6)
    assert estimate(predicted, "roi_plan")["value"] == pytest.approx(kpi_optimal / budget, 1e-6)


def test_predict_reports_weeks_totals_and_channels(saved, tmp_path) -> None:
    """Per week, the total and the channels' contributions, each mean inside its interval; in
    the additive model the channels' contributions add up to the incremental KPI (1e-9)."""
    path, posterior = saved
    d = posterior.data
    plan = d.spend[-PERIODS:]
    frame = plan_frame(posterior, plan, np.tile(d.control_mean, (PERIODS, 1)))
    file = tmp_path / "plan.csv"
    file.write_bytes(plan_csv(frame.drop(columns=d.control_names)))
    result = cerebro.mmm_predict(model=str(path), plan=str(file))
    weeks = result.tables["weeks"]
    assert len(weeks) == PERIODS and (weeks["low"] <= weeks["kpi"]).all()
    assert (weeks["kpi"] <= weeks["high"]).all()
    total = result.estimate("kpi_total").value
    assert total == pytest.approx(weeks["kpi"].sum(), rel=1e-9)
    parts = sum(result.estimate(f"contribution_{c}").value for c in d.channels)
    assert parts == pytest.approx(result.estimate("incremental_kpi").value, rel=1e-9)
    assert "controls" in {f.code for f in result.findings}
    assert "mean" in next(f.message for f in result.findings if f.code == "controls")
    assert "carry_over" in {f.code for f in result.findings}
    assert result.plot().axes


def plan_with(posterior: MMMPosterior, tmp_path, damage) -> str:
    d = posterior.data
    frame = plan_frame(posterior, d.spend[-4:], np.tile(d.control_mean, (4, 1)))
    frame = damage(frame)
    file = tmp_path / "bad_plan.csv"
    frame.to_csv(file, index=False)
    return str(file)


def _set(frame: pd.DataFrame, column: str, row: int, value) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object if isinstance(value, str) else float)
    frame.loc[row, column] = value
    return frame


BAD_PLANS = {
    "missing channel": (lambda f: f.drop(columns="search"), ["no spend column", "'search'"]),
    "negative spend": (lambda f: _set(f, "tv", 1, -5.0), ["negative", "'tv'", "-5"]),
    "missing spend": (lambda f: _set(f, "social", 2, np.nan), ["'social'", "missing"]),
    "gap after the data": (lambda f: f.iloc[1:], ["the week after", "in between"]),
    "a week skipped": (lambda f: f.drop(index=2), ["week"]),
    "one control of two": (lambda f: f.drop(columns="promo"), ["'promo'", "controls"]),
}


@pytest.mark.parametrize("case", list(BAD_PLANS))
def test_bad_plans_are_one_sentence_exit_2_and_write_nothing(saved, tmp_path, case) -> None:
    path, posterior = saved
    damage, words = BAD_PLANS[case]
    plan = plan_with(posterior, tmp_path, damage)
    out_json, figure = tmp_path / "out.json", tmp_path / "out.png"
    out = invoke("mmm-predict", path, "--plan", plan, "-o", out_json, "--plot", figure)
    refused(out, *words)
    assert not out_json.exists() and not figure.exists()


def test_bad_model_files_and_options_are_refused_and_write_nothing(saved, tmp_path) -> None:
    path, posterior = saved
    plan = plan_with(posterior, tmp_path, lambda f: f)
    text = tmp_path / "notes.csv"
    text.write_text("a,b\n1,2\n")
    figure, written = tmp_path / "x.png", tmp_path / "plan_out.csv"
    optimize = ("mmm-optimize", path, "--plan-output", written)
    cases = [
        (("mmm-predict", tmp_path / "nope.cerebro", "--plan", plan), ["does not exist"]),
        (("mmm-predict", text, "--plan", plan), ["not a Cerebro MMM file"]),
        ((*optimize, "--bounds", "radio=0:2"), ["'radio'", "not a channel"]),
        ((*optimize, "--bounds", "tv=2:1"), ["low 2 above high 1"]),
        ((*optimize, "--periods", 500), ["periods", "at most"]),
        ((*optimize, "--budget", -3), ["budget"]),
    ]
    for args, words in cases:
        refused(invoke(*args, "--plot", figure), *words)
        assert not figure.exists() and not written.exists()


def test_run_from_a_spec_and_python_faces_agree(saved, tmp_path) -> None:
    path, _ = saved
    spec = {"kind": "mmm_optimize", "model": str(path), "periods": 8, "seed": 3}
    file = tmp_path / "spec.json"
    file.write_text(json.dumps(spec))
    from_spec = cerebro.run(str(file))
    face = cerebro.mmm_optimize(model=str(path), periods=8, seed=3)
    assert from_spec.estimate("uplift").value == face.estimate("uplift").value
    with pytest.raises(UserInputError, match="periods"):
        cerebro.mmm_optimize(model=str(path), periods=0)


def other_forms(log_kpi: bool) -> MMMPosterior:
    """The known posterior with Weibull-CDF adstock (l_max + 1 lags) and logistic saturation,
    additive or on the log scale."""
    base = known_posterior(draws=6)
    rng = np.random.default_rng(4)
    draws = {k: v for k, v in base.draws.items() if k not in ("alpha", "slope", "kappa")}
    draws.update(
        weibull_lam=rng.uniform(1, 3, (6, 3)),
        weibull_k=rng.uniform(0.5, 2, (6, 3)),
        lam=rng.uniform(0.5, 2, (6, 3)),
    )
    form = ModelForm("weibull_cdf", "logistic", 6, False, "normal")
    data = MMMData(**{**base.data.__dict__, "log_kpi": log_kpi, "n_fit": 96})
    return MMMPosterior(form, data, draws, 1, base.spec)


@pytest.mark.parametrize("log_kpi", [False, True])
def test_other_transforms_and_log_kpi_continue_the_same_model(log_kpi) -> None:
    """Inside the data the window reproduces `predict()`; after it, the model on longer data;
    a channel's contribution is the prediction minus the prediction without that channel's
    plan spend (all relative 1e-9)."""
    posterior = other_forms(log_kpi)
    d = posterior.data
    window = PlanWindow(posterior, PERIODS, d.controls[50 : 50 + PERIODS], start=50)
    np.testing.assert_allclose(
        window.kpi(d.spend[50 : 50 + PERIODS]), posterior.predict()[:, 50 : 50 + PERIODS], rtol=1e-9
    )
    plan = d.spend[-PERIODS:] * 1.3
    controls = np.tile(d.controls[-1], (PERIODS, 1))
    longer = extended(posterior, plan, controls).predict()[:, d.weeks :]
    np.testing.assert_allclose(posterior.forecast(plan, controls_at="last"), longer, rtol=1e-9)
    ahead = PlanWindow(posterior, PERIODS, controls)
    contributions = ahead.contributions(plan)
    for c in range(len(d.channels)):
        without = plan.copy()
        without[:, c] = 0
        np.testing.assert_allclose(
            contributions[:, :, c], ahead.kpi(plan) - ahead.kpi(without), rtol=1e-9, atol=1e-6
        )

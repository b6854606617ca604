"""`cerebro mmm --priors pymc-marketing`: PyMC-Marketing's default model out of Cerebro's parts.

The model's log density at a point equals a hand computation (scipy, a loop for the adstock,
pandas for the day of year) – in both parameterisations, the sampled one differing exactly by
its Jacobian; the scaling is PyMC-Marketing's; the option round-trips through the spec, the
command line and a saved model; options it has no counterpart for are one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytest.importorskip("numpyro")

from cerebro.core.errors import UserInputError
from cerebro.core.results import table_from_dict
from cerebro.core.spec import parse_spec
from cerebro.mmm.data import prepare
from cerebro.mmm.model_file import load_mmm
from cerebro.mmm.posterior import ModelForm
from cerebro.mmm.pymc_priors import pymc_inputs, pymc_marketing_data, pymc_marketing_model
from cli_refusals import invoke, refused

DATA = Path(__file__).parent / "data" / "mmm" / "sim_national_logistic.csv"
CHANNELS = ["tv", "search", "social"]
CONTROLS = ["price_index", "promo"]
L_MAX = 4


def _frame() -> pd.DataFrame:
    return pd.read_csv(DATA).iloc[:60]


def _spec(**extra):
    fields = {
        "kind": "mmm",
        "date_column": "date",
        "kpi": "sales",
        "channels": CHANNELS,
        "controls": CONTROLS,
        "trend": False,
        "seasonality": "52:2",
        "l_max": L_MAX,
        "holdout": 4,
        "priors": "pymc-marketing",
        **extra,
    }
    return parse_spec(fields)


def _saturation(v, point, saturation):
    if saturation == "logistic":
        return (1 - np.exp(-point["lam"] * v)) / (1 + np.exp(-point["lam"] * v))
    if saturation == "hill":
        s, k = point["slope"], point["kappa"]
        return v**s / (v**s + k**s)
    return v / (point["lam"] + v)


def _by_hand_mean(frame, point, saturation, adstock, n_fit):
    """μ over the fitted weeks written out: PyMC-Marketing's scaling and terms."""
    spend = frame[CHANNELS].to_numpy(float)
    x = spend / spend[:n_fit].max(axis=0)
    weights = np.empty((L_MAX, len(CHANNELS)))
    for c in range(len(CHANNELS)):
        for lag in range(L_MAX):
            a = point["alpha"][c]
            weights[lag, c] = (
                a**lag if adstock == "geometric" else a ** ((lag - point["theta"][c]) ** 2)
            )
        weights[:, c] /= weights[:, c].sum()
    ad = np.zeros_like(x)
    for t in range(len(x)):
        for lag in range(min(L_MAX, t + 1)):
            ad[t] += weights[lag] * x[t - lag]
    sat = _saturation(ad, point, saturation)
    doy = pd.to_datetime(frame["date"]).dt.day_of_year.to_numpy(float) / 365.25
    features = [frame[c].to_numpy(float) for c in CONTROLS]
    for k in (1, 2):
        features += [np.sin(2 * np.pi * k * doy), np.cos(2 * np.pi * k * doy)]
    return point["intercept"] + np.column_stack(features) @ point["coef_raw"] + sat @ point[
        "beta"
    ], sat


def _by_hand_log_density(frame, point, saturation, adstock, n_fit):
    mu, _ = _by_hand_mean(frame, point, saturation, adstock, n_fit)
    y = frame["sales"].to_numpy(float)[:n_fit] / frame["sales"].to_numpy(float)[:n_fit].max()
    half = lambda v, s: np.log(2) + stats.norm.logpdf(v, 0, s)  # noqa: E731
    lp = stats.norm.logpdf(point["intercept"], 0, 2)
    lp += stats.norm.logpdf(point["coef_raw"][:2], 0, 2).sum()  # controls
    lp += stats.laplace.logpdf(point["coef_raw"][2:], 0, 1).sum()  # Fourier
    lp += stats.beta.logpdf(point["alpha"], 1, 3).sum()
    if adstock == "delayed":
        lp += half(point["theta"], 1.0).sum()
    if saturation == "logistic":
        lp += stats.gamma.logpdf(point["lam"], 3, scale=1.0).sum() + half(point["beta"], 2).sum()
    elif saturation == "hill":
        lp += sum(half(point[k], 1.5).sum() for k in ("slope", "kappa", "beta"))
    else:
        lp += half(point["lam"], 1.0).sum() + stats.gamma.logpdf(point["beta"], 4, scale=0.5).sum()
    lp += half(point["sigma"], 2.0)
    return lp + stats.norm.logpdf(y, mu[:n_fit], point["sigma"]).sum()


@pytest.mark.parametrize(
    "saturation, adstock",
    [("logistic", "geometric"), ("hill", "delayed"), ("michaelis_menten", "geometric")],
)
def test_log_density_equals_a_hand_computation(saturation, adstock) -> None:
    from cerebro.stats.mcmc import import_numpyro

    import_numpyro("test")
    from numpyro.infer.util import log_density

    frame = _frame()
    spec = _spec(saturation=saturation, adstock=adstock)
    data = pymc_marketing_data(prepare(spec, frame, []))
    n_fit = data.n_fit
    form = ModelForm(adstock, saturation, L_MAX, True, "normal")
    rng = np.random.default_rng(3)
    point = {
        "intercept": 0.55,
        "coef_raw": np.array([0.02, 0.04, 0.03, -0.01, 0.02, 0.005]),
        "alpha": rng.uniform(0.1, 0.7, 3),
        "theta": rng.uniform(0.2, 2.0, 3),
        "lam": rng.uniform(0.5, 3.0, 3),
        "slope": rng.uniform(0.8, 2.5, 3),
        "kappa": rng.uniform(0.2, 0.9, 3),
        "beta": rng.uniform(0.05, 0.3, 3),
        "sigma": 0.07,
    }
    expected = _by_hand_log_density(frame, point, saturation, adstock, n_fit)
    # Cerebro orders the features sin1, cos1, sin2, cos2, then the controls
    coef = np.concatenate([point["coef_raw"][2:], point["coef_raw"][:2]])
    sites = {"alpha", "sigma", "beta", "intercept", *form.channel_sites()}
    direct = {k: np.asarray(point[k]) for k in sites} | {"coef": coef}
    got, _ = log_density(pymc_marketing_model, (form, pymc_inputs(data, False)), {}, direct)
    assert float(got) == pytest.approx(expected, rel=1e-10, abs=1e-8)

    # the sampled parameterisation: level and effect instead of intercept and beta, the same
    # density times the Jacobian 1 / s_c(x̄_c · Σ w) of beta → effect
    mu, _ = _by_hand_mean(frame, point, saturation, adstock, n_fit)
    x = frame[CHANNELS].to_numpy(float)[:n_fit]
    x_mean = (x / x.max(axis=0)).mean(axis=0)
    at_mean = _saturation(x_mean, point, saturation)  # normalised weights: Σ_l w_l = 1
    reparam = {k: v for k, v in direct.items() if k not in ("intercept", "beta")}
    reparam |= {"level": mu[:n_fit].mean(), "effect": point["beta"] * at_mean}
    got, _ = log_density(pymc_marketing_model, (form, pymc_inputs(data, True)), {}, reparam)
    assert float(got) == pytest.approx(expected - np.log(at_mean).sum(), rel=1e-10, abs=1e-8)


def test_scaling_is_pymc_marketings() -> None:
    frame = _frame()
    data = pymc_marketing_data(prepare(_spec(), frame, []))
    fitted = frame.iloc[:56]
    assert data.kpi_scale == fitted["sales"].max()
    np.testing.assert_array_equal(data.spend_scale, fitted[CHANNELS].max().to_numpy())
    np.testing.assert_array_equal(data.control_mean, 0) and np.testing.assert_array_equal(
        data.control_sd, 1
    )
    doy = pd.to_datetime(frame["date"]).dt.day_of_year.to_numpy() / 365.25
    features = data.baseline_features()
    assert data.feature_names()[:2] == ["season_sin1", "season_cos1"]
    np.testing.assert_allclose(features[:, 0], np.sin(2 * np.pi * doy), atol=1e-12)
    np.testing.assert_allclose(features[:, 3], np.cos(4 * np.pi * doy), atol=1e-12)
    np.testing.assert_array_equal(features[:, 4:], frame[CONTROLS].to_numpy(float))
    # continued past the data (a forecast's weeks): the dates go on at their step
    later = data.year_phase(70)[60:]
    extra = pd.date_range(frame["date"].iloc[-1], periods=11, freq="7D")[1:]
    np.testing.assert_allclose(later, extra.day_of_year.to_numpy() / 365.25)


def test_week_numbers_cannot_carry_a_calendar_seasonality() -> None:
    frame = _frame().assign(date=np.arange(60))
    with pytest.raises(UserInputError, match="needs dates"):
        pymc_marketing_data(prepare(_spec(), frame, []))
    pymc_marketing_data(prepare(_spec(seasonality="none"), frame, []))  # no seasonality: fine


def test_the_spec_round_trips_and_defaults_to_cerebros_priors() -> None:
    spec = _spec()
    assert parse_spec(spec.model_dump(mode="json")).priors == "pymc-marketing"
    assert _spec(priors="cerebro").priors == "cerebro"
    fields = spec.model_dump(mode="json")
    fields.pop("priors")
    assert parse_spec(fields).priors == "cerebro"


@pytest.mark.parametrize(
    "extra, words",
    [
        (("--priors", "pymc"), ["priors", "pymc-marketing"]),
        (("--likelihood", "student_t"), ["pymc-marketing", "student_t"]),
        (("--log-kpi",), ["pymc-marketing", "log_kpi"]),
        (("--roi-prior", "tv=1:0.5"), ["pymc-marketing", "roi_prior"]),
        (("--adstock", "weibull_pdf"), ["pymc-marketing", "weibull_pdf"]),
    ],
)
def test_options_without_a_counterpart_are_one_sentence(tmp_path, extra, words) -> None:
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    args = ["mmm", path, "--date-column", "date", "--kpi", "sales", "--channels", "tv,search"]
    priors = () if extra[0] == "--priors" else ("--priors", "pymc-marketing")
    text = refused(invoke(*args, *priors, *extra), *words)
    assert "\n" not in text.strip()


def test_the_command_line_fits_saves_and_forecasts(tmp_path) -> None:
    """A small fit through the CLI: the JSON says which priors, the saved model keeps
    PyMC-Marketing's scaling and calendar seasonality, and its predictions reproduce the
    fitted values."""
    path, save = tmp_path / "d.csv", tmp_path / "m.cerebro"
    _frame().to_csv(path, index=False)
    out = invoke(
        "mmm", path, "--date-column", "date", "--kpi", "sales", "--channels", ",".join(CHANNELS),
        "--controls", ",".join(CONTROLS), "--no-trend", "--l-max", L_MAX, "--priors",
        "pymc-marketing", "--chains", 2, "--draws", 100, "--warmup", 100, "--seed", 1,
        "--save", save, "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["summary"]["priors"] == "pymc-marketing"
    assert "PyMC-Marketing" in result["summary"]["title"]
    model = load_mmm(save)
    assert model.data.calendar and model.data.kpi_scale == _frame()["sales"].max()
    assert "level" not in model.draws and "effect" not in model.draws
    fitted = np.asarray(table_from_dict(result["tables"]["decomposition"])["fitted"], float)
    np.testing.assert_allclose(model.predict().mean(axis=0), fitted, rtol=1e-9)
    # the fitted model explains the KPI: R² well above 0 on this simulated series
    r2 = next(e for e in result["estimates"] if e["key"] == "r2")["value"]
    assert r2 > 0.5

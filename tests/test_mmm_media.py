"""Channels in media units with their spend beside them (``--spend-columns``): known-truth ROI
in money, the identity with a spend-only model, saved models, plans and budgets in money (a
closed-form optimum), and the refusals. Fits are CI-sized (104 weeks × 3 channels, 2 × 300)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("numpyro")

import cerebro
from cerebro.mmm.allocate import run_mmm_optimize
from cerebro.mmm.data import MMMData
from cerebro.mmm.examples import mmm as mmm_example
from cerebro.mmm.model_file import load_mmm, mmm_bytes
from cerebro.mmm.plan_spec import MMMOptimizeSpec
from cerebro.mmm.posterior import MMMPosterior, ModelForm
from cerebro.mmm.synthetic import UNITS, simulate_mmm
from cli_refusals import invoke, refused

FIELDS = mmm_example()[0]  # the example's options: 3 channels, 2 controls, 2 × 300, holdout 8


@pytest.fixture(scope="module")
def units_fit():
    frame, truth = simulate_mmm(weeks=104, channels=3, seed=1, media_units=True)
    result = cerebro.mmm(frame, spend_columns=truth["spend_columns"], **FIELDS)
    return result, truth, frame


def test_simulated_units_keep_the_kpi_and_state_the_money_truth() -> None:
    spend, _ = simulate_mmm(weeks=60, channels=2, seed=3)
    units, truth = simulate_mmm(weeks=60, channels=2, seed=3, media_units=True)
    pd.testing.assert_series_equal(spend["revenue"], units["revenue"])  # same KPI
    for c in ("tv", "search"):
        info = truth["channels"][c]
        assert info["cost_per_unit"] == UNITS[c][1]
        # ROI in money: the true contribution over the money column
        assert info["roi"] == pytest.approx(info["contribution"] / units[f"{c}_spend"].sum())
        np.testing.assert_allclose(units[c] * UNITS[c][1], spend[c], rtol=0.01, atol=0.05 * 450)


def test_every_true_roi_in_money_lies_in_its_90_percent_interval(units_fit) -> None:
    result, truth, _ = units_fit
    for channel, info in truth["channels"].items():
        roi = result.estimate(f"roi_{channel}")
        assert roi.ci_low <= info["roi"] <= roi.ci_high, (channel, info["roi"], roi)


def test_cost_per_unit_and_the_channels_table_are_money(units_fit) -> None:
    """Cost per unit = Σ spend ÷ Σ units over the fitted weeks: within 2% of the true price
    (weekly prices vary with a log-SD of 5%); the table's spend is the money column's sum."""
    result, truth, frame = units_fit
    n = result.summary["fitted_weeks"]
    table = result.tables["channels"].set_index("channel")
    for channel, info in truth["channels"].items():
        money, units = frame[f"{channel}_spend"][:n].sum(), frame[channel][:n].sum()
        cost = result.estimate(f"cost_per_unit_{channel}").value
        assert cost == pytest.approx(money / units, rel=1e-12)
        assert cost == pytest.approx(info["cost_per_unit"], rel=0.02)
        assert table.loc[channel, "spend"] == pytest.approx(money, rel=1e-12)
        assert table.loc[channel, "units"] == pytest.approx(units, rel=1e-12)
        contribution = result.estimate(f"contribution_{channel}").value
        assert result.estimate(f"roi_{channel}").value == pytest.approx(contribution / money)
    assert "media_units" in {f.code for f in result.findings}


def test_a_units_model_with_cost_one_is_the_spend_model_bit_for_bit(tmp_path) -> None:
    """The same data given as units whose spend column equals them (cost per unit exactly 1):
    the same draws, ROI and marginal ROI for the same seed, ROI prior and lift test included."""
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
        roi_prior={"tv": (1.2, 0.5)},
    )
    tests = pd.DataFrame(
        {
            "channel": ["search"],
            "start": [frame["week"][30]],
            "end": [frame["week"][33]],
            "delta_spend": [-2000.0],
            "lift": [-9000.0],
            "lift_se": [3000.0],
        }
    )
    tests.to_csv(tmp_path / "lift.csv", index=False)
    options["calibration"] = str(tmp_path / "lift.csv")
    spend = cerebro.mmm(frame, **options)
    copy = frame.assign(tv_cost=frame["tv"], search_cost=frame["search"])
    units = cerebro.mmm(copy, spend_columns={"tv": "tv_cost", "search": "search_cost"}, **options)
    assert units.data.data.cost.tolist() == [1.0, 1.0]
    assert set(spend.data.draws) == set(units.data.draws)
    for site, draws in spend.data.draws.items():
        np.testing.assert_array_equal(draws, units.data.draws[site], err_msg=site)
    for e in spend.estimates:
        assert units.estimate(e.key).value == e.value, e.key


def test_the_saved_model_carries_the_money_and_old_files_still_load(units_fit, tmp_path) -> None:
    result, _, _ = units_fit
    path = tmp_path / "units.cerebro"
    path.write_bytes(mmm_bytes(result.data))
    loaded = load_mmm(path)
    np.testing.assert_array_equal(loaded.data.unit_cost, result.data.data.unit_cost)
    np.testing.assert_array_equal(loaded.data.money, result.data.data.money)
    np.testing.assert_allclose(loaded.roi(), result.data.roi(), rtol=1e-12)
    # a spend-only model's file has neither field (as files written before media units)
    plain = MMMPosterior(
        result.data.form,
        MMMData(**{**result.data.data.__dict__, "unit_cost": None, "money": None}),
        result.data.draws,
        result.data.chains,
    )
    old = tmp_path / "old.cerebro"
    old.write_bytes(mmm_bytes(plain))
    back = load_mmm(old)
    assert back.data.unit_cost is None and back.data.cost.tolist() == [1.0, 1.0, 1.0]


def _units_posterior(cost: np.ndarray, beta: np.ndarray, lam: np.ndarray) -> MMMPosterior:
    """No adstock (l_max 1), Michaelis–Menten saturation, no baseline terms, one draw: the
    incremental KPI of m money on channel c in one week is kpi_scale · β_c x/(λ_c + x) with
    x = m / (cost_c · spend_scale_c)."""
    rng = np.random.default_rng(0)
    weeks, c = 30, len(cost)
    units = rng.gamma(4.0, 1.0, size=(weeks, c)) * 100.0
    money = units * cost * rng.lognormal(0, 0.05, size=(weeks, c))
    data = MMMData(
        dates=[str(w) for w in range(1, weeks + 1)],
        kpi=np.full(weeks, 1000.0),
        spend=units,
        controls=np.empty((weeks, 0)),
        channels=[f"ch{j}" for j in range(c)],
        control_names=[],
        n_fit=weeks,
        kpi_scale=1000.0,
        spend_scale=units.mean(axis=0),
        control_mean=np.empty(0),
        control_sd=np.empty(0),
        log_kpi=False,
        seasonality=None,
        trend=False,
        unit_cost=money.sum(axis=0) / units.sum(axis=0),
        money=money,
    )
    draws = {
        "intercept": np.ones(1),
        "coef": np.zeros((1, 0)),
        "alpha": np.full((1, c), 0.5),
        "lam": lam[None, :],
        "beta": beta[None, :],
        "sigma": np.full(1, 0.01),
    }
    form = ModelForm("geometric", "michaelis_menten", 1, True, "normal")
    return MMMPosterior(form, data, draws, 1, {"kind": "mmm", "date_column": "week"})


def test_the_budget_in_money_reaches_the_closed_form_optimum() -> None:
    """Σ_c β_c m_c/(λ'_c + m_c), λ'_c = λ_c · cost_c · spend_scale_c (money at half
    saturation), under Σ m_c = B: equal marginal returns give m_c = √(β_c λ'_c / μ) − λ'_c,
    √(1/μ) = (B + Σ λ'_c) / Σ √(β_c λ'_c)."""
    cost = np.array([450.0, 1.2, 0.008])
    beta, lam = np.array([0.3, 0.2, 0.1]), np.array([0.8, 1.0, 1.2])
    posterior = _units_posterior(cost, beta, lam)
    d = posterior.data
    half = lam * d.cost * d.spend_scale  # money at half saturation
    budget = float(d.money[-1].sum()) * 1.5
    root = (budget + half.sum()) / np.sqrt(beta * half).sum()
    exact = root * np.sqrt(beta * half) - half
    assert (exact > 0).all()
    spec = MMMOptimizeSpec(budget=budget, periods=1)
    result = run_mmm_optimize(spec, posterior)
    optimal = np.array([result.estimate(f"spend_ch{j}").value for j in range(3)])
    np.testing.assert_allclose(optimal, exact, rtol=1e-4)
    current = np.array([result.estimate(f"spend_current_ch{j}").value for j in range(3)])
    # the current plan is the last week's money, its mix scaled to the budget
    np.testing.assert_allclose(current, d.money[-1] * 1.5, rtol=1e-12)
    expected = d.kpi_scale * (beta * exact / (half + exact)).sum()
    assert result.estimate("kpi_optimal").value == pytest.approx(expected, rel=1e-9)


def test_a_plan_in_money_predicts_through_the_cost_per_unit(tmp_path) -> None:
    cost = np.array([450.0, 1.2, 0.008])
    beta, lam = np.array([0.3, 0.2, 0.1]), np.array([0.8, 1.0, 1.2])
    posterior = _units_posterior(cost, beta, lam)
    d = posterior.data
    path = tmp_path / "m.cerebro"
    path.write_bytes(mmm_bytes(posterior))
    money = np.array([[30_000.0, 150.0, 1.0], [0.0, 300.0, 2.5], [90_000.0, 0.0, 4.0]])
    plan = pd.DataFrame({"week": [31, 32, 33], **{f"ch{j}": money[:, j] for j in range(3)}})
    plan.to_csv(tmp_path / "plan.csv", index=False)
    result = cerebro.mmm_predict(model=str(path), plan=str(tmp_path / "plan.csv"))
    x = money / (d.cost * d.spend_scale)
    expected = d.kpi_scale * beta * x / (lam + x)
    for j in range(3):
        value = result.estimate(f"contribution_ch{j}").value
        assert value == pytest.approx(expected[:, j].sum(), rel=1e-9)
        assert result.estimate(f"spend_ch{j}").value == pytest.approx(money[:, j].sum())
    assert "media_units" in {f.code for f in result.findings}


def _write(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "units.csv"
    frame.to_csv(path, index=False)
    return str(path)


BASE = ("--date-column", "week", "--kpi", "revenue", "--channels", "tv,search")
GOOD = "tv=tv_spend,search=search_spend"


@pytest.mark.parametrize(
    ("damage", "mapping", "extra", "words"),
    [
        (lambda f: f, "radio=tv_spend", (), ["spend_columns", "'radio'"]),
        (lambda f: f.drop(columns="tv_spend"), GOOD, (), ["tv_spend"]),
        (
            lambda f: f.assign(tv_spend=f["tv_spend"].where(f.index != 4, -1.0)),
            GOOD,
            (),
            ["negative", "'tv_spend'"],
        ),
        (
            lambda f: f.assign(tv_spend=f["tv_spend"].where(f.index != 4)),
            GOOD,
            (),
            ["missing", "'tv_spend'"],
        ),
        (lambda f: f.assign(tv=0.0), GOOD, (), ["0 media units", "'tv'"]),
        (lambda f: f.assign(search_spend=0.0), GOOD, (), ["'search_spend'", "undefined"]),
        (lambda f: f, "tv=tv_spend,search=tv_spend", (), ["'tv_spend'", "two channels"]),
        (lambda f: f, GOOD, ("--controls", "tv_spend"), ["'tv_spend'", "control"]),
        (lambda f: f, "tv=search", (), ["'search'", "also a channel"]),
        (lambda f: f, "tv", (), ["CHANNEL=SPEND_COLUMN"]),
        (
            lambda f: f.assign(geo="a"),
            GOOD,
            ("--geo-column", "geo"),
            ["spend_columns", "geo model"],
        ),
    ],
)
def test_bad_spend_columns_are_one_sentence_and_exit_2(
    tmp_path, damage, mapping, extra, words
) -> None:
    frame, _ = simulate_mmm(weeks=60, channels=2, seed=0, media_units=True)
    path = _write(tmp_path, damage(frame))
    save = tmp_path / "m.cerebro"
    out = invoke("mmm", path, *BASE, "--spend-columns", mapping, *extra, "--save", save)
    text = refused(out, *words)
    assert "\n" not in text.strip()
    assert not save.exists()


def test_the_command_line_simulates_and_fits_units(tmp_path) -> None:
    import json

    data = tmp_path / "u.csv"
    out = invoke(
        "datasets", "mmm", "--output", data, "--weeks", 60, "--channels", 2, "--media-units"
    )
    assert out.exit_code == 0, out.output
    truth = json.loads((tmp_path / "u_truth.json").read_text())
    assert truth["spend_columns"] == {"tv": "tv_spend", "search": "search_spend"}
    out = invoke(
        "mmm", data, *BASE, "--spend-columns", GOOD, "--seasonality", "none", "--l-max", 4,
        "--chains", 2, "--draws", 100, "--warmup", 100, "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    keys = {e["key"] for e in payload["estimates"]}
    assert {"roi_tv", "cost_per_unit_tv", "cost_per_unit_search"} <= keys
    assert payload["spec"]["spend_columns"] == {"tv": "tv_spend", "search": "search_spend"}
    assert "cost_per_unit" in json.dumps(payload["tables"]["channels"])


def test_a_lift_tests_delta_spend_is_money() -> None:
    """No adstock, Michaelis–Menten: a test adding Δ money a week to channel c in weeks 10–12
    lifts the KPI by kpi_scale · β_c Σ_t [s(x_t + Δ / (cost_c · scale_c)) − s(x_t)]."""
    from cerebro.mmm.calibration import lift_tests_from_frame, posterior_lifts

    cost = np.array([450.0, 1.2, 0.008])
    beta, lam = np.array([0.3, 0.2, 0.1]), np.array([0.8, 1.0, 1.2])
    posterior = _units_posterior(cost, beta, lam)
    d = posterior.data
    frame = pd.DataFrame(
        {"channel": ["ch0", "ch2"], "start": ["11", "5"], "end": ["13", "5"],
         "delta_spend": [20_000.0, -0.5], "lift": [1.0, 1.0], "lift_se": [1.0, 1.0]}
    )  # fmt: skip
    tests = lift_tests_from_frame(frame, d, "tests")
    lifts = posterior_lifts(posterior, tests)[0]
    x = d.spend / d.spend_scale

    def s(v, c):
        return v / (lam[c] + v)

    for i, (c, weeks, delta) in enumerate([(0, slice(10, 13), 20_000.0), (2, slice(4, 5), -0.5)]):
        moved = x[weeks, c] + delta / (d.cost[c] * d.spend_scale[c])
        expected = d.kpi_scale * beta[c] * (s(moved, c) - s(x[weeks, c], c)).sum()
        assert lifts[i] == pytest.approx(expected, rel=1e-9)

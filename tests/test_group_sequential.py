"""Group-sequential boundaries against published tables and simulated peeking."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.results import table_from_dict
from cerebro.experiments.sequential import boundaries as gs

runner = CliRunner()

# Jennison & Turnbull (2000), Tables 2.1 and 2.3: two-sided alpha 0.05, K equally spaced looks.
POCOCK = {2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413}
OBRIEN_FLEMING = {2: 1.977, 3: 2.004, 4: 2.024, 5: 2.040}


@pytest.mark.parametrize("looks", [2, 3, 4, 5])
def test_classic_constants_match_jennison_turnbull(looks):
    t = np.arange(1, looks + 1) / looks
    pocock = gs.boundaries(t, 0.05, 2, "classic_pocock")
    assert np.allclose(pocock, POCOCK[looks], atol=1e-3)
    obf = gs.boundaries(t, 0.05, 2, "classic_obf")
    assert obf[-1] == pytest.approx(OBRIEN_FLEMING[looks], abs=1e-3)  # C_B(K) is the last boundary
    assert np.allclose(obf * np.sqrt(t), obf[-1], rtol=1e-12)


def test_lan_demets_spending_matches_published_boundaries():
    """K = 5 equal looks, two-sided 0.05 (0.025 per side): the O'Brien–Fleming-type boundaries
    tabulated by gsDesign (sfLDOF) and ldbounds, and the Pocock-type ones (sfLDPocock)."""
    t = np.arange(1, 6) / 5
    obf = gs.boundaries(t, 0.05, 2, "obf")
    np.testing.assert_allclose(obf, [4.877, 3.357, 2.680, 2.290, 2.031], atol=1e-3)
    pocock = gs.boundaries(t, 0.05, 2, "pocock")
    np.testing.assert_allclose(pocock, [2.438, 2.427, 2.410, 2.397, 2.386], atol=1e-3)
    one_sided = gs.boundaries(t, 0.025, 1, "obf")
    np.testing.assert_allclose(one_sided, obf, atol=1e-6)


def test_inflation_factors_match_jennison_turnbull():
    """J&T Tables 2.2 and 2.4, K = 5, two-sided 0.05: R_P = 1.228 (power 0.8) and 1.207
    (power 0.9); R_B = 1.028 (power 0.8)."""
    t = np.arange(1, 6) / 5
    pocock = gs.boundaries(t, 0.05, 2, "classic_pocock")
    obf = gs.boundaries(t, 0.05, 2, "classic_obf")
    assert gs.inflation_factor(pocock, t, 0.05, 2, 0.8) == pytest.approx(1.228, abs=2e-3)
    assert gs.inflation_factor(pocock, t, 0.05, 2, 0.9) == pytest.approx(1.207, abs=2e-3)
    assert gs.inflation_factor(obf, t, 0.05, 2, 0.8) == pytest.approx(1.028, abs=2e-3)


def _peek(looks: int, reps: int, drift: float, seed: int) -> np.ndarray:
    """Brownian motion at equally spaced looks: z statistic per look, per path."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(drift / looks, np.sqrt(1 / looks), size=(reps, looks))
    t = np.arange(1, looks + 1) / looks
    return np.cumsum(steps, axis=1) / np.sqrt(t)


def test_peeking_simulation_keeps_alpha_while_naive_repeated_tests_do_not():
    reps, looks = 200_000, 5
    z = _peek(looks, reps, 0.0, 1)
    t = np.arange(1, looks + 1) / looks
    mc_se = np.sqrt(0.05 * 0.95 / reps)
    for kind in ("obf", "pocock", "classic_pocock"):
        rate = (np.abs(z) >= gs.boundaries(t, 0.05, 2, kind)).any(axis=1).mean()
        assert rate == pytest.approx(0.05, abs=4 * mc_se)
    naive = (np.abs(z) >= 1.959964).any(axis=1).mean()
    assert naive > 0.13  # five looks at the fixed-horizon 1.96: about 0.142 (Armitage et al. 1969)
    many = (np.abs(_peek(50, 20_000, 0.0, 2)) >= 1.959964).any(axis=1).mean()
    assert many > 0.25


def test_power_under_the_alternative_by_simulation():
    t = np.arange(1, 6) / 5
    bounds = gs.boundaries(t, 0.05, 2, "obf")
    drift = gs.drift_for_power(bounds, t, 2, 0.8)
    z = _peek(5, 200_000, drift, 3)
    assert (np.abs(z) >= bounds).any(axis=1).mean() == pytest.approx(
        0.8, abs=4 * np.sqrt(0.16 / 200_000)
    )


def test_unequal_fractions_spend_alpha_as_planned():
    t = np.array([0.3, 0.65, 1.0])
    bounds = gs.boundaries(t, 0.05, 2, "power", rho=2)
    spent = np.cumsum(gs.crossing_probabilities(bounds, t, 2))
    np.testing.assert_allclose(spent, 0.05 * t**2, rtol=1e-6)


def test_cli_table_json_and_errors(tmp_path):
    out = runner.invoke(
        app, ["sequential-design", "--looks", "4", "--spending", "pocock", "--json"]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["kind"] == "sequential_design" and len(doc["estimates"]) == 4
    assert doc["tables"]["boundaries"]["columns"][:3] == ["look", "info_fraction", "z_boundary"]
    text = runner.invoke(app, ["sequential-design", "--looks", "3", "--power", "0.9"])
    assert text.exit_code == 0 and "inflation" in text.output
    fut = runner.invoke(
        app,
        [
            "sequential-design",
            "--sides",
            "1",
            "--alpha",
            "0.025",
            "--power",
            "0.9",
            "--futility",
            "obf",
            "--json",
        ],
    )
    assert fut.exit_code == 0, fut.output
    assert "futility_z" in json.loads(fut.output)["tables"]["boundaries"]["columns"]
    for args, words in (
        (["--looks", "0"], "at least 1"),
        (["--alpha", "0.7"], "alpha must be between"),
        (["--looks", "3", "--info-fractions", "0.5,0.4,1"], "increase strictly"),
        (["--looks", "2", "--info-fractions", "0.5,0.9"], "end at 1"),
        (["--spending", "nope"], "spending"),
        (["--futility", "obf"], "need --power"),
    ):
        bad = runner.invoke(app, ["sequential-design", *args])
        assert bad.exit_code == 2 and words in bad.output and "Traceback" not in bad.output


def _stops(efficacy: np.ndarray, futility: np.ndarray, drift: float, seed: int):
    """400,000 one-sided paths over 3 looks: efficacy and futility stops per look, and z."""
    z = _peek(3, 400_000, drift, seed)
    alive = np.ones(len(z), bool)
    win, lose = np.zeros((2, len(z), 3), bool)
    for k in range(3):
        win[:, k] = alive & (z[:, k] >= efficacy[k])
        lose[:, k] = alive & ~win[:, k] & (z[:, k] <= futility[k])
        alive &= ~(win[:, k] | lose[:, k])
    return win, lose, z


def test_non_binding_futility_spends_beta_and_keeps_alpha():
    """Futility bounds from O'Brien–Fleming-type beta spending (β = 0.1), 3 equal looks,
    one-sided alpha 0.025, checked by 400,000 simulated paths: under the solved alternative the
    design has 90% power and stops for futility by look k with probability β(t_k); under H0
    the efficacy bounds alone keep alpha (non-binding) and obeying futility only lowers it."""
    t = np.arange(1, 4) / 3
    efficacy, futility, drift = gs.futility_design(t, 0.025, 0.9, "obf", "obf")
    assert futility[-1] == pytest.approx(efficacy[-1], abs=1e-12)
    assert np.all(futility <= efficacy + 1e-12)
    planned_beta = gs.spent("obf", t, 0.1, 1)

    def run(drift_value: float, seed: int):
        return _stops(efficacy, futility, drift_value, seed)

    win, lose, _ = run(drift, 5)
    se = np.sqrt(0.09 / 400_000)
    assert win.any(axis=1).mean() == pytest.approx(0.9, abs=4 * se)
    np.testing.assert_allclose(np.cumsum(lose.mean(axis=0)), planned_beta, atol=4 * se)
    win0, _, z0 = run(0.0, 6)
    ignoring_futility = (z0 >= efficacy).any(axis=1).mean()
    assert ignoring_futility == pytest.approx(0.025, abs=4 * np.sqrt(0.025 * 0.975 / 400_000))
    assert win0.any(axis=1).mean() <= ignoring_futility


def test_binding_futility_spends_alpha_among_continuing_paths():
    """Binding futility (gsDesign's test.type 3), 3 equal looks, one-sided alpha 0.025, OBF-type
    alpha and beta spending, β = 0.1. Exact: with futility obeyed the efficacy bounds spend
    exactly the planned alpha per look (1e-9), which makes them lower than the non-binding ones
    after look 1 and the study smaller. 400,000 simulated paths: alpha 0.025 when futility is
    obeyed and above it when ignored; 90% power and β spent per look as planned (4 SE)."""
    t = np.arange(1, 4) / 3
    efficacy, futility, drift = gs.futility_design(t, 0.025, 0.9, "obf", "obf", binding=True)
    loose, _, loose_drift = gs.futility_design(t, 0.025, 0.9, "obf", "obf")
    up, _ = gs.exit_probabilities(efficacy, futility, t)
    np.testing.assert_allclose(np.cumsum(up), gs.spent("obf", t, 0.025, 1), atol=1e-9)
    assert efficacy[0] == pytest.approx(loose[0], abs=1e-9)
    assert np.all(efficacy[1:] < loose[1:])  # look 2 barely (paths below −0.71 rarely cross)
    assert efficacy[2] < loose[2] - 0.01
    assert drift < loose_drift
    up1, down1 = gs.exit_probabilities(efficacy, futility, t, drift)
    assert up1.sum() == pytest.approx(0.9, abs=1e-6)
    np.testing.assert_allclose(np.cumsum(down1), gs.spent("obf", t, 0.1, 1), atol=1e-6)

    def run(drift_value: float, seed: int):
        return _stops(efficacy, futility, drift_value, seed)

    win0, _, z0 = run(0.0, 8)
    se0 = np.sqrt(0.025 * 0.975 / 400_000)
    assert win0.any(axis=1).mean() == pytest.approx(0.025, abs=4 * se0)
    assert (z0 >= efficacy).any(axis=1).mean() > 0.025 + 4 * se0  # ignoring futility breaks it
    win, lose, _ = run(drift, 9)
    se = np.sqrt(0.09 / 400_000)
    assert win.any(axis=1).mean() == pytest.approx(0.9, abs=4 * se)
    np.testing.assert_allclose(
        np.cumsum(lose.mean(axis=0)), gs.spent("obf", t, 0.1, 1), atol=4 * se
    )


def test_binding_cli_reports_lower_bounds():
    args = ["sequential-design", "--looks", "3", "--alpha", "0.025", "--sides", "1"]
    args += ["--power", "0.9", "--futility", "obf", "--json"]
    runner = CliRunner()
    loose = json.loads(runner.invoke(app, args).output)
    tight_out = runner.invoke(app, [*args, "--binding"])
    assert tight_out.exit_code == 0, tight_out.output
    tight = json.loads(tight_out.output)
    z_loose = table_from_dict(loose["tables"]["boundaries"])["z_boundary"]
    z_tight = table_from_dict(tight["tables"]["boundaries"])["z_boundary"]
    assert z_tight[-1] < z_loose[-1] - 0.01
    assert table_from_dict(tight["tables"]["boundaries"])["alpha_spent"][-1] == pytest.approx(
        0.025, abs=1e-9
    )
    assert "binding futility" in {f["code"]: f["message"] for f in tight["findings"]}["futility"]

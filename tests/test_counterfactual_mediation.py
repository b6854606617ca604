"""Mediation (`cerebro counterfactual --mediator`): the closed forms of the linear model, the
Imai–Keele–Yamamoto sensitivity curve, agreement with statsmodels' `Mediation`, CI coverage of
the known NDE and NIE in simulation, and the findings.

References: statsmodels.stats.mediation.Mediation (parametric simulation, Imai et al. 2010's
algorithm 1) – its point estimates are Monte Carlo averages, so agreement is asked within four
of its Monte Carlo standard errors (the SD of its per-draw effects / √draws) plus 0.002.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import cerebro
from cerebro.counterfactual import mediation as med
from cerebro.counterfactual.glm import fit_glm
from cerebro.counterfactual.synthetic import mediation_frame

BASE = {
    "treatment": "intervention",
    "outcome": "result",
    "mediator": "engagement",
    "confounders": "age,gender",
}


def run(frame, **options):
    return cerebro.counterfactual(frame, **{**BASE, "inference": "delta", **options})


def test_linear_mediation_equals_the_product_of_coefficients():
    """Without interaction, NIE = β₂γ and NDE = θ₁ (Baron–Kenny / VanderWeele), exactly."""
    frame, _ = mediation_frame(800, seed=11)
    result = run(frame)
    mediator = sm.OLS(
        frame.engagement, sm.add_constant(frame[["intervention", "age", "gender"]])
    ).fit()
    outcome = sm.OLS(
        frame.result, sm.add_constant(frame[["intervention", "engagement", "age", "gender"]])
    ).fit()
    nie = mediator.params["intervention"] * outcome.params["engagement"]
    nde = outcome.params["intervention"]
    assert result.estimate("nie").value == pytest.approx(nie, abs=1e-10)
    assert result.estimate("nde").value == pytest.approx(nde, abs=1e-10)
    assert result.estimate("total_effect").value == pytest.approx(nie + nde, abs=1e-10)
    assert result.estimate("proportion_mediated").value == pytest.approx(nie / (nie + nde), 1e-10)
    # the delta SE of the NDE is the robust (HC0) SE of θ₁: X is averaged out of a constant
    hc0 = outcome.get_robustcov_results("HC0").bse[1]
    assert result.estimate("nde").se == pytest.approx(hc0, rel=1e-5)


@pytest.mark.parametrize("spread", [0.3, 1.0, 2.4, 2.6, 5.0, 10.0, 30.0])
def test_logistic_normal_integral_against_adaptive_quadrature(spread):
    """E[expit(μ + sZ)] for a logistic outcome with a normal mediator, both rules, to 2e-5."""
    from scipy import integrate, special

    mean = np.array([-3.0, 0.5, 2.0])
    got = med.logistic_normal(mean, spread, spread > med.WIDE)
    for mu, value in zip(mean, got, strict=True):
        exact = integrate.quad(
            lambda z, mu=mu: special.expit(mu + spread * z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
            -40, 40, limit=400, epsabs=1e-13,
        )[0]  # fmt: skip
        assert value == pytest.approx(exact, abs=2e-5)


def test_interaction_closed_forms():
    """With T×M: NDE = θ₁ + θ₃E[M(0)], NIE = β₂(θ₂ + θ₃) in linear models."""
    frame, _ = mediation_frame(800, i=0.4, seed=12)
    result = run(frame, interaction=True)
    X = sm.add_constant(frame[["intervention", "age", "gender"]])
    mediator = sm.OLS(frame.engagement, X).fit()
    Z = X.assign(engagement=frame.engagement, tm=frame.intervention * frame.engagement)
    theta = sm.OLS(frame.result, Z).fit().params
    m0 = (X.assign(intervention=0.0) @ mediator.params).mean()
    assert result.estimate("nde").value == pytest.approx(
        theta["intervention"] + theta["tm"] * m0, abs=1e-10
    )
    assert result.estimate("nie").value == pytest.approx(
        mediator.params["intervention"] * (theta["engagement"] + theta["tm"]), abs=1e-10
    )


def test_sensitivity_curve_passes_through_the_estimate_and_vanishes_at_rho_tilde():
    frame, _ = mediation_frame(1_000, seed=13)
    result = run(frame)
    table = result.tables["sensitivity"]
    at_zero = table.loc[np.isclose(table.rho, 0.0), "nie"].iloc[0]
    assert at_zero == pytest.approx(result.estimate("nie").value, abs=1e-10)
    rho_tilde = result.estimate("rho_nie_zero").value
    # ρ̃ by hand: the correlation of the residuals of M and of Y (without M) on T and X
    X = sm.add_constant(frame[["intervention", "age", "gender"]])
    e_m = sm.OLS(frame.engagement, X).fit().resid
    e_y = sm.OLS(frame.result, X).fit().resid
    assert rho_tilde == pytest.approx(np.corrcoef(e_m, e_y)[0, 1], abs=1e-10)
    data = result.tables["sensitivity"]
    assert np.all(np.diff(data.nie) < 0)  # NIE falls as ρ rises (β₂ > 0)
    sign_change = data.rho[np.flatnonzero(np.diff(np.sign(data.nie)))[0]]
    assert abs(sign_change - rho_tilde) <= 0.011


def test_sensitivity_curve_is_imai_keele_yamamotos_formula():
    """Without interaction, NIE(ρ) = β₂σ₁/σ₂ · (ρ̃ − ρ√((1 − ρ̃²)/(1 − ρ²))) on the whole grid,
    with β₂, σ₁, σ₂ and ρ̃ computed here from statsmodels' OLS residuals."""
    frame, _ = mediation_frame(700, seed=14)
    result = run(frame)
    X = sm.add_constant(frame[["intervention", "age", "gender"]])
    mediator = sm.OLS(frame.engagement, X).fit()
    e2, e1 = mediator.resid, sm.OLS(frame.result, X).fit().resid
    s1, s2 = np.sqrt(np.mean(e1**2)), np.sqrt(np.mean(e2**2))
    r = np.corrcoef(e1, e2)[0, 1]
    rho = result.tables["sensitivity"].rho.to_numpy()
    formula = (
        mediator.params["intervention"] * s1 / s2 * (r - rho * np.sqrt((1 - r**2) / (1 - rho**2)))
    )
    assert result.tables["sensitivity"].nie.to_numpy() == pytest.approx(formula, abs=1e-10)


def test_sensitivity_at_the_true_rho_recovers_the_confounded_nie():
    """Mediator and outcome errors correlated at ρ = 0.4 (an unmeasured M–Y confounder), with a
    T×M interaction: the estimate at ρ = 0 is biased, the curve at ρ = 0.4 recovers a(g + i)."""
    rng = np.random.default_rng(15)
    n, a, g, i, rho = 40_000, 0.8, 0.7, 0.4, 0.4
    age = rng.standard_normal(n)
    t = (rng.random(n) < 1 / (1 + np.exp(-0.4 * age))).astype(float)
    e2 = rng.standard_normal(n)
    e3 = rho * e2 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    m = 0.5 + a * t + 0.6 * age + e2
    y = 1 + 0.5 * t + g * m + i * t * m + 0.5 * age + e3
    frame = pd.DataFrame({"intervention": t, "engagement": m, "result": y, "age": age})
    result = run(frame, confounders="age", interaction=True)
    nie = result.estimate("nie")
    assert not nie.ci_low <= a * (g + i) <= nie.ci_high  # biased without the correction
    table = result.tables["sensitivity"]
    at_rho = table.loc[np.isclose(table.rho, rho), "nie"].iloc[0]
    assert at_rho == pytest.approx(a * (g + i), abs=0.03)
    assert table.loc[np.isclose(table.rho, 0.0), "nie"].iloc[0] == pytest.approx(nie.value, 1e-10)


def test_probit_outcome_fit_equals_statsmodels_probit():
    frame, _ = mediation_frame(1_000, design="binary_outcome", seed=16)
    X = sm.add_constant(frame[["intervention", "engagement", "age", "gender"]])
    reference = sm.Probit(frame.result, X).fit(disp=0)
    ours = fit_glm(frame.result.to_numpy(), X.to_numpy(), "probit", influence=True)
    assert ours.coef == pytest.approx(reference.params.to_numpy(), abs=1e-8)
    # the sandwich from the influence functions ≈ statsmodels' HC0 (observed-Hessian bread)
    se = np.sqrt(np.sum(ours.influence**2, axis=0)) / len(X)
    hc0 = sm.Probit(frame.result, X).fit(disp=0, cov_type="HC0").bse.to_numpy()
    assert se == pytest.approx(hc0, rel=0.02)


def test_probit_sensitivity_at_the_true_rho_recovers_the_confounded_nie():
    """A probit outcome whose latent error correlates at ρ = 0.4 with the mediator's: the NIE at
    ρ = 0 is biased; the curve at ρ = 0.4 recovers the truth (Imai, Keele & Yamamoto's binary
    outcome model); the curve at 0 is the estimate."""
    from scipy import special

    rng = np.random.default_rng(3)
    n, a, g, rho = 20_000, 0.8, 0.6, 0.4
    age = rng.standard_normal(n)
    t = (rng.random(n) < special.expit(0.4 * age)).astype(float)
    e2 = rng.standard_normal(n)
    e3 = rho * e2 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    m = 0.5 + a * t + 0.6 * age + e2
    y = (-0.3 + 0.4 * t + g * m + 0.3 * age + e3 > 0).astype(float)
    frame = pd.DataFrame({"intervention": t, "engagement": m, "result": y, "age": age})

    def q(t_med: int) -> float:
        mu = 0.5 + a * t_med + 0.6 * age
        return special.ndtr((0.1 + 0.3 * age + g * mu) / np.sqrt(1 + 2 * g * rho + g * g)).mean()

    truth = q(1) - q(0)
    result = run(frame, confounders="age", outcome_model="probit")
    nie = result.estimate("nie")
    assert not nie.ci_low <= truth <= nie.ci_high
    table = result.tables["sensitivity"]
    assert table.loc[np.isclose(table.rho, rho), "nie"].iloc[0] == pytest.approx(truth, abs=0.01)
    assert table.loc[np.isclose(table.rho, 0.0), "nie"].iloc[0] == pytest.approx(nie.value, 1e-10)
    zero = result.estimate("rho_nie_zero").value
    assert abs(med._probit_nie(*_refit(frame, "probit"), zero)) < 1e-8


def _refit(frame, outcome_family):
    data = med.MediationData(
        frame.intervention.to_numpy(), frame.engagement.to_numpy(), frame.result.to_numpy(),
        frame[["age"]].to_numpy(), "linear", outcome_family, False,
    )  # fmt: skip
    return data, med.fit_models(data)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("design", "interaction", "link"),
    [
        ("linear", 0.4, None),
        ("binary_outcome", 0.0, "logit"),
        ("binary_outcome", 0.0, "probit"),
        ("binary_mediator", 0.3, None),
    ],
)
def test_agrees_with_statsmodels_mediation(design: str, interaction: float, link: str | None):
    from statsmodels.stats.mediation import Mediation

    frame, _ = mediation_frame(300, design=design, i=interaction, seed=21)
    formula = "result ~ intervention + engagement + age + gender"
    formula += " + intervention:engagement" if interaction else ""
    binomial, gaussian = sm.families.Binomial(), sm.families.Gaussian()
    if link == "probit":
        binomial = sm.families.Binomial(link=sm.families.links.Probit())
    outcome = sm.GLM.from_formula(
        formula, frame, family=binomial if design == "binary_outcome" else gaussian
    )
    mediator = sm.GLM.from_formula(
        "engagement ~ intervention + age + gender",
        frame,
        family=binomial if design == "binary_mediator" else gaussian,
    )
    draws = 25
    reference = Mediation(outcome, mediator, "intervention", "engagement").fit(
        n_rep=draws, rng=np.random.default_rng(4)
    )
    model = {"logit": "logistic", "probit": "probit"}.get(link or "", "auto")
    ours = run(frame, interaction=bool(interaction), outcome_model=model)
    if link == "logit":
        assert ours.summary["outcome_model"] == "logistic"
    pairs = {
        "nde": reference.ADE_ctrl,
        "nie": reference.ACME_tx,
        "nie_control": reference.ACME_ctrl,
        "nde_treated": reference.ADE_tx,
    }
    for key, per_draw in pairs.items():
        mc_se = np.std(per_draw, ddof=1) / np.sqrt(draws)
        assert abs(ours.estimate(key).value - per_draw.mean()) <= 4 * mc_se + 0.002, key
    total = reference.total_effect
    assert (
        abs(ours.estimate("total_effect").value - total.mean())
        <= 4 * total.std() / np.sqrt(draws) + 0.002
    )


def coverage(design: str, interaction: float, reps: int, n: int) -> np.ndarray:
    """Share of delta-method 95% CIs covering the true NDE, NIE and total effect."""
    hits = []
    families = {
        "linear": ("linear", "linear"),
        "binary_outcome": ("linear", "logistic"),
        "binary_mediator": ("logistic", "linear"),
    }[design]
    for seed in range(reps):
        frame, truth = mediation_frame(n, design=design, i=interaction, seed=1_000 + seed)
        data = med.MediationData(
            frame.intervention.to_numpy(), frame.engagement.to_numpy(), frame.result.to_numpy(),
            frame[["age", "gender"]].to_numpy(), *families, bool(interaction),
        )  # fmt: skip
        fit = med.fit_models(data, influence=True)
        values, _ = med.point_estimates(data, fit)
        se = np.sqrt(np.sum(med.delta_influence(data, fit) ** 2, axis=0)) / n
        true = np.array([truth["nde"], truth["nie"], truth["total_effect"]])
        hits.append(np.abs(values[:3] - true) <= 1.959964 * se[:3])
    return np.mean(hits, axis=0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("design", "interaction", "reps", "n"),
    [("linear", 0.4, 400, 400), ("binary_outcome", 0.0, 400, 500)],
)
def test_delta_method_intervals_cover_the_true_effects(design, interaction, reps, n):
    """400 data sets each: linear models with a T×M interaction at 400 rows, measured coverage
    0.958 / 0.948 / 0.935 (NDE / NIE / total); a logistic outcome with a normal mediator at 500
    rows, 0.940 / 0.945 / 0.945. (At 300 rows the logistic case gave 0.928 / 0.935 / 0.930:
    the delta method is an asymptotic interval.)"""
    covered = coverage(design, interaction, reps, n)
    assert np.all((covered >= 0.93) & (covered <= 0.97)), covered


def test_bootstrap_and_delta_intervals_agree():
    frame, _ = mediation_frame(600, design="binary_mediator", i=0.3, seed=5)
    delta = run(frame, interaction=True)
    boot = run(frame, interaction=True, inference="bootstrap", bootstrap=400, seed=2)
    for key in ("nde", "nie", "total_effect"):
        assert boot.estimate(key).value == delta.estimate(key).value
        assert boot.estimate(key).se == pytest.approx(delta.estimate(key).se, rel=0.15)
    again = run(frame, interaction=True, inference="bootstrap", bootstrap=400, seed=2)
    assert again.to_dict() == boot.to_dict()  # seeded


def test_recovers_the_truth_and_reports_the_assumptions():
    frame, truth = mediation_frame(4_000, design="binary_outcome", seed=8)
    result = run(frame)
    for key in ("nde", "nie", "total_effect"):
        e = result.estimate(key)
        assert e.ci_low <= truth[key] <= e.ci_high, key
    codes = {f.code for f in result.findings}
    assert {"mediation_assumptions", "sensitivity_not_available"} <= codes
    assert result.summary["outcome_model"] == "logistic"
    assert result.fit is not None and len(result.fit.influence["nie"]) == 4_000


def test_unstable_proportion_mediated_is_a_warning():
    """NDE = −NIE: the total effect is about zero and NIE / total meaningless."""
    frame, truth = mediation_frame(1_000, b=-0.56, seed=9)
    assert abs(truth["total_effect"]) < 1e-12
    result = run(frame)
    warning = [f for f in result.findings if f.code == "unstable_proportion"]
    assert warning and warning[0].level == "warning"
    assert "includes zero" in warning[0].message

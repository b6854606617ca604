"""Model-based Bayesian A/B test (hurdle log-normal by NUTS): closed-form agreement, recovery of
known parameters, convergence findings, faces and errors.

One NUTS fit (about 10 s, mostly JAX compilation) is shared by the numerical tests.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.core.results import table_from_dict
from cerebro.experiments.abtest.analysis import abtest
from cerebro.experiments.bayes import beta_posterior, compare_posteriors
from cerebro.experiments.bayes_model import (
    HurdleFit,
    HurdlePrior,
    compare_draws,
    convergence_problems,
    fit_hurdle,
    hurdle_stats,
)

TRUTH = [(0.10, 3.0, 1.2), (0.12, 3.1, 1.0)]  # (p, μ, σ) per arm
N = 20_000


def _revenue(rng: np.random.Generator, p: float, mu: float, sigma: float, n: int) -> np.ndarray:
    return np.where(rng.random(n) < p, np.exp(rng.normal(mu, sigma, n)), 0.0)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(11)
    values = [_revenue(rng, *t, N) for t in TRUTH]
    arm_stats = [hurdle_stats(v, "revenue", f"arm{i}") for i, v in enumerate(values)]
    return arm_stats, fit_hurdle(arm_stats, chains=4, samples=1500, seed=3)


def test_converges_on_simulated_data(fitted):
    _, fit = fitted
    assert convergence_problems(fit, ["a", "b"]) == []
    assert fit.draws["mean"].shape == (4, 1500, 2)


def test_recovers_known_parameters(fitted):
    """Truth within 4 posterior SDs for every parameter of both arms (8 checks; a model or
    likelihood error of one posterior SD would already move a mean out of the data's reach)."""
    _, fit = fitted
    for i, (p, mu, sigma) in enumerate(TRUTH):
        truth = {"p": p, "mu": mu, "sigma": sigma, "mean": p * np.exp(mu + sigma**2 / 2)}
        for name, value in truth.items():
            draws = fit.flat(name)[:, i]
            assert abs(draws.mean() - value) < 4 * draws.std(), (name, i)
    # and the posterior is informative: P(value > 0) is pinned to about ±0.002
    assert fit.flat("p").std(axis=0).max() < 0.003


def test_agrees_with_closed_form_posteriors(fitted):
    """With thousands of positives the weak priors are negligible, so the marginal posteriors
    must match the conjugate closed forms (BDA3 §3.2): p ~ Beta(1 + z, 1 + n − z) exactly (its
    prior is Beta(1, 1)), μ ~ t_{z−1}(ȳ, s²/z) and σ² ~ scaled-Inv-χ²(z − 1, s²) under the
    reference prior. Tolerance: 5 Monte Carlo SEs (SD/√ESS) plus 5% of a posterior SD for the
    prior difference."""
    arm_stats, fit = fitted
    for i, s in enumerate(arm_stats):
        z, n, s2 = s.positives, s.n, s.log_ss / (s.positives - 1)
        exact = {
            "p": stats.beta(1 + z, 1 + n - z),
            "mu": stats.t(z - 1, loc=s.log_mean, scale=np.sqrt(s2 / z)),
        }
        for name, dist in exact.items():
            draws = fit.flat(name)[:, i]
            tol = 5 * dist.std() / np.sqrt(fit.ess[name][i]) + 0.05 * dist.std()
            assert draws.mean() == pytest.approx(dist.mean(), abs=tol), name
            for q in (0.05, 0.5, 0.95):
                assert np.quantile(draws, q) == pytest.approx(dist.ppf(q), abs=2 * tol), (name, q)
        sigma2 = stats.invgamma((z - 1) / 2, scale=(z - 1) * s2 / 2)
        draws = fit.flat("sigma")[:, i] ** 2
        tol = 5 * sigma2.std() / np.sqrt(fit.ess["sigma"][i]) + 0.05 * sigma2.std()
        assert draws.mean() == pytest.approx(sigma2.mean(), abs=tol)
        assert draws.std() == pytest.approx(sigma2.std(), rel=0.1)


def test_compare_draws_matches_exact_probabilities():
    """P(beat), P(best) and expected losses from iid draws agree with the quadrature of the
    closed-form comparison within 4 Monte Carlo standard errors."""
    posteriors = [beta_posterior(300, 5000), beta_posterior(340, 5000), beta_posterior(310, 5000)]
    exact = compare_posteriors(posteriors)
    rng = np.random.default_rng(0)
    draws = np.column_stack([p.sample(rng, 400_000) for p in posteriors])
    approx = compare_draws(draws)
    for e, a, se in zip(exact.comparisons, approx.comparisons, approx.p_beat_mc_se, strict=True):
        assert 0 < se < 0.002
        assert a.p_beat == pytest.approx(e.p_beat, abs=4 * se)
        assert a.loss_ship == pytest.approx(e.loss_ship, rel=0.02)
    assert approx.p_best == pytest.approx(exact.p_best, abs=0.004)
    assert approx.loss_choose == pytest.approx(exact.loss_choose, rel=0.02)


def _bad_fit() -> HurdleFit:
    """Two chains stuck in different places: what a non-converged fit looks like."""
    rng = np.random.default_rng(0)
    stuck = np.stack([rng.normal(0, 1, (200, 2)), rng.normal(3, 1, (200, 2))])
    draws = {k: stuck for k in ("p", "mu", "sigma", "mean")}
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    return HurdleFit(
        draws,
        {k: np.asarray(split_gelman_rubin(v)) for k, v in draws.items()},
        {k: np.asarray(effective_sample_size(v)) for k, v in draws.items()},
        0.0,
        3,
    )


def test_convergence_problems_are_named():
    problems = convergence_problems(_bad_fit(), ["A", "B"])
    assert any(p.startswith("R-hat of mean[B]") for p in problems)
    assert any(p.startswith("ESS of p[A]") for p in problems)
    assert problems[-1] == "3 divergent transitions"


def _frame(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arms = np.repeat(["control", "new"], n)
    y = np.concatenate([_revenue(rng, 0.1, 3.0, 1.1, n), _revenue(rng, 0.1, 3.0, 1.1, n)])
    return pd.DataFrame({"arm": arms, "revenue": y, "bought": (y > 0).astype(int)})


def test_non_convergence_becomes_a_warning(monkeypatch):
    import cerebro.experiments.abtest.hurdle as glue

    monkeypatch.setattr(glue, "fit_hurdle", lambda *a, **k: _bad_fit())
    result = abtest(
        _frame(300),
        treatment="arm",
        outcome="revenue",
        test_type="bayesian",
        model="hurdle_lognormal",
    )
    warning = [f for f in result.findings if f.code == "mcmc_convergence"]
    assert warning and warning[0].level == "warning"
    assert "R-hat" in warning[0].message and "do not trust" in warning[0].message


def test_cli_json_and_reproducible(tmp_path):
    path = tmp_path / "rev.csv"
    _frame().to_csv(path, index=False)
    args = ["abtest", str(path), "--treatment", "arm", "--outcome", "revenue"]
    args += ["--type", "bayesian", "--model", "hurdle_lognormal", "--mcmc-samples", "500"]
    args += ["--seed", "4", "--json"]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    codes = {f["code"]: f for f in out["findings"]}
    assert codes["mcmc_convergence"]["level"] == "info"
    assert "NUTS" in codes["test_choice"]["message"]
    params = table_from_dict(out["tables"]["parameters"])
    assert set(params["parameter"]) == {"p", "mu", "sigma", "mean"}
    assert max(params["r_hat"]) < 1.01 and min(params["ess"]) > 400
    (row,) = table_from_dict(out["tables"]["comparisons"])["p_beat"]
    assert 0 < row < 1
    # the same seed gives the same numbers
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["tables"]["comparisons"] == out["tables"]["comparisons"]


@pytest.mark.parametrize(
    ("extra", "outcome", "message"),
    [
        ([], "bought", "binary"),
        (["--prior", "1,1"], "revenue", "four positive numbers"),
    ],
)
def test_user_errors_exit_2(tmp_path, extra, outcome, message):
    path = tmp_path / "rev.csv"
    _frame(200).to_csv(path, index=False)
    args = ["abtest", str(path), "--treatment", "arm", "--outcome", outcome, "--type"]
    args += ["bayesian", "--model", "hurdle_lognormal", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_negative_values_and_wrong_type_are_refused():
    frame = _frame(200)
    frame.loc[3, "revenue"] = -1.0
    with pytest.raises(UserInputError, match="negative values in arm 'control'"):
        abtest(
            frame,
            treatment="arm",
            outcome="revenue",
            test_type="bayesian",
            model="hurdle_lognormal",
        )
    with pytest.raises(UserInputError, match="applies to --type bayesian only"):
        abtest(frame, treatment="arm", outcome="revenue", model="hurdle_lognormal")
    with pytest.raises(UserInputError, match="at least 2 per arm"):
        hurdle_stats(np.array([0.0, 0.0, 5.0]), "revenue", "B")
    with pytest.raises(UserInputError, match="four positive numbers"):
        HurdlePrior.parse([1, 1, 0, 5])


def test_missing_numpyro_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpyro", None)
    arm_stats = [hurdle_stats(np.array([0.0, 1.0, 2.0]), "r", a) for a in "AB"]
    with pytest.raises(UserInputError, match=r"pip install 'cerebro\[bayes\]'"):
        fit_hurdle(arm_stats)

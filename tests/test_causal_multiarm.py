"""Multi-valued treatments: two-arm equivalence with the binary estimators, a stacked sandwich for
the multinomial IPW, known effects recovered with honest coverage, faces and refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.observational import estimators as est
from cerebro.observational import multiarm
from cerebro.observational.analysis import causal
from cerebro.observational.data import prepare
from cerebro.observational.spec import CausalSpec
from test_causal_estimators import _data, _sandwich, _simulate

EFFECTS = np.array([0.0, 1.0, 2.5])  # E[Y(k)] − E[Y(0)] for arms 0, 1, 2


def _three_arms(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Arm probabilities depend on x1, x2 (multinomial logit); y = 1 + effect_k + x1 + x2
    + 0.5·1[k=2]·x1 + ε, so the ATEs are EFFECTS (E x1 = 0) and the naive contrasts are biased."""
    x = rng.normal(size=(n, 2))
    logits = np.column_stack(
        [np.zeros(n), 0.8 * x[:, 0] - 0.3, 0.8 * x[:, 0] + 0.8 * x[:, 1] - 0.5]
    )
    p = special.softmax(logits, axis=1)
    arm = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    y = 1 + EFFECTS[arm] + x[:, 0] + x[:, 1] + 0.5 * (arm == 2) * x[:, 0] + rng.normal(size=n)
    return pd.DataFrame(
        {"campaign": np.array(["A", "B", "C"])[arm], "y": y, "x1": x[:, 0], "x2": x[:, 1]}
    )


def _multi(frame: pd.DataFrame):
    return prepare(frame, CausalSpec(treatment="campaign", outcome="y", confounders=["x1", "x2"]))


def test_two_arms_equal_the_binary_estimators():
    data = _data(_simulate(800, np.random.default_rng(1)))
    ps, mp = est.propensity(data), multiarm.multinomial_propensity(data)
    pairs = [
        (est.ipw(data, ps, "ate", "hajek"), multiarm.ipw_multi(data, mp, "hajek")),
        (est.ipw(data, ps, "ate", "ht"), multiarm.ipw_multi(data, mp, "ht")),
        (est.aipw(data, ps), multiarm.aipw_multi(data, mp)),
    ]
    for binary, multi in pairs:
        np.testing.assert_allclose(multi.mu, binary.mu, rtol=1e-8)
        np.testing.assert_allclose(multi.cov, binary.cov, rtol=1e-8)


@pytest.mark.parametrize("kind", ["hajek", "ht"])
def test_multinomial_ipw_se_equals_stacked_sandwich(kind):
    data = _multi(_three_arms(900, np.random.default_rng(3)))
    mp = multiarm.multinomial_propensity(data)
    means = multiarm.ipw_multi(data, mp, kind)
    X, y, codes = data.design, data.y, data.a.astype(int)
    p, k = X.shape[1], 3
    onehot = np.eye(k)[codes]

    def psi(theta):
        gamma = np.column_stack([np.zeros(p), theta[: (k - 1) * p].reshape(k - 1, p).T])
        e = special.softmax(X @ gamma, axis=1)
        mu = theta[(k - 1) * p :]
        score = ((onehot[:, 1:] - e[:, 1:])[:, :, None] * X[:, None, :]).reshape(len(y), -1)
        w = onehot / e
        means_eq = w * (y[:, None] - mu) if kind == "hajek" else w * y[:, None] - mu
        return np.column_stack([score, means_eq])

    import statsmodels.api as sm

    gamma = sm.MNLogit(codes, X).fit(disp=False, method="newton").params.T.ravel()
    theta = np.concatenate([gamma, means.mu])
    assert np.abs(psi(theta).mean(0)).max() < 1e-7
    v = _sandwich(psi, theta)
    np.testing.assert_allclose(means.cov, v[(k - 1) * p :, (k - 1) * p :], rtol=1e-5)


@pytest.mark.slow
def test_known_effects_recovered_with_honest_coverage():
    """200 data sets of 1,500 units, three arms with true ATEs 1.0 and 2.5 against A: IPW and
    AIPW unbiased (4 MC SE) with 95% coverage in [0.92, 0.98] for both contrasts (MC SE 1.5
    points); the naive contrast of C is off by more than 0.5."""
    rng = np.random.default_rng(8)
    stats = {m: {"err": [], "cov": []} for m in ("ipw", "aipw")}
    naive = []
    for _ in range(200):
        frame = _three_arms(1500, rng)
        data = _multi(frame)
        mp = multiarm.multinomial_propensity(data)
        for name, means in (
            ("ipw", multiarm.ipw_multi(data, mp)),
            ("aipw", multiarm.aipw_multi(data, mp)),
        ):
            for arm in (1, 2):
                diff = means.mu[arm] - means.mu[0]
                c = means.cov
                se = np.sqrt(c[arm, arm] + c[0, 0] - 2 * c[arm, 0])
                stats[name]["err"].append(diff - EFFECTS[arm])
                stats[name]["cov"].append(abs(diff - EFFECTS[arm]) < 1.96 * se)
        groups = frame.groupby("campaign").y.mean()
        naive.append(groups["C"] - groups["A"] - EFFECTS[2])
    for name, s in stats.items():
        err = np.array(s["err"])
        assert abs(err.mean()) < 4 * err.std() / np.sqrt(len(err)), name
        assert 0.92 <= np.mean(s["cov"]) <= 0.98, (name, np.mean(s["cov"]))
    assert np.mean(naive) > 0.5


def test_cli_three_arms_with_reference(tmp_path):
    path = tmp_path / "campaigns.csv"
    _three_arms(2000, np.random.default_rng(5)).to_csv(path, index=False)
    base = [
        "causal",
        str(path),
        "--treatment",
        "campaign",
        "--outcome",
        "y",
        "--confounders",
        "x1,x2",
    ]
    runner = CliRunner()
    ok = runner.invoke(app, [*base, "--method", "aipw", "--control", "B", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    labels = [e["label"] for e in doc["estimates"]]
    assert labels == ["ATE A vs B (difference in means)", "ATE C vs B (difference in means)"]
    assert doc["estimates"][1]["ci_low"] < 1.5 < doc["estimates"][1]["ci_high"]  # C − B = 1.5
    assert "p_holm" in doc["tables"]["effects"]["columns"]
    for extra, words in (
        (["--method", "psm"], "needs ipw, gcomp, aipw or dml"),
        (["--trim", "crump"], "derived for two arms"),
        (["--method", "gcomp", "--interactions", "x1"], "drop --interactions"),
        (["--treated", "C"], "name the reference arm with --control"),
        (["--control", "Z"], "--control 'Z' is not a value"),
    ):
        bad = runner.invoke(app, [*base, *extra])
        assert bad.exit_code == 2 and words in bad.output and "Traceback" not in bad.output


def test_python_face_and_binary_outcome_risk_ratios():
    frame = _three_arms(3000, np.random.default_rng(6))
    frame["won"] = (frame.y > 2).astype(int)
    res = causal(
        frame, treatment="campaign", outcome="won", confounders=["x1", "x2"], method="gcomp"
    )
    measures = [e.extra["measure"] for e in res.estimates]
    assert measures == ["risk difference", "risk ratio"] * 2
    with pytest.raises(UserInputError, match="needs ipw, gcomp, aipw or dml"):
        causal(
            frame, treatment="campaign", outcome="y", confounders=["x1"], method="stratification"
        )

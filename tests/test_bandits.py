"""Bandits: allocation from data, regret simulation against known theory, faces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.experiments.bandit import policies as bandits
from cerebro.experiments.bandit.analysis import bandit

runner = CliRunner()


@pytest.fixture
def observed():
    rng = np.random.default_rng(2)
    arm = rng.choice(["a", "b", "c"], 3000)
    rate = pd.Series(arm).map({"a": 0.10, "b": 0.12, "c": 0.115}).to_numpy()
    return pd.DataFrame({"variant": arm, "converted": (rng.random(3000) < rate).astype(int)})


def test_thompson_allocation_is_p_best(observed):
    res = bandit(observed, arm="variant", reward="converted")
    arms = res.tables["arms"].set_index("arm")
    assert arms["allocation"].sum() == pytest.approx(1.0, abs=1e-9)
    counts = observed.groupby("variant")["converted"].agg(["sum", "count"])
    rng = np.random.default_rng(0)
    draws = np.array([rng.beta(1 + s, 1 + n - s, 1_000_000) for s, n in counts.to_numpy()])
    freq = np.bincount(draws.argmax(0), minlength=3) / draws.shape[1]
    se = np.sqrt(freq * (1 - freq) / draws.shape[1])
    assert np.all(np.abs(arms.loc[counts.index, "allocation"].to_numpy() - freq) < 4 * se + 1e-6)
    for name, (s, n) in counts.iterrows():
        low, high = stats.beta(1 + s, 1 + n - s).ppf([0.025, 0.975])
        assert arms.loc[name, "posterior_ci_low"] == pytest.approx(low, rel=1e-9)
        assert arms.loc[name, "posterior_ci_high"] == pytest.approx(high, rel=1e-9)


def test_ucb1_and_epsilon_allocations(observed):
    res = bandit(observed, arm="variant", reward="converted", policy="ucb1")
    arms = res.tables["arms"].set_index("arm")
    g = observed.groupby("variant")["converted"]
    index = g.mean() + np.sqrt(2 * np.log(len(observed)) / g.count())
    np.testing.assert_allclose(arms.loc[index.index, "ucb1_index"], index, rtol=1e-12)
    assert arms["allocation"].idxmax() == index.idxmax() and arms["allocation"].max() == 1
    eps = bandit(observed, arm="variant", reward="converted", policy="epsilon_greedy", epsilon=0.3)
    shares = eps.tables["arms"].set_index("arm")["allocation"]
    assert shares[g.mean().idxmax()] == pytest.approx(0.7 + 0.1)
    assert shares.sum() == pytest.approx(1.0)


def test_thompson_regret_grows_logarithmically_and_beats_epsilon_greedy():
    sim = bandits.simulate([0.1, 0.2], 20_000, 100, ["thompson", "epsilon_greedy", "ucb1"], seed=4)
    t = sim.checkpoints
    at = {p: c.mean(0) for p, c in sim.curves.items()}
    early, late = np.searchsorted(t, 2000), len(t) - 1
    growth = at["thompson"][late] / at["thompson"][early]
    assert growth < 2.5  # ten times the steps; linear regret would grow tenfold
    assert at["thompson"][late] < at["epsilon_greedy"][late]
    # epsilon-greedy with fixed epsilon = 0.1 explores forever: regret ≈ 0.05 · Δ · T.
    assert at["epsilon_greedy"][late] == pytest.approx(0.05 * 0.1 * 20_000, rel=0.2)
    # UCB1 stays under its finite-time bound (Auer et al. 2002, Theorem 1).
    bound = 8 * np.log(20_000) / 0.1 + (1 + np.pi**2 / 3) * 0.1
    assert at["ucb1"][late] < bound


def test_same_seed_same_simulation():
    a = bandits.simulate([0.3, 0.4, 0.35], 500, 20, ["thompson", "epsilon_decay"], seed=9)
    b = bandits.simulate([0.3, 0.4, 0.35], 500, 20, ["thompson", "epsilon_decay"], seed=9)
    for p in a.curves:
        np.testing.assert_array_equal(a.curves[p], b.curves[p])


def test_gaussian_simulation_and_continuous_allocation():
    sim = bandits.simulate([0.0, 0.5], 3000, 50, ["thompson"], seed=1, binary=False)
    assert sim.curves["thompson"].mean(0)[-1] < 0.5 * 3000 * 0.1
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"arm": rng.choice(["x", "y"], 400), "revenue": rng.gamma(2, 3, 400)})
    res = bandit(frame, arm="arm", reward="revenue")
    assert any("continuous" in f.message for f in res.findings)
    assert res.tables["arms"]["allocation"].sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    "options, words",
    [
        ({"arm": "variant", "reward": "nope"}, "'nope'"),
        ({"arm": "variant", "reward": "converted", "reward_type": "binary", "_scale": 3}, "0/1"),
        ({"simulate": True, "means": [0.5]}, "at least two arms"),
        ({"simulate": True, "means": [0.5, 1.5]}, r"\[0, 1\]"),
        ({"simulate": True, "means": [0.1, 0.2], "policies": ["greedy"]}, "unknown policy"),
        ({}, "--arm and --reward"),
    ],
)
def test_user_errors(observed, options, words):
    options = dict(options)
    frame = observed.assign(converted=observed.converted * options.pop("_scale", 1))
    with pytest.raises(UserInputError, match=words):
        bandit(frame, **options)


def test_cli(observed, tmp_path):
    path = tmp_path / "obs.csv"
    observed.to_csv(path, index=False)
    out = runner.invoke(
        app, ["bandit", str(path), "--arm", "variant", "--reward", "converted", "--json"]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["kind"] == "bandit" and sum(e["value"] for e in doc["estimates"]) == pytest.approx(
        1.0
    )
    sim = runner.invoke(
        app,
        [
            "bandit",
            "--simulate",
            "--means",
            "0.1,0.2",
            "--horizon",
            "300",
            "--runs",
            "10",
            "--plot",
            str(tmp_path / "r.png"),
        ],
    )
    assert sim.exit_code == 0 and (tmp_path / "r.png").exists()
    bad = runner.invoke(app, ["bandit", str(path), "--arm", "variant", "--reward", "nope"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output

"""Multi-armed bandits: next-period allocation from observed data, and regret simulation.

Policies (Lattimore & Szepesvári, *Bandit Algorithms*, 2020, ch. 6–8 and 36):

- Thompson sampling: play each arm with the posterior probability that it is best. Binary
  rewards: Beta(1, 1) prior, Beta posterior; continuous rewards: the Normal model of
  `bayes.py` (reference prior, Student-t posterior of each arm's mean). From data the
  allocation is P(best) by quadrature (`bayes.prob_best`), not by sampling.
- UCB1 (Auer, Cesa-Bianchi & Fischer 2002): play the arm maximising x̄_i + √(2 ln N / n_i);
  rewards are assumed in [0, 1] (continuous rewards are rescaled by their observed range).
- ε-greedy: the best-looking arm with probability 1 − ε, a uniformly random arm otherwise;
  "decaying" uses ε_t = min(1, c·k / t) (Auer et al. 2002's εₙ-greedy with c = 5 by default).

Simulation: expected (pseudo-)regret Σ_t (μ* − μ_{A_t}) on Bernoulli arms (or Gaussian arms
with unit variance), all runs advanced together as numpy arrays; Gaussian Thompson sampling
there uses the known-variance posterior N(Σx/(n+1), 1/(n+1)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError

POLICIES = ("thompson", "ucb1", "epsilon_greedy", "epsilon_decay")


def ucb1_index(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """x̄_i + √(2 ln N / n_i); arms never played get +∞ (play each once first)."""
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = np.sqrt(2 * np.log(np.maximum(total, 1)) / counts)
    return np.where(counts > 0, means + bonus, np.inf)


def epsilon_allocation(means: np.ndarray, epsilon: float) -> np.ndarray:
    """ε spread evenly, the rest on the best-looking arm (ties share it)."""
    best = means == means.max()
    return epsilon / len(means) + (1 - epsilon) * best / best.sum()


@dataclass
class Simulation:
    """Cumulative expected regret per policy: `curves[p]` is (runs, checkpoints)."""

    checkpoints: np.ndarray
    curves: dict[str, np.ndarray]
    means: np.ndarray


def _choose(
    policy: str,
    counts: np.ndarray,
    sums: np.ndarray,
    t: int,
    rng: np.random.Generator,
    binary: bool,
    epsilon: float,
    decay: float,
) -> np.ndarray:
    runs, k = counts.shape
    if policy == "thompson":
        if binary:
            draws = rng.beta(1 + sums, 1 + counts - sums)
        else:
            draws = rng.normal(sums / (counts + 1), 1 / np.sqrt(counts + 1))
        return draws.argmax(axis=1)
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    if policy == "ucb1":
        index = ucb1_index(means, counts)
        return (index + rng.random((runs, k)) * 1e-12).argmax(axis=1)  # random tie-break
    eps = epsilon if policy == "epsilon_greedy" else min(1.0, decay * k / max(t, 1))
    greedy = (means + rng.random((runs, k)) * 1e-12).argmax(axis=1)
    explore = rng.random(runs) < eps
    return np.where(explore, rng.integers(0, k, runs), greedy)


def simulate(
    means: Sequence[float],
    horizon: int,
    runs: int,
    policies: Sequence[str],
    seed: int = 0,
    binary: bool = True,
    epsilon: float = 0.1,
    decay: float = 5.0,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Expected cumulative regret of each policy over `horizon` steps, `runs` times (seeded)."""
    mu = np.asarray(means, dtype=float)
    if len(mu) < 2:
        raise UserInputError("a bandit needs at least two arms; give two or more --means.")
    if binary and ((mu < 0) | (mu > 1)).any():
        raise UserInputError(f"Bernoulli arm means must lie in [0, 1], got {list(means)}.")
    if horizon < 2 or runs < 1:
        raise UserInputError(f"--horizon must be ≥ 2 and --runs ≥ 1, got {horizon} and {runs}.")
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        raise UserInputError(
            f"unknown policy {unknown[0] if unknown else ''!r}; choose from {', '.join(POLICIES)}."
        )
    checkpoints = np.unique(np.geomspace(1, horizon, 200).astype(int))
    gaps = mu.max() - mu
    curves = {}
    for number, policy in enumerate(policies):
        rng = np.random.default_rng([seed, number])
        k = len(mu)
        counts, sums = np.zeros((runs, k)), np.zeros((runs, k))
        regret = np.zeros(runs)
        out = np.empty((runs, len(checkpoints)))
        mark = 0
        for t in range(1, horizon + 1):
            arm = _choose(policy, counts, sums, t, rng, binary, epsilon, decay)
            reward = (
                (rng.random(runs) < mu[arm]).astype(float) if binary else rng.normal(mu[arm], 1.0)
            )
            rows = np.arange(runs)
            counts[rows, arm] += 1
            sums[rows, arm] += reward
            regret += gaps[arm]
            if t == checkpoints[mark]:
                out[:, mark] = regret
                mark += 1
            if progress is not None and t % 1000 == 0:
                progress(1000)
        curves[policy] = out
    return Simulation(checkpoints, curves, mu)

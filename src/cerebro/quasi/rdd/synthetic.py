"""Synthetic regression-discontinuity data with a known jump (for tests, docs and the bench).

Running variable x ~ Uniform(−1, 1); smooth regression functions on each side; treatment starts
at x ≥ cutoff. In the fuzzy version take-up jumps from `p_below` to `p_above` at the cutoff and
the effect of take-up is `effect`, so the fuzzy estimand (ratio of jumps) equals `effect` and the
sharp estimand (intention-to-treat jump) equals effect · (p_above − p_below). Two covariates are
smooth through the cutoff (balanced) and predict the outcome; clusters are 50 random groups.
"""

from __future__ import annotations

import numpy as np


def make_rdd(
    n: int = 2000,
    effect: float = 0.5,
    *,
    seed: int = 0,
    cutoff: float = 0.0,
    fuzzy: bool = False,
    p_below: float = 0.2,
    p_above: float = 0.8,
    noise: float = 0.5,
    clusters: int = 50,
):
    """(DataFrame with score, outcome, [takeup], x1, x2, cluster; truth dict)."""
    import pandas as pd

    y, x, t, z1, z2, g = simulate_arrays(
        n, effect, seed=seed, fuzzy=fuzzy, p_below=p_below, p_above=p_above, noise=noise,
        clusters=clusters,
    )  # fmt: skip
    frame = pd.DataFrame({"score": x + cutoff, "outcome": y, "x1": z1, "x2": z2, "cluster": g})
    if fuzzy:
        frame.insert(2, "takeup", t)
    jump = effect * (p_above - p_below) if fuzzy else effect
    truth = {"effect": effect, "itt_jump": jump, "first_stage": p_above - p_below if fuzzy else 1.0}
    return frame, truth


def simulate_arrays(
    n: int,
    effect: float,
    *,
    seed: int = 0,
    fuzzy: bool = False,
    p_below: float = 0.2,
    p_above: float = 0.8,
    noise: float = 0.5,
    clusters: int = 50,
):
    """The arrays of `make_rdd` (x centred at 0): y, x, take-up, x1, x2, cluster."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    above = x >= 0
    z1 = 0.5 * x + rng.normal(0.0, 1.0, n)
    z2 = np.sin(2 * x) + rng.normal(0.0, 1.0, n)
    if fuzzy:
        t = (rng.uniform(size=n) < np.where(above, p_above, p_below)).astype(float)
    else:
        t = above.astype(float)
    base = 0.3 + 0.8 * x - 0.6 * x**2 + 0.4 * np.where(above, x**3, 0.0)
    y = base + effect * t + 0.4 * z1 + 0.3 * z2 + rng.normal(0.0, noise, n)
    g = rng.integers(0, clusters, n)
    return y, x, t, z1, z2, g


def example() -> tuple[dict[str, object], object]:
    """A small seeded sharp design (800 units, jump 0.5 at score 0) and its options."""
    frame, _ = make_rdd(800, 0.5, seed=1)
    return {"outcome": "outcome", "running_variable": "score", "cutoff": 0.0}, frame

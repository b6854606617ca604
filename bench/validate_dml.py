"""Coverage of DML (interactive model, LightGBM nuisances, 5-fold cross-fitting) on a nonlinear
confounded design with a true ATE of 2 – too slow for CI (≈1 s per replicate), run by hand:

    .venv/bin/python bench/validate_dml.py [replicates] [units]

Prints bias, SD, mean SE and 95% CI coverage (with its Monte Carlo SE); docs/causal.md quotes it.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy import special

from cerebro.observational import dml
from cerebro.observational.data import prepare
from cerebro.observational.spec import CausalSpec

CONFOUNDERS = [f"x{i}" for i in range(5)]


def simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Propensity and outcome nonlinear in x (sin, squares, an interaction); effect 2."""
    x = rng.uniform(-1, 1, size=(n, 5))
    e = special.expit(np.sin(2 * x[:, 0]) + x[:, 1] ** 2 - 0.3)
    a = (rng.random(n) < e) * 1.0
    y = 2 * a + np.cos(2 * x[:, 0]) + x[:, 1] * x[:, 2] + x[:, 3] ** 2 + rng.normal(size=n)
    return pd.DataFrame({"a": a, "y": y, **{f"x{i}": x[:, i] for i in range(5)}})


def main(reps: int = 500, n: int = 1000) -> None:
    rng = np.random.default_rng(2026)
    spec = CausalSpec(treatment="a", outcome="y", confounders=CONFOUNDERS)
    errors, ses = [], []
    for r in range(reps):
        data = prepare(simulate(n, rng), spec)
        means, _ = dml.dml_irm(data, "lightgbm", 5, r, "ate", 0.01)
        c = means.cov
        errors.append(means.mu[1] - means.mu[0] - 2)
        ses.append(np.sqrt(c[0, 0] + c[1, 1] - 2 * c[0, 1]))
    e, s = np.array(errors), np.array(ses)
    cover = np.mean(np.abs(e) < 1.96 * s)
    print(
        f"replicates {reps}, units {n}: bias {e.mean():+.4f} (MC SE {e.std() / np.sqrt(reps):.4f}), "
        f"SD {e.std():.4f}, mean SE {s.mean():.4f}, coverage {cover:.3f} "
        f"(MC SE {np.sqrt(cover * (1 - cover) / reps):.3f})"
    )


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:3]))

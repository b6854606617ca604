"""Shared fixtures: small seeded A/B data sets built in the test itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_ab(
    n: int = 600,
    arms: tuple[str, ...] = ("control", "B", "C"),
    seed: int = 0,
    effects: tuple[float, ...] = (0.0, 0.3, 0.1),
) -> pd.DataFrame:
    """Continuous, binary, ratio and pre-period columns with unequal arm sizes."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(
        len(arms), size=n, p=np.linspace(1, 1.5, len(arms)) / np.linspace(1, 1.5, len(arms)).sum()
    )
    pre = rng.gamma(2.0, 2.0, n)
    pre2 = rng.normal(0, 1, n)
    effect = np.asarray(effects)[arm]
    revenue = 1.0 + 0.8 * pre + 0.5 * pre2 + effect + rng.normal(0, 1 + 0.3 * arm, n)
    sessions = rng.poisson(3 + pre / 2) + 1
    converted = (rng.random(n) < 0.2 + 0.1 * effect).astype(int)
    region = rng.choice(["EU", "NA", "APAC"], size=n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(
        {
            "arm": np.asarray(arms)[arm],
            "revenue": revenue,
            "pre_revenue": pre,
            "pre_other": pre2,
            "sessions": sessions,
            "converted": converted,
            "region": region,
        }
    )


@pytest.fixture
def ab() -> pd.DataFrame:
    return make_ab()


@pytest.fixture
def ab2() -> pd.DataFrame:
    return make_ab(n=800, arms=("control", "treatment"), effects=(0.0, 0.25), seed=3)


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    """The A/B frame every engine must agree on (`engine_support.messy_frame`)."""
    from engine_support import messy_frame

    return messy_frame(make_ab())

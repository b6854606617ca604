"""Small seeded examples of the experiment kinds, run by the contract test (and handy in docs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _trial(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """One row per unit: three arms, a continuous and a binary outcome, a pre-period column."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "B", "C"], n)
    pre = rng.gamma(2.0, 2.0, n)
    lift = pd.Series(arm).map({"control": 0.0, "B": 0.3, "C": 0.1}).to_numpy()
    return pd.DataFrame(
        {
            "arm": arm,
            "revenue": 1.0 + 0.8 * pre + lift + rng.normal(0, 1, n),
            "converted": (rng.random(n) < 0.2 + 0.1 * lift).astype(int),
            "pre_revenue": pre,
            "region": rng.choice(["EU", "NA", "APAC"], n),
        }
    )


def abtest() -> tuple[dict[str, Any], pd.DataFrame]:
    fields = {"treatment": "arm", "outcome": ["revenue", "converted"], "control": "control"}
    return {**fields, "covariates": ["pre_revenue"]}, _trial()


def bandit() -> tuple[dict[str, Any], pd.DataFrame]:
    return {"arm": "arm", "reward": "converted"}, _trial()


def design() -> tuple[dict[str, Any], pd.DataFrame]:
    units = _trial(400).drop(columns=["arm", "revenue", "converted"])
    return {"arms": 2, "strata": ["region"], "seed": 1}, units


def power() -> tuple[dict[str, Any], None]:
    return {"baseline": 0.05, "mde": 0.01}, None


def sequential_design() -> tuple[dict[str, Any], None]:
    return {"looks": 4, "spending": "obf"}, None

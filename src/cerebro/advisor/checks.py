"""The data checks the advisor's choices rest on: balance between arms, a step in the
treatment along a running variable, a pre-trend in a panel, columns that leak the outcome.

Each returns numbers that go into the explanation, so a user can see why a design was chosen
or refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

IMBALANCE_SMD = 0.1  # |standardised mean difference| above which a covariate is imbalanced
IMBALANCE_Z = 4.0  # … and beyond chance: randomisation leaves |z| < 4 with near certainty
STEP_AGREEMENT = 0.9  # treatment = 1[x ≥ c] on this share of rows: a running variable
SHARP = 0.999
PRE_TREND_P = 0.01
LEAK_CORRELATION = 0.98


@dataclass(frozen=True)
class Imbalance:
    column: str
    smd: float
    z: float


def imbalances(frame: pd.DataFrame, arm: str, columns: list[str]) -> list[Imbalance]:
    """Covariates whose mean differs between an arm and the reference arm by more than
    randomisation allows (|SMD| > 0.1 and |z| > 4), largest first."""
    codes = frame[arm].astype(str)
    levels = sorted(codes.dropna().unique())
    found = []
    for column in columns:
        x = frame[column].astype(float)
        worst = None
        base = x[codes == levels[0]].dropna()
        for level in levels[1:]:
            other = x[codes == level].dropna()
            if len(base) < 2 or len(other) < 2:
                continue
            pooled = np.sqrt((base.var() + other.var()) / 2)
            if not pooled > 0:
                continue
            smd = float((other.mean() - base.mean()) / pooled)
            z = float(
                (other.mean() - base.mean())
                / np.sqrt(base.var() / len(base) + other.var() / len(other))
            )
            if worst is None or abs(smd) > abs(worst.smd):
                worst = Imbalance(column, smd, z)
        if worst and abs(worst.smd) > IMBALANCE_SMD and abs(worst.z) > IMBALANCE_Z:
            found.append(worst)
    return sorted(found, key=lambda i: -abs(i.smd))


@dataclass(frozen=True)
class Step:
    column: str
    cutoff: float
    agreement: float

    @property
    def sharp(self) -> bool:
        return self.agreement >= SHARP


def treatment_step(frame: pd.DataFrame, treatment: str, column: str) -> Step | None:
    """The cutoff c that makes the 0/1 treatment best equal 1[x ≥ c], if it agrees on at
    least 90% of rows (and both sides hold 5% of them): a running variable."""
    pair = frame[[column, treatment]].dropna()
    if len(pair) < 20:
        return None
    order = np.argsort(pair[column].to_numpy(float), kind="stable")
    x = pair[column].to_numpy(float)[order]
    d = pair[treatment].to_numpy(float)[order]
    n = len(x)
    # treated when x ≥ x[k]: agreement = untreated below k + treated from k on
    below_untreated = np.concatenate([[0], np.cumsum(1 - d)])
    from_treated = np.concatenate([np.cumsum(d[::-1])[::-1], [0]])
    agree = (below_untreated + from_treated) / n
    valid = np.zeros(n + 1, bool)
    valid[1:n] = x[1:] > x[:-1]  # a cut between two distinct values
    valid[: int(0.05 * n)] = valid[n - int(0.05 * n) + 1 :] = False
    if not valid.any():
        return None
    k = int(np.argmax(np.where(valid, agree, -1)))
    if agree[k] < STEP_AGREEMENT:
        return None
    return Step(column, float(round_cutoff(x[k - 1], x[k])), float(agree[k]))


def round_cutoff(below: float, at: float) -> float:
    """The roundest number c with below < c ≤ at (a threshold people set: 50, not 49.93)."""
    for decimals in range(-6, 10):
        scale = 10.0**-decimals
        c = (math.floor(below / scale) + 1) * scale
        if below < c <= at:
            return float(round(c, max(decimals, 0)))
    return float(at)


@dataclass(frozen=True)
class Trend:
    slope: float
    se: float
    p: float
    periods: int


def pre_trend(
    frame: pd.DataFrame, unit: str, time: str, outcome: str, treated: list, start: object
) -> Trend | None:
    """The slope over time of (treated mean − control mean) before `start`: parallel trends
    want it flat. None with fewer than 3 pre-periods."""
    from scipy import stats

    pre = frame[frame[time] < start]
    if pre[time].nunique() < 3:
        return None
    group = pre[unit].isin(treated)
    means = pre.groupby([group, pre[time]])[outcome].mean().unstack(0)
    if True not in means or False not in means:
        return None
    gap = (means[True] - means[False]).dropna()
    t = np.arange(len(gap), dtype=float)
    fit = stats.linregress(t, gap.to_numpy(float))
    return Trend(float(fit.slope), float(fit.stderr), float(fit.pvalue), len(gap))


def leaking(frame: pd.DataFrame, outcome: str, columns: list[str]) -> list[str]:
    """Columns that are nearly the outcome itself (|correlation| ≥ 0.98): a copy, or a
    quantity computed from it, which no analysis may use as an input."""
    y = frame[outcome].astype(float)
    found = []
    for column in columns:
        if column == outcome:
            continue
        x = frame[column].astype(float)
        ok = x.notna() & y.notna()
        varies = ok.sum() > 2 and x[ok].std() > 0 and y[ok].std() > 0
        if varies and abs(np.corrcoef(x[ok], y[ok])[0, 1]) >= LEAK_CORRELATION:
            found.append(column)
    return found

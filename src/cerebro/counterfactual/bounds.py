"""Bounds on the average treatment effect when point identification fails.

With a binary treatment D, an outcome known to lie in [lo, hi], p = P(D = 1),
e₁ = E[Y | D = 1] and e₀ = E[Y | D = 0] (direction "increasing"; "decreasing" reflects Y):

- ``manski`` – no assumption (Manski 1990, AER 80:319): E[Y(1)] ∈ [p e₁ + (1 − p) lo,
  p e₁ + (1 − p) hi], E[Y(0)] ∈ [(1 − p) e₀ + p lo, (1 − p) e₀ + p hi]; the ATE bounds are
  their differences, of width hi − lo;
- ``mtr`` – monotone treatment response, Y(1) ≥ Y(0) for every unit (Manski 1997,
  Econometrica 65:1311): the lower bound becomes 0;
- ``mts`` – monotone treatment selection, E[Y(t) | D = 1] ≥ E[Y(t) | D = 0] (Manski & Pepper
  2000, Econometrica 68:997): the upper bound becomes e₁ − e₀;
- ``mtr_mts`` – both: ATE ∈ [0, e₁ − e₀] (Manski & Pepper 2000, Corollary 2);
- ``lee`` – sample selection / attrition (Lee 2009, Rev. Econ. Stud. 76:1071): with D randomly
  assigned and D moving selection S in one direction only (monotonicity), the effect for the
  always-selected lies between the difference in means after trimming the group with the
  higher selection rate by the share p = (q_hi − q_lo)/q_hi of its observed outcomes from the
  top (lower bound) or from the bottom (upper bound). The trimmed mean gives the boundary
  observation the fractional weight that makes the kept share exactly 1 − p.

Intervals: bootstrap SEs of each bound, and the Imbens & Manski (2004, Econometrica 72:1845)
interval [L − c σ_L, U + c σ_U] that covers the effect itself with probability 1 − alpha, c
solving Φ(c + (U − L)/max(σ_L, σ_U)) − Φ(−c) = 1 − alpha.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from cerebro.core.context import progress


def _means(y: np.ndarray, d: np.ndarray) -> tuple[float, float, float]:
    return float(d.mean()), float(y[d == 1].mean()), float(y[d == 0].mean())


def monotone_bounds(
    kind: str, y: np.ndarray, d: np.ndarray, lo: float, hi: float, direction: str = "increasing"
) -> np.ndarray:
    """[E[Y(1)] low, high, E[Y(0)] low, high, ATE low, high] under assumption `kind`."""
    if direction == "decreasing":  # reflect: Y' = −Y is increasing in treatment
        b = monotone_bounds(kind, -y, d, -hi, -lo)
        return -np.array([b[1], b[0], b[3], b[2], b[5], b[4]])
    p, e1, e0 = _means(y, d)
    mean = p * e1 + (1 - p) * e0
    y1 = [p * e1 + (1 - p) * lo, p * e1 + (1 - p) * hi]
    y0 = [(1 - p) * e0 + p * lo, (1 - p) * e0 + p * hi]
    if kind in ("mtr", "mtr_mts"):  # Y(1) ≥ Y for the untreated, Y(0) ≤ Y for the treated
        y1[0], y0[1] = mean, mean
    if kind in ("mts", "mtr_mts"):  # the untreated would do no better than the treated
        y1[1], y0[0] = e1, e0
        if kind == "mtr_mts":
            y1 = [mean, e1]
            y0 = [e0, mean]
    return np.array([*y1, *y0, y1[0] - y0[1], y1[1] - y0[0]])


def trimmed_mean(values: np.ndarray, keep: float, lowest: bool) -> float:
    """Mean of the lowest (or highest) share `keep` of `values`, the boundary value weighted
    fractionally so that exactly keep·n observations' worth is kept."""
    v = np.sort(values) if lowest else np.sort(values)[::-1]
    mass = keep * len(v)
    whole = int(np.floor(mass + 1e-12))
    weights = np.zeros(len(v))
    weights[:whole] = 1.0
    if whole < len(v):
        weights[whole] = mass - whole
    return float(weights @ v / mass)


def lee_bounds(y: np.ndarray, d: np.ndarray, s: np.ndarray) -> np.ndarray:
    """[ATE low, high, trimming share p, q₁, q₀] for the always-selected (Lee 2009)."""
    q1, q0 = float(s[d == 1].mean()), float(s[d == 0].mean())
    y1, y0 = y[(d == 1) & (s == 1)], y[(d == 0) & (s == 1)]
    if q1 >= q0:
        p = (q1 - q0) / q1
        low = trimmed_mean(y1, 1 - p, lowest=True) - y0.mean()
        high = trimmed_mean(y1, 1 - p, lowest=False) - y0.mean()
    else:
        p = (q0 - q1) / q0
        low = y1.mean() - trimmed_mean(y0, 1 - p, lowest=False)
        high = y1.mean() - trimmed_mean(y0, 1 - p, lowest=True)
    return np.array([low, high, p, q1, q0])


def imbens_manski(
    low: float, high: float, se_low: float, se_high: float, alpha: float
) -> tuple[float, float]:
    """The Imbens–Manski interval covering the partially identified effect."""
    width = max(high - low, 0.0)
    scale = max(se_low, se_high)
    if scale <= 0:
        return low, high

    def gap(c: float) -> float:
        return special.ndtr(c + width / scale) - special.ndtr(-c) - (1 - alpha)

    c = optimize.brentq(gap, 0.0, special.ndtri(1 - alpha / 2) + 1.0)
    return low - c * se_low, high + c * se_high


def bootstrap_bounds(
    compute: dict[str, callable], n: int, reps: int, seed: int, arms: np.ndarray
) -> dict[str, np.ndarray]:
    """reps × 2 replicates of (lower, upper) per assumption; `compute[kind](rows)` recomputes
    on resampled row positions; a sample missing an arm is redrawn."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {kind: [] for kind in compute}
    advance = progress("Bootstrapping the bounds", reps)
    for _ in range(reps):
        rows = rng.integers(0, n, n)
        while np.ptp(arms[rows]) == 0:
            rows = rng.integers(0, n, n)
        for kind, function in compute.items():
            out[kind].append(function(rows))
        advance(1)
    return {kind: np.array(values) for kind, values in out.items()}

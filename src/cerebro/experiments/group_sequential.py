"""Group-sequential boundaries: classic Pocock / O'Brien–Fleming and Lan–DeMets alpha spending.

Model (Jennison & Turnbull, *Group Sequential Methods with Applications to Clinical Trials*,
2000, ch. 2, 7 and 19): the score statistic at information fraction t is Brownian motion
S(t) ~ N(θ t, t); the standardised statistic at look k is Z_k = S(t_k)/√t_k. A design
rejects H0: θ = 0 at the first look with |Z_k| ≥ c_k (two-sided) or Z_k ≥ c_k (one-sided).

Boundaries come from the exact recursive numerical integration of Armitage, McPherson & Rowe
(1969): the sub-density of S(t_k) on the continuation region is propagated look to look by
convolution with the normal increment, on a fine grid with Simpson weights – no Monte Carlo.

- classic Pocock (constant c_k = C) and O'Brien–Fleming (c_k = C/√t_k) for the given looks;
- Lan & DeMets (1983) spending: c_k is set so that the probability of first crossing at look k
  equals α(t_k) − α(t_{k−1}). Spending per side of a = α/sides: 2 − 2Φ(z_{a/2}/√t)
  (O'Brien–Fleming type, as gsDesign's sfLDOF and ldbounds), a·ln(1 + (e − 1)t) (Pocock type)
  or a·t^ρ (Kim & DeMets power family).

The maximum-information inflation factor R = (θ₁ / (z_{α/sides} + z_β))², with θ₁ the drift at
which the design has the target power, says how much larger than a fixed-horizon test the
largest sample must be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError

SPENDING = ("obf", "pocock", "power", "classic_obf", "classic_pocock")
_GRID = 1201  # points across each continuation interval (odd, for Simpson's rule)


def spent(kind: str, t: np.ndarray, alpha: float, sides: int, rho: float = 3.0) -> np.ndarray:
    """Cumulative alpha spent at information fractions `t` (t = 1 spends all of `alpha`)."""
    t = np.asarray(t, dtype=float)
    if kind == "obf":
        # Per side a = alpha/sides is spent as 2 − 2Φ(z_{a/2}/√t): Lan & DeMets' function with the
        # one-sided level, the convention of gsDesign (sfLDOF), ldbounds and rpact, whose tables
        # users compare with.
        per_side = alpha / sides
        return sides * 2 * (1 - special.ndtr(special.ndtri(1 - per_side / 2) / np.sqrt(t)))
    if kind == "pocock":
        return alpha * np.log1p((np.e - 1) * t)
    if kind == "power":
        return alpha * t**rho
    raise ValueError(kind)


def _simpson(n: int) -> np.ndarray:
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w / 3


@dataclass
class _State:
    """Sub-density of S(t_k) on the continuation region: grid, density values × weights."""

    s: np.ndarray
    mass: np.ndarray  # density × quadrature weight at each grid point
    t: float


def _start() -> _State:
    return _State(np.zeros(1), np.ones(1), 0.0)  # S(0) = 0 with probability 1


def _exits(state: _State, t: float, low: float, high: float, drift: float) -> tuple[float, float]:
    """P(no earlier stop, then Z(t) ≥ high) and P(no earlier stop, then Z(t) ≤ low)."""
    sd = np.sqrt(t - state.t)
    mean = state.s + drift * (t - state.t)
    upper = special.ndtr((mean - high * np.sqrt(t)) / sd)
    lower = special.ndtr((low * np.sqrt(t) - mean) / sd) if np.isfinite(low) else 0.0
    return float(np.sum(state.mass * upper)), float(np.sum(state.mass * lower))


def _exit_probability(state: _State, t: float, c: float, sides: int, drift: float) -> float:
    """P(no earlier crossing and Z(t) beyond c) given the state at the previous look."""
    return sum(_exits(state, t, -c if sides == 2 else -np.inf, c, drift))


def _advance_between(state: _State, t: float, low: float, high: float, drift: float) -> _State:
    """Propagate the sub-density to look time `t`, keeping Z(t) in (low, high)."""
    edge = high * np.sqrt(t)
    floor = (
        low * np.sqrt(t)
        if np.isfinite(low)
        else min(-edge, state.s.min()) - 8 * np.sqrt(t)  # no lower stop: cover the tail
    )
    s = np.linspace(floor, edge, _GRID)
    sd = np.sqrt(t - state.t)
    step = (s[1] - s[0]) * _simpson(_GRID)
    increments = (s[:, None] - state.s[None, :] - drift * (t - state.t)) / sd
    density = (np.exp(-0.5 * increments**2) / (sd * np.sqrt(2 * np.pi))) @ state.mass
    return _State(s, density * step, t)


def _advance(state: _State, t: float, c: float, sides: int, drift: float) -> _State:
    return _advance_between(state, t, -c if sides == 2 else -np.inf, c, drift)


def crossing_probabilities(
    bounds: np.ndarray, t: np.ndarray, sides: int, drift: float = 0.0
) -> np.ndarray:
    """P(first crossing at look k) for boundaries `bounds` at fractions `t` and a drift θ."""
    state, out = _start(), []
    for c, tk in zip(bounds, t, strict=True):
        out.append(_exit_probability(state, tk, c, sides, drift))
        state = _advance(state, tk, c, sides, drift)
    return np.array(out)


def _solve(f, low: float, high: float, tol: float = 1e-10) -> float:
    """Root of f on [low, high] (Brent's method: a few recursions per boundary)."""
    from scipy.optimize import brentq  # a design command, not the start-up path

    return float(brentq(f, low, high, xtol=tol))


def boundaries(
    t: np.ndarray, alpha: float, sides: int = 2, kind: str = "obf", rho: float = 3.0
) -> np.ndarray:
    """Efficacy z boundaries at information fractions `t` (the last must be 1 for spending)."""
    t = np.asarray(t, dtype=float)
    if kind in ("classic_pocock", "classic_obf"):
        shape = np.ones_like(t) if kind == "classic_pocock" else 1 / np.sqrt(t)
        total = lambda C: crossing_probabilities(C * shape, t, sides).sum() - alpha  # noqa: E731
        return _solve(total, 0.1, 10.0) * shape
    targets = np.diff(np.concatenate([[0.0], spent(kind, t, alpha, sides, rho)]))
    state, out = _start(), []
    for tk, target in zip(t, targets, strict=True):
        if target <= 1e-15:
            c = 40.0  # nothing to spend at this look: an unreachable boundary
        else:

            def excess(
                c: float, state: _State = state, tk: float = tk, target: float = target
            ) -> float:
                return _exit_probability(state, tk, c, sides, 0.0) - target

            c = _solve(excess, 0.0, 40.0)
        out.append(c)
        state = _advance(state, tk, c, sides, 0.0)
    return np.array(out)


def drift_for_power(bounds: np.ndarray, t: np.ndarray, sides: int, power: float) -> float:
    """The drift θ (at full information) at which the design rejects with probability `power`."""
    reject = lambda d: power - crossing_probabilities(bounds, t, sides, d).sum()  # noqa: E731
    return _solve(reject, 0.0, 15.0, tol=1e-7)


def inflation_factor(
    bounds: np.ndarray, t: np.ndarray, alpha: float, sides: int, power: float
) -> float:
    """Maximum information relative to the fixed-horizon test with the same alpha and power."""
    fixed = special.ndtri(1 - alpha / sides) + special.ndtri(power)
    return float((drift_for_power(bounds, t, sides, power) / fixed) ** 2)


def check_fractions(looks: int, fractions: list[float] | None) -> np.ndarray:
    if looks < 1:
        raise UserInputError(f"--looks must be at least 1, got {looks}.")
    if fractions is None:
        return np.arange(1, looks + 1) / looks
    t = np.asarray(fractions, dtype=float)
    if len(t) != looks:
        raise UserInputError(
            f"--info-fractions has {len(t)} values for {looks} looks; give one per look."
        )
    if t[0] <= 0 or np.any(np.diff(t) <= 0) or abs(t[-1] - 1) > 1e-9:
        raise UserInputError(
            f"--info-fractions must increase strictly from above 0 and end at 1, got {fractions} "
            "(e.g. 0.25,0.5,0.75,1)."
        )
    return t


def _futility_bounds(
    efficacy: np.ndarray, t: np.ndarray, beta_steps: np.ndarray, drift: float
) -> tuple[np.ndarray, float]:
    """Futility z bounds spending `beta_steps` under `drift`; the last bound meets the efficacy
    bound. Returns the bounds and β actually spent at the last look minus its planned step."""
    state, out = _start(), []
    for k, (tk, b, step) in enumerate(zip(t, efficacy, beta_steps, strict=True)):
        if k == len(t) - 1:
            spent_last = _exits(state, tk, b, b, drift)[1]
            out.append(b)
            return np.array(out), spent_last - step

        def short(a: float, state: _State = state, tk: float = tk, step: float = step) -> float:
            return _exits(state, tk, a, np.inf, drift)[1] - step

        a = b if short(b) <= 0 else _solve(short, -40.0, b)  # cap: futility never above efficacy
        out.append(a)
        state = _advance_between(state, tk, a, b, drift)
    raise AssertionError("unreachable")


def futility_design(
    t: np.ndarray,
    alpha: float,
    power: float,
    kind: str = "obf",
    futility: str = "obf",
    rho: float = 3.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One-sided efficacy bounds, non-binding futility bounds from beta spending, and the drift.

    Efficacy bounds spend `alpha` under H0 ignoring futility (non-binding: stopping for futility
    is allowed, never required, so the type-I error holds either way). Futility bound a_k spends
    β(t_k) − β(t_{k−1}) of β = 1 − power under the drift θ₁, and θ₁ is found so that the last
    futility bound meets the last efficacy bound (Jennison & Turnbull 2000, §7.2; gsDesign's
    test.type 4).
    """
    efficacy = boundaries(t, alpha, 1, kind, rho)
    steps = np.diff(np.concatenate([[0.0], spent(futility, t, 1 - power, 1, rho)]))
    drift = _solve(lambda d: _futility_bounds(efficacy, t, steps, d)[1], 0.0, 15.0, tol=1e-7)
    return efficacy, _futility_bounds(efficacy, t, steps, drift)[0], drift

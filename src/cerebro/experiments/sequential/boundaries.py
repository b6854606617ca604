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
_FLOOR = -10.0  # lowest efficacy z bound tried: below it every continuing path would cross
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
    lower = -np.asarray(bounds) if sides == 2 else np.full(len(bounds), -np.inf)
    up, down = exit_probabilities(bounds, lower, t, drift)
    return up + down


def exit_probabilities(
    upper: np.ndarray, lower: np.ndarray, t: np.ndarray, drift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """P(first exit above `upper`) and below `lower` (−inf: no lower stop) at each look."""
    state, up, down = _start(), [], []
    for tk, a, b in zip(t, lower, upper, strict=True):
        hi, lo = _exits(state, tk, a, b, drift)
        up.append(hi)
        down.append(lo)
        state = _advance_between(state, tk, a, b, drift)
    return np.array(up), np.array(down)


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
    # written so that NaN fails: every comparison with NaN is False
    if not (t[0] > 0 and np.all(np.diff(t) > 0) and abs(t[-1] - 1) <= 1e-9):
        raise UserInputError(
            f"--info-fractions must increase strictly from above 0 and end at 1, got {fractions} "
            "(e.g. 0.25,0.5,0.75,1)."
        )
    return t


def _bounds_with_futility(
    t: np.ndarray,
    alpha_steps: np.ndarray,
    beta_steps: np.ndarray,
    drift: float,
    efficacy: np.ndarray | None,
    close: bool = True,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One-sided efficacy and futility z bounds under the alternative `drift`.

    Futility bound a_k spends `beta_steps[k]` under the drift, capped at the efficacy bound; when
    `close` (the last look is the final analysis) the last one meets the last efficacy bound. Efficacy bounds are `efficacy` as given
    (non-binding: they were solved ignoring futility) or, when None, solved here so that
    `alpha_steps[k]` is spent under H0 among paths that futility has not stopped (binding).
    Returns both bound vectors and β spent at the last look minus its planned step.
    """
    null, alt, upper, lower = _start(), _start(), [], []
    for k, (tk, a_step, b_step) in enumerate(zip(t, alpha_steps, beta_steps, strict=True)):
        if efficacy is not None:
            b = float(efficacy[k])
        elif a_step <= 1e-15:
            b = 40.0  # nothing to spend at this look: an unreachable boundary
        else:

            def excess(c: float, null: _State = null, tk: float = tk, a_step: float = a_step):
                return _exits(null, tk, -np.inf, c, 0.0)[0] - a_step

            # Too little H0 mass left to spend this look's alpha (only at drifts far from the
            # solution, or with very aggressive futility – `futility_design` refuses the latter).
            b = _FLOOR if excess(_FLOOR) < 0 else _solve(excess, _FLOOR, 40.0)
        upper.append(b)
        if close and k == len(t) - 1:
            lower.append(b)
            return np.array(upper), np.array(lower), _exits(alt, tk, b, b, drift)[1] - b_step

        def short(a: float, alt: _State = alt, tk: float = tk, b_step: float = b_step) -> float:
            return _exits(alt, tk, a, np.inf, drift)[1] - b_step

        a = b if short(b) <= 0 else _solve(short, -40.0, b)  # cap: futility never above efficacy
        lower.append(a)
        alt = _advance_between(alt, tk, a, b, drift)
        if efficacy is None:
            null = _advance_between(null, tk, a, b, 0.0)
    return np.array(upper), np.array(lower), 0.0


def futility_design(
    t: np.ndarray,
    alpha: float,
    power: float,
    kind: str = "obf",
    futility: str = "obf",
    rho: float = 3.0,
    binding: bool = False,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One-sided efficacy bounds, futility bounds from beta spending, and the drift θ₁.

    Futility bound a_k spends β(t_k) − β(t_{k−1}) of β = 1 − power under the drift θ₁, and θ₁ is
    found so that the last futility bound meets the last efficacy bound (Jennison & Turnbull
    2000, §7.2). Non-binding (gsDesign's test.type 4): efficacy bounds spend `alpha` under H0
    ignoring futility, so stopping for futility is allowed, never required, and the type-I
    error holds either way. Binding (test.type 3): efficacy bounds spend `alpha` among the paths
    futility has not stopped, so they are lower and the study smaller – but the type-I error is
    only kept if every futility stop is obeyed.
    """
    alpha_steps = np.diff(np.concatenate([[0.0], spent(kind, t, alpha, 1, rho)]))
    beta_steps = np.diff(np.concatenate([[0.0], spent(futility, t, 1 - power, 1, rho)]))
    efficacy = None if binding else boundaries(t, alpha, 1, kind, rho)

    def mismatch(d: float) -> float:
        return _bounds_with_futility(t, alpha_steps, beta_steps, d, efficacy)[2]

    drift = _solve(mismatch, 0.0, 15.0, tol=1e-7)
    upper, lower, _ = _bounds_with_futility(t, alpha_steps, beta_steps, drift, efficacy)
    if upper.min() <= _FLOOR:
        raise UserInputError(
            "binding futility stops so many paths early that the alpha planned for a later look "
            "cannot be spent; use a less aggressive --futility spending or non-binding bounds."
        )
    return upper, lower, drift


def futility_at_looks(
    t: np.ndarray,
    efficacy: np.ndarray,
    beta: float,
    drift: float,
    kind: str = "obf",
    binding: bool = False,
    alpha: float | None = None,
    alpha_kind: str = "obf",
    rho: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Efficacy and futility z bounds at observed fractions `t`.

    Futility bound a_k spends β(t_k) − β(t_{k−1}) of `beta` under the planned drift θ₁; at t = 1
    it meets the efficacy bound, so the final look always decides. Non-binding: `efficacy` is
    returned as given. Binding: efficacy bounds are re-solved to spend `alpha` (one side,
    `alpha_kind` spending) among the paths futility has not stopped.
    """
    steps = np.diff(np.concatenate([[0.0], spent(kind, t, beta, 1, rho)]))
    close = bool(t[-1] >= 1)
    if not binding:
        unused = np.zeros_like(steps)  # alpha steps: the efficacy bounds are given
        return efficacy, _bounds_with_futility(t, unused, steps, drift, efficacy, close)[1]
    assert alpha is not None
    alpha_steps = np.diff(np.concatenate([[0.0], spent(alpha_kind, t, alpha, 1, rho)]))
    upper, lower, _ = _bounds_with_futility(t, alpha_steps, steps, drift, None, close)
    return upper, lower

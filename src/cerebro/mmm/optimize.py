"""Budget optimisation for a fitted media mix model: pure numerics on a posterior response.

A fitted MMM supplies a vectorised **response** – ``response(plan) -> kpi_draws`` – where
``plan`` is a (periods × channels) array of spend and ``kpi_draws`` the total incremental KPI
over those periods for each of S posterior draws, shape (S,). Adstock carry-over inside the
window, saturation and every other part of the model stay inside the response; this module only
asks it questions. The response must be deterministic (the same plan gives the same draws), so
that two plans are compared on the same draws.

**Decision.** Per-channel totals ``x`` (spend over the whole window). Each channel's total is
spread over the periods in the current plan's pattern (the share of the channel's current spend
in each period – Meridian's fixed "flighting pattern"), or evenly when only per-channel totals
are given. Only the totals move; the timing within the window does not.

**Objective.** The posterior mean of

* ``"kpi"``: the incremental KPI, ``E[KPI(x)]``; or
* ``"profit"``: its value minus the spend, ``kpi_value · E[KPI(x)] − Σ x``,

maximised subject to

* the budget: ``Σ x = budget`` for ``"kpi"``; ``Σ x ≤ budget`` for ``"profit"`` (spending less
  is allowed when the last unit of spend returns less than it costs);
* per-channel bounds as multiples of the channel's current spend,
  ``low_c · current_c ≤ x_c ≤ high_c · current_c`` (default ``0 ≤ x_c``, no upper limit) – so a
  channel without current spend stays at zero;
* optionally a return floor, ``kpi_value · E[KPI(x)] ≥ roi_floor · Σ x``.

**Solver.** SLSQP (Kraft 1988, through ``scipy.optimize.minimize``) on the spend as shares of the
budget, with central finite-difference gradients of the mean response (one-sided at a bound),
from several starts: the current plan and seeded random feasible plans. The best feasible end
point is kept. **Guarantee:** the returned plan's expected objective is never below the current
plan's (both from the same draws; when the current plan misses the ROI floor, the returned plan
meets the floor instead, even at a lower objective); when no start beats it – the current plan is already optimal,
or the optimiser fails – the current plan is returned with a finding saying so. When the budget
differs from the current plan's total, "current" means the current channel mix scaled to the
budget (clipped to the bounds), as Meridian's "non-optimized" scenario does.

**Uncertainty.** The plan maximises the posterior mean; the expected KPI of both plans and the
uplift carry equal-tailed credible intervals from the draws, the uplift's computed per draw
(paired: both plans evaluated on the same posterior draw), which is narrower than combining the
two plans' intervals whenever their draws move together.

**Optimality check.** At the optimum the marginal return of spend, ``kpi_value · ∂E[KPI]/∂x_c``
(the marginal ROI), is equal across the channels not held by a bound (the KKT condition with the
budget's multiplier; 1 for ``"profit"`` when the budget is not binding); channels at an upper
bound return more at the margin, those at a lower bound less. The plan reports the marginal ROI
per channel and a finding with the spread across the unconstrained channels.

References: Jin, Wang, Sun, Chan & Koehler (2017), *Bayesian Methods for Media Mix Modeling with
Carryover and Shape Effects*, Google Inc., section 5 (optimising the media mix from posterior
samples); Google Meridian documentation, "Budget optimization" (fixed flighting pattern, fixed
and flexible budgets, spend constraints relative to channel spend); Kraft (1988), *A software
package for sequential quadratic programming*, DFVLR-FB 88-28; Nocedal & Wright (2006),
*Numerical Optimization*, 2nd ed., ch. 12 (KKT conditions) and ch. 8 (finite differences).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding
from cerebro.stats.intervals import equal_tailed

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Response = Callable[[np.ndarray], np.ndarray]
Objective = Literal["kpi", "profit"]

# Finite-difference step as a share of the budget: central differences on a smooth mean response
# then carry an error of order step² (truncation) + eps/step (rounding) ≈ 1e-10 of the objective.
_STEP = 1e-6
# A channel within this share of the budget of a bound is reported as sitting on it.
_AT_BOUND = 1e-6
# Marginal ROIs of unconstrained channels within this relative spread count as equal (KKT).
_KKT_SPREAD = 1e-3


def _num(x: float) -> str:
    """A number for a sentence: 2,000 / 1,234.5 / 0.5 / inf."""
    if not math.isfinite(x):
        return str(x)
    if x == round(x) and abs(x) < 1e15:
        return f"{x:,.0f}"
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def parse_bounds(text: str, channels: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Per-channel spend bounds from text such as ``"tv=0.5:1.5,search=0.8:2"``.

    Each item is ``channel=low:high``, both multiples of the channel's current spend (``inf`` for
    no upper limit). Raises `UserInputError` with one sentence for a malformed item, a channel
    not in `channels`, a channel given twice, a negative or non-finite low, or low > high.
    """
    known = list(channels)
    bounds: dict[str, tuple[float, float]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, eq, rest = item.partition("=")
        low_text, colon, high_text = rest.partition(":")
        name = name.strip()
        if not eq or not colon or not name:
            raise UserInputError(
                f"bounds item '{item}' is not channel=low:high; write e.g. 'tv=0.5:1.5'."
            )
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise UserInputError(
                f"bounds item '{item}' has a low or high that is not a number; "
                "write e.g. 'tv=0.5:1.5'."
            ) from None
        if name in bounds:
            raise UserInputError(f"bounds name channel '{name}' twice; give each channel once.")
        bounds[name] = (low, high)
    return check_bounds(bounds, known)


def check_bounds(
    bounds: Mapping[str, tuple[float, float]], channels: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """The bounds as plain floats, or a one-sentence `UserInputError` naming the bad one."""
    known = list(channels)
    checked: dict[str, tuple[float, float]] = {}
    for name, pair in bounds.items():
        if name not in known:
            raise UserInputError(
                f"bounds name channel '{name}', which is not a channel of the model; "
                f"use one of {', '.join(known)}."
            )
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise UserInputError(
                f"the bounds of channel '{name}' are not a (low, high) pair of numbers; "
                "give e.g. (0.5, 1.5)."
            ) from None
        if math.isnan(low) or math.isnan(high) or not math.isfinite(low):
            raise UserInputError(
                f"the bounds of channel '{name}' ({_num(low)}:{_num(high)}) must be numbers with "
                "a finite low; use e.g. 0.5:1.5 (inf is allowed as the high)."
            )
        if low < 0 or high < 0:
            raise UserInputError(
                f"the bounds of channel '{name}' ({_num(low)}:{_num(high)}) are negative; spend "
                "multiples are 0 or more, e.g. 0:1.5."
            )
        if low > high:
            raise UserInputError(
                f"the bounds of channel '{name}' have low {_num(low)} above high {_num(high)}; "
                f"write them as low:high, e.g. {_num(high)}:{_num(low)}."
            )
        checked[name] = (low, high)
    return checked


@dataclass(frozen=True, eq=False)
class BudgetProblem:
    """A budget allocation question for a fitted media mix model.

    `current` is the current plan, either (periods × channels) spend – its per-period pattern
    is kept for every channel – or per-channel totals, spread evenly over `periods` periods.
    `budget` is the total spend over the periods (default: the current plan's total). `bounds`
    give per-channel ``(low, high)`` as multiples of the channel's current spend (default
    ``(0, inf)``). `objective` is ``"kpi"`` (maximise expected incremental KPI, spending the
    whole budget) or ``"profit"`` (maximise ``kpi_value`` × expected KPI − spend, spending at
    most the budget). `roi_floor`, when set, requires ``kpi_value`` × expected KPI ≥ `roi_floor`
    × spend. Invalid values raise a one-sentence `UserInputError` when the problem is built.
    Once built, `current` is always the (periods × channels) plan (totals spread evenly) and
    `budget` a number.
    """

    channels: tuple[str, ...]
    current: np.ndarray
    budget: float | None = None
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    objective: Objective = "kpi"
    kpi_value: float = 1.0
    roi_floor: float | None = None
    periods: int | None = None

    def __post_init__(self) -> None:
        channels = tuple(str(c) for c in self.channels)
        if not channels:
            raise UserInputError("the budget problem names no channels; give at least one.")
        twice = sorted({c for c in channels if channels.count(c) > 1})
        if twice:
            raise UserInputError(f"channel '{twice[0]}' appears twice; give each channel once.")
        current = np.array(self.current, dtype=float)
        if current.ndim == 1:
            current = current[None, :]
            if self.periods is None or int(self.periods) != self.periods or self.periods < 1:
                raise UserInputError(
                    f"current gives per-channel totals, so periods must be a whole number of "
                    f"periods ≥ 1 to spread them over evenly, not {self.periods}."
                )
            periods = int(self.periods)
            pattern_flat = True
        elif current.ndim == 2:
            periods = current.shape[0]
            if self.periods is not None and self.periods != periods:
                raise UserInputError(
                    f"periods is {self.periods} but the current plan has {periods} rows; "
                    "leave periods unset for a (periods × channels) plan."
                )
            pattern_flat = False
        else:
            raise UserInputError(
                f"current must be a (periods × channels) plan or per-channel totals, not an "
                f"array of shape {current.shape}."
            )
        if current.shape[1] != len(channels) or current.shape[0] < 1:
            raise UserInputError(
                f"current has {current.shape[1]} channel columns but {len(channels)} channels "
                f"are named ({', '.join(channels)}); give one column per channel."
            )
        if not np.isfinite(current).all() or (current < 0).any():
            raise UserInputError(
                "current spend must be finite and 0 or more in every period and channel; "
                "fix the negative or missing values."
            )
        totals = current.sum(axis=0)
        if totals.sum() <= 0:
            raise UserInputError(
                "current spend is zero in every channel, and bounds are multiples of it; "
                "give the current plan's spend."
            )
        budget = float(totals.sum()) if self.budget is None else float(self.budget)
        if not math.isfinite(budget) or budget <= 0:
            raise UserInputError(
                f"budget is {_num(budget)}; give the total spend over the periods, a number "
                "above 0."
            )
        if self.objective not in ("kpi", "profit"):
            raise UserInputError(
                f"objective '{self.objective}' is not one of kpi, profit; choose one of them."
            )
        kpi_value = float(self.kpi_value)
        if not math.isfinite(kpi_value) or kpi_value <= 0:
            raise UserInputError(
                f"kpi_value is {_num(kpi_value)}; give the value of one KPI unit in spend "
                "units, a number above 0."
            )
        if self.roi_floor is not None and (
            not math.isfinite(float(self.roi_floor)) or self.roi_floor < 0
        ):
            raise UserInputError(
                f"roi_floor is {_num(float(self.roi_floor))}; give a return per unit of spend "
                "of 0 or more, or leave it unset."
            )
        bounds = check_bounds(self.bounds, channels)
        low = np.array([bounds.get(c, (0.0, math.inf))[0] for c in channels]) * totals
        multiples = np.array([bounds.get(c, (0.0, math.inf))[1] for c in channels])
        # a channel without current spend stays at zero (not inf × 0)
        high = np.where(totals > 0, multiples * np.where(totals > 0, totals, 1.0), 0.0)
        if low.sum() > budget * (1 + 1e-12):
            raise UserInputError(
                f"the lower bounds need {_num(low.sum())} in total "
                f"({_terms(channels, bounds, totals, 0)}), more than the budget "
                f"{_num(budget)}; lower a bound or raise the budget."
            )
        if self.objective == "kpi" and high.sum() < budget * (1 - 1e-12):
            raise UserInputError(
                f"the upper bounds allow at most {_num(high.sum())} in total "
                f"({_terms(channels, bounds, totals, 1)}), less than the budget "
                f"{_num(budget)}; raise an upper bound or lower the budget."
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            pattern = np.where(totals > 0, current / np.where(totals > 0, totals, 1), 0.0)
        if pattern_flat:
            pattern = np.full((periods, len(channels)), 1.0 / periods)
        else:
            pattern[:, totals == 0] = 1.0 / periods
        for name, value in (
            ("channels", channels),
            ("current", current if not pattern_flat else pattern * totals),
            ("budget", budget),
            ("bounds", bounds),
            ("kpi_value", kpi_value),
            ("periods", periods),
            ("_totals", totals),
            ("_pattern", pattern),
            ("_low", low),
            ("_high", high),
        ):
            object.__setattr__(self, name, value)

    @property
    def current_totals(self) -> np.ndarray:
        """Current spend per channel over the periods."""
        return self._totals.copy()

    @property
    def pattern(self) -> np.ndarray:
        """(periods × channels): each channel's share of its spend in each period."""
        return self._pattern.copy()

    @property
    def lower(self) -> np.ndarray:
        """Lowest allowed spend per channel (bound multiple × current spend)."""
        return self._low.copy()

    @property
    def upper(self) -> np.ndarray:
        """Highest allowed spend per channel (``inf`` for no limit)."""
        return self._high.copy()

    def plan(self, totals: np.ndarray) -> np.ndarray:
        """The (periods × channels) plan spending `totals` per channel in the current pattern."""
        return self._pattern * np.asarray(totals, float)[None, :]


def _terms(
    channels: Sequence[str], bounds: Mapping[str, tuple[float, float]], totals: np.ndarray, i: int
) -> str:
    """'tv 1.5 × 500 + search 2 × 300' for the message on bounds that cannot meet the budget."""
    parts = []
    for c, total in zip(channels, totals, strict=True):
        multiple = bounds.get(c, (0.0, math.inf))[i]
        parts.append(f"{c} {_num(multiple)} × {_num(float(total))}")
    return " + ".join(parts)


@dataclass(frozen=True)
class PosteriorSummary:
    """Mean, equal-tailed credible interval and SD of posterior draws of one quantity."""

    mean: float
    low: float
    high: float
    sd: float

    @classmethod
    def of(cls, draws: np.ndarray, alpha: float) -> PosteriorSummary:
        low, high = equal_tailed(draws, alpha)
        sd = float(np.std(draws, ddof=1)) if draws.size > 1 else 0.0
        return cls(float(np.mean(draws)), float(low), float(high), sd)


@dataclass(frozen=True, eq=False)
class BudgetPlan:
    """The optimised allocation beside the current one.

    Spend arrays are per channel (in `channels` order) over the whole window; the ``*_plan``
    arrays are (periods × channels). `kpi_current`/`kpi_optimal` summarise the draws of the
    total incremental KPI of each plan and `uplift` the per-draw difference optimal − current
    (paired), each with a ``1 − alpha`` credible interval. `objective_*` are the expected
    objective values that were compared (KPI, or KPI value − spend). `marginal_roi` is
    ``kpi_value`` × ∂E[KPI]/∂spend per channel at the optimum (`marginal_roi_current` at the
    current plan); `at_bound` is "lower", "upper", "fixed" or "" per channel. `converged` and
    `status` are the optimiser's; `findings` explain what a reader must know.
    """

    channels: tuple[str, ...]
    objective: Objective
    alpha: float
    current_spend: np.ndarray
    optimal_spend: np.ndarray
    lower_spend: np.ndarray
    upper_spend: np.ndarray
    current_plan: np.ndarray
    optimal_plan: np.ndarray
    kpi_current: PosteriorSummary
    kpi_optimal: PosteriorSummary
    uplift: PosteriorSummary
    objective_current: float
    objective_optimal: float
    marginal_roi_current: np.ndarray
    marginal_roi: np.ndarray
    at_bound: tuple[str, ...]
    converged: bool
    status: str
    findings: tuple[Finding, ...]
    kpi_draws_current: np.ndarray
    kpi_draws_optimal: np.ndarray

    def channel_table(self) -> dict[str, list[Any]]:
        """One row per channel as plain columns (a `Result` table)."""
        change = self.optimal_spend - self.current_spend
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.current_spend > 0, change / self.current_spend, np.nan)
        return {
            "channel": list(self.channels),
            "current_spend": self.current_spend.tolist(),
            "optimal_spend": self.optimal_spend.tolist(),
            "change": change.tolist(),
            "change_share": share.tolist(),
            "lower_spend": self.lower_spend.tolist(),
            "upper_spend": self.upper_spend.tolist(),
            "marginal_roi_current": self.marginal_roi_current.tolist(),
            "marginal_roi_optimal": self.marginal_roi.tolist(),
            "at_bound": list(self.at_bound),
        }

    def estimates(self) -> list[Estimate]:
        """Expected KPI of both plans and the paired uplift, as `Estimate`s (interval 1 − alpha)."""
        rows = (
            ("expected KPI: current plan", "kpi_current", self.kpi_current),
            ("expected KPI: optimal plan", "kpi_optimal", self.kpi_optimal),
            ("uplift: optimal - current", "uplift", self.uplift),
        )
        return [
            Estimate(label, s.mean, se=s.sd, ci_low=s.low, ci_high=s.high, key=key)
            for label, key, s in rows
        ]


class _NonFinite(Exception):
    """The response gave NaN or infinite draws at a plan the optimiser tried."""


class _Evaluator:
    """The mean response and its finite-difference gradient, with a cache of evaluated plans."""

    def __init__(self, response: Response, problem: BudgetProblem, draws: int) -> None:
        self.response = response
        self.problem = problem
        self.draws = draws
        self.step = _STEP * problem.budget
        self.cache: dict[bytes, float] = {}
        self.calls = 0

    def kpi_draws(self, totals: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = np.asarray(self.response(self.problem.plan(totals)), float).reshape(-1)
        if out.size != self.draws:
            raise ValueError(
                f"the response returned {out.size} draws for one plan and {self.draws} for the "
                "current plan; it must return one value per posterior draw, always as many."
            )
        if not np.isfinite(out).all():
            raise _NonFinite
        return out

    def mean_kpi(self, totals: np.ndarray) -> float:
        key = totals.tobytes()
        if key not in self.cache:
            if len(self.cache) > 100_000:
                self.cache.clear()
            self.cache[key] = float(np.mean(self.kpi_draws(totals)))
        return self.cache[key]

    def gradient(self, totals: np.ndarray, free: np.ndarray) -> np.ndarray:
        """∂E[KPI]/∂x_c for the `free` channels: central differences, one-sided at a bound."""
        low, high, h = self.problem._low, self.problem._high, self.step
        grad = np.zeros(free.size)
        for k, c in enumerate(free):
            up, down = totals.copy(), totals.copy()
            can_up, can_down = totals[c] + h <= high[c], totals[c] - h >= low[c]
            if can_up and can_down:
                up[c] += h
                down[c] -= h
                grad[k] = (self.mean_kpi(up) - self.mean_kpi(down)) / (2 * h)
            elif can_up:
                up[c] += h
                grad[k] = (self.mean_kpi(up) - self.mean_kpi(totals)) / h
            else:
                down[c] = max(totals[c] - h, 0.0)
                width = totals[c] - down[c]
                grad[k] = (self.mean_kpi(totals) - self.mean_kpi(down)) / width if width else 0.0
        return grad


def _fill(direction: np.ndarray, low: np.ndarray, high: np.ndarray, total: float) -> np.ndarray:
    """The plan ``clip(t · direction, low, high)`` whose sum is `total` (t found by bisection):
    the direction scaled to the total, with channels that hit a bound held there and the rest
    rescaled. `total` must lie within [Σ low, Σ high]."""
    total = min(max(total, float(low.sum())), float(high.sum()))

    def at(t: float) -> np.ndarray:
        return np.clip(t * direction, low, high)

    t_low, t_high = 0.0, max(total / max(float(direction.sum()), 1e-300), 1e-300)
    for _ in range(2000):
        if at(t_high).sum() >= total:
            break
        t_high *= 2.0
    for _ in range(200):
        t_mid = 0.5 * (t_low + t_high)
        if t_mid in (t_low, t_high):
            break
        if at(t_mid).sum() < total:
            t_low = t_mid
        else:
            t_high = t_mid
    x = at(t_high)
    inside = (x > low) & (x < high)
    if inside.any() and x[inside].sum() > 0:  # spread the last rounding residual
        x[inside] += (total - x.sum()) * x[inside] / x[inside].sum()
        x = np.clip(x, low, high)
    return x


def optimize_budget(
    response: Response,
    problem: BudgetProblem,
    *,
    alpha: float = 0.1,
    starts: int = 4,
    maxiter: int = 200,
    seed: int = 0,
) -> BudgetPlan:
    """Allocate `problem.budget` across channels to maximise the posterior mean objective.

    `response(plan)` takes a (periods × channels) spend plan and returns the total incremental
    KPI over the periods for each posterior draw, shape (S,), deterministically. The objective,
    constraints, solver and guarantee are described in this module's docstring: expected KPI
    (``"kpi"``, Σ spend = budget) or ``kpi_value`` × expected KPI − spend (``"profit"``, Σ spend ≤
    budget), per-channel bounds as multiples of current spend, an optional ROI floor; SLSQP from
    the current plan and ``starts − 1`` random feasible plans drawn with `seed`. The returned
    plan's expected objective is never below the current plan's. Intervals are equal-tailed at
    ``1 − alpha`` over the draws; the uplift's is computed per draw (paired).
    """
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha is {alpha}; give a number between 0 and 1, e.g. 0.1.")
    if int(starts) != starts or starts < 1:
        raise UserInputError(f"starts is {starts}; give a whole number of starts, 1 or more.")
    findings: list[Finding] = []
    reference, reference_plan = _reference(problem, findings)
    raw = _reference_draws(response, reference_plan)
    search = _Search(problem, _Evaluator(response, problem, raw.size), reference, float(raw.mean()))
    if not search.meets_floor(reference, search.kpi_reference):
        findings.append(_below_floor(problem, reference, search.kpi_reference))
    best, failures = search.run(seed, starts, maxiter)
    kept, optimal, objective_optimal, converged, status = _choose(search, best, failures, findings)
    evaluator, value = search.evaluator, problem.kpi_value
    draws_optimal = raw if kept else evaluator.kpi_draws(optimal)
    marginal = value * _gradient_or_nan(evaluator, optimal)
    at_bound = _at_bound(optimal, problem._low, problem._high, problem.budget)
    findings += _kkt_findings(problem, optimal, marginal, at_bound, draws_optimal, value)
    return BudgetPlan(
        channels=problem.channels,
        objective=problem.objective,
        alpha=alpha,
        current_spend=reference,
        optimal_spend=optimal,
        lower_spend=problem._low.copy(),
        upper_spend=problem._high.copy(),
        current_plan=np.asarray(reference_plan, float),
        optimal_plan=np.asarray(reference_plan if kept else problem.plan(optimal), float),
        kpi_current=PosteriorSummary.of(raw, alpha),
        kpi_optimal=PosteriorSummary.of(draws_optimal, alpha),
        uplift=PosteriorSummary.of(draws_optimal - raw, alpha),
        objective_current=search.objective_reference,
        objective_optimal=objective_optimal,
        marginal_roi_current=value * _gradient_or_nan(evaluator, reference),
        marginal_roi=marginal,
        at_bound=at_bound,
        converged=converged,
        status=status,
        findings=tuple(findings),
        kpi_draws_current=raw,
        kpi_draws_optimal=draws_optimal,
    )


def _reference(p: BudgetProblem, findings: list[Finding]) -> tuple[np.ndarray, np.ndarray]:
    """The plan every answer is compared with – per-channel totals and the weekly plan: the
    current plan, or its channel mix at the budget within the bounds (with a finding)."""
    totals, low, high = p._totals, p._low, p._high
    target = min(float(totals.sum()), p.budget) if p.objective == "profit" else p.budget
    current_fits = bool(np.all(totals >= low) and np.all(totals <= high))
    if current_fits and (totals.sum() == target):
        return totals.copy(), np.asarray(p.current, float)
    reference = _fill(totals, low, high, target)
    findings.append(
        Finding(
            "info",
            "current_rescaled",
            f"The current plan spends {_num(float(totals.sum()))}"
            + ("" if current_fits else " and lies outside the bounds")
            + f"; it is compared as its channel mix at {_num(float(reference.sum()))} "
            "within the bounds.",
        )
    )
    return reference, p.plan(reference)


def _reference_draws(response: Response, reference_plan: np.ndarray) -> np.ndarray:
    """The response's KPI draws at the reference plan, checked: one finite value per draw."""
    from cerebro.data.validate import require_finite_result

    raw = np.asarray(response(reference_plan), float)
    if raw.ndim != 1 or raw.size < 1:
        raise ValueError(
            f"the response must return a 1-D array of posterior draws, got shape {raw.shape}."
        )
    require_finite_result(
        raw, "the model's KPI draws at the current plan", "check the fitted model's posterior."
    )
    return raw


def _below_floor(p: BudgetProblem, reference: np.ndarray, kpi_reference: float) -> Finding:
    return Finding(
        "warning",
        "roi_floor_current",
        f"The current plan returns {_num(p.kpi_value * kpi_reference / reference.sum())} per "
        f"unit of spend, below the ROI floor {_num(float(p.roi_floor))}; the optimal plan "
        "must meet the floor, even at a lower expected objective.",
    )


# The best end point found: objective, totals, mean KPI, SLSQP's success and message.
_Best = tuple[float, np.ndarray, float, bool, str]


@dataclass
class _Search:
    """SLSQP over the free channels' spend as shares of the budget, the channels whose bounds
    leave no room held at their reference spend; objective and constraints scaled to O(1)."""

    p: BudgetProblem
    evaluator: _Evaluator
    reference: np.ndarray
    kpi_reference: float

    def __post_init__(self) -> None:
        p, budget = self.p, self.p.budget
        self.profit = p.objective == "profit"
        self.value = p.kpi_value
        self.free = np.flatnonzero(p._high - p._low > _AT_BOUND * budget)
        self.objective_reference = self.expected(self.reference, self.kpi_reference)
        self.scale = max(
            abs(self.objective_reference), self.value * abs(self.kpi_reference), 1e-300
        )

    def expected(self, x: np.ndarray, kpi_mean: float) -> float:
        return self.value * kpi_mean - (float(x.sum()) if self.profit else 0.0)

    def meets_floor(self, x: np.ndarray, kpi_mean: float) -> bool:
        if self.p.roi_floor is None:
            return True
        return self.value * kpi_mean >= self.p.roi_floor * float(x.sum()) - 1e-9 * self.p.budget

    def totals_of(self, u: np.ndarray) -> np.ndarray:
        x = self.reference.copy()
        x[self.free] = np.clip(u * self.p.budget, self.p._low[self.free], self.p._high[self.free])
        return x

    def fun(self, u: np.ndarray) -> float:
        x = self.totals_of(u)
        return -self.expected(x, self.evaluator.mean_kpi(x)) / self.scale

    def jac(self, u: np.ndarray) -> np.ndarray:
        x = self.totals_of(u)
        g = self.value * self.evaluator.gradient(x, self.free) - (1.0 if self.profit else 0.0)
        return -g * self.p.budget / self.scale

    def roi_gap(self, u: np.ndarray) -> float:
        x = self.totals_of(u)
        floor = float(self.p.roi_floor)
        return (self.value * self.evaluator.mean_kpi(x) - floor * float(x.sum())) / self.scale

    def roi_gap_jac(self, u: np.ndarray) -> np.ndarray:
        x = self.totals_of(u)
        g = self.value * self.evaluator.gradient(x, self.free) - float(self.p.roi_floor)
        return g * self.p.budget / self.scale

    def constraints(self) -> list[dict[str, Any]]:
        """The budget (equality for KPI, at most for profit) and the optional ROI floor."""
        ones = np.ones(self.free.size)
        fixed = np.setdiff1d(np.arange(len(self.p.channels)), self.free)
        remaining = (self.p.budget - float(self.reference[fixed].sum())) / self.p.budget
        if self.profit:
            budget = {"type": "ineq", "fun": lambda u: remaining - u.sum(), "jac": lambda u: -ones}
        else:
            budget = {"type": "eq", "fun": lambda u: u.sum() - remaining, "jac": lambda u: ones}
        if self.p.roi_floor is None:
            return [budget]
        return [budget, {"type": "ineq", "fun": self.roi_gap, "jac": self.roi_gap_jac}]

    def start_points(self, seed: int, starts: int) -> list[np.ndarray]:
        """The reference plan and `starts − 1` seeded random feasible plans, as shares."""
        low, high, free, budget = self.p._low, self.p._high, self.free, self.p.budget
        rng = np.random.default_rng(seed)
        free_target = float(self.reference[free].sum())
        points = [self.reference[free] / budget]
        for _ in range(int(starts) - 1):
            direction = rng.dirichlet(np.ones(free.size)) if free.size else np.zeros(0)
            points.append(_fill(direction, low[free], high[free], free_target) / budget)
        return points

    def run(self, seed: int, starts: int, maxiter: int) -> tuple[_Best | None, list[str]]:
        """SLSQP from every start; the best end point that meets the constraints exactly."""
        from scipy.optimize import minimize

        low, high, budget = self.p._low, self.p._high, self.p.budget
        box = [
            (low[c] / budget, high[c] / budget if math.isfinite(high[c]) else None)
            for c in self.free
        ]
        constraints = self.constraints()
        best: _Best | None = None
        failures: list[str] = []
        for u0 in self.start_points(seed, starts) if self.free.size else []:
            try:
                res = minimize(self.fun, u0, jac=self.jac, method="SLSQP", bounds=box,
                               constraints=constraints,
                               options={"maxiter": int(maxiter), "ftol": 1e-12})  # fmt: skip
                x = self.totals_of(np.asarray(res.x, float))
                if not self.profit or x.sum() > budget:  # the budget exactly, not SLSQP's tolerance
                    x = _fill(x, low, high, budget)
                kpi_mean = self.evaluator.mean_kpi(x)
            except _NonFinite:
                failures.append("the response gave non-finite draws")
                continue
            if not self.meets_floor(x, kpi_mean):
                failures.append("no plan meeting the ROI floor was found")
                continue
            objective_x = self.expected(x, kpi_mean)
            if best is None or objective_x > best[0]:
                best = (objective_x, x, kpi_mean, bool(res.success), str(res.message))
        return best, failures


def _choose(
    search: _Search, best: _Best | None, failures: list[str], findings: list[Finding]
) -> tuple[bool, np.ndarray, float, bool, str]:
    """The never-worse rule: the best end point when it beats the reference plan (or the
    reference misses the ROI floor), else the reference plan, each with its finding. Returns
    (reference kept, totals, expected objective, converged, solver status)."""
    reference_ok = search.meets_floor(search.reference, search.kpi_reference)
    kept = not (best is not None and (best[0] >= search.objective_reference or not reference_ok))
    if best is not None and not kept:
        objective_optimal, optimal, _, converged, status = best
        if not converged:
            findings.append(
                Finding(
                    "warning",
                    "not_converged",
                    f"The optimiser stopped before converging ({status}); the plan is the best "
                    "found and is no worse than the current plan.",
                )
            )
        return False, optimal, objective_optimal, converged, status
    converged = best is not None and best[3]
    if best is None:
        status = failures[0] if failures else "no channel can move within its bounds"
        findings.append(
            Finding(
                "warning" if search.free.size else "info",
                "current_plan_kept",
                f"No better plan was found ({status}); the current plan is returned.",
            )
        )
    else:
        status = best[4]
        findings.append(
            Finding(
                "info",
                "current_plan_kept",
                "No plan found beats the current plan's expected objective, so the current "
                "plan is returned.",
            )
        )
    return True, search.reference.copy(), search.objective_reference, converged, status


def _at_bound(
    optimal: np.ndarray, low: np.ndarray, high: np.ndarray, budget: float
) -> tuple[str, ...]:
    """Per channel: "fixed" (bounds leave no room), "lower", "upper" or "" (interior)."""
    tol = _AT_BOUND * budget

    def where(c: int) -> str:
        if high[c] - low[c] <= tol:
            return "fixed"
        if optimal[c] <= low[c] + tol:
            return "lower"
        return "upper" if optimal[c] >= high[c] - tol else ""

    return tuple(where(c) for c in range(optimal.size))


def _gradient_or_nan(evaluator: _Evaluator, totals: np.ndarray) -> np.ndarray:
    """∂E[KPI]/∂x_c for every channel, NaN where the response gave non-finite draws."""
    try:
        return evaluator.gradient(totals, np.arange(totals.size))
    except _NonFinite:
        return np.full(totals.size, np.nan)


def _kkt_findings(
    p: BudgetProblem,
    optimal: np.ndarray,
    marginal: np.ndarray,
    at_bound: tuple[str, ...],
    draws: np.ndarray,
    value: float,
) -> list[Finding]:
    """The first-order optimality check on the unconstrained channels' marginal ROI.

    Every constraint's gradient is the same in each channel (the budget's is 1, the ROI floor's
    is value · ∂E[KPI]/∂x_c − floor), so at an optimum the marginal ROI is one common number
    across the channels not at a bound – equal to 1 for the profit objective when neither the
    budget nor the ROI floor binds.
    """
    unconstrained = [c for c in range(len(p.channels)) if not at_bound[c]]
    if not np.isfinite(marginal[unconstrained]).all():
        return []
    roi = float(value * np.mean(draws) / optimal.sum()) if optimal.sum() > 0 else math.inf
    floor_binds = p.roi_floor is not None and roi <= p.roi_floor * (1 + 1e-6)
    findings = []
    if floor_binds:
        findings.append(
            Finding(
                "info",
                "roi_floor_active",
                f"The ROI floor {_num(float(p.roi_floor))} binds: the plan returns "
                f"{_num(round(roi, 6))} per unit of spend.",
            )
        )
    slack = p.objective == "profit" and optimal.sum() < p.budget * (1 - 1e-6) and not floor_binds
    if len(unconstrained) < (1 if slack else 2):
        return findings
    values = marginal[unconstrained]
    target = 1.0 if slack else float(np.mean(values))
    spread = float(np.max(np.abs(values - target)) / max(abs(target), 1e-300))
    names = ", ".join(p.channels[c] for c in unconstrained)
    shown = ", ".join(_num(round(float(v), 6)) for v in values)
    what = "1 (the budget is not all spent)" if slack else "equal"
    if spread <= _KKT_SPREAD:
        findings.append(
            Finding(
                "info",
                "marginal_roi_equal",
                f"Marginal ROI is {what} across the channels not at a bound ({names}: {shown}; "
                f"largest relative gap {spread:.1e}), as at an optimum.",
            )
        )
    else:
        findings.append(
            Finding(
                "warning",
                "marginal_roi_unequal",
                f"Marginal ROI should be {what} across the channels not at a bound but is "
                f"{shown} ({names}); the optimum may not be reached, so treat the plan as an "
                "improvement, not the best.",
            )
        )
    return findings


def plot_budget_plan(plan: BudgetPlan) -> Figure:
    """Current vs optimal spend per channel (bars) and both plans' expected KPI with their
    credible intervals."""
    from cerebro.core.figure import new_figure

    fig = new_figure(9.0, 3.8)
    spend_ax, kpi_ax = fig.subplots(1, 2, width_ratios=[2.2, 1])
    where = np.arange(len(plan.channels))
    width = 0.4
    spend_ax.bar(where - width / 2, plan.current_spend, width, label="current", color="0.65")
    spend_ax.bar(where + width / 2, plan.optimal_spend, width, label="optimal", color="C0")
    spend_ax.set_xticks(where, plan.channels, rotation=30 if len(where) > 5 else 0)
    spend_ax.set_ylabel("spend over the window")
    spend_ax.set_title("Spend per channel")
    spend_ax.legend(fontsize=8)
    level = f"{1 - plan.alpha:.0%}"
    for i, (name, s, colour) in enumerate(
        (("current", plan.kpi_current, "0.45"), ("optimal", plan.kpi_optimal, "C0"))
    ):
        kpi_ax.errorbar(
            [i],
            [s.mean],
            yerr=[[s.mean - s.low], [s.high - s.mean]],
            fmt="o",
            color=colour,
            capsize=6,
            label=name,
        )
    kpi_ax.set_xticks([0, 1], ["current", "optimal"])
    kpi_ax.set_xlim(-0.6, 1.6)
    kpi_ax.set_ylabel("incremental KPI")
    u = plan.uplift
    kpi_ax.set_title(
        f"Expected KPI ({level} interval)\nuplift {u.mean:,.4g} [{u.low:,.4g}, {u.high:,.4g}]",
        fontsize=9,
    )
    return fig

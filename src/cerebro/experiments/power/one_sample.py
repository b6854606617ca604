"""`power --test one-sample`: the plan of a one-sample test of a mean against a known value.

One group of n units; the effect `mde` is mean − baseline, the power that of the one-sample t
test (noncentral t, n − 1 df, noncentrality d√n; = statsmodels `TTestPower`, R `pwr.t.test(type =
"one.sample")`) or, with ``formula normal``, of the z test with a known standard deviation.
"""

from __future__ import annotations

import math

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Columns, Estimate, Finding, Result
from cerebro.experiments.power.analysis import (
    PowerSpec,
    _no_mde_message,
    _Problem,
    _test_words,
    power_words,
    round_up,
)

FORMULAS = {
    "t": "Student's one-sample t-test, noncentral t with n − 1 df (statsmodels TTestPower)",
    "normal": "one-sample z-test with a known standard deviation (normal approximation)",
}


def _solve(spec: PowerSpec, problem: _Problem) -> tuple[float, int, float, float]:
    """(exact n, whole n, effect, power) with the one quantity not given solved for."""
    target = spec.target_power
    if spec.solve_for == "sample_size":
        diff = spec.absolute_mde
        n_exact = problem.sample_size(diff, target)
        n = round_up(n_exact)
        return n_exact, n, diff, float(problem.power(n, diff))
    assert spec.n is not None
    if spec.solve_for == "mde":
        diff = problem.mde(spec.n, target)
        if not math.isfinite(diff):
            raise UserInputError(_no_mde_message(spec))
        return float(spec.n), spec.n, diff, target
    diff = spec.absolute_mde
    return float(spec.n), spec.n, diff, float(problem.power(spec.n, diff))


def _answer(spec: PowerSpec, n: int, diff: float, power: float, days: int | None) -> str:
    """The plan in one sentence."""
    assert spec.sd is not None
    effect = f"a mean {'above' if diff > 0 else 'below'} the known value by {abs(diff):.4g} (sd {spec.sd:.4g})"
    test = _test_words(spec)
    duration = (
        f" At {spec.daily_traffic:,.0f} units a day that takes {days:,} days." if days else ""
    )
    if spec.solve_for == "sample_size":
        return (
            f"To detect {effect} with {power_words(spec.target_power)} power at {test}, you need "
            f"{n:,} units." + duration
        )
    if spec.solve_for == "mde":
        return (
            f"With {n:,} units, the smallest shift of the mean detected with "
            f"{power_words(spec.target_power)} power at {test} is {abs(diff):.4g}." + duration
        )
    return f"With {n:,} units, a test at {test} detects {effect} with {power:.1%} power." + duration


def _curve(spec: PowerSpec, problem: _Problem, n_exact: float, diff: float) -> Columns:
    """~20 points of power against n (or against the effect when the MDE is solved for)."""
    if spec.solve_for == "mde":
        grid = np.linspace(abs(diff) / 20, 2 * abs(diff), 20) * np.sign(diff)
        return {"mde": grid, "power": np.asarray(problem.power(n_exact, grid), float)}
    grid = np.unique(np.maximum(np.ceil(np.linspace(0.1, 2.0, 20) * n_exact), 2.0))
    return {"n": grid.astype(int), "power": np.asarray(problem.power(grid, diff), float)}


def one_sample_power(spec: PowerSpec) -> Result:
    """Sample size, detectable shift or power of a one-sample test of a mean."""
    problem = _Problem(spec, cuped=False)
    n_exact, n, diff, power = _solve(spec, problem)
    days = math.ceil(n / spec.daily_traffic) if spec.daily_traffic else None
    solved = spec.solve_for
    estimates = [
        Estimate("sample size", n, extra={"exact": n_exact, "solved": solved == "sample_size"}),
        Estimate("mde", diff, extra={"scale": "absolute", "solved": solved == "mde"}),
        Estimate("power", power, extra={"solved": solved == "power"}),
        Estimate("alpha", spec.alpha),
    ]
    if days is not None:
        estimates.append(Estimate("duration days", days))
    how = f"Power formula: {FORMULAS[spec.chosen_formula]}"
    if solved == "sample_size":
        how += f"; the sample size solves the power equation exactly ({n_exact:,.2f}) and is rounded up"
    findings = [
        Finding("info", "formula", how + "."),
        Finding("info", "answer", _answer(spec, n, diff, power, days)),
    ]
    plan: Columns = {"n": [n], "mde": [diff], "power": [power]}
    if days is not None:
        plan["days"] = [days]
    what = {"sample_size": "sample size", "mde": "minimum detectable effect", "power": "power"}
    return Result(
        kind="power",
        method="one_sample",
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"plan": plan, "power_curve": _curve(spec, problem, n_exact, diff)},
        summary={
            "headline_table": "plan",
            "title": f"Power analysis: {what[solved]} (one-sample, {spec.chosen_formula})",
            "solve_for": solved,
            "formula": spec.chosen_formula,
            "alpha": spec.alpha,
            "target_power": None if solved == "power" else spec.target_power,
            "arms": 1,
        },
    )

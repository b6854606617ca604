"""`survival`: causal survival curves (runner, result, plot, registration).

Survival under "everybody treated" and "nobody treated" at every period, their difference at a
horizon with a bootstrap interval, and the IP-weighted hazard ratio (`hazards`: the pooled
logistic construction of Hernán & Robins, *What If*, ch. 17); or, for randomised data,
Kaplan–Meier curves and the log-rank test (`kaplan_meier`). Estimand: S^{a}(k) = Pr[T^{a} > k],
the counterfactual survival through period k; in marketing, the share of customers not yet
churned (or not yet converted) k periods after the campaign, had everybody or nobody been
targeted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.load import load_table, require_columns
from cerebro.survival.spec import SurvivalSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.survival.data import SurvivalData

METHOD_NAMES = {
    "ipw": "IP-weighted pooled logistic hazards (stabilised weights)",
    "gformula": "parametric g-formula (standardised pooled logistic hazards)",
    "km": "Kaplan–Meier and log-rank",
}


def _frame(spec: SurvivalSpec, data: pd.DataFrame | None) -> pd.DataFrame:
    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        return load_table(spec.data, spec.columns())
    require_columns([str(c) for c in data.columns], spec.columns(), "the data")
    return data


def _horizon(spec: SurvivalSpec, data: SurvivalData) -> tuple[int, int]:
    """(K, H): the last period of follow-up and the horizon (default K)."""
    K = int(data.time.max())
    H = K if spec.horizon is None else spec.horizon
    if H > K:
        raise UserInputError(
            f"--horizon {H} is after the last period of follow-up ({K}); give a horizon ≤ {K}."
        )
    return K, H


def run_survival(spec: SurvivalSpec, data: pd.DataFrame | None = None) -> Result:
    """The `survival` runner every face calls."""
    from cerebro.survival.data import prepare

    units = prepare(_frame(spec, data), spec)
    K, H = _horizon(spec, units)
    if spec.method == "km":
        from cerebro.survival.km_result import km_result

        return km_result(spec, units, K, H)
    return _hazards_result(spec, units, K, H)


def _hazards_result(spec: SurvivalSpec, units: SurvivalData, K: int, H: int) -> Result:
    """Curves, estimates, findings and tables of the ipw and gformula methods."""
    from cerebro.survival.hazards import gformula_curves, ipw_curves
    from cerebro.survival.inference import bootstrap_curves

    fit = ipw_curves if spec.method == "ipw" else gformula_curves
    curves = fit(units, K)
    boot = bootstrap_curves(units, fit, K, spec.bootstrap, spec.seed) if spec.bootstrap else None
    control, treated = units.arms
    values = [curves.s0[H], curves.s1[H], curves.difference[H]]
    labels = [f"survival at {H} under {spec.treatment} = {control}",
              f"survival at {H} under {spec.treatment} = {treated}",
              f"survival difference at {H} (treated − control)"]  # fmt: skip
    keys = ["survival_control", "survival_treated", "difference"]
    draws = None if boot is None else [boot[0][:, H], boot[1][:, H], boot[1][:, H] - boot[0][:, H]]
    estimates = []
    for i, (label, value, key) in enumerate(zip(labels, values, keys, strict=True)):
        estimates.append(_estimate(label, float(value), key, None if draws is None else draws[i],
                                   spec.alpha))  # fmt: skip
    if curves.hazard_ratio is not None:
        log_draws = None if boot is None else np.log(boot[2])
        hr = _estimate("hazard ratio (IP-weighted, treated / control)",
                       float(np.log(curves.hazard_ratio)), "hazard_ratio", log_draws,
                       spec.alpha)  # fmt: skip
        hr.value, hr.se = float(np.exp(hr.value)), None
        hr.ci_low = None if hr.ci_low is None else float(np.exp(hr.ci_low))
        hr.ci_high = None if hr.ci_high is None else float(np.exp(hr.ci_high))
        estimates.append(hr)
    tables = {"curves": _curve_table(curves.s0, curves.s1, boot, spec.alpha)}
    findings = [*units.findings, *_findings(spec, units, curves, K, H)]
    return _result(spec, units, estimates, findings, tables, K, H)


def _estimate(label: str, value: float, key: str, draws: np.ndarray | None,
              alpha: float) -> Estimate:  # fmt: skip
    """A point estimate, with percentile bootstrap limits, bootstrap SE and (for the
    difference) a normal-approximation p when there are replicates."""
    from cerebro.stats.intervals import interval_from

    if draws is None:
        return Estimate(label, value, key=key)
    se, low, high, p = interval_from(value, 0.0, alpha, draws)
    return Estimate(label, value, se, low, high, p if key == "difference" else None, key=key)


def _curve_table(s0: np.ndarray, s1: np.ndarray, boot: Any, alpha: float) -> dict[str, Any]:
    """Period, each arm's survival and their difference, with pointwise bootstrap bands."""
    from cerebro.stats.intervals import equal_tailed

    table: dict[str, Any] = {"period": np.arange(len(s0)), "survival_control": s0,
                             "survival_treated": s1, "difference": s1 - s0}  # fmt: skip
    if boot is not None:
        for name, draws in (
            ("control", boot[0]),
            ("treated", boot[1]),
            ("difference", boot[1] - boot[0]),
        ):
            low, high = equal_tailed(draws, alpha)
            prefix = name if name == "difference" else f"survival_{name}"
            table[f"{prefix}_low"], table[f"{prefix}_high"] = low, high
    return table


def _findings(
    spec: SurvivalSpec, units: SurvivalData, curves: Any, K: int, H: int
) -> list[Finding]:
    out = [Finding("info", "assumptions",
        "causal reading assumes exchangeability given the confounders, positivity, consistency, "
        "censoring unrelated to the event given " + ("treatment" if spec.method == "ipw" else
        "treatment and confounders") + ", and correctly specified models (hazards with t, t² "
        "and treatment × time terms).")]  # fmt: skip
    if curves.weights is not None:
        w = curves.weights
        level = "warning" if w.max() > 20 else "info"
        out.append(Finding(level, "weights", f"stabilised IP weights: mean {w.mean():.3f}, range "
                           f"{w.min():.3g} to {w.max():.3g}"
                           + ("; some units weigh very heavily (near-violations of positivity)."
                              if level == "warning" else ".")))  # fmt: skip
    if not spec.confounders:
        out.append(Finding("warning", "no_confounders", "no --confounders: the curves compare "
                           "the arms as observed, which is causal only if treatment was "
                           "randomised."))  # fmt: skip
    worst = int(np.argmax(np.abs(curves.difference[: H + 1])))
    out.append(Finding("info", "largest_difference", f"the largest survival difference up to "
                       f"period {H} is {curves.difference[worst]:+.4f}, at period {worst}."))  # fmt: skip
    return out


def _result(spec: SurvivalSpec, units: SurvivalData, estimates: list[Estimate],
            findings: list[Finding], tables: dict[str, Any], K: int, H: int) -> Result:  # fmt: skip
    control, treated = (e.value for e in estimates[:2])
    return Result(
        kind="survival",
        method=spec.method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "title": f"Survival by {spec.treatment}: {METHOD_NAMES[spec.method]}",
            "narrative": (
                f"At period {H}, survival is {treated:.1%} in the treated arm and {control:.1%} "
                f"in the control arm ({treated - control:+.1%}), as observed."
                if spec.method == "km"
                else f"At period {H}, survival is {treated:.1%} if every unit is treated and "
                f"{control:.1%} if none is ({treated - control:+.1%})."
            ),
            "alpha": spec.alpha,
            "units": units.n,
            "events": int(units.event.sum()),
            "last_period": K,
            "horizon": H,
        },
    )


survival = python_face(
    SurvivalSpec,
    run_survival,
    name="survival",
    summary="Causal survival curves: IP-weighted or g-formula pooled logistic hazards, or "
    "Kaplan–Meier and log-rank, with the difference at a horizon.",
    example="""
    >>> res = survival(df, time="months", event="churned", treatment="campaign",
    ...                confounders=["tenure", "C(plan)"], method="ipw", horizon=12)
    """,
)


def plot(result: Result) -> Any:
    """Both arms' survival curves (with bootstrap bands when present) and their difference."""
    from cerebro.core.figure import new_figure

    rows = result.tables.columns("curves")
    t = np.asarray(rows["period"])
    fig = new_figure(11, 4)
    left, right = fig.subplots(1, 2)
    step = "post" if result.method == "km" else None
    for arm, color in (("control", "tab:blue"), ("treated", "tab:red")):
        y = np.asarray(rows[f"survival_{arm}"], float)
        if step:
            left.step(t, y, where="post", color=color, label=arm)
        else:
            left.plot(t, y, color=color, label=arm)
        if f"survival_{arm}_low" in rows:
            left.fill_between(t, rows[f"survival_{arm}_low"], rows[f"survival_{arm}_high"],
                              color=color, alpha=0.15, step=step)  # fmt: skip
    left.set_xlabel("period")
    left.set_ylabel("survival")
    left.legend(loc="best", fontsize=8)
    right.plot(t, rows["difference"], color="black")
    if "difference_low" in rows:
        right.fill_between(t, rows["difference_low"], rows["difference_high"], color="0.8")
    right.axhline(0, color="black", linewidth=0.6)
    right.set_xlabel("period")
    right.set_ylabel("survival difference (treated − control)")
    fig.suptitle(result.summary.get("title", "Survival"), fontsize=10)
    return fig


register(
    Method(
        kind="survival",
        spec_type=SurvivalSpec,
        run=run_survival,
        summary="Causal survival curves: IP-weighted or g-formula pooled logistic hazards, or "
        "Kaplan–Meier and log-rank; difference at a horizon with bootstrap CI, hazard ratio.",
        plot="cerebro.survival.analysis:plot",
        example="cerebro.survival.synthetic:example",
    )
)

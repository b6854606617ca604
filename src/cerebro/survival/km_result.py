"""The `survival --method km` result: Kaplan–Meier survival of each arm at the horizon, their
difference (Greenwood variances) and the log-rank test – a comparison that is causal only when
treatment was randomised (What If §17.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.results import Estimate, Finding, Result
from cerebro.stats.intervals import normal_interval
from cerebro.survival.kaplan_meier import kaplan_meier, log_rank

if TYPE_CHECKING:
    from cerebro.survival.data import SurvivalData
    from cerebro.survival.spec import SurvivalSpec


def km_result(spec: SurvivalSpec, units: SurvivalData, K: int, H: int) -> Result:
    from cerebro.survival.analysis import _result

    arms = [kaplan_meier(units.time[units.a == a], units.event[units.a == a], K) for a in (0, 1)]
    estimates = []
    for a, (curve, label) in enumerate(zip(arms, units.arms, strict=True)):
        low, high = curve.interval(H, spec.alpha)
        estimates.append(Estimate(f"survival at {H} under {spec.treatment} = {label}",
                                  float(curve.survival[H]), float(np.sqrt(curve.variance[H])),
                                  low, high, key=("survival_control", "survival_treated")[a]))  # fmt: skip
    diff = float(arms[1].survival[H] - arms[0].survival[H])
    se = float(np.sqrt(arms[0].variance[H] + arms[1].variance[H]))
    low, high, p = normal_interval(diff, se, spec.alpha)
    estimates.append(Estimate(f"survival difference at {H} (treated − control)", diff, se, low,
                              high, p, key="difference"))  # fmt: skip
    chi2, p_lr, observed, expected = log_rank(units.time, units.event, units.a, K)
    estimates.append(Estimate("log-rank χ² (1 df, whole follow-up)", chi2, None, None, None, p_lr,
                              {"observed_treated": observed, "expected_treated": expected},
                              key="log_rank"))  # fmt: skip
    table = {"period": np.arange(K + 1)}
    for name, curve in zip(("control", "treated"), arms, strict=True):
        table[f"survival_{name}"] = curve.survival
        table[f"at_risk_{name}"] = curve.at_risk
        table[f"events_{name}"] = curve.events
    table["difference"] = arms[1].survival - arms[0].survival
    findings = [*units.findings, Finding("info", "randomised",
        "Kaplan–Meier curves and the log-rank test compare the arms as observed: causal only if "
        "treatment was randomised (otherwise use --method ipw or gformula with --confounders); "
        "censoring is assumed unrelated to the event within each arm.")]  # fmt: skip
    return _result(spec, units, estimates, findings, {"curves": table}, K, H)

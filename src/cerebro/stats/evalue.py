"""E-values (VanderWeele & Ding 2017, "Sensitivity analysis in observational research:
introducing the E-value", Annals of Internal Medicine 167(4)).

The E-value of a risk ratio RR > 1 is RR + √(RR·(RR − 1)): the smallest strength, on the risk-ratio
scale, that an unmeasured confounder would need with both the treatment and the outcome (given
the measured covariates) to move the true risk ratio to 1; a risk ratio below 1 is inverted
first. The E-value of the interval is that of the limit closer to 1, and 1 when the interval
contains 1. Other measures are converted to the risk-ratio scale first (their Table 2):

- odds ratio, rare outcome (< 15% at the end of follow-up): RR ≈ OR; common outcome: RR ≈ √OR;
- hazard ratio, rare outcome: RR ≈ HR; common: RR ≈ (1 − 0.5^√HR)/(1 − 0.5^√(1/HR));
- standardised mean difference d of a continuous outcome: RR ≈ exp(0.91·d) (and its limits).

`true` moves the target from 1 to another risk ratio (VanderWeele & Ding's "E-value for a
non-null true value"): the E-value of RR/true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEASURES = ("rr", "or", "hr", "smd")


def to_risk_ratio(value: float, measure: str, common: bool = False) -> float:
    """`value` of `measure` (rr, or, hr, smd) as an approximate risk ratio."""
    if measure == "rr":
        return value
    if measure == "or":
        return float(np.sqrt(value)) if common else value
    if measure == "hr":
        if not common:
            return value
        return float((1 - 0.5 ** np.sqrt(value)) / (1 - 0.5 ** np.sqrt(1 / value)))
    if measure == "smd":
        return float(np.exp(0.91 * value))
    raise ValueError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")


def evalue_of_rr(rr: float, true: float = 1.0) -> float:
    """E-value of a risk ratio point estimate for moving it to `true`."""
    ratio = rr / true
    if ratio < 1:
        ratio = 1 / ratio
    return float(ratio + np.sqrt(ratio * (ratio - 1)))


@dataclass(frozen=True)
class EValue:
    """The risk ratio an estimate stands for, its E-value and that of its confidence limit."""

    measure: str
    estimate: float
    risk_ratio: float
    evalue: float
    limit: float | None  # the interval limit closer to `true`, on the measure's scale
    limit_rr: float | None
    evalue_limit: float | None


def evalue(estimate: float, measure: str = "rr", ci: tuple[float, float] | None = None,
           common: bool = False, true: float = 1.0) -> EValue:  # fmt: skip
    """E-value of `estimate` (a risk, odds or hazard ratio, or a standardised mean difference)
    and of its interval's limit closer to the null; 1 for a limit on the other side."""
    rr = to_risk_ratio(estimate, measure, common)
    point = evalue_of_rr(rr, true)
    if ci is None:
        return EValue(measure, estimate, rr, point, None, None, None)
    low, high = sorted(ci)
    if not low <= estimate <= high:
        raise ValueError(f"the estimate {estimate:g} lies outside its interval [{low:g}, {high:g}]")
    rr_low, rr_high = (to_risk_ratio(v, measure, common) for v in (low, high))
    if rr >= true:
        limit, limit_rr = low, rr_low
        crossed = rr_low <= true
    else:
        limit, limit_rr = high, rr_high
        crossed = rr_high >= true
    e_limit = 1.0 if crossed else evalue_of_rr(limit_rr, true)
    return EValue(measure, estimate, rr, point, limit, limit_rr, e_limit)

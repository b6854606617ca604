"""Checks of an adjustment method's own numbers, after it has computed them."""

from __future__ import annotations

from cerebro.core.results import Estimate
from cerebro.data.validate import require_finite_result


def require_finite_estimates(estimates: list[Estimate], method: str) -> None:
    """Refuse estimates, SEs, limits or p-values that came out NaN or infinite, so that a
    diverged fit is an error with a reason rather than a blank table (adjustment methods)."""
    for est in estimates:
        numbers = [est.value, est.ci_low, est.ci_high]
        numbers += [x for x in (est.se, est.p_value) if x is not None]
        require_finite_result(
            numbers,
            f"the {method} estimate {est.label!r} (value, SE, limits, p)",
            "a model diverged – look for extreme or nearly constant values in the outcome and "
            "confounders, thin overlap (try --trim crump), or use fewer confounder terms.",
        )

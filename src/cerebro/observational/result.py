"""The `Result` every causal method returns: one constructor so each estimator only says what
differs (its tables, title, narrative and extra summary fields)."""

from __future__ import annotations

from typing import Any

from cerebro.core.results import Estimate, Finding, Result
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


def causal_result(
    spec: Any,
    estimates: list[Estimate],
    findings: list[Finding],
    tables: dict[str, Any],
    *,
    title: str,
    narrative: str,
    units: int,
    **summary: Any,
) -> Result:
    """A `kind: causal` result whose headline table is `effects`."""
    return Result(
        kind="causal",
        method=spec.method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "headline_table": "effects",
            "title": title,
            "narrative": narrative,
            "units": units,
            "alpha": spec.alpha,
            **summary,
        },
    )

"""The `Result` every causal method returns: one constructor so each estimator only says what
differs (its tables, title, narrative and extra summary fields)."""

from __future__ import annotations

from typing import Any

from cerebro.core.results import Estimate, Finding, Result


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

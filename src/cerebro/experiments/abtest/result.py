"""The one shape every A/B analysis (frequentist, Bayesian, sequential) returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cerebro.core.results import Columns, Estimate, Finding, Result
from cerebro.experiments.abtest.spec import ABTestSpec


def columns_from_rows(rows: list[dict[str, Any]]) -> Columns:
    """Records → columns, keeping the first-seen key order; a missing key is None."""
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {k: [row.get(k) for row in rows] for k in names}


def comparison_result(
    spec: ABTestSpec,
    method: str,
    title: str,
    estimates: list[Estimate],
    findings: list[Finding],
    rows: list[dict[str, Any]],
    shown: Sequence[str],
    narrative: list[str],
    extra_tables: dict[str, list[dict[str, Any]]] | None = None,
    **summary: Any,
) -> Result:
    """`comparisons` (the `shown` columns present) as the headline, every column in `details`."""
    table = columns_from_rows(rows)
    tables: dict[str, Columns] = {
        "comparisons": {k: table[k] for k in shown if k in table},
        "details": table,
    }
    tables.update({name: columns_from_rows(r) for name, r in (extra_tables or {}).items()})
    return Result(
        kind="abtest",
        method=method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "headline_table": "comparisons",
            "title": title,
            **summary,
            "narrative": "\n".join(narrative),
        },
    )

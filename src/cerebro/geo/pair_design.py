"""The result of a matched-market design request (`market_pairs.py`): proposed pairs, the geo
proposed for treatment in each, and the balance of the proposal."""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.results import Estimate, Finding, Result
from cerebro.geo.lift_spec import GeoTestSpec
from cerebro.geo.market_pairs import balance, propose_pairs
from cerebro.geo.panel import geo_panel


def propose_design(spec: GeoTestSpec, frame: Any, findings: list[Finding]) -> Result:
    """Matched pairs on the matching variables and the outcome's series, with their balance."""
    assert spec.geo_column is not None and spec.outcome is not None
    panel = geo_panel(
        frame, spec.geo_column, spec.date_column, spec.outcome,
        covariates=spec.matching_vars, findings=findings,
    )  # fmt: skip
    pairs, treated, left_out = propose_pairs(panel.geos, panel.Y, panel.covariates, spec.seed)
    control = ~treated
    if left_out is not None:
        control[panel.geos.index(left_out)] = False
        findings.append(
            Finding(
                "info",
                "left_out",
                f"{len(panel.geos)} geos make no whole number of pairs: {left_out!r}, the geo "
                "least like any other, is left out.",
            )
        )
    rows = balance(panel.Y, panel.covariates, treated, control, spec.outcome)
    worst = max(rows, key=lambda r: abs(r["smd"]))
    findings.append(
        Finding(
            "warning" if abs(worst["smd"]) >= 0.1 else "info",
            "balance",
            f"largest standardised difference between the proposed treatment and control geos: "
            f"{worst['variable']} {worst['smd']:+.3f}"
            + (
                " (|SMD| ≥ 0.1: re-draw with another --seed or add --matching-vars)"
                if abs(worst["smd"]) >= 0.1
                else " (balanced: every |SMD| < 0.1)"
            ),
        )
    )
    findings.append(
        Finding(
            "info",
            "design",
            f"a design, not a test: {len(pairs)} matched pairs on "
            f"{', '.join([spec.outcome, *spec.matching_vars])}; run the test, then analyse it "
            f"with --treatment-geos {','.join(p['treatment'] for p in pairs)} and "
            "--treatment-start.",
        )
    )
    estimates = [
        Estimate(
            f"SMD {r['variable']}", r["smd"], extra={"measure": "standardised mean difference"}
        )
        for r in rows
    ]
    estimates.append(
        Estimate(
            "mean pair correlation",
            float(np.mean([p["correlation"] for p in pairs])),
            extra={"measure": "Pearson correlation of the pairs' outcome series"},
        )
    )
    return Result(
        kind="geotest",
        method="matched_markets",
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"pairs": _columns(pairs), "balance": _columns(rows)},
        summary={
            "title": f"Geo test design: {len(pairs)} matched market pairs ({spec.outcome})",
            "headline_table": "pairs",
            "alpha": spec.alpha,
            "n_geos": len(panel.geos),
            "design": True,
        },
    )


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {k: [r[k] for r in rows] for k in rows[0]}

"""The `Result` every causal method returns: one constructor so each estimator only says what
differs (its tables, title, narrative and extra summary fields)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from cerebro.core.results import Estimate, Finding, Result


def normal_interval(value: Any, se: Any, alpha: float, crit: float | None = None) -> tuple:
    """(low, high, two-sided p) of value ± z·se, z the (1 − alpha/2) normal quantile or `crit`;
    p is NaN where se ≤ 0. Scalars give floats, arrays work elementwise."""
    z = special.ndtri(1 - alpha / 2) if crit is None else crit
    value, se = np.asarray(value, float), np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * special.ndtr(-np.abs(value) / se), np.nan)
    low, high = value - z * se, value + z * se
    if low.ndim == 0:
        return float(low), float(high), float(p)
    return low, high, p


def interval_from(
    value: float, se: float, alpha: float, replicates: np.ndarray | None = None
) -> tuple[float, float, float, float]:
    """(SE, CI low, CI high, p): analytic, or from bootstrap replicates (their SD and
    percentile limits; p from the normal approximation with the bootstrap SE)."""
    if replicates is None:
        return (se, *normal_interval(value, se, alpha))
    se_boot = float(np.std(replicates, ddof=1))
    low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return se_boot, float(low), float(high), normal_interval(value, se_boot, alpha)[2]


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

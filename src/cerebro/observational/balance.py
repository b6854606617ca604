"""Covariate balance before and after weighting: standardised mean differences, variance ratios.

SMD = (mean_treated − mean_control) / √((s²_treated + s²_control)/2), with the denominator from
the unweighted sample in both columns so that before and after are on one scale (Austin &
Stuart 2015, "Moving towards best practice when using inverse probability of treatment
weighting", Stat Med 34). |SMD| < 0.1 is the usual mark of balance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.results import Finding
from cerebro.observational.data import CausalData


def _moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = (w[:, None] * x).sum(axis=0) / w.sum()
    var = (w[:, None] * (x - mean) ** 2).sum(axis=0) / w.sum()
    return mean, var


def balance_table(
    data: CausalData, weights: np.ndarray | None, arm: int = 1
) -> dict[str, list[Any]]:
    """SMD and variance ratio of every confounder term, `arm` against the reference arm 0,
    unweighted and with `weights`."""
    treated, control = data.a == arm, data.a == 0
    x = data.X
    ones = np.ones(len(data.y))
    m1, v1 = _moments(x[treated], ones[treated])
    m0, v0 = _moments(x[control], ones[control])
    scale = np.sqrt((v1 + v0) / 2)
    table: dict[str, list[Any]] = {
        "confounder": list(data.names),
        "mean_treated": m1.tolist(),
        "mean_control": m0.tolist(),
        "smd_before": ((m1 - m0) / scale).tolist(),
        "variance_ratio_before": (v1 / v0).tolist(),
    }
    if weights is not None:
        w1m, w1v = _moments(x[treated], weights[treated])
        w0m, w0v = _moments(x[control], weights[control])
        table["smd_after"] = ((w1m - w0m) / scale).tolist()
        table["variance_ratio_after"] = (w1v / w0v).tolist()
    return table


def balance_finding(table: dict[str, list[Any]], after: str) -> Finding:
    """The largest |SMD| after adjustment (< 0.1 counts as balanced) and before it."""
    if not table["smd_after"]:  # an empty adjustment set (a graph whose back-door set is empty)
        return Finding("info", "balance", "no confounders to balance: the adjustment set is empty.")
    worst = float(np.max(np.abs(table["smd_after"])))
    return Finding(
        "info" if worst < 0.1 else "warning",
        "balance",
        f"largest |SMD| after {after}: {worst:.3f} "
        f"({'balanced' if worst < 0.1 else 'some confounders stay imbalanced'}; before: "
        f"{np.max(np.abs(table['smd_before'])):.3f}).",
    )


def love_plot(result: Any):
    """|SMD| of every confounder before and after weighting, with the 0.1 mark."""
    from cerebro.core.figure import new_figure

    table = result.tables.columns("balance")
    names = table["confounder"]
    fig = new_figure(6.5, 1.2 + 0.3 * max(len(names), 1))
    love_axes(fig.add_subplot(), result)
    return fig


def love_axes(ax: Any, result: Any) -> None:
    """The love plot of `love_plot` drawn on `ax` (for figures with more than one panel)."""
    table = result.tables.columns("balance")
    names = table["confounder"]
    rows = range(len(names))
    ax.plot(np.abs(table["smd_before"]), rows, "o", color="C3", label="before")
    if "smd_after" in table:
        ax.plot(np.abs(table["smd_after"]), rows, "o", color="C0", label="after weighting")
    ax.axvline(0.1, color="grey", ls="--", lw=0.8)
    ax.set_yticks(list(rows), names)
    ax.set_xlabel("|standardised mean difference| (treated vs control)")
    ax.set_title(result.summary.get("title", "balance"), fontsize=9)
    ax.legend(fontsize=8)

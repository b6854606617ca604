"""The figure of a sensitivity result, drawn from the result alone (also after JSON).

- regression: sensemakr's contour plot – the bias-adjusted estimate over the confounder's
  partial R² with the treatment (x) and with the outcome (y), the zero contour dashed red, the
  benchmarks' and the asked strength's points;
- aipw / dml: the same contours of the lower bound over (Cf_D, Cf_Y);
- psm: the upper bound of the signed-rank p-value against Γ, with alpha;
- evalue: the pairs of confounder risk ratios (with treatment, with outcome) that explain the
  estimate away, the E-value where both are equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _contour(ax: Any, grid: np.ndarray, values: np.ndarray, zero_label: str) -> None:
    # levels from the estimate down to as far below zero as it is above (beyond, the contours
    # pile up against R²_D → 1 and say nothing)
    top = float(values.max())
    levels = np.unique(np.round(np.linspace(max(float(values.min()), -top), top, 9), 6))
    lines = ax.contour(grid, grid, values, levels=levels, colors="grey", linewidths=0.7)
    ax.clabel(lines, fontsize=7, fmt="%.3g")
    if values.min() < 0 < values.max():
        ax.contour(grid, grid, values, levels=[0], colors="C3", linestyles="--", linewidths=1.2)
        ax.plot([], [], "--", color="C3", label=zero_label)


def _points(ax: Any, result: Any, x: str, y: str, value: str) -> None:
    if "bounds" not in result.tables:
        return
    table = result.tables.columns("bounds")
    labels = table.get("confounder") or [
        f"{a:g}, {b:g}" for a, b in zip(table[x], table[y], strict=True)
    ]
    for label, px, py, v in zip(labels, table[x], table[y], table[value], strict=True):
        ax.plot(px, py, "D", color="C0", ms=5)
        ax.annotate(f"{label}\n({v:.3g})", (px, py), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")  # fmt: skip


def sensitivity_plot(result: Any) -> Any:
    from cerebro.core.figure import new_figure

    fig = new_figure(6.0, 5.0)
    ax = fig.add_subplot()
    s = result.summary
    if result.method == "regression":
        est, se, dof = s["plot_estimate"], s["plot_se_classical"], s["plot_dof"]
        top = max(0.4, *_maxima(result, "r2dz_x", "r2yz_dx"))
        grid = np.linspace(0, min(top * 1.1, 0.99), 80)
        D, Y = np.meshgrid(grid, grid)
        values = est - np.sign(est) * se * np.sqrt(dof) * np.sqrt(Y * D / (1 - D))
        _contour(ax, grid, values, "adjusted estimate = 0")
        _points(ax, result, "r2dz_x", "r2yz_dx", "estimate")
        ax.set_xlabel("partial R² of the confounder with the treatment")
        ax.set_ylabel("partial R² of the confounder with the outcome")
    elif result.method in ("aipw", "dml"):
        est, sn = s["plot_estimate"], s["plot_sigma_nu"]
        grid = np.linspace(0, min(0.4 if "bounds" not in result.tables else max(0.4, *_maxima(result, "cf_d", "cf_y")) * 1.1, 0.99), 80)  # fmt: skip
        D, Y = np.meshgrid(grid, grid)
        values = est - np.sign(est) * np.sqrt(Y * D / (1 - D)) * sn
        _contour(ax, grid, values, "bound = 0")
        _points(ax, result, "cf_d", "cf_y", "lower")
        ax.set_xlabel("Cf_D: gain in explained variance of the Riesz representer")
        ax.set_ylabel("Cf_Y: gain in explained variance of the outcome")
    elif result.method == "psm":
        table = result.tables.columns("rosenbaum")
        ax.plot(table["gamma"], table["p_upper"], "o-", label="upper bound of the p-value")
        ax.axhline(result.meta.alpha or 0.05, color="C3", ls="--", lw=1, label="alpha")
        ax.set_xscale("log")
        ax.set_xlabel("Γ (hidden bias: odds of treatment within a matched pair or set)")
        ax.set_ylabel("one-sided p-value")
    else:
        _evalue_curve(ax, result)
    import textwrap

    ax.set_title(textwrap.fill(s.get("title", "sensitivity"), 70), fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def _maxima(result: Any, x: str, y: str) -> tuple[float, float]:
    if "bounds" not in result.tables:
        return (0.0, 0.0)
    table = result.tables.columns("bounds")
    return float(max(table[x])), float(max(table[y]))


def _evalue_curve(ax: Any, result: Any) -> None:
    """RR_EU · RR_UD / (RR_EU + RR_UD − 1) = RR: the confounders that explain RR away."""
    table = result.tables.columns("evalue")
    rr = table["risk_ratio"][0]
    rr = rr if rr >= 1 else 1 / rr
    e = result.estimate("evalue").value
    x = np.linspace(rr * 1.0001, max(3 * e, rr + 2), 200)
    y = rr * (x - 1) / (x - rr)  # solves x·y/(x + y − 1) = rr for y
    keep = y <= 3 * e
    ax.plot(x[keep], y[keep], color="C0", label=f"explains away RR = {rr:.3g}")
    ax.plot([e], [e], "D", color="C3", label=f"E-value {e:.3g}")
    ax.set_xlabel("risk ratio of the confounder with the treatment")
    ax.set_ylabel("risk ratio of the confounder with the outcome")

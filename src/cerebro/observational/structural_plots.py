"""Figures of the structural models: the dose-response curve of an MSM with its pointwise band,
the p-value of g-estimation's test at each ψ of the grid, and – for the other MSMs – the
estimates with their intervals."""

from __future__ import annotations

from typing import Any

import numpy as np


def structural_plot(result: Any) -> Any:
    """The figure that shows what the structural model found."""
    from cerebro.core.figure import new_figure

    fig = new_figure(6.5, 4)
    ax = fig.add_subplot()
    names = list(result.tables)
    if "dose_response" in names:
        curve = result.tables.columns("dose_response")
        dose = np.asarray(curve["dose"], float)
        ax.fill_between(dose, curve["ci_low"], curve["ci_high"], color="C0", alpha=0.25,
                        label=f"{1 - result.summary['alpha']:.0%} pointwise band")  # fmt: skip
        ax.plot(dose, curve["mean"], color="C0", label="E[Y^a] (MSM)")
        ax.set_xlabel(f"treatment level ({result.spec.treatment})")
        ax.set_ylabel(f"mean potential {result.spec.outcome}")
    elif "gestimation_grid" in names:
        grid = result.tables.columns("gestimation_grid")
        ax.plot(grid["psi"], grid["p_value"], "o-", ms=3, color="C0")
        ax.axhline(result.summary["alpha"], color="C3", ls="--", lw=0.8, label="alpha")
        est = result.estimates[0]
        ax.axvspan(est.ci_low, est.ci_high, color="C0", alpha=0.15, label="ψ not rejected")
        ax.axvline(est.value, color="k", lw=0.8, label=f"ψ̂ = {est.value:.3g}")
        ax.set_xlabel("ψ")
        ax.set_ylabel("p-value of α(ψ) = 0")
    else:
        rows = range(len(result.estimates))
        for i, est in enumerate(result.estimates):
            ax.plot([est.ci_low, est.ci_high], [i, i], color="C0")
            ax.plot(est.value, i, "o", color="C0")
        ax.set_yticks(list(rows), [est.label for est in result.estimates])
        ax.axvline(1 if "ratio" in str(result.estimates[0].extra.get("measure")) else 0,
                   color="grey", lw=0.8)  # fmt: skip
        ax.set_xlabel("estimate and confidence interval")
    ax.set_title(result.summary.get("title", ""), fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig

"""The figure of a `counterfactual` result: one panel per part – the effect decomposition with
CIs, the NIE against ρ, the what-if predictions by group, the bounds by assumption."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cerebro.core.results import Result


def _decomposition(ax: Any, result: Result) -> None:
    rows = result.tables["mediation"]
    wanted = [e for e in rows["effect"] if "Proportion" not in e]
    rows = rows[rows["effect"].isin(wanted)]
    value = rows["estimate"].to_numpy(float)
    low, high = rows["estimate_ci_low"].to_numpy(float), rows["estimate_ci_high"].to_numpy(float)
    pos = np.arange(len(rows))
    colours = ["tab:blue", "tab:orange", "tab:gray", "tab:olive", "tab:cyan"][: len(rows)]
    ax.bar(pos, value, color=colours, alpha=0.8)
    ax.errorbar(pos, value, yerr=[value - low, high - value], fmt="none", color="black", capsize=4)
    ax.axhline(0, color="black", linewidth=0.6)
    short = [
        e.split(" (")[0].replace("Natural ", "").replace(" effect", "") for e in rows["effect"]
    ]
    ax.set_xticks(pos, short, fontsize=8, rotation=15)
    level = 1 - float(result.summary.get("alpha", 0.05))
    ax.set_ylabel(f"effect on {result.summary.get('outcome', 'outcome')} ({level:.0%} CI)")
    ax.set_title(f"Effect through {result.summary.get('mediator', 'the mediator')}", loc="left",
                 fontsize=9)  # fmt: skip


def _sensitivity(ax: Any, result: Result) -> None:
    table = result.tables["sensitivity"]
    rho = table["rho"].to_numpy(float)
    ax.plot(rho, table["nie"].to_numpy(float), color="tab:orange")
    if "nie_ci_low" in table:
        ax.fill_between(rho, table["nie_ci_low"].to_numpy(float),
                        table["nie_ci_high"].to_numpy(float), color="tab:orange", alpha=0.2)  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.6)
    zero = result.summary.get("rho_nie_zero")
    if zero is not None:
        ax.axvline(float(zero), color="tab:red", linestyle="--", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.6)
    ax.set_xlabel("ρ: correlation of mediator and outcome errors")
    ax.set_ylabel("NIE")
    ax.set_title(f"NIE is zero at ρ = {float(zero):.2f}" if zero is not None else "NIE vs ρ",
                 loc="left", fontsize=9)  # fmt: skip


def _what_if(ax: Any, result: Result) -> None:
    table = result.tables["what_if"]
    pos = np.arange(len(table))
    for shift, name, colour in ((-0.2, "as_observed", "tab:gray"),
                                (0.2, "under_intervention", "tab:blue")):  # fmt: skip
        value = table[name].to_numpy(float)
        low, high = (
            table[f"{name}_ci_low"].to_numpy(float),
            table[f"{name}_ci_high"].to_numpy(float),
        )
        ax.bar(pos + shift, value, width=0.4, color=colour, alpha=0.8, label=name.replace("_", " "))
        ax.errorbar(pos + shift, value, yerr=[value - low, high - value], fmt="none",
                    color="black", capsize=3)  # fmt: skip
    ax.set_xticks(pos, [str(g) for g in table["group"]], fontsize=8)
    ax.legend(fontsize=8, loc="best")
    ax.set_ylabel(f"mean {result.summary.get('outcome', 'outcome')}")
    ax.set_title(f"What if {result.summary.get('what_if', '')}"[:70], loc="left", fontsize=9)


def _bounds(ax: Any, result: Result) -> None:
    table = result.tables["bounds"]
    for k, row in enumerate(table.itertuples()):
        y = len(table) - k
        ax.hlines(y, row.ate_ci_low, row.ate_ci_high, color="tab:gray", linewidth=1)
        ax.hlines(y, row.lower, row.upper, color="tab:blue", linewidth=6)
    naive = table["naive_difference"].to_numpy(float)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.plot(naive, np.arange(len(table), 0, -1), "k|", markersize=12, label="naive difference")
    ax.set_yticks(np.arange(len(table), 0, -1), list(table["assumption"]), fontsize=8)
    ax.set_ylim(0.3, len(table) + 0.7)
    ax.legend(fontsize=8, loc="best")
    ax.set_xlabel("bounds (thick), Imbens–Manski CI (thin)")
    ax.set_title("Bounds on the average effect", loc="left", fontsize=9)


def plot(result: Result) -> Figure:
    """One panel per part the result holds."""
    from cerebro.core.figure import new_figure

    panels = [
        (name, draw)
        for name, draw in (
            ("mediation", _decomposition),
            ("sensitivity", _sensitivity),
            ("what_if", _what_if),
            ("bounds", _bounds),
        )
        if name in result.tables
    ]
    fig = new_figure(max(6.0, 4.6 * len(panels)), 4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (_, draw) in zip(axes, panels, strict=True):
        draw(ax, result)
    fig.suptitle(result.summary.get("title", "Counterfactuals"), fontsize=10)
    return fig

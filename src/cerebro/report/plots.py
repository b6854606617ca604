"""Figures for results: a forest plot of lifts for A/B tests, a power curve for power analyses.

Plots read only a result's tables, so a result restored from JSON plots the same way.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.figure import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cerebro.core.results import Result


def forest_plot(result: Result) -> Figure:
    """The figure of an A/B result: lifts with their intervals (frequentist or Bayesian), or the
    confidence sequences over the looks of a sequential test."""
    if "looks" in result.tables:
        return sequence_plot(result)
    table = result.tables["comparisons"]
    bayesian = "p_beat" in table
    relative = "rel_lift" in table and "rel_lift_ci_low" in table
    if relative:  # relative only when every comparison has one, so that no row goes missing
        relative = bool(
            np.isfinite(
                table[["rel_lift", "rel_lift_ci_low", "rel_lift_ci_high"]].to_numpy(float)
            ).all()
        )
    column = "rel_lift" if relative else "lift"
    rows = table.dropna(subset=[column]).reset_index(drop=True)
    fig = new_figure(7, 0.45 * len(rows) + 1.4)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    scale = 100 if relative else 1
    value = rows[column].to_numpy(float) * scale
    low = rows[f"{column}_ci_low"].to_numpy(float) * scale
    high = rows[f"{column}_ci_high"].to_numpy(float) * scale
    if bayesian:  # blue: ship, red: stop, grey: keep testing
        decision = rows["decision"].astype(str).to_numpy()
        colours = np.where(
            decision == "ship", "tab:blue", np.where(decision == "stop", "tab:red", "tab:gray")
        )
        labels = [
            f"{o}: {v} (P(beat) {p:.0%})"
            for o, v, p in zip(rows["outcome"], rows["variant"], rows["p_beat"], strict=True)
        ]
        level = result.summary.get("credible_level", 0.95)
        interval = f"{level:.0%} credible interval"
    else:
        significant = rows["p_value"].to_numpy(float) < result.summary.get("alpha", 0.05)
        colours = np.where(significant, "tab:blue", "tab:gray")
        # a one-sample result has no variant: one row per outcome
        variants = rows["variant"] if "variant" in rows else [None] * len(rows)
        labels = [
            f"{o}: {v}" if v else str(o) for o, v in zip(rows["outcome"], variants, strict=True)
        ]
        interval = f"{1 - result.summary.get('alpha', 0.05):.0%} CI"
    ax.hlines(
        y,
        np.where(np.isfinite(low), low, value),
        np.where(np.isfinite(high), high, value),
        colors=colours,
    )
    ax.scatter(value, y, c=colours, zorder=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel(
        f"{'relative lift (%)' if relative else 'lift'} vs "
        f"{result.summary.get('control', 'control')}, {interval}"
    )
    ax.set_title(result.summary.get("title", "A/B test"), loc="left", fontsize=10)
    return fig


def sequence_plot(result: Result) -> Figure:
    """Sequential test: the lift and its always-valid confidence sequence at every look, one
    panel per outcome and variant."""
    looks = result.tables["looks"]
    pairs = list(dict.fromkeys(zip(looks["outcome"], looks["variant"], strict=True)))
    decisions = {}
    comparisons = result.tables["comparisons"]
    if "decision" in comparisons:
        for o, v, d in zip(
            comparisons["outcome"], comparisons["variant"], comparisons["decision"], strict=True
        ):
            decisions[(o, v)] = d
    fig = new_figure(7, 2.2 * len(pairs) + 0.8)
    axes = fig.subplots(len(pairs), 1, squeeze=False)[:, 0]
    level = 1 - result.summary.get("alpha", 0.05)
    for ax, (outcome, variant) in zip(axes, pairs, strict=True):
        part = looks[(looks["outcome"] == outcome) & (looks["variant"] == variant)]
        x = part["look"].to_numpy(float)
        ax.fill_between(
            x,
            part["cs_low"].to_numpy(float),
            part["cs_high"].to_numpy(float),
            color="tab:blue",
            alpha=0.25,
            linewidth=0,
            label=f"{level:.0%} confidence sequence",
        )
        ax.plot(x, part["lift"].to_numpy(float), color="tab:blue", marker="o", markersize=3)
        ax.axhline(0, color="black", linewidth=0.8)
        decision = decisions.get((outcome, variant))
        ax.set_title(
            f"{outcome}: {variant}" + (f" — {decision}" if decision else ""), loc="left", fontsize=9
        )
        ax.set_ylabel("lift")
    spec = result.spec
    time = spec.get("time_column") if isinstance(spec, dict) else getattr(spec, "time_column", None)
    axes[-1].set_xlabel(f"look ({time or 'time'})")
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(loc="upper right", fontsize=8, frameon=False)
    fig.suptitle(result.summary.get("title", "Sequential A/B test"), x=0.01, ha="left", fontsize=10)
    return fig


def power_curve_plot(result: Result) -> Figure:
    """Power against the quantity the power curve varies."""
    table = result.tables["power_curve"]
    x_name = next(c for c in table.columns if c != "power")
    fig = new_figure(6, 4)
    ax = fig.add_subplot()
    ax.plot(table[x_name], table["power"], marker="o", markersize=3)
    target = result.summary.get("target_power")
    if target:
        ax.axhline(target, color="gray", linestyle="--", linewidth=0.8)
    ax.set_xlabel(x_name.replace("_", " "))
    ax.set_ylabel("power")
    ax.set_ylim(0, 1.02)
    ax.set_title(result.summary.get("title", "Power analysis"), loc="left", fontsize=10)
    return fig


def plot_result(result: Result) -> Figure:
    """The figure of a result, drawn by the function its kind registered as `Method.plot`."""
    from importlib import import_module

    from cerebro.core.registry import get_method

    target = get_method(result.kind).plot
    if target is None:
        raise UserInputError(f"there is no plot for {result.kind!r} results yet.")
    module, function = target.split(":")
    return getattr(import_module(module), function)(result)


def save_figure(fig: Figure, path: str | Path) -> None:
    """Save atomically; the format follows the extension (png, svg, pdf)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in {"png", "svg", "pdf"}:
        raise UserInputError(f"cannot save a plot as {path.name!r}; use a .png, .svg or .pdf name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".{suffix}", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format=suffix, dpi=150)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

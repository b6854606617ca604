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
    """Relative lift (absolute where no relative exists) of each variant with its CI."""
    table = result.tables["comparisons"]
    relative = "rel_lift" in table and table["rel_lift"].notna().any()
    column = "rel_lift" if relative else "lift"
    rows = table.dropna(subset=[column]).reset_index(drop=True)
    fig = new_figure(7, 0.45 * len(rows) + 1.4)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    scale = 100 if relative else 1
    value = rows[column].to_numpy(float) * scale
    low = rows[f"{column}_ci_low"].to_numpy(float) * scale
    high = rows[f"{column}_ci_high"].to_numpy(float) * scale
    significant = rows["p_value"].to_numpy(float) < result.summary.get("alpha", 0.05)
    colours = np.where(significant, "tab:blue", "tab:gray")
    ax.hlines(
        y,
        np.where(np.isfinite(low), low, value),
        np.where(np.isfinite(high), high, value),
        colors=colours,
    )
    ax.scatter(value, y, c=colours, zorder=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{o}: {v}" for o, v in zip(rows["outcome"], rows["variant"], strict=True)])
    level = 1 - result.summary.get("alpha", 0.05)
    ax.set_xlabel(
        f"{'relative lift (%)' if relative else 'lift'} vs {result.summary.get('control', 'control')}, {level:.0%} CI"
    )
    ax.set_title(result.summary.get("title", "A/B test"), loc="left", fontsize=10)
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

"""Terminal (rich) and HTML rendering of any `Result`.

A result may name one of its tables as its headline in ``summary["headline_table"]``; that
table is shown instead of the raw estimate list. Findings always follow.
"""

from __future__ import annotations

import html
import io
import math
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from cerebro.core.results import Result

_LEVEL_STYLE = {"info": "cyan", "warning": "yellow", "error": "bold red"}


def format_number(x: Any) -> str:
    """Compact human formatting: 4 significant digits, p-values floored at 1e-4."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if x == 0:
            return "0"
        if abs(x) >= 1e5:
            return f"{x:,.0f}"
        if abs(x) < 1e-3:
            return f"{x:.2e}"
        return f"{x:.4g}"
    return str(x)


def _format_cell(column: str, value: Any) -> str:
    if column.startswith("p_") or column in {"p", "p_value"}:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return "<0.0001" if value < 1e-4 else f"{value:.4f}"
    if column.endswith("%") and isinstance(value, float) and not math.isnan(value):
        return f"{value:+.2f}%"
    return format_number(value)


def headline_frame(result: Result) -> pd.DataFrame:
    name = result.summary.get("headline_table")
    if name and name in result.tables:
        return result.tables[name]
    frame = result.estimates_frame()
    keep = [c for c in ("label", "value", "se", "ci_low", "ci_high", "p_value") if c in frame]
    return frame[keep] if keep else frame


def _rich_table(frame: pd.DataFrame, title: str | None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_format_cell(str(c), v) for c, v in zip(frame.columns, row, strict=True)))
    return table


def title_of(result: Result) -> str:
    return result.summary.get("title") or f"{result.kind} · {result.method}"


def print_result(result: Result, console: Console) -> None:
    console.print(_rich_table(headline_frame(result), title_of(result)))
    for f in result.findings:
        style = _LEVEL_STYLE.get(f.level, "")
        console.print(
            f"[{style}]{f.level}[/{style}] [dim]{f.code}[/dim]: {f.message}", highlight=False
        )


def render_text(result: Result, width: int = 140) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    print_result(result, console)
    return buffer.getvalue()


def render_html(result: Result) -> str:
    frame = headline_frame(result).copy()
    for column in frame.columns:
        frame[column] = [_format_cell(str(column), v) for v in frame[column]]
    items = "".join(
        f"<li><b>{html.escape(f.level)}</b> <code>{html.escape(f.code)}</code>: "
        f"{html.escape(f.message)}</li>"
        for f in result.findings
    )
    return (
        f"<h4>{html.escape(title_of(result))}</h4>"
        + frame.to_html(index=False, escape=True)
        + (f"<ul>{items}</ul>" if items else "")
    )

"""Terminal (rich) and HTML rendering of any `Result`.

A result may name one of its tables as its headline in ``summary["headline_table"]``; that
table is shown instead of the raw estimate list. Findings always follow.
"""

from __future__ import annotations

import html
import io
import math
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from cerebro.core.results import Columns, Result

_HEADERS = {
    "n_control": "n ctrl",
    "n_variant": "n var",
    "mean_control": "mean ctrl",
    "mean_variant": "mean var",
    "p_value": "p",
}
_LEVEL_STYLE = {"info": "cyan", "warning": "yellow", "error": "bold red"}


def format_number(x: Any) -> str:
    """Compact human formatting: 4 significant digits, p-values floored at 1e-4."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if isinstance(x, float):
        if x == 0:
            return "0"
        if abs(x) >= 1e5:
            return f"{x:,.0f}"
        if abs(x) < 1e-3:
            return f"{x:.2e}"
        return f"{x:.4g}"
    return str(x)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _format_cell(column: str, value: Any) -> str:
    if column.startswith("p_") or column in {"p", "p_value"}:
        if _missing(value):
            return "–"
        return "<0.0001" if value < 1e-4 else f"{value:.4f}"
    if column.startswith("rel_"):
        return "–" if _missing(value) else f"{100 * value:+.2f}%"
    if column in {"lift", "diff"} and not _missing(value):
        return f"{value:+.4g}"
    return format_number(value)


def _interval(column: str, low: Any, high: Any) -> str:
    ends = [
        "−∞" if _missing(low) else _format_cell(column, low),
        "∞" if _missing(high) else _format_cell(column, high),
    ]
    return f"[{ends[0]}, {ends[1]}]"


def merge_intervals(columns: Columns) -> dict[str, list[str]]:
    """Format every cell for people, showing each ``x_ci_low``/``x_ci_high`` pair as one
    ``x CI`` column."""
    out: dict[str, list[str]] = {}
    for name, values in columns.items():
        if name.endswith("_ci_high") and name[:-8] + "_ci_low" in columns:
            continue
        if name.endswith("_ci_low") and name[:-7] + "_ci_high" in columns:
            base = name[:-7]
            highs = columns[base + "_ci_high"]
            out[f"{base} CI"] = [
                _interval(base, lo, hi) for lo, hi in zip(values, highs, strict=True)
            ]
        else:
            out[name] = [_format_cell(name, v) for v in values]
    return out


def headline_columns(result: Result) -> Columns:
    """The table a person sees first: the named headline table, else the estimates."""
    name = result.summary.get("headline_table")
    if name and name in result.tables:
        return result.tables.columns(name)
    records = [e.to_dict() for e in result.estimates]
    keep = ("label", "value", "se", "ci_low", "ci_high", "p_value")
    names = [k for k in keep if any(k in r for r in records)]
    return {k: [r.get(k) for r in records] for k in names}


def _header(column: object) -> str:
    return _HEADERS.get(str(column), str(column).replace("_", " "))


def _is_text(values: list[Any]) -> bool:
    return any(v is not None and not isinstance(v, (int, float)) for v in values)


# Columns a narrow terminal gives up first (the JSON output always has them all).
_DROP_ORDER = ("n ctrl", "n var", "p holm", "mean ctrl", "mean var", "lift CI", "lift")


def fit_to_width(shown: dict[str, list[str]], width: int) -> tuple[dict[str, list[str]], list[str]]:
    """Drop the least essential columns until the table fits `width` characters; returns the
    table and the headers it hid (the caller says which, never silently)."""

    def needed(table: dict[str, list[str]]) -> int:
        return sum(max([len(c)] + [len(v) for v in values]) + 3 for c, values in table.items())

    hidden = []
    for column in _DROP_ORDER:
        if needed(shown) <= width:
            break
        if column in shown:
            hidden.append(column)
            shown = {c: v for c, v in shown.items() if c != column}
    return shown, hidden


def _shown(columns: Columns) -> tuple[dict[str, list[str]], set[str]]:
    """Formatted cells under people's headers, and which headers hold text (left-aligned)."""
    text = {_header(c) for c, values in columns.items() if _is_text(values)}
    return {_header(c): v for c, v in merge_intervals(columns).items()}, text


def _rich_table(columns: Columns, title: str | None, width: int = 10_000) -> Table:
    shown, text_columns = _shown(columns)
    shown, hidden = fit_to_width(shown, width)
    caption = (
        f"Not shown at this width: {', '.join(hidden)} (widen the terminal, or see --json)."
        if hidden
        else None
    )
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        caption=caption,
        caption_justify="left",
    )
    for header, values in shown.items():
        numeric = header not in text_columns
        longest = max([len(v) for v in values] + [len(header)])
        # Cells fold instead of being cut: a narrow terminal wraps, it never shows "…".
        table.add_column(
            header,
            justify="right" if numeric else "left",
            overflow="fold",
            min_width=min(longest, 10 if numeric else 18),
        )
    for row in zip(*shown.values(), strict=True):
        table.add_row(*row)
    return table


def title_of(result: Result) -> str:
    return result.summary.get("title") or f"{result.kind} · {result.method}"


def print_result(result: Result, console: Console) -> None:
    console.print(_rich_table(headline_columns(result), title_of(result), console.width))
    if result.narrative():
        console.print(result.narrative(), highlight=False)
        console.print()
    for f in result.findings:
        style = _LEVEL_STYLE.get(f.level, "")
        console.print(
            f"[{style}]{f.level}[/{style}] [dim]{f.code}[/dim]: {f.message}", highlight=False
        )


def render_text(result: Result, width: int = 160) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    print_result(result, console)
    return buffer.getvalue()


def render_html(result: Result) -> str:
    shown, _ = _shown(headline_columns(result))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in shown)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in zip(*shown.values(), strict=True)
    )
    items = "".join(
        f"<li><b>{html.escape(f.level)}</b> <code>{html.escape(f.code)}</code>: "
        f"{html.escape(f.message)}</li>"
        for f in result.findings
    )
    return (
        f"<h4>{html.escape(title_of(result))}</h4>"
        f'<table class="cerebro"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        + (f"<ul>{items}</ul>" if items else "")
    )

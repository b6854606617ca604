"""`cerebro graph` (inspect a causal DAG: kind `graph`, options from `GraphSpec`) and
`cerebro graph-discover` (propose one from data: a DOT file to edit, no spec – it estimates
nothing, so it is a plain command, not a registered kind).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    OutputSet,
    check_outputs,
    emit,
    split_csv,
    status,
    stderr,
    stdout,
    user_errors,
    write_atomically,
)
from cerebro.cli.spec_options import spec_command
from cerebro.observational.graph_spec import GraphSpec

GRAPH_HELP = (
    "Inspect a causal graph: adjustment sets, front-door set, instruments, and the "
    "independences it implies tested against the data."
)
DISCOVER_HELP = (
    "Propose a causal graph from data (PC or GES, with background knowledge) as a DOT file to "
    "edit and pass back with --dag: a starting point, not a validated graph."
)


def show_graph(
    fields: dict[str, Any],
    run: Callable[[dict[str, Any]], Any],
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help=PLOT_HELP + " (the graph: latent nodes dashed, identifying sets coloured)",
    ),
) -> None:
    """The usual output, and on the terminal the implication tests below the identification."""
    result = run(fields)
    emit(result, as_json, output, plot)
    if not as_json and result.summary.get("headline_table") != "implications":
        from cerebro.report.text import _rich_table

        title = "Testable implications (conditional independences among observed variables)"
        stdout.print(_rich_table(result.tables.columns("implications"), title, stdout.width))


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "graph",
        GraphSpec,
        message=lambda fields: f"reading {Path(fields['dag']).name} …",
        body=show_graph,
        help=GRAPH_HELP,
    )

    @app.command("graph-discover", help=DISCOVER_HELP)
    @user_errors
    def graph_discover(
        data: Path = typer.Argument(..., help="Data file (CSV, Parquet or JSON)."),
        output: Path = typer.Option(..., "--output", "-o", help="Where to write the DOT file."),
        columns: str = typer.Option(
            None, "--columns", help="Columns to search over (default: every column)."
        ),
        method: str = typer.Option("pc", "--method", help="pc or ges."),
        alpha: float = typer.Option(0.05, "--alpha", help="PC: level of each independence test."),
        test: str = typer.Option(
            "fisherz", "--test", help="PC: fisherz (continuous), chisq or gsq (discrete)."
        ),
        tiers: str = typer.Option(
            None,
            "--tiers",
            help="PC: time order, earliest first: 'age,region;spend;sales' (no edge from a later "
            "tier to an earlier one).",
        ),
        forbid: str = typer.Option(
            None, "--forbid", help="PC: edges that must not be: 'a->b,c->d'."
        ),
        require: str = typer.Option(None, "--require", help="PC: edges that must be: 'a->b'."),
    ) -> None:
        from cerebro.core.errors import UserInputError
        from cerebro.data.load import load_table
        from cerebro.graph.discover import discover, parse_edges, parse_tiers

        if method not in ("pc", "ges"):
            raise UserInputError(f"unknown --method {method!r}; use pc or ges.")
        if not 0 < alpha < 1:
            raise UserInputError(f"--alpha must be in (0, 1), got {alpha}.")
        check_outputs({"--output": output}, [data])
        frame = load_table(data, split_csv(columns) or None)
        with status(f"searching {Path(data).name} for a graph ({method}) …"):
            found = discover(frame, method, alpha, test, parse_tiers(tiers),
                             parse_edges(forbid, "--forbid"), parse_edges(require, "--require"))  # fmt: skip
        with OutputSet([output]):
            write_atomically(output, found.to_dot())
        _show(found, output)


def _show(found, output: Path) -> None:
    from rich.table import Table

    stdout.print(f"{found.method}, {found.rows:,} complete rows.", highlight=False)
    table = Table(title="Discovered edges", title_justify="left")
    for column in ("cause", "effect", "edge"):
        table.add_column(column)
    words = {"directed": "->", "undirected": "— (orient it)", "bidirected": "<-> (conflict)"}
    for a, b, kind in found.edges:
        table.add_row(a, b, words[kind])
    stdout.print(table)
    unoriented = sum(kind != "directed" for *_, kind in found.edges)
    stdout.print(
        "A starting point, not a validated causal graph: check every edge against what you know"
        + (f", orient the {unoriented} unoriented edge(s)" if unoriented else "")
        + f", then pass {output} to --dag."
    )
    stderr.print(f"[dim]wrote {output}[/dim]")

"""`cerebro design`: randomise a unit table to arms and write the assignment.

Its options are `DesignSpec`'s fields (`cerebro.cli.spec_options`); `--output` is its own:
the assignment table, not the JSON result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import JSON_HELP, PLOT_HELP, REPORT_HELP, emit, staged_path
from cerebro.cli.spec_options import spec_command
from cerebro.core.errors import UserInputError
from cerebro.core.results import Result
from cerebro.experiments.design.spec import DesignSpec

_WRITERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def write_table_atomically(frame, path: Path) -> None:
    """Write a DataFrame as CSV/TSV/Parquet by extension, staged with the command's other
    outputs (written all together once the command succeeds, or none)."""
    kind = _WRITERS.get(path.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"cannot write {path.name!r}: use a .csv, .tsv or .parquet name for the assignment."
        )
    with staged_path(path) as tmp:
        if kind == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, sep="\t" if kind == "tsv" else ",")


def _design_outputs(
    fields: dict[str, Any],
    run: Callable[[dict[str, Any]], Result],
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the input plus the arm column here (.csv/.parquet)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP + " (love plot)"),
    report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
) -> None:
    """`--output` is the assignment table here, not the JSON result."""
    if output is not None and output.suffix.lower() not in _WRITERS:
        raise UserInputError(
            f"cannot write {output.name!r}: use a .csv, .tsv or .parquet name for the assignment."
        )
    result = run(fields)
    if output is not None:
        write_table_atomically(result.data, output)
    emit(result, as_json, None, plot, report)
    if output is not None and not as_json:
        typer.echo(f"wrote {output}", err=True)


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "design",
        DesignSpec,
        body=_design_outputs,
        message=lambda fields: f"randomising {Path(fields['data']).name} …",
        help="Randomise units to arms (simple, complete, stratified, rerandomised) and show the "
        "balance.",
    )

"""`cerebro run spec.yaml` and `cerebro methods`: any registered kind from a spec file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    check_outputs,
    emit,
    status,
    stdout,
    user_errors,
)
from cerebro.core.registry import methods
from cerebro.run import read_spec_file, run_spec


def register(app: typer.Typer) -> None:
    @app.command("run")
    @user_errors
    def run_command(
        spec_file: Path = typer.Argument(..., help="A YAML or JSON spec with a 'kind' key."),
        data: Path | None = typer.Option(
            None, "--data", help="Data file; overrides the spec's 'data'."
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    ) -> None:
        """Run any analysis from a spec file (every registered kind)."""
        spec = read_spec_file(spec_file)
        if data is not None:
            spec["data"] = str(data)
        if output is not None and isinstance(spec.get("data"), str):
            check_outputs({"--output": output}, [Path(spec["data"])])  # the spec's data file
        with status(f"running {spec.get('kind', 'analysis')} …"):
            result = run_spec(spec)
        emit(result, as_json, output)

    @app.command("methods")
    def methods_command() -> None:
        """List every analysis kind a spec file (`cerebro run`) can name."""
        table = Table(title="Registered analysis kinds", title_justify="left")
        table.add_column("kind")
        table.add_column("spec")
        table.add_column("what it does")
        for kind, method in methods().items():
            table.add_row(kind, method.spec_type.__name__, method.summary)
        stdout.print(table)

"""`cerebro run spec.yaml` and `cerebro methods`: any registered kind from a spec file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    REPORT_HELP,
    check_outputs,
    emit,
    status,
    stdout,
    user_errors,
)
from cerebro.core.registry import get_method, kinds, methods
from cerebro.core.spec import face_hints
from cerebro.run import read_spec_file, run_spec


def spec_outputs(spec: dict[str, Any]) -> dict[str, Path]:
    """The files a spec asks its run to produce (fields hinted `output`), by field name."""
    kind = str(spec.get("kind"))
    if kind not in kinds():
        return {}  # the run refuses the kind in its own words
    fields = get_method(kind).spec_type.model_fields
    return {
        name: Path(spec[name])
        for name, field in fields.items()
        if face_hints(field, "cli").get("output") and isinstance(spec.get(name), str)
    }


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
        report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
    ) -> None:
        """Run any analysis from a spec file (every registered kind)."""
        spec = read_spec_file(spec_file)
        if data is not None:
            spec["data"] = str(data)
        outputs = {
            **({"--output": output} if output else {}),
            **({"--report": report} if report else {}),
            **spec_outputs(spec),
        }
        inputs = [spec_file, *([Path(spec["data"])] if isinstance(spec.get("data"), str) else [])]
        check_outputs(outputs, inputs)  # the files the spec asks for too, before the run
        with status(f"running {spec.get('kind', 'analysis')} …"):
            result = run_spec(spec)
        emit(result, as_json, output, report=report)

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

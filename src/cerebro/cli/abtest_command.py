"""`cerebro abtest`: analyse an A/B/n test from a data file, a database table or Spark.

Its options are `ABTestSpec`'s fields (`cerebro.cli.spec_options`), plus the output options and
``--emit-sql``/``--dialect``, which print the query computing the `--from-summary` table in a
warehouse instead of running the analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import JSON_HELP, OUTPUT_HELP, PLOT_HELP, REPORT_HELP, emit
from cerebro.cli.spec_options import spec_command
from cerebro.core.spec import parse_spec
from cerebro.experiments.abtest.spec import ABTestSpec

EMIT_HELP = (
    "Print the SQL that computes the --from-summary table (per arm: n, means, variances, "
    "covariances) from --table in --dialect, and exit; run it in the warehouse, then analyse "
    "its output with --from-summary."
)
DIALECT_HELP = "SQL dialect of --emit-sql: duckdb, postgres, bigquery, snowflake or spark."


def _message(fields: dict[str, Any]) -> str:
    if fields.get("data"):
        return f"analysing {Path(fields['data']).name} …"
    return f"analysing table {fields.get('table')} …"


def _body(
    fields: dict[str, Any],
    run: Callable[[dict[str, Any]], Any],
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
    emit_sql: bool = typer.Option(False, "--emit-sql", help=EMIT_HELP),
    dialect: str = typer.Option("duckdb", "--dialect", help=DIALECT_HELP),
) -> None:
    if emit_sql:
        from cerebro.experiments.abtest.file import emit_sql as query

        spec = parse_spec(fields)
        typer.echo(query(spec, dialect))
        return
    emit(run(fields), as_json, output, plot, report)


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "abtest",
        ABTestSpec,
        message=_message,
        body=_body,
        help="Analyse an A/B/n test: every variant against the control, for each outcome.",
    )

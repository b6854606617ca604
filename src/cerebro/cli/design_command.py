"""`cerebro design`: randomise a unit table to arms and write the assignment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from cerebro.cli.common import (
    JSON_HELP,
    PLOT_HELP,
    emit,
    run_fields,
    split_csv,
    user_errors,
)
from cerebro.core.errors import UserInputError

_WRITERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def write_table_atomically(frame, path: Path) -> None:
    """Write a DataFrame as CSV/TSV/Parquet by extension; never leave a half-written file."""
    kind = _WRITERS.get(path.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"cannot write {path.name!r}: use a .csv, .tsv or .parquet name for the assignment."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if kind == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, sep="\t" if kind == "tsv" else ",")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    @app.command("design")
    @user_errors
    def design_command(
        data: Path = typer.Argument(
            ..., help="Unit table (CSV, Parquet or JSON), one row per unit."
        ),
        arms: int = typer.Option(2, "--arms", help="Number of arms, control included."),
        allocation: str | None = typer.Option(
            None, "--allocation", help="Share per arm, e.g. 0.5,0.5 (default equal)."
        ),
        arm_names: str | None = typer.Option(
            None,
            "--arm-names",
            help="Arm labels, e.g. control,treatment (default control, treatment_1, …).",
        ),
        method: str | None = typer.Option(
            None,
            "--method",
            help="simple, complete, stratified or rerandomise (default: stratified with --strata, else complete).",
        ),
        strata: str = typer.Option("", "--strata", help="Columns to block on, comma-separated."),
        bins: int = typer.Option(4, "--bins", help="Quantile bins for a numeric stratum column."),
        covariates: str | None = typer.Option(
            None,
            "--balance-covariates",
            help="Columns to check balance on (default: every numeric non-ID column).",
        ),
        max_smd: float = typer.Option(
            0.05, "--max-smd", help="Rerandomise until every |SMD| is below this."
        ),
        max_tries: int = typer.Option(
            1000, "--max-tries", help="Rerandomisation: most draws tried."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed that reproduces the assignment."),
        arm_column: str = typer.Option(
            "arm", "--arm-column", help="Name of the assignment column."
        ),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the input plus the arm column here (.csv/.parquet)."
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP + " (love plot)"),
    ) -> None:
        """Randomise units to arms (simple, complete, stratified, rerandomised) and show the balance."""
        fields = {
            "kind": "design",
            "data": str(data),
            "arms": arms,
            "allocation": [float(a) for a in split_csv(allocation)] if allocation else None,
            "arm_names": split_csv(arm_names) if arm_names else None,
            "method": method,
            "strata": split_csv(strata),
            "bins": bins,
            "covariates": split_csv(covariates) if covariates is not None else None,
            "max_smd": max_smd,
            "max_tries": max_tries,
            "seed": seed,
            "arm_column": arm_column,
        }
        if output is not None and output.suffix.lower() not in _WRITERS:
            raise UserInputError(
                f"cannot write {output.name!r}: use a .csv, .tsv or .parquet name for the assignment."
            )
        result = run_fields(fields, f"randomising {data.name} …")
        if output is not None:
            write_table_atomically(result.data, output)
        emit(result, as_json, None, plot)
        if output is not None and not as_json:
            typer.echo(f"wrote {output}", err=True)

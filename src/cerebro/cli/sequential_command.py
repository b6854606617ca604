"""`cerebro sequential-design`: group-sequential boundaries for planned looks."""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    emit,
    run_fields,
    split_csv,
    user_errors,
)


def register(app: typer.Typer) -> None:
    @app.command("sequential-design")
    @user_errors
    def sequential_design_command(
        looks: int = typer.Option(5, "--looks", help="Number of analyses, the final one included."),
        alpha: float = typer.Option(0.05, "--alpha", help="Overall type-I error."),
        spending: str = typer.Option(
            "obf",
            "--spending",
            help="obf, pocock, power (Lan–DeMets spending), classic_obf or classic_pocock.",
        ),
        rho: float = typer.Option(3.0, "--rho", help="Exponent of the power spending family."),
        sides: int = typer.Option(2, "--sides", help="1 or 2."),
        info_fractions: str | None = typer.Option(
            None,
            "--info-fractions",
            help="Information fraction per look, e.g. 0.3,0.6,1 (default equal).",
        ),
        power: float | None = typer.Option(
            None, "--power", help="Target power: report the inflation of the maximum sample size."
        ),
        futility: str | None = typer.Option(
            None,
            "--futility",
            help="Futility bounds from beta spending (obf, pocock, power); needs --power and --sides 1.",
        ),
        binding: bool = typer.Option(
            False,
            "--binding/--non-binding",
            help="Binding futility: lower efficacy bounds that assume every futility stop is obeyed.",
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    ) -> None:
        """Efficacy boundaries of a group-sequential test: z and nominal p per look, alpha spent."""
        fields = {
            "kind": "sequential_design",
            "looks": looks,
            "alpha": alpha,
            "spending": spending,
            "rho": rho,
            "sides": sides,
            "info_fractions": [float(v) for v in split_csv(info_fractions)]
            if info_fractions
            else None,
            "power": power,
            "futility": futility,
            "binding": binding,
        }
        result = run_fields(fields, "computing boundaries …")
        emit(result, as_json, output, plot)

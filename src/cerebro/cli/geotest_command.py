"""`cerebro geotest`: lift of a geo experiment (synthetic control, augmented SC, TBR, matched markets)."""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.common import JSON_HELP, OUTPUT_HELP, PLOT_HELP, emit, run_fields, user_errors


def register(app: typer.Typer) -> None:
    @app.command("geotest")
    @user_errors
    def geotest_command(
        data: Path = typer.Argument(..., help="Long panel: one row per geo and date."),
        geo_column: str = typer.Option(..., "--geo-column", help="Column naming the geo."),
        treatment_geos: str = typer.Option(
            ...,
            "--treatment-geos",
            help='Treated geos, comma-separated; several cells separated by ";" ("a,b;c,d").',
        ),
        outcome: str = typer.Option(..., "--outcome", help="Outcome column (sales, units)."),
        treatment_start: str = typer.Option(
            ..., "--treatment-start", help="First date of the test (e.g. 2021-04-01)."
        ),
        date_column: str = typer.Option("date", "--date-column", help="Date column."),
        treatment_end: str | None = typer.Option(
            None, "--treatment-end", help="Last date of the test (default: the last date)."
        ),
        control_geos: str | None = typer.Option(
            None, "--control-geos", help="Control pool, comma-separated (default: all others)."
        ),
        method: str = typer.Option(
            "augmented_synthetic_control",
            "--method",
            help="augmented_synthetic_control, synthetic_control, tbr or matched_markets.",
        ),
        matching_vars: str | None = typer.Option(
            None, "--matching-vars", help="Per-geo columns to match markets on (matched_markets)."
        ),
        spend: str | None = typer.Option(
            None, "--spend", help="Spend column: cost per incremental unit and incremental ROAS."
        ),
        alternative: str = typer.Option(
            "two-sided", "--alternative", help="two-sided, greater (lift > 0) or less."
        ),
        alpha: float = typer.Option(0.1, "--alpha", help="Significance level (CI is 1 − alpha)."),
        seed: int = typer.Option(0, "--seed", help="Seed for iid permutations."),
        permutation: str = typer.Option(
            "block", "--permutation", help="Conformal permutations: block (default) or iid."
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    ) -> None:
        """Lift %, incremental units and ATT of a geo test, with conformal inference.

        The treated geos of each cell are averaged and compared with a counterfactual built from the control geos before the test.
        """
        fields = {
            "kind": "geotest",
            "data": str(data),
            "geo_column": geo_column,
            "date_column": date_column,
            "outcome": outcome,
            "treatment_geos": treatment_geos,
            "control_geos": control_geos,
            "treatment_start": treatment_start,
            "treatment_end": treatment_end,
            "method": method,
            "matching_vars": matching_vars,
            "spend": spend,
            "alternative": alternative,
            "alpha": alpha,
            "seed": seed,
            "permutation": permutation,
        }
        result = run_fields(
            {k: v for k, v in fields.items() if v is not None}, "Estimating the geo lift…"
        )
        emit(result, as_json, output, plot)

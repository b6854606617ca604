"""`cerebro geo-design`: choose the markets and duration of a geo experiment by simulated power."""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.common import JSON_HELP, OUTPUT_HELP, PLOT_HELP, emit, split_csv, user_errors


def register(app: typer.Typer) -> None:
    @app.command("geo-design")
    @user_errors
    def geo_design_command(
        data: Path = typer.Argument(..., help="Long pre-test panel: one row per geo and date."),
        geo_column: str = typer.Option("location", "--geo-column", help="Geo (market) column."),
        outcome: str = typer.Option("Y", "--outcome", help="Outcome column (e.g. conversions)."),
        date_column: str = typer.Option("date", "--date-column", help="Date or period column."),
        markets: str = typer.Option(
            "2-5", "--markets", help="Treated-set sizes to search: a range 2-5 or a list 2,3."
        ),
        durations: str = typer.Option(
            "10,15", "--durations", help="Test lengths in periods of the data, e.g. 10,15."
        ),
        effects: str | None = typer.Option(
            None,
            "--effects",
            help="Relative lifts to simulate, e.g. 0,0.05,0.1 (default 0 … 0.3 in 10 steps).",
        ),
        lookbacks: int = typer.Option(
            1, "--lookbacks", help="Backtest the history truncated 0 … n−1 periods before its end."
        ),
        include: str | None = typer.Option(
            None, "--include", help="Geos every treated set must contain (comma-separated)."
        ),
        exclude: str | None = typer.Option(
            None, "--exclude", help="Geos never treated; they stay donors (comma-separated)."
        ),
        cells: int = typer.Option(
            1, "--cells", help="Disjoint treatment cells sharing one donor pool."
        ),
        budget: float | None = typer.Option(
            None, "--budget", help="Largest investment a design may need."
        ),
        cpic: float = typer.Option(
            1.0, "--cpic", help="Cost per incremental unit (investment = MDE × outcome × cpic)."
        ),
        alpha: float = typer.Option(0.1, "--alpha", help="Level of the conformal test."),
        alternative: str = typer.Option(
            "two-sided", "--alternative", help="two-sided, greater or less."
        ),
        no_fixed_effects: bool = typer.Option(
            False, "--no-fixed-effects", help="Weight the raw series (no per-geo level)."
        ),
        top: int = typer.Option(10, "--top", help="Designs to show (JSON holds all)."),
        seed: int = typer.Option(0, "--seed", help="Recorded; the search draws no random numbers."),
        jobs: int = typer.Option(1, "--jobs", help="Worker processes (−1: every core)."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    ) -> None:
        """Rank candidate treated markets and durations by simulated power, MDE and investment.

        Candidates are each geo with its most correlated partners (as GeoLift); power is the share of simulated tests – a lift injected in every window position, tested conformally on a refitted synthetic control – that reject at --alpha.
        """
        from cerebro.core.spec import parse_spec
        from cerebro.geo.design import run_geo_design

        fields = {
            "kind": "geo_design",
            "data": str(data),
            "geo_column": geo_column,
            "outcome": outcome,
            "date_column": date_column,
            "markets": markets,
            "durations": split_csv(durations),
            "lookbacks": lookbacks,
            "include": split_csv(include),
            "exclude": split_csv(exclude),
            "cells": cells,
            "budget": budget,
            "cpic": cpic,
            "alpha": alpha,
            "alternative": alternative,
            "fixed_effects": not no_fixed_effects,
            "top": top,
            "seed": seed,
            "jobs": jobs,
        }
        if effects is not None:
            fields["effects"] = split_csv(effects)
        spec = parse_spec({k: v for k, v in fields.items() if v is not None})
        emit(run_geo_design(spec), as_json, output, plot)

"""`cerebro causal`: observational effect estimates (regression, gcomp, ipw, aipw, stratification)."""

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
    @app.command("causal")
    @user_errors
    def causal_command(
        data: Path = typer.Argument(
            ..., help="Data file (CSV, Parquet or JSON), one row per unit."
        ),
        treatment: str = typer.Option(..., "--treatment", help="Binary treatment column."),
        outcome: str = typer.Option(..., "--outcome", help="Outcome column (numeric or 0/1)."),
        confounders: str = typer.Option(
            ...,
            "--confounders",
            help="Columns to adjust for, comma-separated; 'age^2' adds a square, 'C(x)' makes x "
            "categorical (text columns are categorical anyway).",
        ),
        method: str = typer.Option(
            "aipw", "--method", help="regression, gcomp, ipw, aipw, stratification, psm or dml."
        ),
        estimand: str = typer.Option("ate", "--estimand", help="ate, att or atc."),
        treated: str | None = typer.Option(
            None, "--treated", help="The treated value of the treatment column (default 1/True)."
        ),
        control: str | None = typer.Option(
            None,
            "--control",
            help="The control / reference arm; with 3+ arms every other arm is compared with it.",
        ),
        weights: str = typer.Option("hajek", "--weights", help="IPW weights: hajek or ht."),
        trim: str | None = typer.Option(
            None, "--trim", help="Drop extreme propensities: a number c (keep [c, 1−c]) or crump."
        ),
        truncate: float | None = typer.Option(
            None, "--truncate", help="IPW: cap weights at this percentile (e.g. 99)."
        ),
        interactions: str | None = typer.Option(
            None,
            "--interactions",
            help="gcomp: one outcome model with treatment × these terms (default one model per arm).",
        ),
        neighbours: int = typer.Option(1, "--neighbours", help="psm: matches per unit (1:k)."),
        caliper: float | None = typer.Option(
            None,
            "--caliper",
            help="psm: largest distance in SDs of the propensity logit (e.g. 0.2).",
        ),
        replace: bool = typer.Option(
            True, "--replace/--no-replace", help="psm: match with replacement (needed for the ATE)."
        ),
        exact: str | None = typer.Option(
            None, "--exact", help="psm: columns whose values matches must share, comma-separated."
        ),
        dml_model: str = typer.Option(
            "irm",
            "--dml-model",
            help="dml: irm (interactive, AIPW score) or plr (partially linear).",
        ),
        learner: str = typer.Option(
            "lightgbm", "--learner", help="dml: lightgbm, hist_gb, random_forest or linear."
        ),
        folds: int = typer.Option(5, "--folds", help="dml: cross-fitting folds."),
        clip: float = typer.Option(
            0.01, "--clip", help="dml: clip propensities to [clip, 1−clip]."
        ),
        strata: int = typer.Option(
            5, "--strata", help="Stratification: propensity quantile strata."
        ),
        bootstrap: int = typer.Option(
            0, "--bootstrap", help="Bootstrap replicates (0: analytic SEs)."
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="1 − confidence level."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP + " (love plot)"),
    ) -> None:
        """Estimate the effect of a treatment from observational data, adjusting for confounders."""
        fields = {
            "kind": "causal",
            "data": str(data),
            "treatment": treatment,
            "outcome": outcome,
            "confounders": split_csv(confounders),
            "method": method,
            "estimand": estimand,
            "treated": treated,
            "control": control,
            "weights": weights,
            "trim": trim,
            "truncate": truncate,
            "interactions": split_csv(interactions) if interactions is not None else None,
            "neighbours": neighbours,
            "caliper": caliper,
            "replace": replace,
            "exact": split_csv(exact),
            "dml_model": dml_model,
            "learner": learner,
            "folds": folds,
            "clip": clip,
            "strata": strata,
            "bootstrap": bootstrap,
            "alpha": alpha,
            "seed": seed,
        }
        result = run_fields(fields, f"estimating the effect in {data.name} …")
        emit(result, as_json, output, plot)

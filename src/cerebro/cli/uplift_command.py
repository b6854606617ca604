"""`cerebro uplift` (fit, evaluate and target heterogeneous effects) and `cerebro uplift-score`
(score new rows with a saved model)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    emit,
    split_csv,
    staged_path,
    stderr,
    user_errors,
)


@contextmanager
def progress_line(message: str) -> Iterator:
    """A transient status line on stderr whose text the runner updates step by step (nothing
    when stderr is not a terminal, so logs and pipes stay clean)."""
    if stderr.is_terminal:
        with stderr.status(message, spinner="dots") as status:
            yield lambda text: status.update(f"{text} …")
    else:
        yield lambda text: None


def register(app: typer.Typer) -> None:
    @app.command("uplift")
    @user_errors
    def uplift_command(
        data: Path = typer.Argument(
            ..., help="Data file (CSV, Parquet or JSON): one row per unit, or several with --unit."
        ),
        treatment: str = typer.Option(
            ..., "--treatment", help="Treatment column: two values, or several arms."
        ),
        outcome: str = typer.Option(..., "--outcome", help="Outcome column (0/1 or numeric)."),
        features: str | None = typer.Option(
            None,
            "--features",
            help="Feature columns, comma-separated (text is one-hot encoded); default: every "
            "other usable column.",
        ),
        model: str = typer.Option(
            "x_learner",
            "--model",
            help="s_learner, t_learner, x_learner, r_learner, dr_learner, causal_forest, or all "
            "(fit and compare every model).",
        ),
        control: str | None = typer.Option(
            None,
            "--control",
            help="The control arm (default 0/False, else a value naming control).",
        ),
        learner: str = typer.Option(
            "lightgbm", "--learner", help="Base learner: lightgbm, linear or random_forest."
        ),
        propensity: float | None = typer.Option(
            None,
            "--propensity",
            help="Known probability of treatment (randomised; per arm-vs-control pair with "
            "several arms); default: estimated.",
        ),
        outcome_type: str = typer.Option(
            "auto", "--outcome-type", help="auto, binary (refuse other values) or continuous."
        ),
        unit: str | None = typer.Option(
            None,
            "--unit",
            help="Unit id column when a unit has several rows (e.g. user_id): folds keep each "
            "unit together, the ATE is clustered by unit. Default: a repeating unit id is "
            "detected; 'none': every row is an independent unit.",
        ),
        folds: int = typer.Option(5, "--folds", help="Cross-fitting folds."),
        tiers: int = typer.Option(5, "--tiers", help="Response tiers (quantiles of the CATE)."),
        value: float = typer.Option(
            1.0, "--value", help="Value of one incremental outcome (e.g. of a conversion)."
        ),
        cost: float = typer.Option(0.0, "--cost", help="Cost of treating one unit."),
        budget: float | None = typer.Option(
            None, "--budget", help="Largest total treatment cost of the targeting policy."
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="1 − confidence level."),
        seed: int = typer.Option(0, "--seed", help="Seed of the folds and models."),
        jobs: int = typer.Option(
            -1, "--jobs", help="Threads (−1: every core); the numbers do not change."
        ),
        predictions: Path | None = typer.Option(
            None, "--predictions", help="Write per-row out-of-fold CATE predictions (CSV)."
        ),
        save: Path | None = typer.Option(
            None, "--save", help="Save the fitted model (e.g. model.cerebro) for uplift-score."
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(
            None, "--plot", help=PLOT_HELP + " (Qini curves; uplift by decile)"
        ),
    ) -> None:
        """Model who responds to a treatment: CATE per unit (meta-learners or a causal forest),
        Qini/AUUC, uplift by decile, response tiers, whom to target, and why."""
        from cerebro.core.spec import parse_spec
        from cerebro.uplift.analysis import run_uplift

        fields = {
            "kind": "uplift",
            "data": str(data),
            "treatment": treatment,
            "outcome": outcome,
            "features": split_csv(features),
            "model": model,
            "control": control,
            "learner": learner,
            "propensity": propensity,
            "outcome_type": outcome_type,
            "unit": unit,
            "folds": folds,
            "tiers": tiers,
            "value_per_outcome": value,
            "cost_per_treatment": cost,
            "budget": budget,
            "alpha": alpha,
            "seed": seed,
            "jobs": jobs,
            "predictions": None if predictions is None else str(predictions),
            "save": None if save is None else str(save),
        }
        spec = parse_spec(fields)
        with progress_line(f"modelling uplift in {data.name}") as say:
            result = run_uplift(spec, None, progress=say)
        emit(result, as_json, output, plot)
        if not as_json:
            for written in (predictions, save):
                if written is not None:
                    stderr.print(f"[dim]wrote {written}[/dim]")

    @app.command("uplift-score")
    @user_errors
    def uplift_score_command(
        model_file: Path = typer.Argument(..., help="A model saved by cerebro uplift --save."),
        data: Path = typer.Argument(..., help="New rows to score (CSV, Parquet or JSON)."),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the predictions here (CSV); default: stdout."
        ),
    ) -> None:
        """Score new rows with a saved uplift model: `cate` (or `cate_<arm>` per arm and
        `best_treatment`), in the input's row order; rows with a missing or unseen value are
        left empty."""
        from cerebro.data.load import load_table
        from cerebro.uplift.model_file import load_model

        fitted = load_model(model_file)
        names = [f.name for f in fitted.encoding.features]
        frame = load_table(data, names)
        with progress_line(f"scoring {data.name}"):
            preds, missing, unseen = fitted.score(frame, data.name)
        if output is None:
            preds.to_csv(sys.stdout, index=False, float_format="%.17g")
        else:
            with staged_path(output) as tmp:
                preds.to_csv(tmp, index=False, float_format="%.17g")
            stderr.print(f"[dim]wrote {len(preds):,} predictions to {output}[/dim]")
        if missing:
            reason = f" ({unseen:,} for a text value the model never saw)" if unseen else ""
            stderr.print(
                f"[yellow]warning[/yellow]: {missing:,} of {len(preds):,} rows have a missing "
                f"feature value{reason}; their predictions are empty.",
                highlight=False,
            )

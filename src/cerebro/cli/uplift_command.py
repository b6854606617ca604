"""`cerebro uplift` (fit, evaluate and target heterogeneous effects) and `cerebro uplift-score`
(score new rows with a saved model).

`cerebro uplift`'s options are `UpliftSpec`'s fields (`cerebro.cli.spec_options`), `--predictions`
and `--save` among them: files the run returns in memory and the command writes with its other
outputs (`--json`, `--output`, `--plot`). `uplift-score` has no spec.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cerebro.cli.common import staged_path, status, stderr, user_errors
from cerebro.cli.spec_options import spec_command
from cerebro.core.errors import UserInputError
from cerebro.uplift.spec import UpliftSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "uplift",
        UpliftSpec,
        message=lambda fields: f"modelling uplift in {Path(fields['data']).name} …",
        figures=" (Qini curves; uplift by decile)",
        help="Model who responds to a treatment: CATE per unit (meta-learners or a causal "
        "forest), Qini/AUUC, uplift by decile, response tiers, whom to target, and why.",
    )

    @app.command("uplift-score")
    @user_errors
    def uplift_score_command(
        model_file: Path = typer.Argument(..., help="A model saved by cerebro uplift --save."),
        data: Path = typer.Argument(..., help="New rows to score (CSV, Parquet or JSON)."),
        output: Path | None = typer.Option(
            None,
            "--output",
            "-o",
            help="Write the predictions here (CSV; with --engine spark a Parquet directory of "
            "the input's columns and the predictions); default: stdout.",
        ),
        engine: str = typer.Option(
            "duckdb",
            "--engine",
            help="duckdb (read into this process) or spark: the executors score their "
            "partitions and write --output; no row reaches the driver (docs/engines.md).",
        ),
        spark_master: str | None = typer.Option(
            None, "--spark-master", help="Spark master URL for --engine spark (default local[*])."
        ),
    ) -> None:
        """Score new rows with a saved uplift model: `cate` (or `cate_<arm>` per arm and
        `best_treatment`), in the input's row order; rows with a missing or unseen value are
        left empty."""
        from cerebro.data.load import load_table
        from cerebro.uplift.model_file import load_model

        if engine not in ("duckdb", "spark"):
            raise UserInputError(f"--engine {engine!r} is not duckdb or spark.")
        if engine == "spark":
            if output is None:
                raise UserInputError("--engine spark writes its scores to --output (a directory).")
            from cerebro.uplift.spark_score import score_file

            with status(f"scoring {data.name} on Spark …"):
                score_file(model_file, data, output, spark_master)
            stderr.print(f"[dim]wrote the scores to {output} (Parquet)[/dim]")
            return

        fitted = load_model(model_file)
        names = [f.name for f in fitted.encoding.features]
        frame = load_table(data, names)
        with status(f"scoring {data.name} …"):
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

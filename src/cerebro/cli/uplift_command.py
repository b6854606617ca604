"""`cerebro uplift` (fit, evaluate and target heterogeneous effects) and `cerebro uplift-score`
(score new rows with a saved model).

`cerebro uplift`'s options are `UpliftSpec`'s fields (`cerebro.cli.spec_options`); `--predictions`,
`--save`, `--json`, `--output` and `--plot` are its own. `uplift-score` has no spec.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    emit,
    staged_path,
    stderr,
    user_errors,
)
from cerebro.cli.spec_options import spec_command
from cerebro.core.results import Result
from cerebro.uplift.spec import UpliftSpec


@contextmanager
def progress_line(message: str) -> Iterator:
    """A transient status line on stderr whose text the runner updates step by step (nothing
    when stderr is not a terminal, so logs and pipes stay clean)."""
    if stderr.is_terminal:
        with stderr.status(message, spinner="dots") as status:
            yield lambda text: status.update(f"{text} …")
    else:
        yield lambda text: None


def _run(fields: dict[str, Any]) -> Result:
    """Validate the spec and fit it, the spinner showing the runner's current step."""
    from cerebro.core.spec import parse_spec
    from cerebro.uplift.analysis import run_uplift

    spec = parse_spec(fields)
    with progress_line(f"modelling uplift in {Path(fields['data']).name}") as say:
        return run_uplift(spec, None, progress=say)


def _uplift_outputs(
    fields: dict[str, Any],
    run: Callable[[dict[str, Any]], Result],
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
    """`--predictions` and `--save` are spec fields the runner writes (staged with the other
    outputs: all of them are written, or none)."""
    written = {"predictions": predictions, "save": save}
    result = run({**fields, **{k: None if v is None else str(v) for k, v in written.items()}})
    emit(result, as_json, output, plot)
    if not as_json:
        for path in written.values():
            if path is not None:
                stderr.print(f"[dim]wrote {path}[/dim]")


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "uplift",
        UpliftSpec,
        body=_uplift_outputs,
        run=_run,
        help="Model who responds to a treatment: CATE per unit (meta-learners or a causal "
        "forest), Qini/AUUC, uplift by decile, response tiers, whom to target, and why.",
    )

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

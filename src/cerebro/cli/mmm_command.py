"""`cerebro mmm`: fit a media mix model; `--save` writes the fitted posterior for later use.

Its options are `MMMSpec`'s fields (`cerebro.cli.spec_options`); `--save`, `--json`,
`--output` and `--plot` are its own. The runner returns the posterior in ``result.data``; this
face writes it (staged with the other outputs: all of them are written, or none).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import JSON_HELP, OUTPUT_HELP, PLOT_HELP, emit, staged_path, stderr
from cerebro.cli.spec_options import spec_command
from cerebro.core.results import Result
from cerebro.mmm.spec import MMMSpec


def _mmm_outputs(
    fields: dict[str, Any],
    run: Callable[[dict[str, Any]], Result],
    save: Path | None = typer.Option(
        None, "--save", help="Save the fitted model (posterior draws + scaling), e.g. mmm.cerebro."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    plot: Path | None = typer.Option(
        None, "--plot", help=PLOT_HELP + " (decomposition, ROI, response curves)"
    ),
) -> None:
    result = run(fields)
    if save is not None:
        from cerebro.mmm.model_file import mmm_bytes

        with staged_path(save) as tmp:
            tmp.write_bytes(mmm_bytes(result.data))
    emit(result, as_json, output, plot)
    if save is not None and not as_json:
        stderr.print(f"[dim]wrote {save}[/dim]")


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "mmm",
        MMMSpec,
        body=_mmm_outputs,
        message=lambda fields: f"fitting the media mix model on {Path(fields['data']).name} …",
        help="Fit a Bayesian media mix model (adstock + saturation per channel, baseline with "
        "trend, seasonality and controls): contributions, ROI and marginal ROI with credible "
        "intervals, decomposition and response curves.",
    )

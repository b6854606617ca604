"""`cerebro causal`: effects by adjustment (regression … dml) or by a design (did, rdd, iv, synthetic control).

Its options are `CausalSpec`'s fields (`cerebro.cli.spec_options`); the design options reach
the design kinds through the registry, as `observational/spec.OPTIONS` says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import JSON_HELP, OUTPUT_HELP, PLOT_HELP, emit
from cerebro.cli.spec_options import spec_command
from cerebro.core.results import Result
from cerebro.observational.spec import CausalSpec

PLOT_FIGURES = " (love plot; did: event study; rdd: RD plot; iv: first stage; sc: gap plot)"


def _outputs(
    fields: dict[str, Any],
    run: Callable[[dict[str, Any]], Result],
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
    plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP + PLOT_FIGURES),
) -> None:
    emit(run(fields), as_json, output, plot)


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "causal",
        CausalSpec,
        body=_outputs,
        message=lambda fields: f"estimating the effect in {Path(fields['data']).name} …",
        help="Estimate a causal effect from observational data: adjust for confounders, or use a "
        "design (difference-in-differences, regression discontinuity, instruments, synthetic "
        "control).",
    )

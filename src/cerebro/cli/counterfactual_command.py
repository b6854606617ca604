"""`cerebro counterfactual`: mediation (natural direct and indirect effects), what-if
predictions and bounds on the effect.

Its options are `CounterfactualSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.counterfactual.spec import CounterfactualSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "counterfactual",
        CounterfactualSpec,
        message="Computing the counterfactuals…",
        help="Mediation (natural direct and indirect effects), what-if predictions and bounds "
        "on the effect.\n\n"
        "--mediator splits the effect of --treatment into the part through the mediator (NIE) "
        "and the rest (NDE); --set predicts the mean outcome if a column were set or changed "
        "(treatment=1, spend=+10%); --bounds gives what the data say about the effect without "
        "the no-confounding assumption (manski, mtr, mts, mtr_mts, lee).",
    )

"""`cerebro survival`: counterfactual survival curves (IP weighting, g-formula, Kaplan–Meier).

Its options are `SurvivalSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.survival.spec import SurvivalSpec

HELP = (
    "Survival curves under treatment and under no treatment, their difference at a horizon and "
    "a hazard ratio (time to churn, to conversion, to death)."
)


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "survival",
        SurvivalSpec,
        message="Fitting the survival curves…",
        figures=" (both arms' survival curves and their difference)",
        help=HELP + "\n\n"
        "ipw and gformula fit pooled logistic hazards on person-time (Hernán & Robins, What If, "
        "ch. 17); km gives Kaplan–Meier curves and the log-rank test for randomised data.",
    )

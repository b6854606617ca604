"""`cerebro longitudinal`: mean outcome under treatment strategies over time.

Its options are `LongitudinalSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.longitudinal.spec import LongitudinalSpec

HELP = (
    "Treatment strategies over time (always, never, treat when a confounder crosses a "
    "threshold): mean outcome under each by the parametric g-formula or IP-weighted MSMs."
)


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "longitudinal",
        LongitudinalSpec,
        message="Estimating the strategies…",
        figures=" (the mean outcome under each strategy with its interval)",
        help=HELP + "\n\n"
        "Long data: one row per unit and period, the confounders measured before that period's "
        "treatment, the outcome on each unit's last row (Hernán & Robins, What If, Part III).",
    )

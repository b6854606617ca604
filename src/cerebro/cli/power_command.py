"""`cerebro power-analysis`: sample size, minimum detectable effect, power and duration.

Its options are `PowerSpec`'s fields (`cerebro.cli.spec_options`); it runs through the registry
like every command (`PowerSpec`'s own validation words its errors: `Method.build`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.experiments.power.analysis import PowerSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "power-analysis",
        PowerSpec,
        help="Sample size per group, MDE or power of an A/B/n test, and how many days it takes.\n\n"
        "Exactly one quantity is solved for: --n and --mde give the power; --n alone the minimum "
        "detectable effect at --power; otherwise the sample size for --mde.",
    )

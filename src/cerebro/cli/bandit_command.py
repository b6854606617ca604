"""`cerebro bandit`: next-period allocation from data, or a regret simulation.

Its options are `BanditSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.experiments.bandit.spec import BanditSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "bandit",
        BanditSpec,
        help="Multi-armed bandits: how to split the next period's traffic, or how policies "
        "compare in simulation.",
    )

"""`cerebro geo-design`: choose the markets and duration of a geo experiment by simulated power.

Its options are `GeoDesignSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.geo.design_spec import GeoDesignSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "geo-design",
        GeoDesignSpec,
        # a bar per simulated batch under the spinner (cerebro.core.context.progress)
        message=lambda fields: f"searching geo designs in {Path(fields['data']).name} …",
        help="Rank candidate treated markets and durations by simulated power, MDE and "
        "investment.\n\n"
        "Candidates are each geo with its most correlated partners (as GeoLift); power is the "
        "share of simulated tests – a lift injected in every window position, tested "
        "conformally on a refitted synthetic control – that reject at --alpha.",
    )

"""`cerebro geo-design`: choose the markets and duration of a geo experiment by simulated power.

Its options are `GeoDesignSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

from typing import Any

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.core.results import Result
from cerebro.geo.design_spec import GeoDesignSpec


def _run(fields: dict[str, Any]) -> Result:
    # no spinner: the search shows its own progress bar
    from cerebro.core.spec import parse_spec
    from cerebro.geo.design import run_geo_design

    return run_geo_design(parse_spec({k: v for k, v in fields.items() if v is not None}))


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "geo-design",
        GeoDesignSpec,
        run=_run,
        help="Rank candidate treated markets and durations by simulated power, MDE and "
        "investment.\n\n"
        "Candidates are each geo with its most correlated partners (as GeoLift); power is the "
        "share of simulated tests – a lift injected in every window position, tested "
        "conformally on a refitted synthetic control – that reject at --alpha.",
    )

"""`cerebro geotest`: lift of a geo experiment (synthetic control, augmented SC, TBR, matched markets).

Its options are `GeoTestSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.geo.lift_spec import GeoTestSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "geotest",
        GeoTestSpec,
        message="Estimating the geo lift…",
        help="Lift %, incremental units and ATT of a geo test, with conformal inference.\n\n"
        "The treated geos of each cell are averaged and compared with a counterfactual built "
        "from the control geos before the test.",
    )

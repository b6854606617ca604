"""`cerebro mmm`: fit a media mix model.

Its options are `MMMSpec`'s fields (`cerebro.cli.spec_options`), `--save` among them: the fitted
posterior the run returns in memory and the command writes with its other outputs (`--json`,
`--output`, `--plot`): all of them, or none.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.mmm.spec import MMMSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "mmm",
        MMMSpec,
        message=lambda fields: (
            "fitting the media mix model on "
            f"{Path(fields['data']).name if fields['data'] else fields['table']} …"
        ),
        figures=" (decomposition, ROI, response curves)",
        help="Fit a Bayesian media mix model: channel contributions, ROI and marginal ROI, "
        "response curves and adstock, with credible intervals.\n\nEach channel's spend is "
        "adstocked, then saturated; the baseline has a trend, seasonality and controls.",
    )

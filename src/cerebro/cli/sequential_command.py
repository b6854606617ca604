"""`cerebro sequential-design`: group-sequential boundaries for planned looks.

Its options are `SequentialDesignSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.experiments.sequential.spec import SequentialDesignSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "sequential-design",
        SequentialDesignSpec,
        message="computing boundaries …",
        help="Efficacy boundaries of a group-sequential test: z and nominal p per look, alpha spent.",
    )

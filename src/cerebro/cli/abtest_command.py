"""`cerebro abtest`: analyse an A/B/n test from a data file.

Its options are `ABTestSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.experiments.abtest.spec import ABTestSpec


def _message(fields: dict[str, Any]) -> str:
    return f"analysing {Path(fields['data']).name} …"


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "abtest",
        ABTestSpec,
        message=_message,
        help="Analyse an A/B/n test: every variant against the control, for each outcome.",
    )

"""`cerebro power-analysis`: sample size, minimum detectable effect, power and duration.

Its options are `PowerSpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

from typing import Any

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.experiments.power.analysis import PowerSpec, build_spec, run_power


def _run(fields: dict[str, Any]):
    # PowerSpec's own validation (build_spec) keeps its messages unprefixed, and running the
    # runner directly keeps the other analysis families (the registry's catalog) off start-up.
    return run_power(build_spec({k: v for k, v in fields.items() if v is not None}))


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "power-analysis",
        PowerSpec,
        run=_run,
        help="Sample size per group, MDE or power of an A/B/n test, and how many days it takes.\n\n"
        "Exactly one quantity is solved for: --n and --mde give the power; --n alone the minimum "
        "detectable effect at --power; otherwise the sample size for --mde.",
    )

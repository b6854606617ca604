"""`cerebro causal`: effects by adjustment (regression … dml) or by a design (did, rdd, iv, synthetic control).

Its options are `CausalSpec`'s fields (`cerebro.cli.spec_options`); the design options reach
the design kinds through the registry, as `observational/spec.OPTIONS` says.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.observational.spec import CausalSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "causal",
        CausalSpec,
        message=lambda fields: (
            "estimating the effect in "
            f"{Path(fields['data']).name if fields['data'] else fields['table']} …"
        ),
        figures=" (love plot; did: event study; rdd: RD plot; iv: first stage; sc: gap plot)",
        help="Estimate a causal effect from observational data: adjust for confounders, or use a "
        "design (difference-in-differences, regression discontinuity, instruments, synthetic "
        "control).",
    )

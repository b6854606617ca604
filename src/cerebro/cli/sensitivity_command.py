"""`cerebro sensitivity`: how robust an observational estimate is to unobserved confounding.

Its options are `SensitivitySpec`'s fields (`cerebro.cli.spec_options`).
"""

from __future__ import annotations

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.sensitivity.spec import SensitivitySpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "sensitivity",
        SensitivitySpec,
        message="Probing the estimate's sensitivity…",
        figures=" (contour plot of the bias-adjusted estimate; Γ curve for psm)",
        help="How strong an unobserved confounder would have to be to change an observational "
        "estimate: robustness values, bias-adjusted estimates and bounds, E-values, Rosenbaum "
        "bounds and refutations.\n\n"
        "The default method, regression, follows Cinelli & Hazlett (2020) as sensemakr does; "
        "aipw and dml give the bounds of Chernozhukov et al. (2022); psm Rosenbaum's Γ of 1:1 "
        "matched pairs. Without data, --evalue-rr 3.9 --evalue-ci 1.8,8.7 (or --evalue-or, "
        "--evalue-hr, --evalue-smd) gives the E-value of a published estimate.",
    )

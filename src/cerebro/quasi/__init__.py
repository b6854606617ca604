"""Quasi-experimental designs behind `cerebro causal --method did|rdd|iv|synthetic_control`.

Each design lives in its own module exposing ``run(frame, spec) -> Result`` (the frame holds the
columns the spec names, rows as given) and ``plot(result) -> Figure`` (drawn from the result's
tables only). `CausalSpec` validates which columns each design needs; this module routes.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result
    from cerebro.observational.spec import CausalSpec

MODULES = {
    "did": "cerebro.quasi.did",
    "rdd": "cerebro.quasi.rdd",
    "iv": "cerebro.quasi.iv",
    "synthetic_control": "cerebro.quasi.synth",
}


def run_design(frame: pd.DataFrame, spec: CausalSpec) -> Result:
    """The result of the design `spec.method` names."""
    return import_module(MODULES[spec.method]).run(frame, spec)


def design_plot(result: Any) -> Any:
    """The design's own figure (event study, RD plot, first stage, gap plot)."""
    return import_module(MODULES[result.method]).plot(result)

"""Difference-in-differences, kind ``did`` (also `cerebro causal --method did`).

`spec.DiDSpec` holds the design's options; `analysis` chooses the model (2×2, two-way fixed
effects, event study, Callaway–Sant'Anna) and builds the result; `data`, `ols`, `event_study`
and `callaway_santanna` hold the numerics; `synthetic` the panels with known truth. The numerics
import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerebro.core.registry import Method, register
from cerebro.core.spec import run_from_python
from cerebro.quasi.design import design_frame
from cerebro.quasi.did.spec import DiDSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result


def run_did(spec: DiDSpec, data: pd.DataFrame | None = None) -> Result:
    """Difference-in-differences for the design `spec` describes (the runner every face calls)."""
    from cerebro.quasi.did.analysis import run

    return run(design_frame(spec, data), spec)


def did(data: pd.DataFrame | str | None = None, **options: Any) -> Result:
    """Difference-in-differences (see `DiDSpec` for every option).

    >>> res = did(df, treatment="treated", outcome="sales", unit="unit", time="period")
    """
    return run_from_python(DiDSpec, run_did, data, options)


register(
    Method(
        kind="did",
        spec_type=DiDSpec,
        run=run_did,
        summary="Difference-in-differences: 2×2, two-way fixed effects, event study, "
        "Callaway–Sant'Anna for staggered adoption.",
        plot="cerebro.quasi.did.analysis:plot",
        example="cerebro.quasi.did.synthetic:example",
    )
)

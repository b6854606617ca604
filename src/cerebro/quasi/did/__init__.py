"""Difference-in-differences, kind ``did`` (also `cerebro causal --method did`).

`spec.DiDSpec` holds the design's options; `analysis` chooses the model (2×2, two-way fixed
effects, event study, Callaway–Sant'Anna) and builds the result; `data`, `ols`, `event_study`
and `callaway_santanna` hold the numerics; `synthetic` the panels with known truth. The numerics
import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from cerebro.quasi.design import register_design
from cerebro.quasi.did.spec import DiDSpec

run_did, did = register_design(
    "did",
    DiDSpec,
    "cerebro.quasi.did",
    summary="Difference-in-differences: 2×2, two-way fixed effects, event study, Callaway–Sant'Anna for staggered adoption.",
    example="""
    >>> res = did(df, treatment="treated", outcome="sales", unit="unit", time="period")
    """,
)

"""Regression discontinuity, kind ``rdd`` (also `cerebro causal --method rdd`).

`spec.RDDSpec` holds the design's options; `analysis` builds the result (estimate, placebo cutoffs, covariate balance, density test); `local`, `bandwidth`, `estimate`, `density` and `kernels` hold the numerics; `synthetic` data with known truth. The numerics import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from cerebro.quasi.design import register_design
from cerebro.quasi.rdd.spec import RDDSpec

run_rdd, rdd = register_design(
    "rdd",
    RDDSpec,
    "cerebro.quasi.rdd",
    summary="Regression discontinuity: local polynomials with robust bias-corrected intervals, sharp and fuzzy.",
    example="""
    >>> res = rdd(df, outcome="vote", running_variable="margin", cutoff=0)
    """,
)

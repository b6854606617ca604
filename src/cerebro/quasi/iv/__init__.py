"""Instrumental variables, kind ``iv`` (also `cerebro causal --method iv`).

`spec.IVSpec` holds the design's options; `analysis` builds the result and its diagnostics; `estimators` holds the k-class fits and tests; `synthetic` data with known truth. The numerics import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from cerebro.quasi.design import register_design
from cerebro.quasi.iv.spec import IVSpec

run_iv, iv = register_design(
    "iv",
    IVSpec,
    "cerebro.quasi.iv",
    summary="Instrumental variables: 2SLS and LIML with first-stage, weak-instrument-robust and overidentification diagnostics.",
    example="""
    >>> res = iv(df, treatment="educ", outcome="lwage", instrument=["nearc4"], confounders=["exper"])
    """,
)

"""Regression discontinuity, kind ``rdd`` (also `cerebro causal --method rdd`).

`spec.RDDSpec` holds the design's options; `analysis` builds the result (estimate, placebo cutoffs, covariate balance, density test); `local`, `bandwidth`, `estimate`, `density` and `kernels` hold the numerics; `synthetic` data with known truth. The numerics import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerebro.core.registry import Method, register
from cerebro.core.spec import run_from_python
from cerebro.quasi.design import design_frame
from cerebro.quasi.rdd.spec import RDDSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result


def run_rdd(spec: RDDSpec, data: pd.DataFrame | None = None) -> Result:
    """Regression discontinuity for the design `spec` describes (the runner every face calls)."""
    from cerebro.quasi.rdd.analysis import run

    return run(design_frame(spec, data), spec)


def rdd(data: pd.DataFrame | str | None = None, **options: Any) -> Result:
    """Regression discontinuity (see `RDDSpec` for every option).

    >>> res = rdd(df, outcome="vote", running_variable="margin", cutoff=0)
    """
    return run_from_python(RDDSpec, run_rdd, data, options)


register(
    Method(
        kind="rdd",
        spec_type=RDDSpec,
        run=run_rdd,
        summary="Regression discontinuity: local polynomials with robust bias-corrected intervals, sharp and fuzzy.",
        plot="cerebro.quasi.rdd.analysis:plot",
        example="cerebro.quasi.rdd.synthetic:example",
    )
)

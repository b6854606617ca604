"""Instrumental variables, kind ``iv`` (also `cerebro causal --method iv`).

`spec.IVSpec` holds the design's options; `analysis` builds the result and its diagnostics; `estimators` holds the k-class fits and tests; `synthetic` data with known truth. The numerics import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerebro.core.registry import Method, register
from cerebro.core.spec import run_from_python
from cerebro.quasi.design import design_frame
from cerebro.quasi.iv.spec import IVSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result


def run_iv(spec: IVSpec, data: pd.DataFrame | None = None) -> Result:
    """Instrumental variables for the design `spec` describes (the runner every face calls)."""
    from cerebro.quasi.iv.analysis import run

    return run(design_frame(spec, data), spec)


def iv(data: pd.DataFrame | str | None = None, **options: Any) -> Result:
    """Instrumental variables (see `IVSpec` for every option).

    >>> res = iv(df, treatment="educ", outcome="lwage", instrument=["nearc4"], confounders=["exper"])
    """
    return run_from_python(IVSpec, run_iv, data, options)


register(
    Method(
        kind="iv",
        spec_type=IVSpec,
        run=run_iv,
        summary="Instrumental variables: 2SLS and LIML with first-stage, weak-instrument-robust and overidentification diagnostics.",
        plot="cerebro.quasi.iv.analysis:plot",
        example="cerebro.quasi.iv.synthetic:example",
    )
)

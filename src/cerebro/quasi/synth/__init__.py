"""Synthetic control, kind ``synthetic_control`` (also `cerebro causal --method synthetic_control`).

`spec.SyntheticControlSpec` holds the design's options; `analysis` builds the panel and the result; `augmented`, `sdid` and `inference` hold the numerics; `synthetic` panels with known truth. The numerics import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerebro.core.registry import Method, register
from cerebro.core.spec import run_from_python
from cerebro.quasi.design import design_frame
from cerebro.quasi.synth.spec import SyntheticControlSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result


def run_synthetic_control(spec: SyntheticControlSpec, data: pd.DataFrame | None = None) -> Result:
    """Synthetic control for the design `spec` describes (the runner every face calls)."""
    from cerebro.quasi.synth.analysis import run

    return run(design_frame(spec, data), spec)


def synthetic_control(data: pd.DataFrame | str | None = None, **options: Any) -> Result:
    """Synthetic control (see `SyntheticControlSpec` for every option).

    >>> res = synthetic_control(df, outcome="cigsale", unit="state", time="year", treated_unit="California", treat_start=1989)
    """
    return run_from_python(SyntheticControlSpec, run_synthetic_control, data, options)


register(
    Method(
        kind="synthetic_control",
        spec_type=SyntheticControlSpec,
        run=run_synthetic_control,
        summary="Synthetic control: Abadie–Diamond–Hainmueller, ridge-augmented and synthetic difference-in-differences, with placebo inference.",
        plot="cerebro.quasi.synth.analysis:plot",
        example="cerebro.quasi.synth.synthetic:example",
    )
)

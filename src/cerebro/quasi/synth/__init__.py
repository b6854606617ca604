"""Synthetic control, kind ``synthetic_control`` (also `cerebro causal --method synthetic_control`).

`spec.SyntheticControlSpec` holds the design's options; `analysis` builds the panel and the result; `augmented`, `sdid` and `inference` hold the numerics; `synthetic` panels with known truth. The numerics import on the first run, so registering the kind stays cheap.
"""

from __future__ import annotations

from cerebro.quasi.design import register_design
from cerebro.quasi.synth.spec import SyntheticControlSpec

run_synthetic_control, synthetic_control = register_design(
    "synthetic_control",
    SyntheticControlSpec,
    "cerebro.quasi.synth",
    summary="Synthetic control: Abadie–Diamond–Hainmueller, ridge-augmented and synthetic difference-in-differences, with placebo inference.",
    example="""
    >>> res = synthetic_control(df, outcome="cigsale", unit="state", time="year", treated_unit="California", treat_start=1989)
    """,
)

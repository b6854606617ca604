"""`Comparison`: the outcome of one variant-versus-control test, whatever the test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Comparison:
    """One variant against the control on one metric.

    `estimate` is the effect on the scale named by `measure` (variant minus control for
    differences); `ci_low`/`ci_high` are at level 1 - alpha (one-sided tests give one infinite
    bound); `df` is None for normal-theory tests; `extra` carries test-specific numbers
    (e.g. the odds ratio and its CI for Fisher's test).
    """

    estimate: float
    se: float | None
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    df: float | None
    test: str
    measure: str
    extra: dict[str, Any] = field(default_factory=dict)

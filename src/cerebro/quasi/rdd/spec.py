"""`RDDSpec`: what a regression-discontinuity estimate needs to know (kind ``rdd``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.design_fields import Bandwidth, Cluster, Cutoff, Kernel, Order, RunningVariable
from cerebro.quasi.design import QuasiSpec


class RDDSpec(QuasiSpec):
    """The jump of `outcome` at `cutoff` of `running_variable` (sharp), or that jump over the
    jump in take-up `treatment` (fuzzy), by local polynomials with robust bias-corrected
    intervals (Calonico, Cattaneo & Titiunik 2014)."""

    kind: Literal["rdd"] = "rdd"
    treatment: str | None = Field(
        None, description="Take-up column of a fuzzy design (omit for a sharp design)."
    )
    running_variable: RunningVariable
    cutoff: Cutoff
    kernel: Kernel
    order: Order
    bandwidth: Bandwidth
    cluster: Cluster

    @field_validator("order")
    @classmethod
    def _order(cls, value: int) -> int:
        if value not in (0, 1, 2, 3):
            raise ValueError(f"order is the local polynomial order 0–3, got {value} (e.g. 1)")
        return value

    @model_validator(mode="after")
    def _design(self) -> RDDSpec:
        if self.running_variable is None:
            self.needs(["--running-variable (the running (score) column)"])
        self.check_outcome(self.running_variable)
        if self.bandwidth is not None and not self.bandwidth > 0:
            raise ValueError(f"bandwidth must be positive, got {self.bandwidth}")
        return self

    def design_columns(self) -> list[str | None]:
        return [self.running_variable, self.cluster]

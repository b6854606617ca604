"""`IVSpec`: what an instrumental-variables estimate needs to know (kind ``iv``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cerebro.core.design_fields import Cluster, Debiased, Instrument, IVCov, IVEstimator, Treated
from cerebro.quasi.design import QuasiSpec


class IVSpec(QuasiSpec):
    """The effect of an endogenous `treatment` on `outcome` identified by `instrument`(s), by
    2SLS or LIML, with weak-instrument-robust Anderson–Rubin inference."""

    kind: Literal["iv"] = "iv"
    treatment: str | None = Field(None, description="The endogenous regressor.")
    treated: Treated
    instrument: Instrument
    iv_estimator: IVEstimator
    iv_cov: IVCov
    debiased: Debiased
    cluster: Cluster

    @model_validator(mode="after")
    def _design(self) -> IVSpec:
        missing = [] if self.instrument else ["--instrument (the instrument column(s))"]
        if self.treatment is None:
            missing.append("--treatment")
        self.needs(missing)
        if self.treatment in self.instrument:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and an instrument")
        self.check_outcome()
        return self

    def design_columns(self) -> list[str | None]:
        return [self.cluster, *self.instrument]

"""`IVSpec`: what an instrumental-variables estimate needs to know (kind ``iv``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import split_list
from cerebro.quasi.design import QuasiSpec


class IVSpec(QuasiSpec):
    """The effect of an endogenous `treatment` on `outcome` identified by `instrument`(s), by
    2SLS or LIML, with weak-instrument-robust Anderson–Rubin inference."""

    kind: Literal["iv"] = "iv"
    treatment: str | None = Field(None, description="The endogenous regressor.")
    treated: str | None = Field(
        None, description="The treated value of a two-valued text treatment (coded 1)."
    )
    instrument: list[str] = Field(default_factory=list, description="Instrument column(s).")
    iv_estimator: Literal["2sls", "liml"] = Field("2sls", description="2SLS or LIML.")
    iv_cov: Literal["robust", "unadjusted", "clustered"] | None = Field(
        None,
        description="SE type – robust (HC0, default), unadjusted (classical) or clustered "
        "(default with cluster).",
    )
    debiased: bool = Field(
        False, description="Small-sample factor n/(n − q) with t and F reference distributions."
    )
    cluster: str | None = Field(None, description="Cluster column for SEs (default: none).")

    @field_validator("instrument", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

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

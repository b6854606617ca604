"""`DiDSpec`: what a difference-in-differences estimate needs to know (kind ``did``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cerebro.core.design_fields import (
    Aggregation,
    Bootstrap,
    Cluster,
    Control,
    ControlGroup,
    DiDModel,
    Lags,
    Leads,
    Post,
    Seed,
    Time,
    Treated,
    TreatStart,
    Unit,
)
from cerebro.quasi.design import QuasiSpec


class DiDSpec(QuasiSpec):
    """The effect on the treated of a treatment that starts at a known time: a 2×2 design
    (`post`), one adoption date (two-way fixed effects) or staggered adoption
    (Callaway–Sant'Anna), from a panel (`unit`, `time`) or repeated cross-sections."""

    kind: Literal["did"] = "did"
    treatment: str | None = Field(
        None,
        description="The treated group (with post/treat_start) or 0/1 treated-this-period.",
    )
    treated: Treated
    control: Control
    unit: Unit
    time: Time
    post: Post
    treat_start: TreatStart
    cluster: Cluster
    did_model: DiDModel
    control_group: ControlGroup
    aggregation: Aggregation
    leads: Leads
    lags: Lags
    bootstrap: Bootstrap
    seed: Seed

    @model_validator(mode="after")
    def _design(self) -> DiDSpec:
        missing = []
        if self.post is None and not (self.unit and self.time):
            missing.append(
                "--post (a 0/1 post-period column, for a 2×2 design) or --unit and --time "
                "(a panel; add --treat-start if --treatment marks the treated group)"
            )
        if self.treatment is None:
            missing.append("--treatment")
        self.needs(missing)
        self.check_outcome()
        return self

    def design_columns(self) -> list[str | None]:
        return [self.unit, self.time, self.post, self.cluster]

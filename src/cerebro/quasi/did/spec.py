"""`DiDSpec`: what a difference-in-differences estimate needs to know (kind ``did``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

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
    treated: str | None = Field(
        None, description="The treated value of a two-valued treatment column (default: 1/True)."
    )
    control: str | None = Field(None, description="The control value of the treatment column.")
    unit: str | None = Field(None, description="Unit (panel id) column.")
    time: str | None = Field(None, description="Time period column.")
    post: str | None = Field(None, description="2×2: 0/1 column marking post-treatment periods.")
    treat_start: float | str | None = Field(
        None, description="First treated period (a value of the time column)."
    )
    cluster: str | None = Field(None, description="Cluster column for SEs (default: the unit).")
    did_model: Literal["auto", "twfe", "event_study", "callaway_santanna"] = Field(
        "auto",
        description="auto picks 2×2 (post flag), TWFE (one adoption date) or Callaway–Sant'Anna "
        "(staggered adoption).",
    )
    control_group: Literal["never", "notyet"] = Field(
        "never", description="Staggered: never-treated or not-yet-treated comparisons."
    )
    aggregation: Literal["simple", "dynamic", "group"] = Field(
        "simple", description="Staggered: headline aggregation of group-time ATTs."
    )
    leads: int | None = Field(None, description="Event study: pre-periods shown (default all).")
    lags: int | None = Field(None, description="Event study: post-periods shown (default all).")
    bootstrap: int = Field(
        0, description="Multiplier-bootstrap replicates of the uniform event-study band (0: 999)."
    )
    seed: int = Field(0, description="Seed of the multiplier bootstrap.")

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap(cls, value: int) -> int:
        if value != 0 and value < 50:
            raise ValueError(f"bootstrap needs 0 (analytic) or at least 50 replicates, got {value}")
        return value

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

"""`SurvivalSpec`: what a causal survival analysis needs to know (kind ``survival``).

Light on purpose: the CLI imports it to build `cerebro survival`'s options without the numerics.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import Alpha, SpecBase, data_file, split_list

SurvivalMethod = Literal["ipw", "gformula", "km"]


def _replicates(value: int) -> int:
    if value != 0 and value < 20:
        raise ValueError(f"bootstrap needs 0 (no intervals) or at least 20 replicates, got {value}")
    return value


class SurvivalSpec(SpecBase):
    """Survival curves under "everybody treated" and "nobody treated", their difference at a
    horizon and a hazard ratio, from one row per unit (follow-up time and event indicator) or
    from person-time rows (one row per unit and period, with `unit`)."""

    kind: Literal["survival"] = "survival"
    data: str | None = data_file(
        "One row per unit (follow-up time, event) or, with `unit`, one row per unit and period."
    )
    time: str = Field(
        ...,
        description="Follow-up time in whole periods (months, weeks, days): the period of the "
        "event, or the last period observed when censored; with `unit`, the period of each row.",
    )
    event: str = Field(
        ..., description="1 if the event (death, churn, conversion) happened, 0 if censored."
    )
    treatment: str = Field(..., description="Treatment column with two values (baseline).")
    confounders: list[str] = Field(
        default_factory=list,
        description="Baseline confounders; 'age^2' adds a square, 'C(x)' makes x categorical.",
    )
    method: SurvivalMethod = Field(
        "ipw",
        description="ipw: IP-weighted pooled logistic hazards (stabilised weights); gformula: "
        "standardised hazards model; km: Kaplan–Meier and log-rank (randomised data).",
    )
    horizon: int | None = Field(
        None, description="Period at which survival is compared (default: the last observed)."
    )
    unit: str | None = Field(
        None, description="Unit id column: the data are person-time rows, one per period."
    )
    censoring: str | None = Field(
        None,
        description="With `unit`: 1 on the row where a unit is censored (lost to follow-up); "
        "without it, a unit is censored after its last row when it has no event.",
    )
    treated: str | None = Field(
        None, description="The treated value of the treatment column (default: 1/True)."
    )
    bootstrap: int = Field(
        200,
        description="Bootstrap replicates (units resampled) for the intervals of ipw and gformula "
        "(0: none).",
    )
    seed: int = Field(0, description="Seed of the bootstrap.")
    alpha: Alpha = 0.05

    @field_validator("confounders", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap(cls, value: int) -> int:
        return _replicates(value)

    @model_validator(mode="after")
    def _consistent(self) -> SurvivalSpec:
        named = [self.time, self.event, self.treatment, self.unit, self.censoring]
        for i, column in enumerate(named):
            if column is not None and column in named[:i]:
                raise ValueError(f"column {column!r} is named for two roles; give each its own")
        if self.horizon is not None and self.horizon < 1:
            raise ValueError(f"horizon is a period ≥ 1, got {self.horizon}")
        if self.censoring is not None and self.unit is None:
            raise ValueError("--censoring marks rows of person-time data; give --unit too")
        if self.method == "km" and self.confounders:
            raise ValueError(
                "--method km compares the arms without adjustment (randomised data); drop "
                "--confounders or use --method ipw or gformula"
            )
        return self

    def columns(self) -> list[str]:
        from cerebro.data.columns import source_columns

        terms = [c for t in self.confounders for c in source_columns(t)]
        named = [self.unit, self.time, self.event, self.treatment, self.censoring, *terms]
        return list(dict.fromkeys(c for c in named if c is not None))

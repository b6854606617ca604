"""`DesignSpec`: what a randomisation design needs to know – apart from the numerics, so that the
command line builds its options without importing them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from cerebro.core.spec import SpecBase, cli, data_file, split_list

METHODS = ("simple", "complete", "stratified", "rerandomise")
MAX_ARMS = 1000  # past this an assignment table is no experiment anyone runs


class DesignSpec(SpecBase):
    """A randomisation of the units in `data` to `arms` arms."""

    kind: Literal["design"] = "design"
    data: str | None = data_file("Unit table (CSV, Parquet or JSON), one row per unit.")
    arms: int = Field(2, description="Number of arms, control included.")
    allocation: list[float] | None = Field(
        None, description="Share of units per arm, e.g. 0.5,0.5 (sums to 1; default equal)."
    )
    arm_names: list[str] | None = Field(
        None, description="Arm labels, e.g. control,treatment (default control, treatment_1, …)."
    )
    method: Literal["simple", "complete", "stratified", "rerandomise"] | None = Field(
        None,
        description="simple, complete, stratified or rerandomise (default: stratified with "
        "`strata`, else complete).",
    )
    strata: list[str] = Field(default_factory=list, description="Columns to block on.")
    bins: int = Field(4, description="Quantile bins for a numeric stratum column.")
    covariates: list[str] | None = Field(
        None,
        description="Columns to check balance on (default: every numeric non-ID column).",
        json_schema_extra=cli(flag="--balance-covariates", keep_empty=True),
    )
    max_smd: float = Field(
        0.05, description="Rerandomisation: accept when every |SMD| is below this."
    )
    max_tries: int = Field(1000, description="Rerandomisation: give up after this many draws.")
    seed: int = Field(0, description="Seed that reproduces the assignment.")
    arm_column: str = Field("arm", description="Name of the assignment column.")

    @field_validator("allocation", "arm_names", "strata", "covariates", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("bins", "max_tries")
    @classmethod
    def _positive(cls, value: int, info) -> int:  # type: ignore[no-untyped-def]
        if value < 1 or (info.field_name == "bins" and value < 2):
            raise ValueError(
                f"{info.field_name} must be at least {2 if info.field_name == 'bins' else 1}, got {value}"
            )
        return value

    @field_validator("arms")
    @classmethod
    def _arms(cls, value: int) -> int:
        """A cap so that a typo (100000) is refused at once rather than randomised for minutes."""
        if value > MAX_ARMS:
            raise ValueError(f"arms must be at most {MAX_ARMS:,}, got {value:,}")
        return value

    @field_validator("max_smd")
    @classmethod
    def _smd(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"max_smd must be positive, got {value} (e.g. 0.05)")
        return value

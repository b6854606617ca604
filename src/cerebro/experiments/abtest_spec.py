"""`ABTestSpec`: what an A/B/n analysis needs to know."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from cerebro.core.spec import SpecBase, split_list

TestType = Literal[
    "ttest", "welch", "mann_whitney", "chi_square", "ztest", "fisher", "bayesian", "sequential"
]
TEST_TYPES: tuple[str, ...] = TestType.__args__  # type: ignore[attr-defined]


class ABTestSpec(SpecBase):
    """An A/B/n test: every variant of `treatment` against `control`, for each outcome.

    Outcomes are column names; ``"num/den"`` names a ratio metric (e.g. revenue per session)
    analysed by the delta method. `covariates` switch on CUPED, `strata` post-stratification,
    `cluster` cluster-robust inference for cluster-randomised tests.
    """

    kind: Literal["abtest"] = "abtest"
    test_name: str | None = None
    data: str | None = Field(None, description="Path of the data file (CSV, Parquet or JSON).")
    treatment: str = Field(validation_alias=AliasChoices("treatment", "treatment_column"))
    outcome: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("outcome", "outcome_column", "outcomes")
    )
    control: str | None = None
    test_type: TestType | None = Field(None, validation_alias=AliasChoices("test_type", "type"))
    alpha: float = 0.05
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    covariates: list[str] = Field(default_factory=list)
    strata: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("strata", "stratification_vars")
    )
    cluster: str | None = Field(
        None,
        description="Cluster (randomisation unit) column for cluster-robust errors; 'none' says "
        "the rows are independent units and skips the check for a repeating unit id.",
    )
    expected_allocation: dict[str, float] | None = None
    from_summary: bool = False
    yates: bool = Field(False, description="Yates continuity correction for chi-square.")
    power: float = Field(0.8, description="Power at which the detectable effect is reported.")
    mde: float | None = Field(None, description="Planned minimum detectable effect (absolute).")
    srm_alpha: float = Field(0.001, description="Sample-ratio-mismatch alarm threshold.")
    prior: list[float] | None = Field(
        None,
        description="Bayesian prior: a,b of a Beta prior (binary) or mu0,kappa0,alpha0,beta0 of "
        "a Normal–Inverse-Gamma prior (continuous).",
    )
    rope: list[float] | None = Field(
        None, description="Bayesian region of practical equivalence on the lift: low,high."
    )
    loss_threshold: float | None = Field(
        None, description="Bayesian expected-loss threshold (default 0.1% of the control mean)."
    )
    draws: int = Field(200_000, description="Monte Carlo draws for Bayesian lift intervals.")
    bayes_model: Literal["conjugate", "hurdle_lognormal"] = Field(
        "conjugate",
        validation_alias=AliasChoices("bayes_model", "model"),
        description="Bayesian model: conjugate (closed form) or hurdle_lognormal (MCMC, "
        "for revenue that is zero for most units).",
    )
    chains: int = Field(4, description="Bayesian model-based test: MCMC chains.")
    mcmc_samples: int = Field(1000, description="Bayesian model-based test: draws per chain.")
    seed: int = Field(0, description="Seed of every random step.")
    time_column: str | None = Field(
        None,
        validation_alias=AliasChoices("time_column", "time"),
        description="Sequential: column whose distinct values are the looks (e.g. day).",
    )
    mixing_sd: float | None = Field(
        None, description="Sequential: mixing standard deviation τ of the mSPRT, in metric units."
    )
    planned_n: int | None = Field(
        None, description="Sequential: planned units per arm, for group-sequential boundaries."
    )
    spending: Literal["obf", "pocock", "power"] = Field(
        "obf", description="Sequential: Lan–DeMets alpha-spending function for --planned-n."
    )
    futility: Literal["obf", "pocock", "power"] | None = Field(
        None,
        description="Sequential with planned_n: beta spending of non-binding futility bounds "
        "under the planned effect `mde` (β = 1 − power).",
    )
    binding: bool = Field(
        False,
        description="Sequential with futility: binding futility (lower efficacy bounds that "
        "assume every futility stop is obeyed).",
    )

    @field_validator("prior", "rope", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        return split_list(value)

    @field_validator("rope")
    @classmethod
    def _rope(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 2 or not value[0] < value[1]):
            raise ValueError(f"rope needs two numbers low,high with low < high, got {value}")
        return value

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() == "none":
            return "none"
        return value or None

    @field_validator("outcome", "covariates", "strata", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("alpha", "power", "srm_alpha")
    @classmethod
    def _unit_interval(cls, value: float, info) -> float:  # type: ignore[no-untyped-def]
        if not 0 < value < 1:
            raise ValueError(
                f"{info.field_name} must be strictly between 0 and 1, got {value} "
                f"(e.g. {info.field_name} 0.05)"
                if info.field_name != "power"
                else f"power must be strictly between 0 and 1, got {value} (e.g. 0.8)"
            )
        return value

    @field_validator("expected_allocation")
    @classmethod
    def _allocation(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and (not value or any(w <= 0 for w in value.values())):
            raise ValueError("expected_allocation needs a positive weight for every arm")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> ABTestSpec:
        if not self.outcome and not self.from_summary:
            raise ValueError("name at least one outcome column (e.g. --outcome conversion)")
        if self.treatment in self.outcome:
            raise ValueError(f"{self.treatment!r} is the treatment column and cannot be an outcome")
        return self

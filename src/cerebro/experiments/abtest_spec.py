"""`ABTestSpec`: what an A/B/n analysis needs to know.

Its fields are the options of every face: `cerebro abtest` (`cerebro.cli.spec_options`), the
Python function `cerebro.abtest` (`cerebro.core.python_face`) and ``kind: abtest`` spec files.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from cerebro.core.errors import UserInputError
from cerebro.core.spec import SpecBase, cli, split_list

TestType = Literal[
    "ttest", "welch", "mann_whitney", "chi_square", "ztest", "fisher", "bayesian", "sequential"
]
TEST_TYPES: tuple[str, ...] = TestType.__args__  # type: ignore[attr-defined]


def parse_allocation(text: str | None) -> dict[str, float] | None:
    """``"A=1,B=1,C=2"`` → {"A": 1.0, "B": 1.0, "C": 2.0}; empty text → None (equal split)."""
    if not text:
        return None
    allocation = {}
    for part in split_list(text):
        arm, sep, weight = part.partition("=")
        try:
            allocation[arm.strip()] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise UserInputError(
                f"--expected-allocation item {part!r} is not ARM=WEIGHT; write e.g. 'A=0.5,B=0.5'."
            )
    return allocation


class ABTestSpec(SpecBase):
    """An A/B/n test: every variant of `treatment` against `control`, for each outcome.

    Outcomes are column names; ``"num/den"`` names a ratio metric (e.g. revenue per session)
    analysed by the delta method. `covariates` switch on CUPED, `strata` post-stratification,
    `cluster` cluster-robust inference for cluster-randomised tests.
    """

    kind: Literal["abtest"] = "abtest"
    test_name: str | None = Field(
        None,
        description="A name for this test, shown in the output.",
        json_schema_extra=cli(flag="--name"),
    )
    data: str | None = Field(
        None,
        description="One row per unit, or several rows per unit with a unit id (or per arm with "
        "`from_summary`).",
        json_schema_extra=cli(
            argument=True,
            required=True,
            help="CSV, Parquet or JSON: one row per unit, or several rows per unit with a unit "
            "id (or per arm with `from_summary`).",
        ),
    )
    treatment: str = Field(
        validation_alias=AliasChoices("treatment", "treatment_column"),
        description="Column with the arm of each unit.",
        json_schema_extra=cli(short="-t"),
    )
    outcome: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("outcome", "outcome_column", "outcomes"),
        description="Outcome column(s), comma-separated; 'num/den' is a ratio metric (e.g. "
        "revenue/sessions).",
        json_schema_extra=cli(short="-y"),
    )
    control: str | None = Field(
        None,
        description="Control arm (default: the arm named *control*, else the first sorted).",
    )
    test_type: TestType | None = Field(
        None,
        validation_alias=AliasChoices("test_type", "type"),
        description="The test (default: chosen by the metric type).",
        json_schema_extra=cli(flag="--type", aliases=("--test-type",)),
    )
    alpha: float = Field(0.05, description="Significance level; CIs are 1 − alpha.")
    alternative: Literal["two-sided", "greater", "less"] = Field(
        "two-sided", description="two-sided, greater or less (variant − control)."
    )
    covariates: list[str] = Field(
        default_factory=list, description="Pre-period covariates for CUPED, comma-separated."
    )
    strata: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("strata", "stratification_vars"),
        description="Columns to post-stratify on, comma-separated.",
    )
    cluster: str | None = Field(
        None,
        description="Cluster (randomisation unit) column for cluster-robust errors. Without it a "
        "repeating unit id (e.g. user_id on user × day rows) is detected and clustered on; "
        "'none' says every row is an independent unit.",
    )
    expected_allocation: dict[str, float] | None = Field(
        None,
        description="Planned split for the SRM check, a weight per arm, e.g. {'A': 0.5, "
        "'B': 0.5} (default equal).",
        json_schema_extra=cli(
            parse="cerebro.experiments.abtest_spec:parse_allocation",
            help="Planned split for the SRM check, e.g. 'A=0.5,B=0.5' (default equal).",
        ),
    )
    from_summary: bool = Field(
        False,
        description="`data` holds per-arm n, sums and sums of squares.",
        json_schema_extra=cli(flag="--from-summary"),
    )
    yates: bool = Field(
        False,
        description="Yates continuity correction for chi-square.",
        json_schema_extra=cli(flag="--yates"),
    )
    mde: float | None = Field(
        None, description="Planned absolute effect: report the power the test had for it."
    )
    power: float = Field(
        0.8, description="Power at which the detectable effect (mde column) is reported."
    )
    srm_alpha: float = Field(
        0.001,
        description="Sample-ratio-mismatch alarm level: the split of units is flagged as broken "
        "when the SRM check's p-value is below it.",
    )
    prior: list[float] | None = Field(
        None,
        description="Bayesian prior: 'a,b' (Beta, binary outcomes; default 1,1), "
        "'mu0,kappa0,alpha0,beta0' (Normal–Inverse-Gamma; default the reference prior) or, "
        "with `bayes_model` hurdle_lognormal, 'a,b,mu_sd,sigma_sd' (default 1,1,10,5).",
    )
    rope: list[float] | None = Field(
        None,
        description="Bayesian region of practical equivalence on the lift, 'low,high' (e.g. "
        "-0.001,0.001).",
    )
    loss_threshold: float | None = Field(
        None,
        description="Bayesian: ship when the expected loss is below this (default 0.1% of the "
        "control mean).",
    )
    draws: int = Field(200_000, description="Bayesian: Monte Carlo draws for the lift intervals.")
    bayes_model: Literal["conjugate", "hurdle_lognormal"] = Field(
        "conjugate",
        validation_alias=AliasChoices("bayes_model", "model"),
        description="Bayesian: conjugate (closed form) or hurdle_lognormal (NUTS; zero-heavy "
        "revenue).",
        json_schema_extra=cli(flag="--model"),
    )
    chains: int = Field(4, description="Bayesian `bayes_model` hurdle_lognormal: MCMC chains.")
    mcmc_samples: int = Field(
        1000, description="Bayesian `bayes_model` hurdle_lognormal: draws per chain."
    )
    seed: int = Field(0, description="Seed of every random step.")
    time_column: str | None = Field(
        None,
        validation_alias=AliasChoices("time_column", "time"),
        description="Sequential: column whose distinct values are the looks (e.g. day or date).",
        json_schema_extra=cli(flag="--time"),
    )
    mixing_sd: float | None = Field(
        None,
        description="Sequential: mSPRT mixing SD τ in metric units (default 0.1 pooled SD at the "
        "first look).",
    )
    planned_n: int | None = Field(
        None,
        description="Sequential: planned units per arm; adds group-sequential boundaries per look.",
    )
    spending: Literal["obf", "pocock", "power"] = Field(
        "obf", description="Sequential with `planned_n`: obf, pocock or power spending."
    )
    futility: Literal["obf", "pocock", "power"] | None = Field(
        None,
        description="Sequential with `planned_n` and `mde`: non-binding futility bounds (obf, "
        "pocock, power).",
    )
    binding: bool = Field(
        False,
        description="Sequential `futility`: binding futility (lower efficacy bounds; obey every "
        "stop).",
        json_schema_extra=cli(flag="--binding/--non-binding"),
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

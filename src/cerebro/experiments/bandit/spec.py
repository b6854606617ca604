"""`BanditSpec`: what a bandit allocation or regret simulation needs to know – kept apart from
the numerics so that the command line builds its options without importing them."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import SpecBase, cli, split_list

# A simulation steps every run of every policy `horizon` times in a Python loop over numpy
# arrays: about 30 µs a step plus a few ns per run, so these bounds keep the worst case to
# minutes per policy instead of an unbounded hang.
MAX_HORIZON = 1_000_000
MAX_STEPS = 100_000_000  # horizon × runs


class BanditSpec(SpecBase):
    """Either `data` with `arm` and `reward` columns (allocation), or `simulate` with `means`."""

    kind: Literal["bandit"] = "bandit"
    data: str | None = Field(
        None,
        description="Observations: one row per unit with its arm and reward.",
        json_schema_extra=cli(argument=True),
    )
    arm: str | None = Field(None, description="Column with each observation's arm.")
    reward: str | None = Field(None, description="Column with each observation's reward.")
    reward_type: Literal["binary", "continuous"] | None = Field(
        None, description="binary or continuous (default: detected from the values)."
    )
    policy: Literal["thompson", "ucb1", "epsilon_greedy"] = Field(
        "thompson", description="Policy that allocates the next period."
    )
    epsilon: float = Field(0.1, description="Exploration share of epsilon-greedy.")
    simulate: bool = Field(
        False,
        description="Simulate the regret of `policies` instead.",
        json_schema_extra=cli(flag="--simulate"),
    )
    means: list[float] | None = Field(
        None, description="Simulation: true mean reward per arm, e.g. 0.05,0.06."
    )
    policies: list[str] = Field(
        default_factory=lambda: ["thompson", "ucb1", "epsilon_greedy"],
        description="Simulation: policies to compare (thompson, ucb1, epsilon_greedy, "
        "epsilon_decay).",
    )
    horizon: int = Field(10_000, description="Simulation: steps per run.")
    runs: int = Field(200, description="Simulation: independent runs.")
    seed: int = Field(0, description="Seed of every random step.")

    @field_validator("means", "policies", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("epsilon")
    @classmethod
    def _epsilon(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError(f"epsilon must lie in [0, 1], got {value} (e.g. 0.1)")
        return value

    @field_validator("means")
    @classmethod
    def _finite_means(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not all(math.isfinite(m) for m in value):
            raise ValueError(f"means must be finite numbers, got {value} (e.g. 0.05,0.06)")
        return value

    @model_validator(mode="after")
    def _bounded_simulation(self) -> BanditSpec:
        if not self.simulate:
            return self
        if self.horizon < 2 or self.runs < 1:
            raise ValueError(
                f"--horizon must be at least 2 and --runs at least 1, got {self.horizon} and "
                f"{self.runs}"
            )
        if self.horizon > MAX_HORIZON:
            raise ValueError(
                f"--horizon {self.horizon:,} is more than the simulation's limit of "
                f"{MAX_HORIZON:,} steps per run; simulate a shorter horizon"
            )
        if self.horizon * self.runs > MAX_STEPS:
            raise ValueError(
                f"--horizon × --runs is {self.horizon:,} × {self.runs:,} = "
                f"{self.horizon * self.runs:,} steps, more than the simulation's limit of "
                f"{MAX_STEPS:,}; lower --runs (e.g. {max(1, MAX_STEPS // self.horizon):,}) or "
                "--horizon"
            )
        return self

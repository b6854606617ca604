"""`LongitudinalSpec`: treatment strategies over time (kind ``longitudinal``).

Light on purpose: the CLI imports it to build `cerebro longitudinal`'s options.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import Alpha, SpecBase, data_file, split_list
from cerebro.longitudinal.strategies import Strategy, parse_strategy


class LongitudinalSpec(SpecBase):
    """The mean outcome at the end of follow-up under each treatment strategy ("always",
    "never", "treat when COLUMN < VALUE"), from long data with one row per unit and period."""

    kind: Literal["longitudinal"] = "longitudinal"
    data: str | None = data_file("Long data: one row per unit and period.")
    unit: str = Field(..., description="Unit id column (customer, account, patient).")
    time: str = Field(..., description="Period column (whole numbers, consecutive per unit).")
    treatment: str = Field(..., description="Treatment in each period, 1 treated or 0 not.")
    confounders: list[str] = Field(
        default_factory=list,
        description="Time-varying confounders, measured in each period before its treatment "
        "(and possibly affected by earlier treatment).",
    )
    baseline: list[str] = Field(
        default_factory=list, description="Fixed covariates (the unit's first row is read)."
    )
    outcome: str = Field(
        ..., description="Outcome at the end of follow-up, read from each unit's last row."
    )
    strategies: list[str] = Field(
        ["always", "never"],
        description="Strategies, comma-separated: always, never, 'treat when COLUMN < VALUE' "
        "(<=, >, >= too); contrasts are each strategy minus the last one listed.",
    )
    method: Literal["gformula", "msm"] = Field(
        "gformula",
        description="gformula: parametric g-formula by Monte Carlo simulation; msm: IP-weighted "
        "marginal structural model (saturated in the strategies).",
    )
    simulations: int = Field(
        10000, description="gformula: units simulated by Monte Carlo under each strategy."
    )
    bootstrap: int = Field(
        100, description="Bootstrap replicates (units resampled) for the intervals (0: none)."
    )
    seed: int = Field(0, description="Seed of the Monte Carlo draws and the bootstrap.")
    alpha: Alpha = 0.05

    @field_validator("confounders", "baseline", "strategies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return split_list(value)

    @model_validator(mode="after")
    def _consistent(self) -> LongitudinalSpec:
        named = [self.unit, self.time, self.treatment, self.outcome]
        for i, column in enumerate(named):
            if column in named[:i]:
                raise ValueError(f"column {column!r} is named for two roles; give each its own")
        if self.bootstrap != 0 and self.bootstrap < 20:
            raise ValueError(f"bootstrap needs 0 or at least 20 replicates, got {self.bootstrap}")
        if self.simulations < 100:
            raise ValueError(f"simulations needs at least 100 units, got {self.simulations}")
        parsed = self.parsed_strategies()
        if len({s.text for s in parsed}) != len(parsed) or len(parsed) < 1:
            raise ValueError("strategies must name at least one strategy, each once")
        known = set(self.confounders) | set(self.baseline)
        for strategy in parsed:
            if strategy.column is not None and strategy.column not in known:
                raise ValueError(
                    f"strategy {strategy.text!r} names {strategy.column!r}, which is not a "
                    "--confounders or --baseline column; add it there or fix the name"
                )
        return self

    def parsed_strategies(self) -> list[Strategy]:
        return [parse_strategy(text) for text in self.strategies]

    def columns(self) -> list[str]:
        named = [self.unit, self.time, self.treatment, self.outcome, *self.confounders,
                 *self.baseline]  # fmt: skip
        return list(dict.fromkeys(named))

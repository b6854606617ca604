"""`GraphSpec`: inspect a causal graph without estimating an effect (`cerebro graph`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cerebro.core.spec import Alpha, SpecBase, cli


class GraphSpec(SpecBase):
    """What a DAG identifies for `treatment` → `outcome`, and whether `data` contradict it."""

    kind: Literal["graph"] = "graph"
    dag: str = Field(
        ...,
        description="Causal graph file: DOT ('digraph { a -> b; u [observed=\"no\"] }'), YAML "
        "('edges: [a -> b]') or 'a -> b' lines; nodes that are not columns of the data are latent.",
        json_schema_extra=cli(argument=True, required=True),
    )
    data: str | None = Field(
        None,
        description="Data file (CSV, Parquet or JSON): its columns are the observed nodes and the "
        "graph's implied independences are tested on it.",
    )
    treatment: str | None = Field(None, description="Treatment column (with `outcome`).")
    outcome: str | None = Field(None, description="Outcome column (with `treatment`).")
    alpha: Alpha = Field(0.05, description="Level of the implication tests (Holm-adjusted).")

    @model_validator(mode="after")
    def _pair(self) -> GraphSpec:
        if (self.treatment is None) != (self.outcome is None):
            missing = "--outcome" if self.outcome is None else "--treatment"
            raise ValueError(f"name both the treatment and the outcome (add {missing})")
        if self.treatment is not None and self.treatment == self.outcome:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and the outcome")
        return self

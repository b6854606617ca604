"""`CounterfactualSpec`: mediation, what-if predictions and partial-identification bounds (kind
``counterfactual``).

One spec, three questions, each asked by naming what it needs: `mediator` (how much of the
effect goes through it?), `interventions` (what would the outcome be if a column were set or
shifted?), `bounds` (what can be said when the no-confounding assumption is dropped?). They can
be combined in one run. The spec only parses and checks; the numerics live beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import EffectSpec, cli, data_file, split_list
from cerebro.data.columns import source_columns

BoundKind = Literal["manski", "mtr", "mts", "mtr_mts", "lee"]
ModelKind = Literal["auto", "linear", "logistic", "probit"]

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_SHIFT = re.compile(rf"^([+-])\s*({_NUMBER})\s*(%?)$")
_SCALE = re.compile(rf"^\*\s*({_NUMBER})$")
_LEVEL = re.compile(rf"^\(?\s*(-?{_NUMBER})\s*\)?$")


@dataclass(frozen=True)
class Intervention:
    """One `--set` item: `column` set to a level, shifted, scaled, or set to a text level.

    `how` is "level" (every row gets `value`), "shift" (observed + value), "percent"
    (observed × (1 + value/100)), "scale" (observed × value) or "category" (every row gets the
    text `text`).
    """

    column: str
    how: Literal["level", "shift", "percent", "scale", "category"]
    value: float = 0.0
    text: str = ""
    source: str = ""

    def describe(self) -> str:
        if self.how == "level":
            return f"{self.column} set to {self.value:g} for every row"
        if self.how == "category":
            return f"{self.column} set to {self.text!r} for every row"
        if self.how == "shift":
            return f"{self.column} changed by {self.value:+g} from its observed value"
        if self.how == "percent":
            return f"{self.column} changed by {self.value:+g}% from its observed value"
        return f"{self.column} multiplied by {self.value:g}"


def parse_intervention(item: str) -> Intervention:
    """``spend=+10%`` → a percent change; ``spend=-5`` / ``=+5`` a shift; ``spend=*1.1`` a
    scale; ``treatment=1`` or ``price=(-2)`` a level; ``channel=email`` a text level."""
    column, sep, raw = item.partition("=")
    column, raw = column.strip(), raw.strip()
    if not sep or not column or not raw:
        raise ValueError(
            f"--set {item!r} is not 'column=value'; write e.g. treatment=1, spend=+10%, "
            "spend=-5 or spend=*1.1"
        )
    if match := _SHIFT.match(raw):
        sign = 1.0 if match.group(1) == "+" else -1.0
        how = "percent" if match.group(3) else "shift"
        return Intervention(column, how, sign * float(match.group(2)), source=item)
    if match := _SCALE.match(raw):
        return Intervention(column, "scale", float(match.group(1)), source=item)
    if match := _LEVEL.match(raw):
        return Intervention(column, "level", float(match.group(1)), source=item)
    if re.search(r"[%*+]", raw) or raw.lower() in ("nan", "inf", "-inf"):
        raise ValueError(
            f"--set {item!r}: cannot read {raw!r}; write a level (1, (-2)), a change (+10%, "
            "-5) or a factor (*1.1)"
        )
    return Intervention(column, "category", text=raw, source=item)


class CounterfactualSpec(EffectSpec):
    """Counterfactual questions about `treatment` and `outcome`: natural direct and indirect
    effects through a `mediator`, the expected outcome under an intervention (`interventions`),
    and bounds on the average effect without the no-confounding assumption (`bounds`)."""

    kind: Literal["counterfactual"] = "counterfactual"
    data: str | None = data_file("Data file (CSV, Parquet or JSON): one row per unit.")
    outcome: str = Field(..., description="Outcome column.")
    mediator: str | None = Field(
        None,
        description="Mediator column: splits the effect of `treatment` into the natural direct "
        "effect and the indirect effect through it (needs a binary treatment).",
    )
    treated: str | None = Field(
        None, description="The treated value of a two-valued treatment column (default: 1/True)."
    )
    interaction: bool = Field(
        False,
        description="Mediation: let the mediator's effect on the outcome differ by treatment.",
    )
    mediator_model: ModelKind = Field(
        "auto",
        description="Mediation: model of the mediator – linear, logistic or probit (a 0/1 "
        "mediator; probit gives the ρ-sensitivity of a 0/1 mediator with a linear outcome) or "
        "auto (logistic when the mediator is 0/1).",
    )
    outcome_model: ModelKind = Field(
        "auto",
        description="Model of the outcome – linear, logistic or probit (a 0/1 outcome; probit "
        "gives the ρ-sensitivity of a 0/1 outcome) or auto (logistic when the outcome is 0/1).",
    )
    inference: Literal["bootstrap", "delta"] = Field(
        "bootstrap",
        description="Intervals of the mediation effects: bootstrap (resampled rows, refitted "
        "models, percentile limits) or delta (influence functions of the fitted models).",
    )
    bootstrap: int = Field(
        1000,
        description="Bootstrap replicates (mediation with inference bootstrap, what-if and bounds).",
    )
    seed: int = Field(0, description="Seed of the bootstrap.")
    interventions: list[str] = Field(
        default_factory=list,
        description="What-if: set or change columns, comma-separated and applied together – "
        "treatment=1, spend=+10% (percent), spend=-5 (a shift), spend=*1.1 (a factor), "
        "price=(-2) (a negative level), channel=email (a text level).",
        json_schema_extra=cli(flag="--set"),
    )
    by: str | None = Field(None, description="What-if: also report each group of this column.")
    predictions: str | None = Field(
        None,
        description="What-if: write each row's predicted outcome as observed and under the "
        "intervention (and the change) to this CSV file, in the input's row order.",
        json_schema_extra=cli(output=True),
    )
    bounds: list[BoundKind] = Field(
        default_factory=list,
        description="Bounds on the average treatment effect, comma-separated: manski (no "
        "assumption), mtr (monotone treatment response), mts (monotone treatment selection), "
        "mtr_mts (both), lee (Lee 2009 bounds for attrition or sample selection).",
    )
    outcome_bounds: list[float] = Field(
        default_factory=list,
        description="Bounds: the smallest and largest value the outcome can take, 'lo,hi' "
        "(needed by manski, mtr and mts unless the outcome is 0/1).",
    )
    monotone: Literal["increasing", "decreasing"] = Field(
        "increasing",
        description="Bounds: the direction mtr and mts assume – increasing (treatment never "
        "lowers the outcome; the treated have higher potential outcomes) or decreasing.",
    )
    selected: str | None = Field(
        None,
        description="Bounds lee: 0/1 column, 1 where the outcome is observed (default: the rows "
        "whose outcome is not missing).",
    )

    @field_validator("interventions", "bounds", "outcome_bounds", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("interventions")
    @classmethod
    def _interventions(cls, value: list[str]) -> list[str]:
        columns = [parse_intervention(item).column for item in value]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise ValueError(f"--set names {twice[0]!r} twice; give one change per column")
        return value

    @field_validator("bootstrap")
    @classmethod
    def _replicates(cls, value: int) -> int:
        if value < 50:
            raise ValueError(f"bootstrap needs at least 50 replicates, got {value}")
        return value

    @field_validator("outcome_bounds")
    @classmethod
    def _outcome_bounds(cls, value: list[float]) -> list[float]:
        if value and (len(value) != 2 or not value[0] < value[1]):
            raise ValueError("outcome_bounds needs two numbers 'lo,hi' with lo < hi (e.g. 0,100)")
        return value

    @model_validator(mode="after")
    def _question(self) -> CounterfactualSpec:
        if not (self.mediator or self.interventions or self.bounds):
            raise ValueError(
                "name what to compute: --mediator (mediation), --set (what-if) or --bounds"
            )
        if (self.mediator or self.bounds) and self.treatment is None:
            raise ValueError("--mediator and --bounds need --treatment")
        if self.mediator is not None:
            if self.mediator == self.treatment:
                raise ValueError(
                    f"the mediator {self.mediator!r} is the treatment; name a column the "
                    "treatment acts through"
                )
            if self.mediator == self.outcome:
                raise ValueError(f"the mediator {self.mediator!r} is the outcome; name another")
            terms = {c for t in self.confounders for c in source_columns(t)}
            if self.mediator in terms:
                raise ValueError(
                    f"the mediator {self.mediator!r} is also in --confounders; remove it there"
                )
        if self.treatment == self.outcome:
            raise ValueError(f"{self.outcome!r} cannot be both the treatment and the outcome")
        for item in self.interventions:
            column = parse_intervention(item).column
            if column == self.outcome:
                raise ValueError(f"--set {item!r} changes the outcome; set a cause of it instead")
            if column == self.mediator:
                raise ValueError(
                    f"--set {item!r} changes the mediator; what-if predictions take the "
                    "treatment and confounders"
                )
        if self.predictions is not None and not self.interventions:
            raise ValueError("--predictions writes what-if predictions: add --set")
        if self.predictions is not None and self.data is not None:
            from pathlib import Path

            if Path(self.predictions).resolve() == Path(self.data).resolve():
                raise ValueError("--predictions is the input file; choose another path")
        if self.by is not None and self.by == self.outcome:
            raise ValueError(f"--by {self.by!r} is the outcome; group by another column")
        return self

    def parsed_interventions(self) -> list[Intervention]:
        return [parse_intervention(item) for item in self.interventions]

    def columns(self) -> list[str]:
        """Every column the spec reads, once, in order."""
        terms = [c for t in self.confounders for c in source_columns(t)]
        named = [
            self.treatment,
            self.outcome,
            self.mediator,
            *terms,
            *(i.column for i in self.parsed_interventions()),
            self.by,
            self.selected,
        ]
        return list(dict.fromkeys(c for c in named if c is not None))

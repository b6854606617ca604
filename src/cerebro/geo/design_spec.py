"""`GeoDesignSpec` (kind ``geo_design``): market selection and power for a geo experiment."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import Alpha, SpecBase, cli, data_file, split_list

DEFAULT_EFFECTS = [0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3]


def parse_markets(value: Any) -> Any:
    """``"2-5"`` → [2, 3, 4, 5]; ``"2,4"`` → [2, 4]; an int → [int]; lists unchanged."""
    if isinstance(value, int):
        return [value]
    if not isinstance(value, str):
        return value
    out: list[int] = []
    for part in split_list(value):
        if "-" in part.strip("-"):
            low, high = part.split("-", 1)
            try:
                a, b = int(low), int(high)
            except ValueError:
                raise ValueError(
                    f"markets {value!r} is not a range like 2-5 or a list like 2,3,4"
                ) from None
            if b < a:
                raise ValueError(
                    f"markets range {part!r} runs backwards; write it low-high, e.g. 2-5"
                )
            out.extend(range(a, b + 1))
        else:
            try:
                out.append(int(part))
            except ValueError:
                raise ValueError(
                    f"markets {value!r} is not a range like 2-5 or a list like 2,3,4"
                ) from None
    return out


class GeoDesignSpec(SpecBase):
    """Which geos to treat, for how long, and the smallest lift the test can see.

    `markets` are the sizes N of the treated set to search (``"2-5"`` or ``[2, 3]``),
    `durations` the test lengths in periods of the data, `effects` the relative lifts to
    simulate (0.05 = +5%; include 0 to see the false-positive rate). `cpic` is the cost per
    incremental unit (investment = MDE × treated outcome over the test × cpic) and `budget`
    drops designs that cost more. `lookbacks` backtests the history truncated 0 … lookbacks−1
    periods before its end. `cells` > 1 chooses that many disjoint treated sets sharing one
    donor pool.
    """

    kind: Literal["geo_design"] = "geo_design"
    data: str | None = data_file(
        "Long pre-test panel (CSV, Parquet or JSON): one row per geo and date."
    )
    geo_column: str = Field("location", description="Column naming the geo of each row.")
    outcome: str = Field("Y", description="Outcome column (e.g. daily conversions).")
    date_column: str = Field("date", description="Date (or period number) column.")
    markets: list[int] = Field(
        default_factory=lambda: [2, 3, 4, 5],
        description="Treated-set sizes to search: a range 2-5 or a list 2,3.",
        json_schema_extra=cli(raw=True),
    )
    durations: list[int] = Field(
        default_factory=lambda: [10, 15],
        description="Test lengths in periods of the data, e.g. 10,15.",
    )
    effects: list[float] = Field(
        default_factory=lambda: list(DEFAULT_EFFECTS),
        description="Relative lifts to simulate, e.g. 0,0.05,0.1 (0.05 = +5%; include 0 to see "
        "the false-positive rate).",
    )
    lookbacks: int = Field(1, description="History truncations to backtest (1 = the full history).")
    include: list[str] = Field(default_factory=list, description="Geos every treated set contains.")
    exclude: list[str] = Field(
        default_factory=list, description="Geos never treated (they stay donors)."
    )
    cells: int = Field(1, description="Number of disjoint treatment cells (shared donor pool).")
    budget: float | None = Field(None, description="Largest investment a design may need.")
    cpic: float = Field(1.0, description="Cost per incremental unit of the outcome.")
    alpha: Alpha = Field(0.1, description="Level of the conformal test.")
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    fixed_effects: bool = Field(
        True,
        description="Remove each geo's mean before weighting (--no-fixed-effects: weight the "
        "raw series).",
    )
    top: int = Field(10, description="Designs to show (the JSON tables hold all of them).")
    seed: int = Field(
        0, description="Recorded for reproducibility; the search draws no random numbers."
    )
    jobs: int = Field(1, description="Worker processes for the candidates (−1: every core).")

    @field_validator("markets", mode="before")
    @classmethod
    def _markets(cls, value: Any) -> Any:
        return parse_markets(value)

    @field_validator("durations", "include", "exclude", "effects", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return [value]
        return split_list(value)

    @field_validator("markets")
    @classmethod
    def _positive_markets(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("markets is empty; give sizes like 2-5")
        if min(value) < 1:
            raise ValueError(f"markets must be at least 1 geo, got {min(value)}")
        return sorted(set(value))

    @field_validator("durations")
    @classmethod
    def _positive_durations(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("durations is empty; give test lengths like 10,15")
        if min(value) < 1:
            raise ValueError(f"durations must be at least 1 period, got {min(value)}")
        return sorted(set(value))

    @field_validator("effects")
    @classmethod
    def _effects(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("effects is empty; give lifts like 0,0.05,0.1")
        bad = [e for e in value if not math.isfinite(e) or e <= -1]
        if bad:
            raise ValueError(
                f"effects must be relative lifts above -1 (0.05 = +5%), got {bad[0]:g}"
            )
        return sorted(set(float(e) for e in value))

    @field_validator("lookbacks", "cells", "top")
    @classmethod
    def _at_least_one(cls, value: int, info: Any) -> int:
        if value < 1:
            raise ValueError(f"{info.field_name} must be at least 1, got {value}")
        return value

    @field_validator("cpic")
    @classmethod
    def _cpic(cls, value: float) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"cpic must be a positive cost per incremental unit, got {value:g}")
        return value

    @field_validator("budget")
    @classmethod
    def _budget(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"budget must be positive, got {value:g}")
        return value

    @field_validator("jobs")
    @classmethod
    def _jobs(cls, value: int) -> int:
        if value == 0:
            raise ValueError("jobs must be 1 or more (or -1 for every core), got 0")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> GeoDesignSpec:
        both = {g.casefold() for g in self.include} & {g.casefold() for g in self.exclude}
        if both:
            raise ValueError(
                f"geo {sorted(both)[0]!r} is both included and excluded; keep it in one list"
            )
        if len(self.include) > min(self.markets):
            raise ValueError(
                f"include names {len(self.include)} geos but the smallest market count is "
                f"{min(self.markets)}; raise markets or include fewer geos"
            )
        if self.cells > 1 and self.include:
            raise ValueError("include applies to single-cell designs; drop it or use cells 1")
        if self.alternative == "greater" and min(self.effects) < 0:
            raise ValueError("alternative 'greater' tests lifts; drop the negative effects")
        if self.alternative == "less" and max(self.effects) > 0:
            raise ValueError("alternative 'less' tests drops; give negative effects only")
        return self

"""`SequentialDesignSpec`: what a group-sequential design needs to know – apart from the numerics,
so that the command line builds its options without importing them."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from cerebro.core.spec import SpecBase, cli, split_list

MAX_LOOKS = 50  # more looks than any trial plans; the boundaries' integrals grow with each

NAMES = {
    "obf": "Lan–DeMets O'Brien–Fleming-type spending",
    "pocock": "Lan–DeMets Pocock-type spending",
    "power": "Kim–DeMets power-family spending",
    "classic_obf": "classic O'Brien–Fleming boundaries",
    "classic_pocock": "classic Pocock boundaries",
}


def _positive_rho(value: float) -> float:
    if not 0 < value < math.inf:
        raise ValueError(f"rho must be a positive number, got {value} (e.g. 3)")
    return value


# The power-family spending exponent, defined once for `sequential-design` and `abtest`.
Rho = Annotated[
    float,
    Field(
        description="Exponent ρ of the power-family spending function alpha·t^ρ (spending power)."
    ),
    AfterValidator(_positive_rho),
]


def _fraction(value: object) -> object:
    """'1/3' → 0.333…; other values are left to pydantic (which explains a bad one)."""
    if not isinstance(value, str) or "/" not in value:
        return value
    numerator, _, denominator = value.partition("/")
    try:
        top, bottom = float(numerator), float(denominator)
    except ValueError:
        raise ValueError(
            f"info fraction {value!r} is not a number or a ratio a/b (e.g. 0.25 or 1/3)"
        ) from None
    if bottom == 0:
        raise ValueError(f"info fraction {value!r} divides by zero; write e.g. 1/3")
    return top / bottom


class SequentialDesignSpec(SpecBase):
    """Planned looks of a group-sequential test and how alpha is spent over them."""

    kind: Literal["sequential_design"] = "sequential_design"
    looks: int = Field(5, description="Number of analyses, the final one included.")
    alpha: float = Field(
        0.05, description="Overall type-I error (both sides together if `sides` is 2)."
    )
    sides: Literal[1, 2] = Field(
        2, description="Sides of the test: 2 rejects in either direction, 1 in the hoped-for one."
    )
    spending: Literal["obf", "pocock", "power", "classic_obf", "classic_pocock"] = Field(
        "obf",
        description="Alpha spending: obf, pocock or power (Lan–DeMets spending functions), or "
        "the classic_obf or classic_pocock boundaries.",
    )
    rho: Rho = 3.0
    info_fractions: list[float] | None = Field(
        None, description="Information fraction at each look, e.g. 0.3,0.6,1 (default equal)."
    )
    power: float | None = Field(
        None, description="Target power: report the maximum-information inflation factor."
    )
    futility: Literal["obf", "pocock", "power"] | None = Field(
        None,
        description="Beta-spending function for futility bounds (needs `power` and `sides` 1).",
    )
    binding: bool = Field(
        False,
        description="Binding futility: efficacy bounds assume every futility stop is obeyed "
        "(lower bounds, smaller study); default non-binding.",
        json_schema_extra=cli(flag="--binding/--non-binding"),
    )

    @field_validator("info_fractions", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """ "0.25,0.5,1" or a list; a fraction may be written a/b ("1/3,2/3,1")."""
        value = split_list(value)
        if isinstance(value, list):
            return [_fraction(v) for v in value]
        return value

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, value: float) -> float:
        if not 0 < value < 0.5:
            raise ValueError(f"alpha must be between 0 and 0.5, got {value} (e.g. 0.05)")
        return value

    @field_validator("power")
    @classmethod
    def _power(cls, value: float | None) -> float | None:
        if value is not None and not 0.5 < value < 1:
            raise ValueError(f"power must be between 0.5 and 1, got {value} (e.g. 0.8)")
        return value

    @field_validator("looks")
    @classmethod
    def _looks(cls, value: int) -> int:
        """Each look adds a numerical integral over the previous ones: 50 take seconds, 10^5
        would run for hours. No trial looks that often; continuous monitoring is the mSPRT."""
        if value > MAX_LOOKS:
            raise ValueError(
                f"looks must be at most {MAX_LOOKS}, got {value:,}; to watch a test continuously "
                "use an always-valid test (cerebro abtest --type sequential)"
            )
        return value

"""`cerebro sequential-design`: efficacy boundaries of a group-sequential test for planned looks.

`sequential_design(...)` is the Python face and `run_sequential_design(spec, data)` the runner
(`cerebro run` with ``kind: sequential_design``). The numerics and references are in
`cerebro.experiments.sequential.boundaries`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator
from scipy import special

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.core.spec import SpecBase, cli, split_list
from cerebro.experiments.sequential import boundaries as gs

NAMES = {
    "obf": "Lan–DeMets O'Brien–Fleming-type spending",
    "pocock": "Lan–DeMets Pocock-type spending",
    "power": "Kim–DeMets power-family spending",
    "classic_obf": "classic O'Brien–Fleming boundaries",
    "classic_pocock": "classic Pocock boundaries",
}


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
    rho: float = Field(3.0, description="Exponent of the power-family spending function.")
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

    @field_validator("rho")
    @classmethod
    def _rho(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"rho must be positive, got {value} (e.g. 3)")
        return value


def run_sequential_design(spec: SequentialDesignSpec, data: Any = None) -> Result:
    """Boundaries, nominal p-values and alpha spent per look (`data` is unused)."""
    t = gs.check_fractions(spec.looks, spec.info_fractions)
    bounds = gs.boundaries(t, spec.alpha, spec.sides, spec.spending, spec.rho)
    exits = gs.crossing_probabilities(bounds, t, spec.sides)
    nominal = spec.sides * (1 - special.ndtr(bounds))
    table: dict[str, list[Any]] = {
        "look": list(range(1, spec.looks + 1)),
        "info_fraction": t.tolist(),
        "z_boundary": bounds.tolist(),
        "nominal_p": nominal.tolist(),
        "alpha_spent": np.cumsum(exits).tolist(),
    }
    findings = [
        Finding(
            "info",
            "design",
            f"{NAMES[spec.spending]}{f' (rho {spec.rho:g})' if spec.spending == 'power' else ''}, "
            f"{spec.looks} looks, {'two' if spec.sides == 2 else 'one'}-sided alpha {spec.alpha:g}: "
            "stop for efficacy at the first look whose "
            + ("|z|" if spec.sides == 2 else "z")
            + " reaches its boundary (equivalently p below its nominal level).",
        )
    ]
    summary: dict[str, Any] = {
        "headline_table": "boundaries",
        "title": f"Group-sequential design — {NAMES[spec.spending]}, {spec.looks} looks",
        "alpha_total": float(exits.sum()),
    }
    if spec.futility is not None:
        if spec.power is None or spec.sides != 1:
            raise UserInputError(
                "futility bounds need --power (the alternative they are planned for) and --sides 1 "
                "(efficacy in the direction of the hoped-for effect)."
            )
        bounds, futility, drift = gs.futility_design(
            t, spec.alpha, spec.power, spec.spending, spec.futility, spec.rho, spec.binding
        )
        if spec.binding:  # efficacy bounds (and what they spend) change with binding futility
            exits = gs.exit_probabilities(bounds, futility, t)[0]
            table.update(
                z_boundary=bounds.tolist(),
                nominal_p=(1 - special.ndtr(bounds)).tolist(),
                alpha_spent=np.cumsum(exits).tolist(),
            )
            summary.update(alpha_total=float(exits.sum()))
        table["futility_z"] = futility.tolist()
        fixed = special.ndtri(1 - spec.alpha) + special.ndtri(spec.power)
        factor = float((drift / fixed) ** 2)
        summary.update(inflation_factor=factor)
        findings.append(
            Finding(
                "info",
                "futility",
                f"{'binding' if spec.binding else 'non-binding'} futility ({spec.futility}-type "
                f"beta spending of {1 - spec.power:.2g}): stop for futility when z falls to or "
                "below futility_z; "
                + (
                    "the efficacy bounds assume you always do – continuing past a futility stop "
                    "raises the type-I error above alpha. "
                    if spec.binding
                    else "ignoring it never raises the type-I error. "
                )
                + f"For {spec.power:.0%} power the largest sample must be "
                f"{factor:.3f}× the fixed-horizon sample.",
            )
        )
    elif spec.power is not None:
        factor = gs.inflation_factor(bounds, t, spec.alpha, spec.sides, spec.power)
        drift = gs.drift_for_power(bounds, t, spec.sides, spec.power)
        stop = np.cumsum(gs.crossing_probabilities(bounds, t, spec.sides, drift))
        table["p_stopped_by_look_h1"] = stop.tolist()
        expected = float(
            np.sum(np.diff(np.concatenate([[0.0], stop])) * t) + (1 - stop[-1]) * t[-1]
        )
        summary.update(inflation_factor=factor, expected_info_h1=expected * factor)
        findings.append(
            Finding(
                "info",
                "inflation",
                f"for {spec.power:.0%} power the largest sample must be {factor:.3f}× the "
                f"fixed-horizon sample; under the alternative the expected sample is "
                f"{expected * factor:.3f}× it (stopping early pays for the inflation).",
            )
        )
    estimates = [
        Estimate(f"look {k}: efficacy z boundary", float(c), extra={"info_fraction": float(tk)})
        for k, (c, tk) in enumerate(zip(bounds, t, strict=True), start=1)
    ]
    return Result(
        kind="sequential_design",
        method=spec.spending,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"boundaries": table},
        summary=summary,
    )


sequential_design = python_face(
    SequentialDesignSpec,
    run_sequential_design,
    name="sequential_design",
    summary="Efficacy (and futility) boundaries of a group-sequential test for planned looks.",
    example="""
    >>> sequential_design(looks=5, spending="obf").tables.columns("boundaries")["z_boundary"][-1]
    """,
)


def boundary_plot(result: Result):
    """Efficacy boundaries (z) against the information fraction."""
    from cerebro.core.figure import new_figure

    table = result.tables.columns("boundaries")
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    t, z = table["info_fraction"], table["z_boundary"]
    ax.plot(t, z, "o-", color="C3", label="efficacy boundary")
    if result.spec.sides == 2:
        ax.plot(t, [-v for v in z], "o-", color="C3")
    if "futility_z" in table:
        ax.plot(t, table["futility_z"], "s-", color="C0", label="futility boundary")
    ax.axhline(
        special.ndtri(1 - result.spec.alpha / result.spec.sides),
        color="grey",
        ls="--",
        lw=0.8,
        label="fixed-horizon critical value",
    )
    ax.set_xlabel("information fraction")
    ax.set_ylabel("z")
    ax.set_title(result.summary.get("title", ""), fontsize=9)
    ax.legend(fontsize=8)
    return fig


register(
    Method(
        kind="sequential_design",
        spec_type=SequentialDesignSpec,
        run=run_sequential_design,
        summary="Group-sequential boundaries: Lan–DeMets spending (OBF, Pocock, power), classic Pocock/OBF.",
        needs_data=False,
        plot="cerebro.experiments.sequential.design:boundary_plot",
        example="cerebro.experiments.examples:sequential_design",
    )
)

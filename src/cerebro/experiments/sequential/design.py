"""`cerebro sequential-design`: efficacy boundaries of a group-sequential test for planned looks.

`sequential_design(...)` is the Python face and `run_sequential_design(spec, data)` the runner
(`cerebro run` with ``kind: sequential_design``). The numerics and references are in
`cerebro.experiments.sequential.boundaries`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.experiments.sequential import boundaries as gs
from cerebro.experiments.sequential.spec import NAMES, SequentialDesignSpec


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

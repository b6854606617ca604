"""Counterfactuals, kind ``counterfactual``: natural direct and indirect effects through a
mediator (with ρ-sensitivity), what-if predictions under an intervention (g-formula), and bounds
on the average effect when no-confounding fails (Manski, monotone response/selection, Lee).

`spec.CounterfactualSpec` holds the options; `analysis` runs the parts the spec asks for
(`mediation`, `whatif`, `bounds` hold the numerics); `plot` draws the result; `synthetic` makes
data with known effects. The numerics import on the first run, so registering stays cheap.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.counterfactual.spec import CounterfactualSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result

SUMMARY = (
    "Counterfactuals: natural direct and indirect effects through a mediator (with sensitivity "
    "to mediator–outcome confounding), what-if predictions under an intervention, and bounds "
    "on the effect without the no-confounding assumption."
)


def run_counterfactual(spec: CounterfactualSpec, data: pd.DataFrame | None = None) -> Result:
    """The `counterfactual` runner every face calls."""
    from cerebro.counterfactual import analysis
    from cerebro.counterfactual.data import load

    return analysis.run(load(spec, data), spec)


counterfactual = python_face(
    CounterfactualSpec,
    run_counterfactual,
    name="counterfactual",
    summary=SUMMARY,
    example="""
    >>> res = counterfactual("trial.csv", treatment="intervention", outcome="result",
    ...                      mediator="engagement", confounders=["age", "gender"])
    >>> res.estimate("nie")
    >>> counterfactual(df, treatment="campaign", outcome="sales", interventions=["spend=+10%"])
    """,
)

register(
    Method(
        kind="counterfactual",
        spec_type=CounterfactualSpec,
        run=run_counterfactual,
        summary=SUMMARY,
        plot="cerebro.counterfactual.plot:plot",
        example="cerebro.counterfactual.synthetic:example",
    )
)


class _CallablePackage(ModuleType):
    """`cerebro.counterfactual` is both this package and the kind's Python face: importing a
    submodule binds the name to the package, so the package calls the face (as `uplift`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Result:
        return counterfactual(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

"""`cerebro causal --method <design>` passes options on to the design's own spec: each such option
is defined once (`cerebro.core.design_fields`), so it has the design's default, type, checks and
help in `CausalSpec` as well – and on the command line of `cerebro causal`."""

from __future__ import annotations

import pytest
from pydantic import Field

from cerebro.cli.spec_options import field_options
from cerebro.core.registry import get_method
from cerebro.core.spec import SpecBase, face_hints
from cerebro.observational.spec import COMMON, QUASI, CausalSpec, options_of


def routed(method: str) -> list[str]:
    """The options `causal --method <method>` passes to the design besides the common ones."""
    return [name for name in options_of(method) if name not in COMMON]


def mismatches(design: type[SpecBase], names: list[str]) -> list[str]:
    """Options whose default, type, help or CLI option differ between CausalSpec and `design`."""
    ours = {o.name: o for o in field_options(CausalSpec)}
    theirs = {o.name: o for o in field_options(design)}
    problems = []
    for name in names:
        a, b = CausalSpec.model_fields[name], design.model_fields[name]
        same = (
            a.get_default(call_default_factory=True) == b.get_default(call_default_factory=True)
            and a.annotation == b.annotation
            and a.description == b.description
            and face_hints(a, "cli") == face_hints(b, "cli")
            and (ours[name].default, ours[name].help, ours[name].decls)
            == (theirs[name].default, theirs[name].help, theirs[name].decls)
        )
        if not same:
            problems.append(name)
    return problems


@pytest.mark.parametrize("method", QUASI)
def test_every_routed_option_has_the_design_default_and_help(method: str) -> None:
    design = get_method(method).spec_type
    assert routed(method), method
    assert mismatches(design, routed(method)) == []
    for name in routed(method):
        assert CausalSpec.model_fields[name].description, name


def test_a_drifted_design_option_is_caught() -> None:
    design = get_method("did").spec_type

    class Drifted(design):  # type: ignore[misc, valid-type]
        unit: str | None = Field(None, description="Another text for the same option.")
        leads: int | None = Field(3, description=design.model_fields["leads"].description)

    assert mismatches(Drifted, routed("did")) == ["unit", "leads"]


@pytest.mark.parametrize("value", [1, 49])
def test_the_one_bootstrap_check_holds_for_causal_and_did(value: int) -> None:
    for spec_type in (CausalSpec, get_method("did").spec_type):
        with pytest.raises(ValueError, match="at least 50 replicates"):
            spec_type.model_validate({"outcome": "y", "bootstrap": value})

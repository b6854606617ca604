"""What the four designs share: a spec base that names its columns and says every missing one at
once, and the loading of exactly those columns.

Each design (`did/`, `rdd/`, `iv/`, `synth/`) is a registered kind with its own spec holding only
the options it takes; `cerebro causal --method <design>` reaches the same runner through the
registry with a spec built from the causal spec's flat fields.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.spec import EffectSpec
from cerebro.data.columns import source_columns
from cerebro.data.load import load_table, require_columns
from cerebro.engine.panel import event_panel

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Estimate, Finding, Result


class QuasiSpec(EffectSpec):
    """Base of a design's spec: the effect fields plus the design's own columns."""

    def design_columns(self) -> list[str | None]:
        """The columns the design names beyond treatment, outcome and confounders."""
        return []

    def columns(self) -> list[str]:
        """Every column the spec names, once, in order."""
        terms = [c for t in self.confounders for c in source_columns(t)]
        named = [self.treatment, self.outcome, *terms, *self.design_columns()]
        return list(dict.fromkeys(c for c in named if c is not None))

    def needs(self, missing: list[str]) -> None:
        """One sentence naming every missing piece of the design (as the CLI flags)."""
        if missing:
            raise ValueError(f"--method {self.kind} needs " + "; ".join(missing))  # type: ignore[attr-defined]

    def roles_missing(self) -> bool:
        """Whether a column the design needs is not named (it may be read off the data)."""
        return False

    def with_roles(self, frame: Any) -> tuple[QuasiSpec, list[Finding]]:
        """The spec with the roles the data name unambiguously, and a finding for each."""
        return self, []

    def check_roles(self) -> None:
        """One sentence naming a design column still missing once the data were read."""

    def event_columns(self) -> tuple[str | None, str, list[str], list[str]] | None:
        """(unit, time, summed, constant columns) when the data are raw events to total per
        unit and period first (`cerebro.engine.panel.event_panel`); None when they are not."""
        return None

    def check_outcome(self, *design: str | None) -> None:
        if self.outcome in (self.treatment, *design):
            raise ValueError(f"{self.outcome!r} cannot be both the outcome and a design column")


def design_frame(spec: QuasiSpec, data: pd.DataFrame | None) -> pd.DataFrame:
    """The rows the design runs on: `data` (checked for the spec's columns) or `spec.data` read
    with only those columns."""
    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        return load_table(spec.data, spec.columns())
    require_columns([str(c) for c in data.columns], spec.columns(), "the data")
    return data


def register_design(
    kind: str, spec_type: type[QuasiSpec], package: str, *, summary: str, example: str
) -> tuple[Callable[..., Result], Callable[..., Result]]:
    """Register one design kind: its runner (``<package>.analysis.run`` on the design's rows,
    imported on the first run so registering stays cheap), its Python face (keyword signature
    and docstring from `spec_type`), its plot (``<package>.analysis:plot``) and its contract
    example (``<package>.synthetic:example``). Returns (runner, Python function)."""

    def run(spec: Any, data: pd.DataFrame | None = None) -> Result:
        notes: list[Finding] = []
        events = spec.event_columns()
        if events is not None:
            data, spec = event_panel(spec, data, *events)
        if spec.roles_missing():
            if data is None and spec.data is not None:
                data = load_table(spec.data)  # every column: the roles are read off the data
            if data is not None:
                spec, notes = spec.with_roles(data)
        spec.check_roles()
        result = import_module(f"{package}.analysis").run(design_frame(spec, data), spec)
        result.findings[:0] = notes
        return result

    run.__name__ = run.__qualname__ = f"run_{kind}"
    run.__doc__ = f"The `{kind}` runner every face calls: the design `spec` describes."
    face = python_face(spec_type, run, name=kind, summary=summary, example=example)
    register(
        Method(
            kind=kind,
            spec_type=spec_type,
            run=run,
            summary=summary,
            plot=f"{package}.analysis:plot",
            example=f"{package}.synthetic:example",
        )
    )
    return run, face


def design_result(
    spec: QuasiSpec,
    estimates: list[Estimate],
    findings: list[Finding],
    tables: dict[str, Any],
    **summary: Any,
) -> Result:
    """A design's result: kind `causal`, method the design's own kind, headline table `effects`
    (`summary` holds `effect_result`'s title, narrative, units and the design's own fields).

    Its `spec` is the design's spec (not a `CausalSpec`), so `Result.from_dict` restores it by
    that kind while `--json` keeps ``kind: causal, method: <design>`` for every route.
    """
    from cerebro.core.results import effect_result

    return effect_result(spec, spec.kind, estimates, findings, tables, **summary)  # type: ignore[attr-defined]

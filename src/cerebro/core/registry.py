"""The method registry: every analysis kind is registered once, and every face enumerates it.

A family registers its kind when its module is imported (`register(Method(...))`), and
`cerebro.catalog.KINDS` names that module for each kind. The registry is lazy: `get_method(kind)`
imports only the module of `kind`, so running one kind never imports the other families;
`methods()` imports every module in the catalog. Faces (the CLI, `cerebro run`, later the
service and code generation) look kinds up here instead of keeping their own lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result
    from cerebro.core.spec import SpecBase


@dataclass(frozen=True)
class Method:
    """One registered analysis kind.

    `run(spec, data)` is the single runner every face calls; `data` is a DataFrame or None
    (then the runner loads `spec.data` itself if the kind needs data). `plot` names the
    function drawing a result of this kind as ``"module:function"`` (taking the `Result`,
    returning a matplotlib `Figure`); it is imported only when a plot is asked for, so that
    matplotlib stays off the start-up path. `example` names, the same way, a function
    returning a small seeded example ``(spec fields as a dict, DataFrame or None)`` that the
    contract test (tests/test_contract.py) runs for every registered kind.
    """

    kind: str
    spec_type: type[SpecBase]
    run: Callable[[Any, pd.DataFrame | None], Result]
    summary: str
    needs_data: bool = True
    plot: str | None = None
    example: str | None = None
    build: Callable[[dict[str, Any]], SpecBase] | None = None


_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    if method.kind in _REGISTRY and _REGISTRY[method.kind] is not method:
        raise RuntimeError(f"analysis kind {method.kind!r} registered twice")
    _REGISTRY[method.kind] = method
    return method


def methods() -> dict[str, Method]:
    """All kinds, in the catalog's order (then any registered elsewhere), each module imported."""
    from cerebro.catalog import KINDS

    for kind in KINDS:
        get_method(kind)
    return {**{kind: _REGISTRY[kind] for kind in KINDS}, **_REGISTRY}


def kinds() -> list[str]:
    """The name of every kind, without importing any family."""
    from cerebro.catalog import KINDS

    return list(dict.fromkeys([*KINDS, *_REGISTRY]))


def get_method(kind: str) -> Method:
    """The registered kind, its module imported on the first look-up."""
    if kind not in _REGISTRY:
        from cerebro.catalog import KINDS

        if kind not in KINDS:
            raise UserInputError(
                f"unknown analysis kind {kind!r}; choose one of: {', '.join(kinds())}."
            )
        import_module(KINDS[kind])
        if kind not in _REGISTRY:
            raise RuntimeError(f"{KINDS[kind]} does not register the kind {kind!r}")
    return _REGISTRY[kind]

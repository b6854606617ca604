"""The method registry: every analysis kind is registered once, and every face enumerates it.

A family registers its kind at import time (`cerebro.experiments` registers ``abtest`` and
``power``). `cerebro.catalog` imports every family, so after ``import cerebro`` the registry is
complete. Faces (CLI `run`, service, code generation) look kinds up here instead of keeping
their own lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    if method.kind in _REGISTRY and _REGISTRY[method.kind] is not method:
        raise RuntimeError(f"analysis kind {method.kind!r} registered twice")
    _REGISTRY[method.kind] = method
    return method


def methods() -> dict[str, Method]:
    """All registered kinds, in registration order."""
    import cerebro.catalog  # noqa: F401  (populates the registry)

    return dict(_REGISTRY)


def get_method(kind: str) -> Method:
    known = methods()
    if kind not in known:
        raise UserInputError(f"unknown analysis kind {kind!r}; choose one of: {', '.join(known)}.")
    return known[kind]

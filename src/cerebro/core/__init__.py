"""Core vocabulary shared by every family: specs, results, the method registry and errors.

The names load on first use (PEP 562): importing a light module of core (`core.version`,
`core.errors`) does not import numpy and pydantic with the rest.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "CerebroError": "errors",
    "UserInputError": "errors",
    "Method": "registry",
    "get_method": "registry",
    "methods": "registry",
    "register": "registry",
    "SCHEMA_VERSION": "results",
    "Estimate": "results",
    "Finding": "results",
    "Fit": "results",
    "Meta": "results",
    "Result": "results",
    "SpecBase": "spec",
    "parse_spec": "spec",
}

__all__ = [
    "SCHEMA_VERSION",
    "CerebroError",
    "Estimate",
    "Finding",
    "Fit",
    "Meta",
    "Method",
    "Result",
    "SpecBase",
    "UserInputError",
    "get_method",
    "methods",
    "parse_spec",
    "register",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cerebro.core' has no attribute {name!r}")
    return getattr(import_module(f"cerebro.core.{_WHERE[name]}"), name)

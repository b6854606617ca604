"""Core vocabulary shared by every family: specs, results, the method registry and errors."""

from cerebro.core.errors import CerebroError, UserInputError
from cerebro.core.registry import Method, get_method, methods, register
from cerebro.core.results import SCHEMA_VERSION, Estimate, Finding, Fit, Meta, Result
from cerebro.core.spec import SpecBase, parse_spec

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

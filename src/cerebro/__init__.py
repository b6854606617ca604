"""Cerebro: did it work, by how much, and for whom?

The public API is re-exported here; see `docs/` for the user guide.
"""

__version__ = "0.1.0"

from cerebro.core import Estimate, Finding, Result, UserInputError, parse_spec
from cerebro.run import run, run_spec

__all__ = [
    "Estimate",
    "Finding",
    "Result",
    "UserInputError",
    "__version__",
    "parse_spec",
    "run",
    "run_spec",
]

"""Cerebro: did it work, by how much, and for whom?

The public API is re-exported here; see `docs/` for the user guide.
"""

__version__ = "0.1.0"

from cerebro import datasets
from cerebro.core import Estimate, Finding, Result, UserInputError, parse_spec
from cerebro.experiments.abtest import abtest
from cerebro.experiments.power_analysis import power_analysis
from cerebro.run import run, run_spec

__all__ = [
    "Estimate",
    "Finding",
    "Result",
    "UserInputError",
    "__version__",
    "abtest",
    "datasets",
    "parse_spec",
    "power_analysis",
    "run",
    "run_spec",
]

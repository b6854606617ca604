"""Experiments: A/B/n analysis and power analysis (Bayesian, sequential, bandits come later)."""

from cerebro.experiments import abtest, power_analysis  # noqa: F401  (registers kinds)
from cerebro.experiments.abtest import abtest as run_abtest_api  # noqa: F401

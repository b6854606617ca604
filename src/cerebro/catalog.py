"""Imports every analysis family's runners so that each registers its kinds in the registry."""

import cerebro.experiments.abtest
import cerebro.experiments.bandit_analysis
import cerebro.experiments.design_analysis
import cerebro.experiments.power_analysis
import cerebro.experiments.sequential_design
import cerebro.geo.analysis
import cerebro.geo.design
import cerebro.observational.analysis
import cerebro.quasi.did
import cerebro.quasi.iv
import cerebro.quasi.rdd
import cerebro.quasi.synth
import cerebro.uplift.analysis  # noqa: F401

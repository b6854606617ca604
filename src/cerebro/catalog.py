"""Imports every analysis family's runners so that each registers its kinds in the registry."""

import cerebro.experiments.abtest.analysis
import cerebro.experiments.bandit.analysis
import cerebro.experiments.design.analysis
import cerebro.experiments.power.analysis
import cerebro.experiments.sequential.design
import cerebro.geo.analysis
import cerebro.geo.design
import cerebro.mmm.analysis
import cerebro.observational.analysis
import cerebro.quasi.did
import cerebro.quasi.iv
import cerebro.quasi.rdd
import cerebro.quasi.synth
import cerebro.uplift.analysis  # noqa: F401

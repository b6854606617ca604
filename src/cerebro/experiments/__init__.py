"""Experiments: A/B/n analysis and power analysis (Bayesian, sequential, bandits come later).

Each analysis kind registers itself when the registry first looks it up and imports its module
(named in `cerebro.catalog.KINDS`).
"""

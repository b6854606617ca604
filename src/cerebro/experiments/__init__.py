"""Experiments: A/B/n analysis and power analysis (Bayesian, sequential, bandits come later).

The analysis kinds register themselves when `cerebro.catalog` imports their modules.
"""

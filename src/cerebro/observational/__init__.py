"""Observational causal inference: propensity scores, weighting, standardisation, doubly robust."""

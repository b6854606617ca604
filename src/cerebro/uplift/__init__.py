"""Uplift modelling: conditional average treatment effects, their evaluation and targeting."""

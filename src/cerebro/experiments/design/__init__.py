"""Randomisation design: assigning units to arms and checking balance."""

"""Imports every analysis family so that each registers its kinds in the method registry."""

import cerebro.experiments  # noqa: F401

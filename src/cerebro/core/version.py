"""The package version, in core so that results and saved models can stamp it without
importing the package root."""

__version__ = "0.1.0"

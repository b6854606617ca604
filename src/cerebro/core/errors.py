"""Errors a user can act on.

A `UserInputError` carries one sentence that names the offending column or value and the fix.
Faces turn it into exit code 2 (CLI) or HTTP 4xx (service) without a traceback; anything else
is a bug and keeps its traceback.
"""


class CerebroError(Exception):
    """Base class of every error Cerebro raises on purpose."""


class UserInputError(CerebroError, ValueError):
    """Bad input from the user: a missing column, an impossible parameter, an unreadable file."""

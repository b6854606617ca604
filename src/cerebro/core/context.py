"""The run context: what a face lends a method while it runs, without the method knowing the face.

A method reports progress through `progress(description, total)` and never draws to a terminal
(nor writes a file: the files a run produces go back to the face as `Result.artefacts`);
the face that runs it (the CLI's rich progress bar, later the service's job status) installs a
reporter with `reporting(reporter)` for the duration of the run. Without one, progress is
silent, so Python callers, tests and the service see nothing unless they ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# A reporter takes (description, total) and returns `advance(k, step=None)`: k more steps of the
# task are done, and `step`, when given, names the one now running.
Advance = Callable[..., None]
Reporter = Callable[[str, int], Advance]


def _silent(description: str, total: int) -> Advance:
    return lambda k, step=None: None


_REPORTER: ContextVar[Reporter] = ContextVar("cerebro_progress", default=_silent)


def progress(description: str, total: int) -> Advance:
    """Start a task of `total` steps; returns `advance(k, step=None)`. Silent unless a face
    reports."""
    return _REPORTER.get()(description, total)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Route every `progress` task started inside the block to `reporter`."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)

"""What every command shares: error handling, progress, and result output.

User errors become one sentence on stderr and exit code 2 with no traceback. Results go to the
terminal as a rich table, to stdout as JSON with ``--json``, and to a file with ``--output``
(written atomically: a temporary file in the same folder, then renamed).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from cerebro.core.errors import UserInputError
from cerebro.core.results import Result
from cerebro.core.spec import parse_spec, split_list
from cerebro.run import run_spec

# Piped output (make, CI logs, files) is not limited to 80 columns: tables stay on one line.
stdout = Console(width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

JSON_HELP = "Print the result as JSON (the versioned contract) instead of a table."
OUTPUT_HELP = "Also write the JSON result to this file (atomically)."
PLOT_HELP = "Also save a figure of the result (.png, .svg or .pdf)."


def fail(message: str) -> typer.Exit:
    stderr.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def user_errors(func: F) -> F:
    """Turn `UserInputError` (and unreadable input) into exit code 2 with one sentence."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserInputError as err:
            raise fail(str(err)) from None
        except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
            raise fail(f"cannot open {err.filename!r}: {err.strerror}.") from None

    return wrapper  # type: ignore[return-value]


def run_fields(fields: dict[str, Any], message: str) -> Result:
    """A command's options (with their ``kind``) → validated spec → result, under a spinner."""
    spec = parse_spec(fields)
    with status(message):
        return run_spec(spec)


@contextmanager
def status(message: str) -> Iterator[None]:
    """A transient spinner on stderr for steps that may take over a second."""
    if stderr.is_terminal:
        with stderr.status(message, spinner="dots"):
            yield
    else:
        yield


def write_atomically(path: str | Path, text: str) -> None:
    """Write `text` to `path` so that readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(result: Result, as_json: bool, output: Path | None, plot: Path | None = None) -> None:
    """Show a result the way the user asked."""
    if plot is not None:
        from cerebro.report.plots import plot_result, save_figure

        save_figure(plot_result(result), plot)
    payload = None
    if as_json or output is not None:
        payload = json.dumps(result.to_dict(), indent=2, allow_nan=False)
    if output is not None:
        write_atomically(output, payload + "\n")
    if as_json:
        sys.stdout.write(payload + "\n")
    else:
        from cerebro.report.text import print_result

        print_result(result, stdout)
        for written in (output, plot):
            if written is not None:
                stderr.print(f"[dim]wrote {written}[/dim]")


def split_csv(value: str | None) -> list[str]:
    """Comma-separated option text as a list (commas inside parentheses do not split)."""
    return split_list(value) if value else []

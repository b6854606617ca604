"""What every command shares: error handling, progress, and result output.

User errors become one sentence on stderr and exit code 2 with no traceback; Ctrl-C is one line
("interrupted") and exit code 130. Results go to the terminal as a rich table, to stdout as JSON
with ``--json``, and to a file with ``--output``.

Output files (``--output``, ``--plot``, ``--predictions``, ``--save``) are checked before anything
runs – not the input file, not a folder, in a folder that exists or can be made and is
writable, no two the same – and a command writes all of them or none: a file written through
`write_atomically` or `staged_path` goes to a temporary file in its folder and is renamed when the
command succeeds; a file a command writes itself is put back as it was (or removed) if the
command then fails. New files get the user's umask (0666 & ~umask), an overwritten file keeps
its mode.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import stat
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from cerebro.core.errors import UserInputError
from cerebro.core.output import atomic_path, file_mode, write_artefacts
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
REPORT_HELP = (
    "Also write a self-contained HTML report of the result (summary, decision, estimates, "
    "assumptions, findings, figure, method, reproducibility)."
)


def fail(message: str) -> typer.Exit:
    """Print the user error; its text is escaped, as a value such as ``[nan, nan]`` or a column
    named ``[x]`` would otherwise be read as rich markup and vanish from the sentence."""
    text = escape(message)
    stderr.print(f"[bold red]error:[/bold red] {text}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


# The options that name files a command writes, and those that name files it reads.
OUTPUT_OPTIONS = {
    "output": "--output",
    "plot": "--plot",
    "predictions": "--predictions",
    "save": "--save",
    "report": "--report",
}
INPUT_OPTIONS = ("data", "spec_file", "model_file")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
REPORT_SUFFIXES = (".html", ".htm")


def user_errors(func: F) -> F:
    """Turn `UserInputError` (and unreadable input) into exit code 2 with one sentence, Ctrl-C
    into "interrupted" and exit code 130; check the output paths before the command runs and
    write its outputs all or none (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        outputs = {
            flag: Path(kwargs[name])
            for name, flag in OUTPUT_OPTIONS.items()
            if kwargs.get(name) is not None
        }
        inputs = [Path(kwargs[name]) for name in INPUT_OPTIONS if kwargs.get(name) is not None]
        try:
            check_outputs(outputs, inputs)
            with OutputSet(list(outputs.values())), quiet_numerics():
                return func(*args, **kwargs)
        except UserInputError as err:
            raise fail(str(err)) from None
        except KeyboardInterrupt:
            stderr.print("interrupted", highlight=False)
            raise typer.Exit(code=130) from None
        except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
            raise fail(
                f"cannot open {_user_path(err.filename, outputs)!r}: {err.strerror}."
            ) from None
        except OSError as err:
            if err.filename is None:
                raise
            raise fail(
                f"cannot write {_user_path(err.filename, outputs)!r}: {err.strerror}."
            ) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def quiet_numerics() -> Iterator[None]:
    """Library warnings are not messages for the person at the terminal.

    numpy's RuntimeWarnings (overflow, 0/0 in a reduction) and pandas' UserWarnings (date
    parsing, chained assignment, …) point at conditions the analyses check and report in their
    own words – a finding, or a refusal such as an infinite value in the data – so a command
    shows only those. pandas attributes its warnings to the calling module, so they are matched
    by category, not by module. Library code called from Python still warns as usual.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _user_path(filename: Any, outputs: dict[str, Path]) -> str:
    """The user's path for an error about one of our temporary files (named after it)."""
    name = os.fsdecode(filename) if filename is not None else ""
    temp = Path(os.path.abspath(name))
    for path in outputs.values():
        if temp.parent == Path(os.path.abspath(path)).parent and f".{path.name}." in temp.name:
            return str(path)
    return name


# -- output files ----------------------------------------------------------------------------
def same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_outputs(outputs: dict[str, Path], inputs: list[Path]) -> None:
    """Refuse, before anything runs, an output path that cannot or must not be written."""
    seen: dict[str, Path] = {}
    for flag, path in outputs.items():
        for source in inputs:
            if same_file(path, source):
                raise UserInputError(
                    f"{flag} is the input file {source.name}; choose another path."
                )
        for other_flag, other in seen.items():
            if same_file(path, other):
                raise UserInputError(
                    f"{other_flag} and {flag} are the same file {path}; give each its own path."
                )
        seen[flag] = path
        if path.is_dir():
            raise UserInputError(f"{flag} {path} is a folder; give a file name.")
        if flag == "--plot" and path.suffix.lower() not in PLOT_SUFFIXES:
            raise UserInputError(
                f"cannot save a plot as {path.name!r}; use a .png, .svg or .pdf name."
            )
        if flag == "--report" and path.suffix.lower() not in REPORT_SUFFIXES:
            raise UserInputError(
                f"cannot write a report as {path.name!r}; use a .html name (e.g. report.html)."
            )
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the nearest folder that exists; the rest is created
        if not folder.is_dir():
            raise UserInputError(f"cannot write {flag} {path}: {folder} is a file, not a folder.")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UserInputError(f"cannot write {flag} {path}: folder {folder} is not writable.")


@dataclass
class OutputSet:
    """All-or-none writing of a command's outputs.

    Files staged through `write_atomically`/`staged_path` are renamed into place when the
    command succeeds and removed when it fails. A declared output that the command writes by
    other means is kept as it was before (a hard link holds the old file) and put back, or
    removed if it is new, when the command fails; on success new files get the umask's mode.
    """

    paths: list[Path]
    staged: list[tuple[Path, Path]] = field(default_factory=list)
    backups: dict[Path, Path | None] = field(default_factory=dict)
    modes: dict[Path, int] = field(default_factory=dict)
    token: Any = None

    def __enter__(self) -> OutputSet:
        for path in self.paths:
            self.modes[path] = file_mode(path)
            self.backups[path] = _link_backup(path) if path.is_file() else None
        self.token = _ACTIVE.set(self)
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        _ACTIVE.reset(self.token)
        ok = kind is None or (isinstance(error, typer.Exit) and error.exit_code == 0)
        if ok:
            try:
                self.commit()
            except BaseException:
                self.rollback()
                raise
        else:
            self.rollback()

    def commit(self) -> None:
        for tmp, path in self.staged:
            os.replace(tmp, path)
        self.staged.clear()
        for path, mode in self.modes.items():
            try:
                if path.is_file() and stat.S_IMODE(path.stat().st_mode) != mode:
                    path.chmod(mode)
            except OSError:
                pass
        for backup in self.backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)

    def rollback(self) -> None:
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged.clear()
        for path, backup in self.backups.items():
            try:
                if backup is not None and path.exists() and os.path.samefile(backup, path):
                    backup.unlink()  # untouched (rename() between two links does nothing)
                elif backup is not None:
                    os.replace(backup, path)
                elif path.is_file() and not path.is_symlink():
                    path.unlink()
            except OSError:
                pass


_ACTIVE: contextvars.ContextVar[OutputSet | None] = contextvars.ContextVar(
    "cerebro_outputs", default=None
)


def _link_backup(path: Path) -> Path | None:
    """A hard link to the current file (which a rename over `path` leaves intact)."""
    backup = path.with_name(f".{path.name}.{os.getpid()}.cerebro-backup")
    try:
        backup.unlink(missing_ok=True)
        os.link(path, backup)
        return backup
    except OSError:
        return None  # no hard links here: a failure after writing cannot put the old file back


@contextmanager
def staged_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` (same suffix) to write to; it replaces `path` when the
    command succeeds (at once outside a command) and is removed on failure."""
    active = _ACTIVE.get()

    def commit(tmp: Path, target: Path) -> None:
        if active is not None:
            active.staged.append((tmp, target))
        else:
            os.replace(tmp, target)

    with atomic_path(path, commit) as tmp:
        yield tmp


def run_fields(fields: dict[str, Any], message: str) -> Result:
    """A command's options (with their ``kind``) → validated spec → result, under a spinner."""
    spec = parse_spec(fields)
    with status(message):
        return run_spec(spec)


@contextmanager
def status(message: str) -> Iterator[None]:
    """A transient spinner on stderr for steps that may take over a second, with a bar under it
    for each task the method reports (`cerebro.core.context.progress`) – one live display, so
    spinner and bars never fight over the terminal. Nothing is drawn when stderr is not one."""
    if not stderr.is_terminal:
        yield
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from cerebro.core.context import reporting

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=stderr, transient=True) as bar:
        bar.add_task(message, total=None)

        def reporter(description: str, total: int) -> Callable[..., None]:
            task = bar.add_task(description, total=total)

            def advance(k: int, step: str | None = None) -> None:
                bar.update(task, advance=k, description=step or description)

            return advance

        with reporting(reporter):
            yield


def write_atomically(path: str | Path, text: str) -> None:
    """Write `text` to `path` so that readers never see a half-written file (within a command:
    only once the whole command has succeeded)."""
    with staged_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)


def emit(
    result: Result,
    as_json: bool,
    output: Path | None,
    plot: Path | None = None,
    report: Path | None = None,
) -> None:
    """Show a result the way the user asked, and write the files the run produced (all staged:
    renamed into place together when the command succeeds)."""
    if report is not None:
        from cerebro.report.document import render_report

        write_atomically(report, render_report([result]))
    if plot is not None:
        from cerebro.report.plots import plot_result, save_figure

        with staged_path(plot) as tmp:
            save_figure(plot_result(result), tmp)
    artefacts = write_artefacts(result, staged_path)
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
        for written in (output, plot, report, *artefacts):
            if written is not None:
                stderr.print(f"[dim]wrote {written}[/dim]")


def split_csv(value: str | None) -> list[str]:
    """Comma-separated option text as a list (commas inside parentheses do not split)."""
    return split_list(value) if value else []

"""`cerebro report result.json [more.json …] --output report.html`: one self-contained HTML
report of one or several saved results (`--json`/`--output` of any analysis command)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import status, stderr, user_errors, write_atomically
from cerebro.core.errors import UserInputError


def read_result(path: Path) -> tuple[Any, Any]:
    """A saved result and where it came from, refused in one sentence if it is not one."""
    from cerebro.core.results import Result
    from cerebro.report.document import Source

    if not path.is_file():
        raise UserInputError(f"result file {str(path)!r} does not exist; check the path.")
    raw = path.read_bytes()
    try:
        payload = json.loads(raw.decode("utf-8"))
        result = Result.from_dict(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise UserInputError(
            f"{path.name} is not a Cerebro result ({type(err).__name__}: {err}); write one "
            "with an analysis command's --output result.json."
        ) from None
    source = Source(str(path), hashlib.sha256(raw).hexdigest(), payload.get("cerebro_version"))
    return result, source


def read_truth(path: Path | None) -> tuple[dict[str, float], list[str]]:
    """True values by estimate key – the ``estimates`` mapping of a truth file (as `cerebro
    datasets saas` writes), or a flat mapping of keys to numbers – and its ``story`` lines."""
    if path is None:
        return {}, []
    if not path.is_file():
        raise UserInputError(f"truth file {str(path)!r} does not exist; check the path.")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserInputError(f"cannot read truth file {path.name}: {err}.") from None
    table = payload.get("estimates", payload) if isinstance(payload, dict) else None
    if not isinstance(table, dict):
        raise UserInputError(f"truth file {path.name} must hold a mapping of estimate keys.")
    story = payload.get("story", []) if isinstance(payload, dict) else []
    values = {k: float(v) for k, v in table.items() if isinstance(v, int | float)}
    return values, [str(line) for line in story] if isinstance(story, list) else []


def register(app: typer.Typer) -> None:
    @app.command("report")
    @user_errors
    def report_command(
        results: list[Path] = typer.Argument(
            ..., help="Result JSON files (--output of any analysis command); one report."
        ),
        output: Path = typer.Option(..., "--output", "-o", help="The HTML report to write."),
        title: str | None = typer.Option(None, "--title", help="The report's title."),
        truth: Path | None = typer.Option(
            None,
            "--truth",
            help="A truth file (e.g. saas_truth.json): true values by estimate key, shown "
            "beside the estimates.",
        ),
    ) -> None:
        """Write one self-contained HTML report of saved results: summary, decision,
        estimates, assumptions and their checks, findings, figures, method and references,
        and what reproduces them."""
        from cerebro.report.document import render_report

        if output.suffix.lower() not in {".html", ".htm"}:
            raise UserInputError(f"cannot write a report as {output.name!r}; use a .html name.")
        for path in results:
            if path.exists() and output.exists() and path.samefile(output):
                raise UserInputError(f"--output is the input file {path.name}; choose another.")
        loaded = [read_result(p) for p in results]
        values, story = read_truth(truth)
        with status("rendering the report …"):
            page = render_report(
                [r for r, _ in loaded],
                title=title,
                truth=values,
                truth_notes=story,
                sources=[s for _, s in loaded],
            )
        write_atomically(output, page)
        stderr.print(f"[dim]wrote {output}[/dim]")

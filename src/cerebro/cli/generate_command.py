"""`cerebro generate SPEC --output pipeline.py [--notebook pipeline.ipynb]`: any spec as a
readable script (or notebook) that reproduces `cerebro run SPEC`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from cerebro.cli.common import check_outputs, stderr, user_errors, write_atomically
from cerebro.core.errors import UserInputError
from cerebro.run import read_spec_file

SUMMARY = (
    "Write any spec as a readable Python script (or Jupyter notebook) that reproduces "
    "`cerebro run` on it."
)


def check_suffix(flag: str, path: Path | None, suffix: str) -> None:
    if path is not None and path.suffix.lower() != suffix:
        raise UserInputError(f"{flag} {path.name!r} must end in {suffix}; e.g. pipeline{suffix}.")


_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")


def comment_reasons(path: Path) -> dict[str, str]:
    """The comment lines right above each top-level key of a YAML spec, by key: the reasons
    `cerebro auto --spec` wrote, so that a pipeline generated later keeps them."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return {}
    reasons: dict[str, str] = {}
    comment: list[str] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        key = _KEY.match(line)
        if line.startswith("#"):
            comment.append(line.lstrip("#").strip())
        elif key and comment and key.group(1) not in ("kind", "data"):
            reasons[key.group(1)] = " ".join(comment)
            comment = []
        else:
            comment = []
    return reasons


def write_pipelines(
    spec: Any,
    output: Path | None,
    notebook: Path | None,
    *,
    source: str | None = None,
    reasons: dict[str, str] | None = None,
) -> list[Path]:
    """Generate the script and/or the notebook of `spec` and write them (staged: all or none)."""
    from cerebro.codegen import generate

    texts = {}
    for path, as_notebook in ((output, False), (notebook, True)):
        if path is not None:
            texts[path] = generate(
                spec, path, source=source, reasons=reasons, as_notebook=as_notebook
            )
    for path, text in texts.items():
        write_atomically(path, text)
    return list(texts)


def register(app: typer.Typer) -> None:
    @app.command("generate", help=SUMMARY)
    @user_errors
    def generate_command(
        spec_file: Path = typer.Argument(..., help="A YAML or JSON spec with a 'kind' key."),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the pipeline as a Python script (.py)."
        ),
        notebook: Path | None = typer.Option(
            None, "--notebook", help="Write the same pipeline as a Jupyter notebook (.ipynb)."
        ),
        data: Path | None = typer.Option(
            None, "--data", help="Data file; overrides the spec's 'data'."
        ),
    ) -> None:
        if output is None and notebook is None:
            raise UserInputError("give --output pipeline.py, --notebook pipeline.ipynb or both.")
        check_suffix("--output", output, ".py")
        check_suffix("--notebook", notebook, ".ipynb")
        inputs = [spec_file, *([data] if data else [])]
        check_outputs({"--notebook": notebook} if notebook else {}, inputs)
        spec = read_spec_file(spec_file)
        if data is not None:
            spec["data"] = str(data)
        reasons = comment_reasons(spec_file)  # a field's comment in the spec says why
        for path in write_pipelines(spec, output, notebook, source=str(spec_file), reasons=reasons):
            stderr.print(f"[dim]wrote {path}[/dim]")

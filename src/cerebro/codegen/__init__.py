"""Code generation: any spec as a readable, runnable pipeline (`cerebro generate`).

A face: it reads a spec's fields (their descriptions and defaults) through the registry and
writes a script – or a notebook with the same sections – that calls the kind's Python function
with every choice spelled out and writes the same JSON as `cerebro run`. It imports no family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cerebro.codegen.pipeline import build_pipeline, default_outputs
from cerebro.codegen.render import notebook, script
from cerebro.core.spec import SpecBase

__all__ = ["build_pipeline", "generate", "notebook", "script"]


def generate(
    spec: dict[str, Any] | SpecBase,
    output: str | Path,
    *,
    source: str | None = None,
    reasons: dict[str, str] | None = None,
    as_notebook: bool = False,
) -> str:
    """The text of the pipeline for `spec` to be saved as `output` (a .py script, or a notebook
    with `as_notebook`); its result and figure go beside it (pipeline.json, pipeline.png)."""
    result, plot = default_outputs(output)
    pipeline = build_pipeline(
        spec, script=Path(output).name, result=result, plot=plot, source=source, reasons=reasons
    )
    return notebook(pipeline) if as_notebook else script(pipeline)

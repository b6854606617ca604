"""Running one analysis for a job, in a child process of the worker: the spec through the
registry, progress to the worker through a pipe, and the versioned JSON result back."""

from __future__ import annotations

import logging
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from cerebro.core.context import reporting
from cerebro.core.errors import UserInputError

log = logging.getLogger("cerebro.service.worker")
PROGRESS_EVERY = 0.25  # seconds between progress messages


def run_analysis(
    spec: dict[str, Any], files: dict[str, str], refs: dict[str, str], report=None
) -> dict[str, Any]:
    """The result JSON of `spec` run through the registry, as `cerebro run` runs it, with the
    server's files put in their fields (the data, a plan, a kept model, the model to keep) and
    written as `cerebro run` writes them; in the result's spec each server path is replaced by
    its reference (`dataset:<id>`, `model:<id>`)."""
    from cerebro.core.output import write_artefacts
    from cerebro.run import run_spec

    with_files = {**spec, **files}
    if report is None:
        result = run_spec(with_files)
    else:
        with reporting(report):
            result = run_spec(with_files)
    write_artefacts(result)  # only the kept model: the service refuses every other output
    out = result.to_dict()
    if isinstance(out.get("spec"), dict):
        out["spec"].update({k: v for k, v in refs.items() if k in out["spec"]})
    return out


def progress_reporter(send):
    """A `cerebro.core.context` reporter sending (fraction done, step) at most every 0.25 s."""
    last = [0.0]

    def reporter(description: str, total: int):
        done = [0]

        def advance(k: int, step: str | None = None) -> None:
            done[0] += k
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or done[0] >= total:
                last[0] = now
                send(min(done[0] / max(total, 1), 1.0), step or description)

        return advance

    return reporter


def executor_main(conn: Connection) -> None:
    """The executor process: for each (spec, files, references) received, run it and send
    progress, then ("done", result) or ("error", code, sentence); exit when the worker's end of
    the pipe closes."""
    reporter = progress_reporter(lambda f, s: conn.send(("progress", f, s)))
    while True:
        try:
            spec, files, refs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("done", run_analysis(spec, files, refs, reporter)))
        except UserInputError as err:
            conn.send(("error", "invalid_input", str(err)))
        except Exception:  # the job fails with a reason; the traceback goes to the worker's log
            traceback.print_exc()
            conn.send(
                (
                    "error",
                    "analysis_failed",
                    "the analysis failed unexpectedly; see the worker log.",
                )
            )

"""Running the command line in tests and checking a refusal: exit code 2, no traceback, and a
message holding every expected word (shared by the reliability and output-file tests)."""

from __future__ import annotations

from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def refused(out, *words: str) -> str:
    """Exit code 2, no traceback, and a message with every one of `words`."""
    text = " ".join(out.output.split())
    assert out.exit_code == 2, (out.exit_code, out.output, out.exception)
    assert "Traceback" not in out.output
    for word in words:
        assert word in text, text
    return text

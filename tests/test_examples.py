"""Every script in `examples/` runs: one per family, from the command line (`.sh`) and from
Python (`.py`), each writing into its own folder. The MMM pair fits a model by MCMC and is
marked slow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.[ps][yh]"))
FAMILIES = ("experiments", "observational", "quasi", "geo", "uplift", "mmm")


def environment() -> dict[str, str]:
    """This checkout's source first and the interpreter's scripts (`cerebro`) on the PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    env["MPLBACKEND"] = "Agg"
    return env


def test_one_cli_and_one_python_example_per_family() -> None:
    names = {p.name for p in EXAMPLES}
    assert names == {f"{f}.{ext}" for f in FAMILIES for ext in ("py", "sh")}


@pytest.mark.parametrize(
    "script",
    [pytest.param(p, marks=pytest.mark.slow) if p.stem == "mmm" else p for p in EXAMPLES],
    ids=lambda p: p.name,
)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    command = [sys.executable, str(script)] if script.suffix == ".py" else ["bash", str(script)]
    run = subprocess.run(
        [*command, *([str(tmp_path)] if script.suffix == ".sh" else [])],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    if script.suffix == ".sh":
        written = {p.suffix for p in tmp_path.iterdir()}
        assert ".html" in written, written

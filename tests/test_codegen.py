"""`cerebro generate`: every registered kind's pipeline reproduces `cerebro run` exactly.

For each kind's own example (`Method.example`), the data and spec are written to files; the
spec runs through `cerebro run --output` and the generated script through `python`, each in a
fresh interpreter, and the two JSON results must be equal – every number, finding and table.
The scripts must be formatted and lint-clean by ruff's defaults (a generated file lives in the
user's folder, not ours), and the notebook must execute.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.registry import methods

SLOW = ("mmm", "mmm_predict", "mmm_optimize")
FAST = [kind for kind in methods() if kind not in SLOW]
RUFF = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")

RUN_ALL = """
import sys
from cerebro.cli.main import app
for spec, out in zip(sys.argv[1::2], sys.argv[2::2]):
    app(["run", spec, "--output", out], standalone_mode=False)
"""

SCRIPTS_ALL = """
import runpy, sys
for script in sys.argv[1:]:
    runpy.run_path(script, run_name="__main__")
"""


def without_timings(value):
    """The payload without wall-clock times (uplift's `seconds` per model, MMM's
    `fit_seconds`): the one part of a result that differs between two identical runs."""
    if isinstance(value, dict):
        if "columns" in value and "rows" in value and "seconds" in value["columns"]:
            keep = [i for i, c in enumerate(value["columns"]) if c != "seconds"]
            value = {
                **value,
                "columns": [value["columns"][i] for i in keep],
                "rows": [[row[i] for i in keep] for row in value["rows"]],
            }
        return {k: without_timings(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def write_example(kind: str, folder: Path) -> Path:
    """The kind's example as files: its data (CSV) and its spec (YAML); returns the spec."""
    method = methods()[kind]
    module, function = method.example.split(":")
    fields, data = getattr(import_module(module), function)()
    spec = {"kind": kind, **fields}
    if data is not None:
        data.to_csv(folder / f"{kind}.csv", index=False)
        spec["data"] = f"{kind}.csv"
    path = folder / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def generate(spec: Path, *options: str) -> None:
    result = CliRunner().invoke(app, ["generate", spec.name, *options])
    assert result.exit_code == 0, result.output


def run_in(folder: Path, code: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=folder, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def check_kinds(kinds: list[str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    specs = [write_example(kind, folder) for kind in kinds]
    for spec in specs:
        generate(spec, "--output", f"{spec.stem}_pipeline.py")
    run_in(folder, RUN_ALL, [a for s in specs for a in (s.name, f"{s.stem}_run.json")])
    run_in(folder, SCRIPTS_ALL, [f"{s.stem}_pipeline.py" for s in specs])
    for spec in specs:
        ran = json.loads((folder / f"{spec.stem}_run.json").read_text())
        generated = json.loads((folder / f"{spec.stem}_pipeline.json").read_text())
        assert without_timings(generated) == without_timings(ran), spec.stem
        assert (folder / f"{spec.stem}_pipeline.png").stat().st_size > 0


def test_every_fast_kind_reproduces_cerebro_run(tmp_path, monkeypatch):
    check_kinds(FAST, tmp_path, monkeypatch)


@pytest.mark.slow
def test_the_mmm_kinds_reproduce_cerebro_run(tmp_path, monkeypatch):
    check_kinds(list(SLOW), tmp_path, monkeypatch)


def test_scripts_are_ruff_formatted_and_clean_for_every_kind(tmp_path, monkeypatch):
    """Formatted and lint-clean under ruff's defaults (`--isolated`: not our settings)."""
    monkeypatch.chdir(tmp_path)
    for kind in methods():
        if kind in ("mmm_predict", "mmm_optimize"):
            continue  # their example fits a model first; mmm shows the same fields' shape
        generate(write_example(kind, tmp_path), "--output", f"{kind}_pipeline.py")
    scripts = sorted(str(p) for p in tmp_path.glob("*_pipeline.py"))
    for command in (["format", "--check"], ["check", "--select", "E,F,W,I,UP,B"]):
        done = subprocess.run(
            [RUFF, *command, "--isolated", *scripts], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_notebook_has_the_scripts_sections_and_executes_to_the_same_json(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.chdir(tmp_path)
    spec = write_example("causal", tmp_path)
    generate(spec, "--output", "causal.py", "--notebook", "causal.ipynb")
    book = nbformat.read(tmp_path / "causal.ipynb", as_version=4)
    headings = [c.source.splitlines()[0] for c in book.cells if c.cell_type == "markdown"][1:]
    script = (tmp_path / "causal.py").read_text()
    assert [h.removeprefix("## ") for h in headings] == [
        line.removeprefix("# ").rstrip(" -") for line in script.splitlines() if line.endswith("---")
    ]
    assert [h.split(". ", 1)[1] for h in headings] == [
        "Files",
        "Load and check the data",
        "Design checks",
        "Estimation",
        "Diagnostics",
        "Results",
        "Plots",
        "Export",
    ]
    nbclient.NotebookClient(
        book, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert CliRunner().invoke(app, ["run", spec.name, "--output", "run.json"]).exit_code == 0
    ran = json.loads((tmp_path / "run.json").read_text())
    assert json.loads((tmp_path / "causal.json").read_text()) == ran


@pytest.mark.parametrize(
    ("spec", "options", "words"),
    [
        ("kind: nonsense\n", ["--output", "p.py"], "unknown analysis kind 'nonsense'"),
        ("kind: causal\n", ["--output", "p.py"], "outcome"),
        ("kind: power\nbaseline: 0.05\nmde: 0.01\n", [], "give --output"),
        ("kind: power\nbaseline: 0.05\nmde: 0.01\n", ["--output", "p.txt"], "must end in .py"),
    ],
)
def test_bad_specs_fail_in_one_sentence_and_write_nothing(
    tmp_path, monkeypatch, spec, options, words
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(spec)
    result = CliRunner().invoke(app, ["generate", "spec.yaml", *options])
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]

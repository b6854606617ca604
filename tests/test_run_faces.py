"""The faces run every kind through the registry with a run context; methods draw nothing and
write no file.

- the registry is lazy: a kind's module is imported on its first look-up, and the catalog names
  exactly the module that registers each kind;
- `cerebro --help` imports no spec (nor numpy and pydantic) and `cerebro power-analysis` no other
  family; the one-line summaries `cerebro --help` lists are the commands' own help;
- the uplift runner returns `--predictions` and `--save` as in-memory artefacts and reports its
  steps through `cerebro.core.context.progress`; the faces write the files.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from typer.main import get_command
from typer.testing import CliRunner

from cerebro.catalog import KINDS
from cerebro.cli.main import COMMANDS, app
from cerebro.core import registry
from cerebro.core.context import reporting
from cerebro.core.spec import parse_spec
from cerebro.uplift.examples import uplift as uplift_example
from cerebro.uplift.model_file import load_model

FAMILIES = ("experiments", "observational", "quasi", "geo", "uplift", "survival", "longitudinal")


def imported_after(code: str) -> set[str]:
    """The cerebro modules and the heavy libraries a fresh interpreter holds after `code`."""
    probe = (
        f"{code}\nimport sys\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('cerebro', 'numpy', 'pydantic'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_each_catalog_module_registers_its_kind_and_only_known_kinds():
    for kind, module in KINDS.items():
        importlib.import_module(module)
        assert registry._REGISTRY[kind].kind == kind
    assert list(registry.methods()) == list(KINDS)


def family_modules(loaded: set[str]) -> set[str]:
    return {m for m in loaded if m.count(".") >= 1 and m.split(".")[1] in FAMILIES}


POWER_ONLY = {"cerebro.experiments", "cerebro.experiments.power"}


def test_looking_up_one_kind_imports_no_other_family():
    loaded = imported_after("from cerebro.core.registry import get_method; get_method('power')")
    assert {m for m in family_modules(loaded) if not m.startswith("cerebro.experiments.power.")} \
        == POWER_ONLY  # fmt: skip


def test_cli_help_imports_no_spec_and_power_analysis_no_other_family():
    code = "import sys; sys.argv = ['cerebro', {args}]\nfrom cerebro.cli.main import main\ntry:\n"
    code += "    main()\nexcept SystemExit:\n    pass"
    help_loaded = imported_after(code.format(args="'--help'"))
    assert not {m for m in help_loaded if m.startswith(("numpy", "pydantic"))}
    assert family_modules(help_loaded) == set()
    power = "'power-analysis', '--baseline', '0.05', '--mde', '0.01'"
    power_loaded = family_modules(imported_after(code.format(args=power)))
    assert {m for m in power_loaded if not m.startswith("cerebro.experiments.power.")} == POWER_ONLY


def test_the_listed_summaries_are_the_commands_own_help():
    group = get_command(app)
    for name, (_module, summary) in COMMANDS.items():
        command = group.commands[name]
        first = (command.help or "").split("\n\n")[0]
        assert " ".join(first.split()) == summary, name


def test_the_uplift_runner_writes_no_file_and_reports_its_steps(tmp_path: Path):
    fields, frame = uplift_example()
    preds, model = tmp_path / "cate.csv", tmp_path / "model.cerebro"
    spec = parse_spec(
        {"kind": "uplift", **fields, "learner": "linear", "predictions": str(preds),
         "save": str(model), "jobs": 1}
    )  # fmt: skip
    tasks: list[tuple[str, int]] = []
    steps: list[tuple[int, str | None]] = []

    def reporter(description: str, total: int):
        tasks.append((description, total))
        return lambda k, step=None: steps.append((k, step))

    with reporting(reporter):
        result = registry.get_method("uplift").run(spec, frame)
    assert not preds.exists() and not model.exists()
    assert [a.field for a in result.artefacts] == ["predictions", "save"]
    assert [a.path for a in result.artefacts] == [str(preds), str(model)]
    assert tasks == [("modelling uplift", 1 * (1 + 2) + 1)]  # one arm, one model
    assert steps[0] == (0, steps[0][1]) and sum(k for k, _ in steps) == len(steps) - 1
    assert all(step for _, step in steps)
    for artefact in result.artefacts:
        artefact.save(artefact.path)
    written = pd.read_csv(preds)
    assert len(written) == len(frame) and list(written.columns) == ["cate"]
    assert load_model(model).arms == ["1"]


def test_cerebro_run_writes_the_files_a_spec_asks_for(tmp_path: Path):
    fields, frame = uplift_example()
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    preds = tmp_path / "out" / "cate.csv"
    spec = {"kind": "uplift", **fields, "data": str(data), "learner": "linear", "jobs": 1,
            "predictions": str(preds)}  # fmt: skip
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert out.exit_code == 0, out.output
    assert len(pd.read_csv(preds)) == len(frame)
    (tmp_path / "folder.csv").mkdir()
    path.write_text(yaml.safe_dump({**spec, "predictions": str(tmp_path / "folder.csv")}))
    refused = CliRunner().invoke(app, ["run", str(path)])
    assert refused.exit_code == 2 and "is a folder" in refused.output

"""Output files of the command line: checked before the run, never the input file, written all
or none, with the user's umask, and nothing half-written on Ctrl-C or an error."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_refusals import invoke, refused

POWER = ["power-analysis", "--baseline", "0.1", "--mde", "0.02"]


def leftovers(folder: Path) -> list[str]:
    """Temporary or backup files left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.fixture
def units(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": range(40), "x": rng.normal(size=40)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


# -- checked before the run -------------------------------------------------------------------
@pytest.mark.parametrize("flag", ["--output", "--plot"])
def test_an_output_that_is_the_input_file_is_refused(units: Path, flag: str):
    before = units.read_bytes()
    target = units if flag == "--output" else units.with_suffix(".png")
    if flag == "--plot":
        units.rename(target)  # the input itself is named like a figure
    out = invoke("design", target, flag, target)
    refused(out, f"{flag} is the input file {target.name}; choose another path")
    assert target.read_bytes() == before


def test_the_input_file_reached_by_another_spelling_is_refused(units: Path, monkeypatch):
    monkeypatch.chdir(units.parent)
    out = invoke("design", "data.csv", "-o", f"../{units.parent.name}/./data.csv")
    refused(out, "--output is the input file data.csv")


def test_uplift_predictions_and_save_cannot_be_the_input(units: Path):
    for flag in ("--predictions", "--save"):
        out = invoke("uplift", units, "--treatment", "t", "--outcome", "y", flag, units)
        refused(out, f"{flag} is the input file data.csv")


def test_run_refuses_an_output_that_is_the_specs_data(units: Path):
    spec = units.parent / "spec.yaml"
    spec.write_text("kind: design\ndata: data.csv\n")
    before = units.read_bytes()
    refused(invoke("run", spec, "-o", units), "--output is the input file data.csv")
    assert units.read_bytes() == before


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path):
    refused(invoke(*POWER, "-o", tmp_path), f"--output {tmp_path} is a folder")


def test_an_output_under_a_file_is_refused(tmp_path: Path):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("x")
    out = invoke(*POWER, "-o", blocker / "result.json")
    refused(out, "is a file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_output_in_a_read_only_folder_is_refused(tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        refused(invoke(*POWER, "-o", locked / "r.json"), "is not writable")
    finally:
        locked.chmod(0o755)


def test_two_outputs_on_one_path_are_refused(tmp_path: Path):
    path = tmp_path / "r.pdf"
    refused(invoke(*POWER, "-o", path, "--plot", path), "are the same file")
    assert not path.exists()


def test_a_plot_name_is_checked_before_the_run(tmp_path: Path):
    out = invoke(*POWER, "-o", tmp_path / "r.json", "--plot", tmp_path / "r.txt")
    refused(out, "use a .png, .svg or .pdf name")
    assert leftovers(tmp_path) == [] and not (tmp_path / "r.json").exists()


def test_missing_folders_of_an_output_are_created(tmp_path: Path):
    out = invoke(*POWER, "-o", tmp_path / "a" / "b" / "r.json")
    assert out.exit_code == 0, out.output
    assert (tmp_path / "a" / "b" / "r.json").is_file()


# -- all or none ------------------------------------------------------------------------------
def test_a_failing_plot_leaves_the_old_output_untouched(tmp_path: Path, monkeypatch):
    import cerebro.report.plots as plots

    output = tmp_path / "r.json"
    output.write_text("old\n")

    def broken(fig, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(plots, "save_figure", broken)
    out = invoke(*POWER, "-o", output, "--plot", tmp_path / "r.png")
    text = refused(out, "No space left on device")
    assert str(tmp_path / "r.png") in text and ".tmp" not in text  # the user's path
    assert output.read_text() == "old\n"
    assert not (tmp_path / "r.png").exists()
    assert leftovers(tmp_path) == []


def test_a_command_that_writes_its_own_file_is_rolled_back(units: Path, monkeypatch):
    """`design` writes the assignment itself; a failure after it restores the old file."""
    import cerebro.report.plots as plots

    assignment = units.parent / "assigned.csv"
    assignment.write_text("old\n")

    def broken(result):
        raise RuntimeError("plotting broke")

    monkeypatch.setattr(plots, "plot_result", broken)
    out = invoke("design", units, "-o", assignment, "--plot", units.parent / "love.png")
    assert out.exit_code != 0
    assert assignment.read_text() == "old\n"
    assert leftovers(units.parent) == []

    fresh = units.parent / "fresh.csv"
    out = invoke("design", units, "-o", fresh, "--plot", units.parent / "love.png")
    assert out.exit_code != 0 and not fresh.exists()
    assert leftovers(units.parent) == []


# -- Ctrl-C -----------------------------------------------------------------------------------
def test_ctrl_c_is_one_line_exit_130_and_no_file(tmp_path: Path, monkeypatch):
    import cerebro.report.plots as plots

    def interrupted(fig, path):
        Path(path).write_text("half")  # a partial figure on disk when Ctrl-C arrives
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "save_figure", interrupted)
    output = tmp_path / "r.json"
    out = invoke(*POWER, "-o", output, "--plot", tmp_path / "r.png")
    assert out.exit_code == 130
    assert out.output.strip() == "interrupted"
    assert "Traceback" not in out.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_ctrl_c_during_the_run(tmp_path: Path, monkeypatch):
    import cerebro.cli.common as common

    def interrupted(spec):
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "run_spec", interrupted)
    units = tmp_path / "units.csv"
    units.write_text("id,x\n1,2\n2,3\n")
    out = invoke("design", units, "-o", tmp_path / "assigned.csv")
    assert out.exit_code == 130 and out.output.strip() == "interrupted"
    assert [p.name for p in tmp_path.iterdir()] == ["units.csv"]


# -- modes ------------------------------------------------------------------------------------
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask(tmp_path: Path, units: Path, umask, mask: int):
    umask(mask)
    json_out, png = tmp_path / "r.json", tmp_path / "r.png"
    assert invoke(*POWER, "-o", json_out, "--plot", png).exit_code == 0
    assignment = tmp_path / "assigned.csv"
    assert invoke("design", units, "-o", assignment).exit_code == 0
    for path in (json_out, png, assignment):
        assert mode(path) == 0o666 & ~mask, (path.name, oct(mode(path)))


def test_an_overwritten_file_keeps_its_mode(tmp_path: Path, units: Path, umask):
    umask(0o022)
    json_out, assignment = tmp_path / "r.json", tmp_path / "assigned.csv"
    for path in (json_out, assignment):
        path.write_text("old\n")
        path.chmod(0o640)
    assert invoke(*POWER, "-o", json_out).exit_code == 0
    assert invoke("design", units, "-o", assignment).exit_code == 0
    assert mode(json_out) == 0o640 and mode(assignment) == 0o640
    assert json_out.read_text() != "old\n" and assignment.read_text() != "old\n"


def test_uplift_outputs_follow_the_umask(tmp_path: Path, umask):
    umask(0o027)
    rng = np.random.default_rng(0)
    n = 120
    t = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {"x": rng.normal(size=n), "t": t, "y": (rng.random(n) < 0.3 + 0.1 * t).astype(int)}
    )
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    preds, model, scored = tmp_path / "p.csv", tmp_path / "m.cerebro", tmp_path / "s.csv"
    out = invoke(
        "uplift", data, "--treatment", "t", "--outcome", "y", "--model", "t_learner",
        "--folds", "2", "--jobs", "1", "--predictions", preds, "--save", model, "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert invoke("uplift-score", model, data, "-o", scored).exit_code == 0
    for path in (preds, model, scored):
        assert mode(path) == 0o640, (path.name, oct(mode(path)))
    assert leftovers(tmp_path) == []


# -- warnings ---------------------------------------------------------------------------------
def test_library_warnings_do_not_reach_the_terminal(units: Path, monkeypatch):
    """A numpy RuntimeWarning or a pandas UserWarning raised during a command is not shown
    (pandas attributes its warnings to the caller, so a module filter would miss them)."""
    import sys
    import warnings

    import cerebro.cli.common as common

    original = common.run_spec

    def noisy(spec):
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero encountered in log
        pd.to_datetime(pd.Series(["13/01/2021", "14/01/2021"]))  # pandas UserWarning
        warnings.warn("pandas-style", UserWarning, stacklevel=2)
        return original(spec)

    monkeypatch.setattr(common, "run_spec", noisy)

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as a terminal session would show them …
        warnings.showwarning = show  # … on stderr (pytest would only record them)
        out = invoke("design", units)
    assert out.exit_code == 0, out.output
    assert "Warning" not in out.output and "pandas-style" not in out.output

"""A file analysed by DuckDB (moments in one SQL scan) = the same data analysed in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.experiments.abtest.analysis import abtest
from engine_support import FILE_CASES, same_numbers


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
@pytest.mark.parametrize("options", FILE_CASES)
def test_file_equals_frame(messy, tmp_path, suffix, options):
    path = tmp_path / f"ab{suffix}"
    {
        ".csv": lambda p: messy.to_csv(p, index=False),
        ".parquet": messy.to_parquet,
        ".json": lambda p: messy.to_json(p, orient="records"),
    }[suffix](path)
    same_numbers(
        abtest(str(path), treatment="arm", **options), abtest(messy, treatment="arm", **options)
    )


def test_non_numeric_outcome_in_a_file(ab, tmp_path):
    from cerebro.core.errors import UserInputError

    path = tmp_path / "ab.csv"
    ab.to_csv(path, index=False)
    with pytest.raises(UserInputError, match="column 'region' is not numeric"):
        abtest(str(path), treatment="arm", outcome="region")


# Modules the file path must not import: pandas (~0.4 s), scipy.stats (~0.8 s), matplotlib,
# statsmodels, and the public scipy.special package, whose array-API layer imports numpy.f2py,
# numpy.testing … (~0.15 s; `cerebro.stats.special` takes its compiled ufuncs instead).
HEAVY = (
    "pandas",
    "scipy.stats",
    "matplotlib",
    "statsmodels",
    "scipy.special",
    "scipy.special._support_alternative_backends",
    "numpy.f2py",
    "numpy.polynomial",  # the Bayesian quadrature's nodes, made on first use (≈ 6 ms)
)


@pytest.mark.parametrize("options", [[], ["--cluster", "user"], ["--json"]])
def test_file_path_never_imports_pandas(ab, tmp_path, options):
    """Start-up is a third of a CLI run on a big file: the DuckDB path must not pay for the
    modules in `HEAVY`. Structural, not timed."""
    import subprocess
    import sys

    path = tmp_path / "ab.csv"
    ab.assign(user=np.arange(len(ab))).to_csv(path, index=False)  # one row per cluster
    script = (
        "import sys\n"
        f"HEAVY = {HEAVY!r}\n"
        "from cerebro.cli.main import app\n"
        "try:\n"
        "    app(sys.argv[1:])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "heavy = [m for m in HEAVY if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    args = ["abtest", str(path), "--treatment", "arm", "--outcome", "revenue,converted", *options]
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out, out[-500:]


def test_console_script_freezes_the_heap_before_the_interpreter_exits(ab, tmp_path):
    """`cerebro` (main) leaves the run's objects out of the interpreter's last collection
    (≈ 0.07 s of a Parquet run) and still writes its output; `app` called from Python does not
    freeze anything."""
    import subprocess
    import sys

    path = tmp_path / "ab.parquet"
    ab.to_parquet(path, index=False)
    out = tmp_path / "result.json"
    script = (
        "import gc, sys\n"
        "from cerebro.cli import main\n"
        "sys.argv = ['cerebro', *sys.argv[1:]]\n"
        "try:\n"
        "    main.app(['--version'])\n"
        "except SystemExit:\n"
        "    print('APP FROZEN', gc.get_freeze_count() > 0)\n"
        "try:\n"
        "    main.main()\n"
        "except SystemExit as done:\n"
        "    print('EXIT', done.code, 'FROZEN', gc.get_freeze_count() > 0)\n"
    )
    args = ["abtest", str(path), "--treatment", "arm", "--outcome", "revenue", "-o", str(out)]
    printed = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    ).stdout
    assert "APP FROZEN False" in printed and "EXIT 0 FROZEN True" in printed, printed[-500:]
    assert out.exists() and '"estimates"' in out.read_text()


def _child_sends(conn) -> None:
    from cerebro.engine.duckdb_moments import connection

    conn.send(connection().sql("SELECT 41 + 1").fetchall()[0][0])


def test_a_fork_from_another_thread_keeps_the_child_alive_and_its_own_connection() -> None:
    """A service worker forks its job executor from a worker thread while the main thread keeps
    a DuckDB connection (a profiled upload, an in-process run). The child must neither crash
    (a connection in another thread's `threading.local` was collected there: SIGSEGV) nor reuse
    the parent's connection (its DuckDB threads did not survive the fork)."""
    import multiprocessing
    import threading

    from cerebro.engine.duckdb_moments import connection

    connection().sql("SELECT 1").fetchall()
    out: list = []

    def fork() -> None:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        process = context.Process(target=_child_sends, args=(child,))
        process.start()
        out.append(parent.recv() if parent.poll(20) else None)
        process.join(20)
        out.append(process.exitcode)

    thread = threading.Thread(target=fork)
    thread.start()
    thread.join(60)
    assert out == [42, 0]

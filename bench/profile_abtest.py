"""Where `cerebro abtest`'s CPU goes on the 1.5M-row demo: one fresh process per run imports the
modules in the order the command needs them, then runs the command with its steps wrapped, and
reports the process CPU time (user + system, all threads) spent in each step; medians over runs.

Usage: python bench/profile_abtest.py DATA.csv|DATA.parquet [--runs 5] [-- extra abtest flags]
Needs the data of `bench/bench_abtest.py` (it writes them to .cache/bench/ on first use).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time

METRICS = "ai_calls,tasks_completed,satisfaction_score,retention_7d,revenue"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_run(args: list[str]) -> dict[str, float]:
    """In this (fresh) process: CPU seconds per step of one `cerebro abtest` run."""
    steps: dict[str, float] = {"Python start-up": cpu()}
    mark = [time.process_time()]

    def step(name: str) -> None:
        now = time.process_time()
        steps[name] = steps.get(name, 0.0) + now - mark[0]
        mark[0] = now

    import duckdb  # noqa: F401

    step("import duckdb")
    import numpy  # noqa: F401

    step("import numpy")
    import cerebro.stats.special

    step("t and normal distribution functions (scipy ufuncs)")
    import pydantic  # noqa: F401

    import cerebro.core.spec
    import cerebro.experiments.abtest.spec

    step("pydantic and the spec modules")
    import rich.console  # noqa: F401
    import typer  # noqa: F401

    step("typer, rich")
    import cerebro.cli.abtest_command as command
    import cerebro.cli.common as common
    import cerebro.cli.main as main
    import cerebro.data.load as load
    import cerebro.engine.duckdb_moments as moments
    import cerebro.experiments.abtest.analysis
    import cerebro.report.text  # noqa: F401

    step("Cerebro's CLI and A/B modules")

    def timed(owner: object, attribute: str, name: str) -> None:
        inner = getattr(owner, attribute)

        def wrapper(*a: object, **k: object) -> object:
            step("command line parsing, spec validation, statistics (the rest)")
            try:
                return inner(*a, **k)
            finally:
                step(name)

        setattr(owner, attribute, wrapper)

    timed(load, "_sniffed", "describe the file (sniff_csv, DESCRIBE)")
    timed(moments, "run_duckdb", "the moments scan")
    timed(command, "emit", "rendering the table")
    timed(common, "emit", "rendering the table")
    try:
        main.app(["abtest", *args])
    except SystemExit as done:
        assert not done.code, done.code
    step("command line parsing, spec validation, statistics (the rest)")
    steps["whole process"] = cpu()
    return steps


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        result = one_run(sys.argv[2:])
        sys.stdout.flush()
        print("\nSTEPS " + json.dumps(result))
        return
    data = sys.argv[1]
    extra = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    head = sys.argv[: sys.argv.index("--")] if "--" in sys.argv else sys.argv
    runs = int(head[head.index("--runs") + 1]) if "--runs" in head else 5
    flags = ["--treatment", "cohort", "--control", "A_control", "--outcome", METRICS]
    flags += extra or ["--type", "welch", "--cluster", "none"]
    rows: list[dict[str, float]] = []
    for _ in range(runs + 1):  # the first run warms the page cache and is dropped
        out = subprocess.run(
            [sys.executable, __file__, "--child", data, *flags],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        rows.append(json.loads(out.rsplit("STEPS ", 1)[1]))
    rows = rows[1:]
    print(f"{data}: CPU seconds per step, medians of {runs} fresh processes\n")
    print("| step | CPU s |\n|---|---|")
    for name in rows[0]:
        print(f"| {name} | {statistics.median(r.get(name, 0.0) for r in rows):.3f} |")


if __name__ == "__main__":
    main()

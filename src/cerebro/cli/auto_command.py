"""`cerebro auto DATA`: profile the table, choose a design, run it, explain it, and write the
spec and the pipeline that reproduce it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from cerebro.cli.common import check_outputs, split_csv, status, stderr, stdout, user_errors
from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    from cerebro.advisor import Advice, Profile

SUMMARY = (
    "From a data file to an explained analysis: profile the columns, choose the design and "
    "method, run it, and write the spec and a pipeline script that reproduce it."
)
DESIGN_HELP = (
    "Use this design instead of the advisor's choice: abtest, bayesian, sequential, causal, "
    "did, synthetic_control, geotest, rdd, uplift or mmm."
)


def profile_table(profile: Profile) -> Table:
    """The profile as a table: one row per column, its type, roles and a note."""
    table = Table(title=f"Profile: {profile.rows} rows", title_justify="left")
    for name in ("column", "type", "distinct", "missing", "roles", "note"):
        table.add_column(name, overflow="fold")
    for c in profile.columns.values():
        table.add_row(
            escape(c.name),
            c.kind,
            str(c.distinct),
            f"{c.missing:.0%}" if c.missing else "",
            ", ".join(c.roles),
            escape(c.note),
        )
    return table


def shape_line(profile: Profile) -> str:
    parts = []
    if profile.date:
        parts.append(
            f"dates: '{profile.date}' ({profile.frequency}, {profile.rows_per_date:.3g} "
            f"row{'s' if profile.rows_per_date != 1 else ''} per date)"
        )
    if profile.panel:
        parts.append(f"panel: one row per '{profile.panel}' and date")
    elif profile.unit:
        parts.append(f"repeated unit id: '{profile.unit}'")
    return "; ".join(parts) or "one row per unit, no dates"


def spec_yaml(advice: Advice, data: str) -> str:
    """The advised spec as YAML, each field under a comment saying why it has its value."""
    import yaml

    lines = [
        f"# Written by `cerebro auto {data}`: {advice.design}.",
        "# Run it with `cerebro run` on this file; `cerebro generate` turns it into a script.",
    ]
    for name, value in advice.spec.items():
        if name in advice.reasons:
            reason = advice.reasons[name]
            lines.append(f"# {reason[:1].upper()}{reason[1:]}")
        lines.append(yaml.safe_dump({name: value}, sort_keys=False, allow_unicode=True).rstrip())
    return "\n".join(lines) + "\n"


def roles_from(options: dict[str, Any]) -> Any:
    from cerebro.advisor import Roles

    return Roles(
        kpi=split_csv(options["kpi"]) or None,
        treatment=options["treatment"],
        date_column=options["date_column"],
        unit=options["unit"],
        geo=options["geo"],
        running_variable=options["running_variable"],
        cutoff=options["cutoff"],
        treatment_start=options["treatment_start"],
        channels=split_csv(options["channels"]) or None,
        covariates=None if options["covariates"] is None else split_csv(options["covariates"]),
        design=options["design"],
        question=options["question"],
    )


def check_paths(output: Path | None, spec: Path | None, notebook: Path | None, data: Path) -> None:
    for flag, path, suffixes in (
        ("--output", output, (".py",)),
        ("--spec", spec, (".yaml", ".yml")),
        ("--notebook", notebook, (".ipynb",)),
    ):
        if path is not None and path.suffix.lower() not in suffixes:
            raise UserInputError(f"{flag} {path.name!r} must end in {suffixes[0]}.")
    outputs = {"--output": output, "--spec": spec, "--notebook": notebook}
    check_outputs({k: p for k, p in outputs.items() if p is not None}, [data])


def auto(data: Path, options: dict[str, Any]) -> None:
    """Profile → advise → run → print → write (see the module docstring)."""
    from cerebro.advisor import advise
    from cerebro.cli.common import write_atomically
    from cerebro.cli.generate_command import write_pipelines
    from cerebro.core.spec import parse_spec
    from cerebro.data.load import load_table

    output, spec_path, notebook = options["output"], options["spec"], options["notebook"]
    check_paths(output, spec_path, notebook, data)
    roles = roles_from(options)
    if roles.columns():
        load_table(data, roles.columns())  # the named columns: exist, hold values (one sentence)
    frame = load_table(data)
    profile, advice = advise(frame, roles, data=str(data))
    spec = parse_spec(advice.spec)
    result = None
    if options["run"]:  # before anything is shown: a run that fails is one sentence
        from cerebro.run import run_spec

        with status(f"running {advice.kind} …"):
            result = run_spec(spec)
    stdout.print(profile_table(profile))
    stdout.print(escape(shape_line(profile)) + "\n")
    stdout.print(escape(advice.explanation()) + "\n", highlight=False)
    if result is not None:
        from cerebro.report.text import print_result

        print_result(result, stdout)
    if spec_path is not None:
        write_atomically(spec_path, spec_yaml(advice, str(data)))
        stderr.print(f"[dim]wrote {spec_path}[/dim]")
    source = str(spec_path) if spec_path is not None else None
    for path in write_pipelines(spec, output, notebook, source=source, reasons=advice.reasons):
        stderr.print(f"[dim]wrote {path}[/dim]")


def register(app: typer.Typer) -> None:
    @app.command("auto", help=SUMMARY)
    @user_errors
    def auto_command(
        data: Path = typer.Argument(..., help="The data file (CSV, Parquet or JSON)."),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the pipeline as a Python script (.py)."
        ),
        spec: Path | None = typer.Option(
            None, "--spec", help="Write the chosen analysis as a spec file (.yaml)."
        ),
        notebook: Path | None = typer.Option(
            None, "--notebook", help="Write the pipeline as a Jupyter notebook (.ipynb)."
        ),
        kpi: str | None = typer.Option(
            None, "--kpi", "--outcome", help="The outcome (KPI) column(s), comma-separated."
        ),
        treatment: str | None = typer.Option(
            None, "--treatment", help="The treatment, arm or variant column."
        ),
        date_column: str | None = typer.Option(None, "--date-column", help="The date column."),
        unit: str | None = typer.Option(None, "--unit", help="The unit (user, store …) id column."),
        geo: str | None = typer.Option(None, "--geo", help="The geo (market) column."),
        running_variable: str | None = typer.Option(
            None, "--running-variable", help="The score whose threshold decides the treatment."
        ),
        cutoff: float | None = typer.Option(
            None, "--cutoff", help="The threshold of --running-variable."
        ),
        treatment_start: str | None = typer.Option(
            None, "--treatment-start", help="First treated date of a panel (a date value)."
        ),
        channels: str | None = typer.Option(
            None, "--channels", help="Media spend columns of a media mix model, comma-separated."
        ),
        covariates: str | None = typer.Option(
            None, "--covariates", help="Pre-period columns to adjust for (CUPED, MMM controls)."
        ),
        design: str | None = typer.Option(None, "--design", help=DESIGN_HELP),
        question: str = typer.Option(
            "effect",
            "--question",
            help="effect (how much, on average) or heterogeneity (who responds: uplift).",
        ),
        run: bool = typer.Option(
            True, "--run/--no-run", help="Run the chosen analysis (--no-run: only advise)."
        ),
    ) -> None:
        auto(data, dict(locals()))

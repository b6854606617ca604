"""Entry point of the `cerebro` console script.

The commands load lazily: `COMMANDS` names, for each command, the module whose `register(app)`
defines it and the line `cerebro --help` lists. A command's module – its spec, the options
derived from the spec's fields, and the family behind it – is imported only when that command
runs or shows its own help, so `cerebro --help` imports no spec and `cerebro power-analysis` no
other family.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from cerebro.core.version import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "abtest": (
        "cerebro.cli.abtest_command",
        "Analyse an A/B/n test: every variant against the control, for each outcome.",
    ),
    "power-analysis": (
        "cerebro.cli.power_command",
        "Sample size per group, MDE or power of an A/B/n test, and how many days it takes.",
    ),
    "sequential-design": (
        "cerebro.cli.sequential_command",
        "Efficacy boundaries of a group-sequential test: z and nominal p per look, alpha spent.",
    ),
    "design": (
        "cerebro.cli.design_command",
        "Randomise units to arms (simple, complete, stratified, rerandomised) and show the "
        "balance.",
    ),
    "bandit": (
        "cerebro.cli.bandit_command",
        "Multi-armed bandits: how to split the next period's traffic, or how policies compare "
        "in simulation.",
    ),
    "causal": (
        "cerebro.cli.causal_command",
        "Estimate a causal effect from observational data: adjust for confounders, or use a "
        "design (difference-in-differences, regression discontinuity, instruments, synthetic "
        "control).",
    ),
    "counterfactual": (
        "cerebro.cli.counterfactual_command",
        "Mediation (natural direct and indirect effects), what-if predictions and bounds on the "
        "effect.",
    ),
    "sensitivity": (
        "cerebro.cli.sensitivity_command",
        "How strong an unobserved confounder would have to be to change an observational "
        "estimate: robustness values, bias-adjusted estimates and bounds, E-values, Rosenbaum "
        "bounds and refutations.",
    ),
    "graph": (
        "cerebro.cli.graph_command",
        "Inspect a causal graph: adjustment sets, front-door set, instruments, and the "
        "independences it implies tested against the data.",
    ),
    "graph-discover": (
        "cerebro.cli.graph_command",
        "Propose a causal graph from data (PC or GES, with background knowledge) as a DOT file "
        "to edit and pass back with --dag: a starting point, not a validated graph.",
    ),
    "uplift": (
        "cerebro.cli.uplift_command",
        "Model who responds to a treatment: CATE per unit (meta-learners or a causal forest), "
        "Qini/AUUC, uplift by decile, response tiers, whom to target, and why.",
    ),
    "uplift-score": (
        "cerebro.cli.uplift_command",
        "Score new rows with a saved uplift model: `cate` (or `cate_<arm>` per arm and "
        "`best_treatment`), in the input's row order; rows with a missing or unseen value are "
        "left empty.",
    ),
    "survival": (
        "cerebro.cli.survival_command",
        "Survival curves under treatment and under no treatment, their difference at a horizon "
        "and a hazard ratio (time to churn, to conversion, to death).",
    ),
    "longitudinal": (
        "cerebro.cli.longitudinal_command",
        "Treatment strategies over time (always, never, treat when a confounder crosses a "
        "threshold): mean outcome under each by the parametric g-formula or IP-weighted MSMs.",
    ),
    "geotest": (
        "cerebro.cli.geotest_command",
        "Lift %, incremental units and ATT of a geo test, with conformal inference.",
    ),
    "geo-design": (
        "cerebro.cli.geo_design_command",
        "Rank candidate treated markets and durations by simulated power, MDE and investment.",
    ),
    "mmm": (
        "cerebro.cli.mmm_command",
        "Fit a Bayesian media mix model: channel contributions, ROI and marginal ROI, response "
        "curves and adstock, with credible intervals.",
    ),
    "mmm-optimize": (
        "cerebro.cli.mmm_plan_command",
        "Split a budget over the weeks after a saved media mix model's data across its channels: "
        "optimal spend, expected KPI current vs optimal and the uplift, with credible intervals.",
    ),
    "mmm-predict": (
        "cerebro.cli.mmm_plan_command",
        "What-if: the KPI a saved media mix model predicts under a spend plan for the weeks after "
        "its data, with credible intervals, the incremental KPI and the plan's ROI.",
    ),
    "report": (
        "cerebro.cli.report_command",
        "Write one self-contained HTML report of saved results: summary, decision, estimates, "
        "assumptions and their checks, findings, figures, method and references, and what "
        "reproduces them.",
    ),
    "run": (
        "cerebro.cli.run_command",
        "Run any analysis from a spec file (every registered kind).",
    ),
    "methods": (
        "cerebro.cli.run_command",
        "List every analysis kind a spec file (`cerebro run`) can name.",
    ),
    "auto": (
        "cerebro.cli.auto_command",
        "From a data file to an explained analysis: profile the columns, choose the design and "
        "method, run it, and write the spec and a pipeline script that reproduce it.",
    ),
    "generate": (
        "cerebro.cli.generate_command",
        "Write any spec as a readable Python script (or Jupyter notebook) that reproduces "
        "`cerebro run` on it.",
    ),
    "datasets": ("cerebro.cli.datasets", "Example data sets with known true effects."),
    "serve": (
        "cerebro.cli.serve_command",
        "Run the HTTP API (OpenAPI at /docs) and its job workers; migrates the database first.",
    ),
    "admin": (
        "cerebro.cli.serve_command",
        "Administer the service's database: migrate it, create organisations, manage users.",
    ),
}


def load(module: str) -> dict[str, Any]:
    """The click commands that `module.register(app)` defines, by name."""
    commands = typer.Typer()
    import_module(module).register(commands)
    return dict(typer.main.get_group(commands).commands)


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name: every name of `COMMANDS` is there, and a command's module is
    imported when the command itself is first looked up."""

    def __init__(self, loaded: dict[str, Any]) -> None:
        self.loaded = dict(loaded)

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded and name in COMMANDS:
            self.loaded.update(load(COMMANDS[name][0]))
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self.loaded]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*COMMANDS, *self.loaded]))


class LazyGroup(TyperGroup):
    """`cerebro`'s command group: commands load on use; its own help lists them from
    `COMMANDS` without loading any."""

    listing = False

    def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(commands or {})

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self.listing and cmd_name in COMMANDS and cmd_name not in self.commands.loaded:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    name="cerebro",
    cls=LazyGroup,
    help="Did it work, by how much, and for whom? A/B tests, power analysis, causal inference and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cerebro {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Cerebro command line."""


def main() -> None:
    try:
        app()
    finally:
        # On exit the interpreter makes one last full garbage collection over every object the
        # run created – ≈ 0.07 s of CPU, a tenth of `cerebro abtest` on a Parquet file
        # (BENCHMARKS.md, issue 22). Frozen objects are left out of it; the process ends right
        # after, returning its memory either way, and the commands close their own files.
        gc.freeze()


if __name__ == "__main__":
    main()

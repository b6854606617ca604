"""Entry point of the `cerebro` console script."""

from __future__ import annotations

import typer

from cerebro import __version__
from cerebro.cli import (
    abtest,
    bandit_command,
    causal_command,
    datasets,
    design_command,
    geo_design_command,
    geotest_command,
    mmm_command,
    power,
    run_command,
    sequential_command,
    uplift_command,
)

app = typer.Typer(
    name="cerebro",
    help="Did it work, by how much, and for whom? A/B tests, power analysis, causal inference and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (
    abtest,
    power,
    sequential_command,
    design_command,
    bandit_command,
    causal_command,
    uplift_command,
    geotest_command,
    geo_design_command,
    mmm_command,
    datasets,
    run_command,
):
    module.register(app)


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
    app()


if __name__ == "__main__":
    main()

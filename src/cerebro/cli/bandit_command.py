"""`cerebro bandit`: next-period allocation from data, or a regret simulation."""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    emit,
    run_fields,
    split_csv,
    user_errors,
)


def register(app: typer.Typer) -> None:
    @app.command("bandit")
    @user_errors
    def bandit_command(
        data: Path | None = typer.Argument(
            None, help="Observations: one row per unit with its arm and reward."
        ),
        arm: str | None = typer.Option(None, "--arm", help="Column with each observation's arm."),
        reward: str | None = typer.Option(
            None, "--reward", help="Column with each observation's reward."
        ),
        reward_type: str | None = typer.Option(
            None, "--reward-type", help="binary or continuous (default: detected from the values)."
        ),
        policy: str = typer.Option(
            "thompson", "--policy", help="thompson, ucb1 or epsilon_greedy."
        ),
        epsilon: float = typer.Option(
            0.1, "--epsilon", help="Exploration share of epsilon-greedy."
        ),
        simulate: bool = typer.Option(
            False, "--simulate", help="Simulate the regret of --policies instead."
        ),
        means: str | None = typer.Option(
            None, "--means", help="Simulation: true mean per arm, e.g. 0.05,0.06."
        ),
        policies: str = typer.Option(
            "thompson,ucb1,epsilon_greedy",
            "--policies",
            help="Simulation: policies to compare (thompson, ucb1, epsilon_greedy, epsilon_decay).",
        ),
        horizon: int = typer.Option(10_000, "--horizon", help="Simulation: steps per run."),
        runs: int = typer.Option(200, "--runs", help="Simulation: independent runs."),
        seed: int = typer.Option(0, "--seed", help="Seed of every random step."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    ) -> None:
        """Multi-armed bandits: how to split the next period's traffic, or how policies compare in simulation."""
        fields = {
            "kind": "bandit",
            "data": str(data) if data else None,
            "arm": arm,
            "reward": reward,
            "reward_type": reward_type,
            "policy": policy,
            "epsilon": epsilon,
            "simulate": simulate,
            "means": [float(m) for m in split_csv(means)] if means else None,
            "policies": split_csv(policies),
            "horizon": horizon,
            "runs": runs,
            "seed": seed,
        }
        result = run_fields(fields, "working …")
        emit(result, as_json, output, plot)

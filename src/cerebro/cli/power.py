"""`cerebro power-analysis`: sample size, minimum detectable effect, power and duration."""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.common import JSON_HELP, OUTPUT_HELP, PLOT_HELP, emit, user_errors
from cerebro.experiments.power_analysis import build_spec, run_power


def register(app: typer.Typer) -> None:
    @app.command("power-analysis")
    @user_errors
    def power_command(
        baseline: float | None = typer.Option(
            None,
            "--baseline",
            help="Control conversion rate in (0, 1) for proportions, or the control mean with --sd.",
        ),
        mde: float | None = typer.Option(
            None,
            "--mde",
            help="Effect to detect, variant − control (absolute; see --relative). Negative for a drop.",
        ),
        relative: bool = typer.Option(
            False, "--relative", help="Read --mde relative to the baseline (0.1 = +10%)."
        ),
        sd: float | None = typer.Option(
            None, "--sd", help="Outcome standard deviation: plan for a mean instead of a rate."
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="Significance level (family-wise)."),
        power: float | None = typer.Option(
            None, "--power", help="Target power (default 0.8); not with both --n and --mde."
        ),
        n: int | None = typer.Option(
            None,
            "--n",
            help="Users in the control group: with --mde compute the power, without it the MDE.",
        ),
        ratio: float = typer.Option(
            1.0, "--ratio", help="Allocation ratio: each variant gets ratio × n(control) users."
        ),
        arms: int = typer.Option(2, "--arms", help="Number of arms including the control."),
        alternative: str = typer.Option(
            "two-sided", "--alternative", help="two-sided, greater or less (variant − control)."
        ),
        correction: str = typer.Option(
            "bonferroni",
            "--correction",
            help="Multiplicity correction over the arms − 1 comparisons: bonferroni or none.",
        ),
        formula: str | None = typer.Option(
            None,
            "--formula",
            help="pooled (default), unpooled or arcsine for rates; t (default) or normal for means.",
        ),
        daily_traffic: float | None = typer.Option(
            None, "--daily-traffic", help="Users per day entering the test, all arms together."
        ),
        cuped_correlation: float | None = typer.Option(
            None,
            "--cuped-correlation",
            help="Correlation of the outcome with its pre-period value (CUPED variance reduction).",
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    ) -> None:
        """Sample size per group, MDE or power of an A/B/n test, and how many days it takes.

        Exactly one quantity is solved for: --n and --mde give the power; --n alone the minimum detectable effect at --power; otherwise the sample size for --mde.
        """
        fields = {
            "baseline": baseline,
            "mde": mde,
            "relative": relative,
            "sd": sd,
            "alpha": alpha,
            "power": power,
            "n": n,
            "ratio": ratio,
            "arms": arms,
            "alternative": alternative,
            "correction": correction,
            "formula": formula,
            "daily_traffic": daily_traffic,
            "cuped_correlation": cuped_correlation,
        }
        spec = build_spec({k: v for k, v in fields.items() if v is not None})
        emit(run_power(spec), as_json, output, plot)

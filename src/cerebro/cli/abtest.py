"""`cerebro abtest`: analyse an A/B/n test from a data file."""

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
from cerebro.core.errors import UserInputError
from cerebro.experiments.abtest_spec import TEST_TYPES


def parse_allocation(text: str | None) -> dict[str, float] | None:
    """``"A=1,B=1,C=2"`` → {"A": 1.0, "B": 1.0, "C": 2.0}."""
    if not text:
        return None
    allocation = {}
    for part in split_csv(text):
        arm, sep, weight = part.partition("=")
        try:
            allocation[arm.strip()] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise UserInputError(
                f"--expected-allocation item {part!r} is not ARM=WEIGHT; write e.g. 'A=0.5,B=0.5'."
            )
    return allocation


def register(app: typer.Typer) -> None:
    @app.command("abtest")
    @user_errors
    def abtest_command(
        data: Path = typer.Argument(
            ...,
            help="CSV, Parquet or JSON: one row per unit, or several rows per unit with a unit id "
            "(or per arm with --from-summary).",
        ),
        treatment: str = typer.Option(
            ..., "--treatment", "-t", help="Column with the arm of each unit."
        ),
        outcome: str = typer.Option(
            "",
            "--outcome",
            "-y",
            help="Outcome column(s), comma-separated; 'num/den' is a ratio metric (e.g. revenue/sessions).",
        ),
        control: str | None = typer.Option(
            None,
            "--control",
            help="Control arm (default: the arm named *control*, else the first sorted).",
        ),
        test_type: str | None = typer.Option(
            None,
            "--type",
            "--test-type",
            help=f"One of: {', '.join(TEST_TYPES)} (default: by metric type).",
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="Significance level; CIs are 1 − alpha."),
        alternative: str = typer.Option(
            "two-sided", "--alternative", help="two-sided, greater or less (variant − control)."
        ),
        covariates: str = typer.Option(
            "", "--covariates", help="Pre-period covariates for CUPED, comma-separated."
        ),
        strata: str = typer.Option(
            "", "--strata", help="Columns to post-stratify on, comma-separated."
        ),
        cluster: str | None = typer.Option(
            None,
            "--cluster",
            help="Cluster (randomisation unit) column for cluster-robust errors. Without it a "
            "repeating unit id (e.g. user_id on user × day rows) is detected and clustered on; "
            "'none' says every row is an independent unit.",
        ),
        expected_allocation: str | None = typer.Option(
            None,
            "--expected-allocation",
            help="Planned split for the SRM check, e.g. 'A=0.5,B=0.5' (default equal).",
        ),
        from_summary: bool = typer.Option(
            False, "--from-summary", help="DATA holds per-arm n, sums and sums of squares."
        ),
        yates: bool = typer.Option(
            False, "--yates", help="Yates continuity correction for chi-square."
        ),
        mde: float | None = typer.Option(
            None, "--mde", help="Planned absolute effect: report the power the test had for it."
        ),
        power: float = typer.Option(
            0.8, "--power", help="Power at which the detectable effect (mde column) is reported."
        ),
        test_name: str | None = typer.Option(
            None, "--name", help="A name for this test, shown in the output."
        ),
        prior: str | None = typer.Option(
            None,
            "--prior",
            help="Bayesian prior: 'a,b' (Beta, binary outcomes; default 1,1), "
            "'mu0,kappa0,alpha0,beta0' (Normal–Inverse-Gamma; default the reference prior) or, "
            "with --model hurdle_lognormal, 'a,b,mu_sd,sigma_sd' (default 1,1,10,5).",
        ),
        rope: str | None = typer.Option(
            None,
            "--rope",
            help="Bayesian region of practical equivalence on the lift, 'low,high' (e.g. -0.001,0.001).",
        ),
        loss_threshold: float | None = typer.Option(
            None,
            "--loss-threshold",
            help="Bayesian: ship when the expected loss is below this (default 0.1% of the control mean).",
        ),
        draws: int = typer.Option(
            200_000, "--draws", help="Bayesian: Monte Carlo draws for the lift intervals."
        ),
        bayes_model: str = typer.Option(
            "conjugate",
            "--model",
            help="Bayesian: conjugate (closed form) or hurdle_lognormal (NUTS; zero-heavy revenue).",
        ),
        chains: int = typer.Option(
            4, "--chains", help="Bayesian --model hurdle_lognormal: MCMC chains."
        ),
        mcmc_samples: int = typer.Option(
            1000, "--mcmc-samples", help="Bayesian --model hurdle_lognormal: draws per chain."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of every random step."),
        time_column: str | None = typer.Option(
            None,
            "--time",
            help="Sequential: column whose distinct values are the looks (e.g. day or date).",
        ),
        mixing_sd: float | None = typer.Option(
            None,
            "--mixing-sd",
            help="Sequential: mSPRT mixing SD τ in metric units (default 0.1 pooled SD at the first look).",
        ),
        planned_n: int | None = typer.Option(
            None,
            "--planned-n",
            help="Sequential: planned units per arm; adds group-sequential boundaries per look.",
        ),
        spending: str = typer.Option(
            "obf", "--spending", help="Sequential with --planned-n: obf, pocock or power spending."
        ),
        futility: str | None = typer.Option(
            None,
            "--futility",
            help="Sequential with --planned-n and --mde: non-binding futility bounds (obf, pocock, power).",
        ),
        binding: bool = typer.Option(
            False,
            "--binding/--non-binding",
            help="Sequential --futility: binding futility (lower efficacy bounds; obey every stop).",
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP),
    ) -> None:
        """Analyse an A/B/n test: every variant against the control, for each outcome."""
        fields = {
            "kind": "abtest",
            "data": str(data),
            "treatment": treatment,
            "outcome": split_csv(outcome),
            "control": control,
            "test_type": test_type,
            "alpha": alpha,
            "alternative": alternative,
            "covariates": split_csv(covariates),
            "strata": split_csv(strata),
            "cluster": cluster,
            "expected_allocation": parse_allocation(expected_allocation),
            "from_summary": from_summary,
            "yates": yates,
            "mde": mde,
            "power": power,
            "test_name": test_name,
            "prior": split_csv(prior) if prior else None,
            "rope": split_csv(rope) if rope else None,
            "loss_threshold": loss_threshold,
            "draws": draws,
            "bayes_model": bayes_model,
            "chains": chains,
            "mcmc_samples": mcmc_samples,
            "seed": seed,
            "time_column": time_column,
            "mixing_sd": mixing_sd,
            "planned_n": planned_n,
            "spending": spending,
            "futility": futility,
            "binding": binding,
        }
        result = run_fields(fields, f"analysing {data.name} …")
        emit(result, as_json, output, plot)

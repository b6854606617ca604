"""Bad A/B input on the command line: exit code 2, one sentence naming the problem, no traceback;
and the plots of Bayesian and sequential results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def refused(out, pattern: str) -> None:
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output and pattern in out.output, out.output
    message = out.output.strip().removeprefix("error: ")
    assert message.count(". ") == 0, message  # one sentence


@pytest.fixture
def daily(tmp_path):
    rng = np.random.default_rng(2)
    n = 800
    frame = pd.DataFrame(
        {
            "arm": rng.choice(["control", "B"], n),
            "day": rng.integers(1, 6, n),
            "revenue": rng.gamma(2.0, 3.0, n),
            "converted": (rng.random(n) < 0.3).astype(int),
        }
    )
    frame["constant"] = 5.0
    frame["tenth"] = 0.1
    path = tmp_path / "daily.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "options",
    [
        ["--type", "bayesian"],
        ["--type", "sequential", "--time", "day"],
        [],
    ],
)
def test_plot_of_every_test_type(daily, tmp_path, options):
    target = tmp_path / "plot.png"
    out = invoke(
        "abtest", daily, "-t", "arm", "-y", "revenue,converted", *options, "--plot", target
    )
    assert out.exit_code == 0, out.output
    assert target.read_bytes()[:8] == PNG


def test_bayesian_forest_keeps_rows_without_a_relative_lift(daily):
    """A Bayesian table where one outcome has no relative lift draws every row (absolute)."""
    from cerebro.experiments.abtest.analysis import abtest
    from cerebro.report.plots import forest_plot

    result = abtest(
        str(daily), treatment="arm", outcome=["revenue", "converted"], test_type="bayesian"
    )
    table = result.tables["comparisons"]
    assert "p_value" not in table
    ax = forest_plot(result).axes[0]
    assert len(ax.get_yticklabels()) == 2
    assert "credible interval" in ax.get_xlabel()


def test_sequential_plot_draws_the_confidence_sequence(daily):
    from cerebro.experiments.abtest.analysis import abtest
    from cerebro.report.plots import forest_plot

    result = abtest(
        str(daily), treatment="arm", outcome=["revenue"], test_type="sequential", time_column="day"
    )
    fig = forest_plot(result)
    (ax,) = fig.axes
    assert "look (day)" in ax.get_xlabel()
    assert len(ax.collections) >= 1  # the confidence-sequence band


@pytest.mark.parametrize("column", ["constant", "tenth"])
@pytest.mark.parametrize("options", [[], ["--type", "ttest"], ["--type", "mann_whitney"]])
def test_constant_outcome_in_a_file(daily, column, options):
    out = invoke("abtest", daily, "-t", "arm", "-y", column, *options)
    refused(out, f"{column} has no variation within the arms compared")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("options", [[], ["--cluster", "user"], ["--type", "mann_whitney"]])
def test_infinite_values_are_named(tmp_path, suffix, options):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"arm": rng.choice(["control", "B"], 200), "y": rng.normal(size=200), "user": range(200)}
    )
    frame.loc[7, "y"] = np.inf
    path = tmp_path / f"inf{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    refused(invoke("abtest", path, "-t", "arm", "-y", "y", *options), "infinite values in 'y'")
    # As a covariate too.
    frame["z"] = rng.normal(size=200)
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    out = invoke("abtest", path, "-t", "arm", "-y", "z", "--covariates", "y", *options[:2])
    refused(out, "infinite values in 'y'")


SUMMARIES = {
    "negative_successes": (
        {"n": [100, 100], "c_sum": [-3, 20], "c_sum_sq": [10, 20]},
        ["--type", "fisher"],
        "arm 'control': c_sum gives -3 successes of c, negative",
    ),
    "too_many_successes": (
        {"n": [100, 100], "c_sum": [30, 120], "c_sum_sq": [30, 120]},
        [],
        "arm 'B': c_sum_sq = 120 is below c_sum²/n = 144",
    ),
    "too_many_successes_chi_square": (
        {"n": [100, 100], "c_mean": [0.3, 1.2], "c_var": [0.21, 0.1]},
        ["--type", "chi_square"],
        "arm 'B': c_mean gives 120 successes of c, more than n = 100",
    ),
    "sum_sq_below_sum_squared": (
        {"n": [100, 100], "c_sum": [50, 60], "c_sum_sq": [10, 80]},
        [],
        "arm 'control': c_sum_sq = 10 is below c_sum²/n = 25",
    ),
    "negative_n": (
        {"n": [100, -100], "c_sum": [3, 20], "c_sum_sq": [3, 20]},
        [],
        "arm 'B': n = -100 is not a number of units",
    ),
    "negative_variance": (
        {"n": [100, 100], "c_mean": [1.0, 2.0], "c_var": [1.0, -2.0]},
        [],
        "arm 'B': c_var = -2 is negative",
    ),
}


@pytest.mark.parametrize("case", list(SUMMARIES))
def test_impossible_summaries_name_the_arm_and_column(tmp_path, case):
    columns, options, message = SUMMARIES[case]
    path = tmp_path / "summary.csv"
    pd.DataFrame({"arm": ["control", "B"], **columns}).to_csv(path, index=False)
    out = invoke("abtest", path, "-t", "arm", "-y", "c", "--from-summary", *options)
    refused(out, message)


def test_binding_needs_futility(daily):
    out = invoke(
        "abtest", daily, "-t", "arm", "-y", "revenue", "--type", "sequential", "--time", "day",
        "--binding",
    )  # fmt: skip
    refused(out, "--binding applies to futility bounds; add --futility")

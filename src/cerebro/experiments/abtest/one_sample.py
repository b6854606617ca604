"""`abtest` with `mu` and no `treatment`: each outcome's mean (or rate) against the number mu.

A 0/1 outcome gets the one-sample proportion z test (by default or with ``--type ztest``), any
other outcome the one-sample t test (``--type ztest``: the same statistic on the normal scale).
Rows missing the outcome are dropped, outcome by outcome, with a warning, as in the two-arm path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.columns import numeric_column
from cerebro.data.load import load_table, require_columns
from cerebro.experiments.abtest.data import dropped_rows_finding
from cerebro.experiments.abtest.result import comparison_result
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.comparison import Comparison
from cerebro.experiments.one_sample_tests import one_sample_mean, one_sample_proportion

if TYPE_CHECKING:
    import pandas as pd

SHOWN = (
    "outcome", "n", "mean", "mean_ci_low", "mean_ci_high", "mu", "lift", "lift_ci_low",
    "lift_ci_high", "statistic", "p_value",
)  # fmt: skip


def _values(spec: ABTestSpec, data: pd.DataFrame | None) -> pd.DataFrame:
    """The outcome columns, from the file or the caller's DataFrame."""
    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        return load_table(spec.data, spec.outcome)
    require_columns([str(c) for c in data.columns], spec.outcome, "the data")
    return data


def _test(spec: ABTestSpec, name: str, x: np.ndarray) -> tuple[Comparison, str]:
    """The planned test of one outcome's complete values and the words that say why."""
    binary = bool(np.isin(x, (0.0, 1.0)).all())
    mu = float(spec.mu)  # type: ignore[arg-type]
    how = "as requested" if spec.test_type else "default for a"
    if binary and spec.test_type in (None, "ztest"):
        null = spec.proportion_se == "null"
        test = "score test, null-rate SE" if null else "z-test, sample-rate SE"
        reason = f"one-sample proportion {test} ({how}{' binary outcome' * (not spec.test_type)})"
        n, successes = x.size, int(x.sum())
        comparison = one_sample_proportion(
            successes, n, mu, spec.alpha, spec.alternative, name, null_se=null
        )
        return comparison, reason
    if spec.proportion_se == "null":  # the null-rate SE is a proportion's; never ignored
        kind = "not 0/1" if not binary else f"tested with --type {spec.test_type}"
        raise UserInputError(
            f"--proportion-se null applies to the one-sample proportion test, but outcome "
            f"{name!r} is {kind}; drop --proportion-se, or give a 0/1 outcome with --type ztest."
        )
    normal = spec.test_type == "ztest"
    test = "one-sample z-test" if normal else "one-sample t-test"
    reason = f"{test} ({how}{' continuous outcome' * (not spec.test_type)})"
    return one_sample_mean(x, mu, spec.alpha, spec.alternative, normal, name), reason


def _row(name: str, comparison: Comparison, mu: float) -> dict[str, Any]:
    """One table row: the mean and its interval, and mean − mu with the test."""
    return {
        "outcome": name,
        "variant": f"mean − {mu:g}",
        "n": comparison.extra["n"],
        "mean": comparison.estimate + mu,
        "mean_ci_low": comparison.ci_low + mu,
        "mean_ci_high": comparison.ci_high + mu,
        "mu": mu,
        "lift": comparison.estimate,
        "lift_ci_low": comparison.ci_low,
        "lift_ci_high": comparison.ci_high,
        "se": comparison.se,
        "statistic": comparison.statistic,
        "df": comparison.df,
        "p_value": comparison.p_value,
        "test": comparison.test,
    }


def _estimate(row: dict[str, Any]) -> Estimate:
    """The mean with its interval; the p-value is that of H0: mean = mu."""
    extra = {k: row[k] for k in ("outcome", "mu", "statistic", "df", "test")}
    return Estimate(
        f"{row['outcome']}: mean (H0 mean = {row['mu']:g})",
        row["mean"],
        row["se"],
        row["mean_ci_low"],
        row["mean_ci_high"],
        row["p_value"],
        {**extra, "measure": "mean", "difference": row["lift"]},
        key=f"{row['outcome']}_mean",
    )


def _sentence(row: dict[str, Any], alpha: float) -> str:
    """One plain-language sentence about one outcome."""
    level = f"{1 - alpha:.0%}"
    verdict = "differs from" if row["p_value"] < alpha else "is consistent with"
    return (
        f"The mean of {row['outcome']} is {row['mean']:.4g} ({level} CI {row['mean_ci_low']:.4g} "
        f"to {row['mean_ci_high']:.4g}), which {verdict} {row['mu']:g} (p = {row['p_value']:.2g})."
    )


def one_sample_analysis(spec: ABTestSpec, data: pd.DataFrame | None) -> Result:
    """Every outcome's mean against `spec.mu`, as an A/B result with one row per outcome."""
    frame = _values(spec, data)
    findings: list[Finding] = []
    rows = []
    for name in spec.outcome:
        values = numeric_column(frame[name], name, "outcome")
        keep = ~np.isnan(values)
        if not keep.all():
            findings.append(dropped_rows_finding(name, int((~keep).sum()), keep.size, [name]))
        comparison, reason = _test(spec, name, values[keep])
        findings.append(Finding("info", "test_choice", f"{name}: {reason}."))
        rows.append(_row(name, comparison, float(spec.mu)))  # type: ignore[arg-type]
    title = (
        f"One-sample test{': ' + spec.test_name if spec.test_name else ''} — mean vs {spec.mu:g}"
    )
    return comparison_result(
        spec,
        "one_sample",
        title,
        [_estimate(r) for r in rows],
        findings,
        rows,
        SHOWN,
        [_sentence(r, spec.alpha) for r in rows],
        control=f"mu = {spec.mu:g}",
        alpha=spec.alpha,
    )

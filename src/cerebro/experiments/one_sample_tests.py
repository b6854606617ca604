"""One-sample tests: the mean of one outcome against a fixed value `mu`.

The estimate is the difference mean − mu, its interval that of the mean shifted by mu (so the
interval of the mean is the returned one plus mu); "greater" means the mean exceeds mu.

- `one_sample_mean`: Student's one-sample t test, s/√n with n − 1 degrees of freedom (as R's
  `t.test(x, mu=)` and `scipy.stats.ttest_1samp`); with ``normal=True`` the same statistic
  against the normal distribution (a large-sample z test).
- `one_sample_proportion`: the z test of a rate against p0 with the standard error from the
  sample rate, √(p̂(1 − p̂)/n) – statsmodels' `proportions_ztest` default – so the test and the
  Wald interval of the rate use one standard error and agree (p < alpha exactly when the
  interval excludes p0); with ``null_se=True`` the score test, √(p0(1 − p0)/n) (statsmodels
  ``prop_var=p0``), whose inversion is the Wilson interval, which it reports.

Reference: Casella & Berger (2002), *Statistical Inference*, §8.3 and §9.2.
"""

from __future__ import annotations

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.experiments.comparison import Comparison
from cerebro.stats.intervals import p_value_from_statistic, quantile, wald_interval


def _comparison(
    diff: float, se: float, df: float | None, alpha: float, alternative: str, test: str, n: int
) -> Comparison:
    """The Wald comparison of mean − mu with standard error `se` (t with `df`, or normal)."""
    statistic = diff / se
    low, high = wald_interval(diff, se, alpha, alternative, df)
    return Comparison(
        estimate=float(diff),
        se=float(se),
        ci_low=float(low),
        ci_high=float(high),
        p_value=p_value_from_statistic(statistic, alternative, df),
        statistic=float(statistic),
        df=df,
        test=test,
        measure="mean − mu",
        extra={"n": n},
    )


def one_sample_mean(
    values: np.ndarray,
    mu: float,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    normal: bool = False,
    name: str = "outcome",
) -> Comparison:
    """One-sample t test (z test with `normal`) of the mean of `values` against `mu`."""
    x = np.asarray(values, float)
    n = x.size
    if n < 2:
        raise UserInputError(
            f"{name} has {n} complete row{'s' if n != 1 else ''}; a one-sample test needs at "
            "least 2 to estimate the spread."
        )
    sd = float(np.std(x, ddof=1))
    if sd == 0:
        raise UserInputError(
            f"{name} is constant ({x[0]:g}) in all {n:,} complete rows, so its standard error "
            "is 0 and the t statistic is undefined; check the column."
        )
    test = "one-sample z-test" if normal else "one-sample t-test"
    df = None if normal else float(n - 1)
    return _comparison(float(x.mean()) - mu, sd / np.sqrt(n), df, alpha, alternative, test, n)


def one_sample_proportion(
    successes: int,
    n: int,
    p0: float,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    name: str = "outcome",
    null_se: bool = False,
) -> Comparison:
    """z test of the rate successes/n against `p0`, standard error from the sample rate (or,
    with `null_se`, from p0: the score test with the Wilson interval)."""
    if not 0 < p0 < 1:
        raise UserInputError(
            f"--mu {p0:g} is not a rate strictly between 0 and 1, but {name} is a 0/1 outcome; "
            "give the rate to test against (e.g. --mu 0.05)."
        )
    if n < 2:
        raise UserInputError(
            f"{name} has {n} complete row{'s' if n != 1 else ''}; a one-sample test needs at "
            "least 2."
        )
    rate = successes / n
    if null_se:
        return _score_test(successes, n, p0, alpha, alternative)
    if successes in (0, n):
        raise UserInputError(
            f"{name} is {int(rate)} in all {n:,} complete rows, so the sample rate's standard "
            "error is 0 and the z statistic is undefined; check the column."
        )
    se = float(np.sqrt(rate * (1 - rate) / n))
    return _comparison(rate - p0, se, None, alpha, alternative, "one-sample proportion z-test", n)


def _score_test(successes: int, n: int, p0: float, alpha: float, alternative: str) -> Comparison:
    """Score test of a rate (SE √(p0(1 − p0)/n)) and the Wilson interval that inverts it."""
    rate = successes / n
    se = float(np.sqrt(p0 * (1 - p0) / n))
    statistic = (rate - p0) / se
    z = quantile(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha, None)
    centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = centre - half if alternative != "less" else -np.inf
    high = centre + half if alternative != "greater" else np.inf
    return Comparison(
        estimate=rate - p0,
        se=se,
        ci_low=float(low - p0),
        ci_high=float(high - p0),
        p_value=p_value_from_statistic(statistic, alternative),
        statistic=float(statistic),
        df=None,
        test="one-sample proportion score test",
        measure="mean − mu",
        extra={"n": n},
    )

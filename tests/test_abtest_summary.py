"""`--from-summary`: per-arm sufficient statistics give the same answers as the raw rows."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from cerebro.experiments.abtest.analysis import abtest
from cerebro.experiments.moments import Moments, merge_all

REL = 1e-9


def summarise(
    df: pd.DataFrame, columns: list[str], by: list[str], centred: bool = False
) -> pd.DataFrame:
    """What a warehouse query would return: n, sums, sums of squares and cross-products."""
    rows = []
    for key, part in df.groupby(by):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row["n"] = len(part)
        for c in columns:
            x = part[c].to_numpy(float)
            if centred:
                row[f"{c}_mean"], row[f"{c}_var"] = x.mean(), x.var(ddof=1)
            else:
                row[f"{c}_sum"], row[f"{c}_sum_sq"] = x.sum(), (x * x).sum()
        for a, b in itertools.combinations(columns, 2):
            xa, xb = part[a].to_numpy(float), part[b].to_numpy(float)
            if centred:
                row[f"{a}_x_{b}_cov"] = np.cov(xa, xb)[0, 1]
            else:
                row[f"{a}_x_{b}_sum"] = (xa * xb).sum()
        rows.append(row)
    return pd.DataFrame(rows)


def assert_same(a, b, rel=REL):
    assert len(a.estimates) == len(b.estimates)
    for x, y in zip(a.estimates, b.estimates, strict=True):
        assert x.label == y.label
        for field in ("value", "se", "ci_low", "ci_high", "p_value"):
            u, v = getattr(x, field), getattr(y, field)
            assert (u is None and v is None) or u == pytest.approx(v, rel=rel), (x.label, field)


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize(
    "options,columns",
    [
        ({"outcome": "revenue"}, ["revenue"]),
        ({"outcome": "revenue", "test_type": "ttest"}, ["revenue"]),
        (
            {"outcome": "revenue", "covariates": ["pre_revenue", "pre_other"]},
            ["revenue", "pre_revenue", "pre_other"],
        ),
        ({"outcome": "revenue/sessions"}, ["revenue", "sessions"]),
        ({"outcome": "converted"}, ["converted"]),
        ({"outcome": "converted", "test_type": "fisher"}, ["converted"]),
    ],
)
def test_summary_equals_rows(ab, options, columns, centred):
    rows = abtest(ab, treatment="arm", **options)
    summary = summarise(ab, columns, ["arm"], centred)
    assert_same(abtest(summary, treatment="arm", from_summary=True, **options), rows)


def test_summary_with_strata_and_daily_partitions(ab):
    """Several rows per arm and stratum (e.g. one per day) are merged with Chan's update."""
    ab = ab.assign(day=np.arange(len(ab)) % 4)
    rows = abtest(ab, treatment="arm", outcome="revenue", strata="region")
    summary = summarise(ab, ["revenue"], ["arm", "region", "day"])
    assert_same(
        abtest(summary, treatment="arm", outcome="revenue", strata="region", from_summary=True),
        rows,
    )


def test_bare_summary_columns_and_optional_outcome(ab2):
    summary = summarise(ab2, ["revenue"], ["arm"]).rename(
        columns={"revenue_sum": "sum", "revenue_sum_sq": "sum_sq"}
    )
    named = abtest(summary, treatment="arm", outcome="spend", from_summary=True)
    anonymous = abtest(summary, treatment="arm", from_summary=True)
    rows = abtest(ab2, treatment="arm", outcome="revenue")
    assert named.estimates[0].label == "spend: treatment − control"
    assert anonymous.estimates[0].label == "metric: treatment − control"
    assert named.estimates[0].p_value == pytest.approx(rows.estimates[0].p_value, rel=REL)


def test_chan_merge_is_accurate_where_raw_sums_are_not():
    """37 chunks of data with mean 1e6 and sd 1, merged with Chan's update.

    Reference: the same data shifted by exactly 1e6 (exact in floating point by Sterbenz's
    lemma), whose co-moments carry no cancellation at all.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(1e6, 1.0, size=(10_000, 3))
    merged = merge_all([Moments.of(chunk) for chunk in np.array_split(x, 37)])
    reference = Moments.of(x - 1e6)
    scale = np.sqrt(np.outer(np.diag(reference.comoment), np.diag(reference.comoment)))
    assert merged.n == reference.n
    np.testing.assert_allclose(merged.mean - 1e6, reference.mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        merged.comoment / scale, reference.comoment / scale, rtol=0, atol=1e-10
    )
    naive = Moments.from_sums(len(x), x.sum(axis=0), x.T @ x)
    assert np.abs(naive.comoment / scale - reference.comoment / scale).max() > 1e-6


def test_raw_sums_lose_precision_and_say_so():
    """Mean 1e6, sd 1: sum_sq − sum²/n keeps ~4 of 16 digits; centred input keeps them all."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"arm": np.repeat(["control", "B"], 5000), "y": 1e6 + rng.normal(0, 1, 10_000)}
    )
    exact = abtest(df, treatment="arm", outcome="y")
    centred = abtest(
        summarise(df, ["y"], ["arm"], centred=True), treatment="arm", outcome="y", from_summary=True
    )
    assert centred.estimates[0].se == pytest.approx(exact.estimates[0].se, rel=1e-9)
    assert not any(f.code == "summary_precision" for f in centred.findings)
    warned = abtest(summarise(df, ["y"], ["arm"]), treatment="arm", outcome="y", from_summary=True)
    assert any(f.code == "summary_precision" for f in warned.findings)


def test_mann_whitney_needs_rows(ab):
    from cerebro.core.errors import UserInputError

    summary = summarise(ab, ["revenue"], ["arm"])
    with pytest.raises(UserInputError, match="raw rows"):
        abtest(
            summary, treatment="arm", outcome="revenue", from_summary=True, test_type="mann_whitney"
        )

"""Response tiers and their profile: equal-count tiers, ties kept together, profile = groupby."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cerebro.core.errors import UserInputError
from cerebro.uplift.segments import tier_profile, tiers


def test_tiers_are_equal_count_and_ordered():
    rng = np.random.default_rng(0)
    score = rng.normal(size=1000)
    labels = tiers(score)
    counts = pd.Series(labels).value_counts()
    assert set(counts.index) == {"very low", "low", "medium", "high", "very high"}
    assert (counts == 200).all()
    order = ["very low", "low", "medium", "high", "very high"]
    ranks = np.array([order.index(x) for x in labels])
    # every score in a higher tier is above every score in a lower tier
    for k in range(4):
        assert score[ranks == k].max() < score[ranks == k + 1].min()
    assert labels[np.argmax(score)] == "very high"
    assert labels[np.argmin(score)] == "very low"


def test_tiers_keep_ties_and_custom_labels():
    rng = np.random.default_rng(1)
    score = np.round(rng.normal(size=3000), 1)
    labels = tiers(score, n_tiers=3, labels=("low", "mid", "top"))
    for value in np.unique(score):
        assert np.unique(labels[score == value]).size == 1
    auto = tiers(score, n_tiers=4)
    assert set(auto) == {"tier 1", "tier 2", "tier 3", "tier 4"}
    assert auto[np.argmax(score)] == "tier 4"
    with pytest.raises(UserInputError, match="2 tier labels"):
        tiers(score, n_tiers=3, labels=("a", "b"))
    with pytest.raises(UserInputError, match="n_tiers=0"):
        tiers(score, n_tiers=0)


def test_tier_profile_equals_groupby():
    rng = np.random.default_rng(2)
    n = 4000
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "active": rng.random(n) < 0.3,
        }
    )
    score = 0.01 * (frame["age"] - 40) + 0.05 * (frame["plan"] == "pro") + rng.normal(0, 0.01, n)
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < 0.2 + t * np.clip(score, 0, 0.5)).astype(int)
    labels = tiers(score)
    prof = tier_profile(frame, labels, y, t, ["age", "plan", "active"], score=score, alpha=0.1)
    assert list(prof["tier"]) == ["very high", "high", "medium", "low", "very low"]
    df = frame.assign(y=y, t=t, s=score, tier=labels)
    for _, row in prof.iterrows():
        part = df[df["tier"] == row["tier"]]
        assert row["n"] == len(part)
        assert row["n_treated"] == int(part.t.sum())
        observed = part.y[part.t == 1].mean() - part.y[part.t == 0].mean()
        assert row["observed"] == pytest.approx(observed, abs=1e-12)
        assert row["predicted"] == pytest.approx(part.s.mean(), abs=1e-12)
        assert row["age"] == pytest.approx(part.age.mean(), abs=1e-10)
        assert row["plan=free"] == pytest.approx((part.plan == "free").mean(), abs=1e-12)
        assert row["active"] == pytest.approx(part.active.mean(), abs=1e-12)
        ci = stats.ttest_ind(
            part.y[part.t == 1], part.y[part.t == 0], equal_var=False
        ).confidence_interval(0.9)
        assert row["ci_low"] == pytest.approx(ci.low, rel=1e-9)
        assert row["ci_high"] == pytest.approx(ci.high, rel=1e-9)


def test_tier_profile_accepts_column_names_and_checks_them():
    frame = pd.DataFrame(
        {"y": [1, 0, 1, 0, 1, 1], "t": [1, 0, 1, 0, 1, 0], "x": [1.0, 2, 3, 4, 5, 6]}
    )
    labels = np.array(["a", "a", "a", "b", "b", "b"])
    prof = tier_profile(frame, labels, "y", "t", ["x"], order=["b", "a"])
    assert list(prof["tier"]) == ["b", "a"]
    assert prof["x"].tolist() == [5.0, 2.0]
    assert prof["observed"].tolist() == pytest.approx([1.0 - 0.5, 1.0 - 0.0])
    with pytest.raises(UserInputError, match="'nope'"):
        tier_profile(frame, labels, "y", "t", ["nope"])
    with pytest.raises(UserInputError, match="tiers 2"):
        tier_profile(frame, labels[:2], "y", "t", ["x"])

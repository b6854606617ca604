"""Bounds (`cerebro counterfactual --bounds`): Manski, MTR, MTS and their combination against
their closed forms computed here independently, Lee (2009) bounds against a small example
computed by hand, and the Imbens–Manski interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cerebro
from cerebro.core.errors import UserInputError
from cerebro.counterfactual import bounds as bd


def small() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    d = (rng.random(200) < 0.3).astype(float)
    y = np.clip(np.round(rng.normal(4 + 2 * d, 2)), 0, 10)
    return y, d


def closed_forms(y, d, lo, hi):
    p = d.mean()
    e1, e0 = y[d == 1].mean(), y[d == 0].mean()
    manski = (p * e1 + (1 - p) * lo - ((1 - p) * e0 + p * hi),
              p * e1 + (1 - p) * hi - ((1 - p) * e0 + p * lo))  # fmt: skip
    return {
        "manski": manski,
        "mtr": (0.0, manski[1]),
        "mts": (manski[0], e1 - e0),
        "mtr_mts": (0.0, e1 - e0),
    }


@pytest.mark.parametrize("kind", ["manski", "mtr", "mts", "mtr_mts"])
def test_monotone_bounds_equal_their_closed_forms(kind):
    y, d = small()
    got = bd.monotone_bounds(kind, y, d, 0.0, 10.0)
    assert got[4:] == pytest.approx(closed_forms(y, d, 0.0, 10.0)[kind], abs=1e-12)
    assert got[4] <= got[5]


def test_manski_bounds_have_the_width_of_the_outcome_range():
    y, d = small()
    low, high = bd.monotone_bounds("manski", y, d, 0.0, 10.0)[4:]
    assert high - low == pytest.approx(10.0, abs=1e-12)
    assert low <= 0 <= high


def test_decreasing_direction_is_the_mirror_image():
    """Under 'decreasing', Y(1) ≤ Y(0): the bounds of Y are minus those of −Y, increasing."""
    y, d = small()
    low, high = bd.monotone_bounds("mtr", y, d, 0.0, 10.0, "decreasing")[4:]
    p = d.mean()
    e1, e0 = y[d == 1].mean(), y[d == 0].mean()
    assert high == pytest.approx(0.0, abs=1e-12)
    # lower: Manski's lower bound
    assert low == pytest.approx(p * e1 - (1 - p) * e0 - p * 10.0, abs=1e-12)


def lee_example(swap: bool = False) -> pd.DataFrame:
    """Treated: 10 rows, 9 with outcomes 1…9; control: 8 rows, 5 with outcomes 2…6."""
    y1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, None]
    y0 = [2, 3, 4, 5, 6, None, None, None]
    d = [1] * 10 + [0] * 8
    if swap:
        d = [1 - x for x in d]
    return pd.DataFrame({"d": d, "y": y1 + y0})


def test_lee_bounds_equal_a_hand_computed_example():
    """q₁ = 0.9, q₀ = 0.625: trim p = 0.275/0.9 of the treated outcomes, keeping 6.25 of 9.
    Lowest 6.25: (1+2+3+4+5+6 + 0.25·7)/6.25 = 3.64; highest: (9+8+7+6+5+4 + 0.25·3)/6.25 =
    6.36; control mean 4 – so the bounds are [−0.36, 2.36]."""
    frame = lee_example()
    y = frame.y.to_numpy(float)
    s = (~np.isnan(y)).astype(float)
    low, high, p, q1, q0 = bd.lee_bounds(np.nan_to_num(y), frame.d.to_numpy(float), s)
    assert (q1, q0) == pytest.approx((0.9, 0.625))
    assert p == pytest.approx(0.275 / 0.9)
    assert (low, high) == pytest.approx((-0.36, 2.36), abs=1e-12)
    result = cerebro.counterfactual(frame, treatment="d", outcome="y", bounds="lee", bootstrap=100)
    assert result.estimate("lee_lower").value == pytest.approx(-0.36, abs=1e-12)
    assert result.estimate("lee_upper").value == pytest.approx(2.36, abs=1e-12)
    assert any(f.code == "lee_trimming" and "treated group" in f.message for f in result.findings)


def test_lee_bounds_trim_the_control_group_when_it_is_selected_more():
    frame = lee_example(swap=True)
    result = cerebro.counterfactual(frame, treatment="d", outcome="y", bounds="lee", bootstrap=100)
    assert result.estimate("lee_lower").value == pytest.approx(-2.36, abs=1e-12)
    assert result.estimate("lee_upper").value == pytest.approx(0.36, abs=1e-12)


def test_lee_bounds_from_a_selection_column():
    frame = lee_example().assign(observed=lambda f: f.y.notna().astype(int))
    frame.loc[frame.y.isna(), "y"] = -99.0  # unobserved: the value must not matter
    result = cerebro.counterfactual(
        frame, treatment="d", outcome="y", bounds="lee", selected="observed", bootstrap=100
    )
    assert result.estimate("lee_lower").value == pytest.approx(-0.36, abs=1e-12)


def test_imbens_manski_interval():
    """c solves Φ(c + Δ/σ) − Φ(−c) = 1 − α: 1.96 for a point, → 1.645 for wide bounds."""
    assert bd.imbens_manski(1.0, 1.0, 0.5, 0.5, 0.05) == pytest.approx(
        (1 - 0.5 * stats.norm.ppf(0.975), 1 + 0.5 * stats.norm.ppf(0.975))
    )
    low, high = bd.imbens_manski(0.0, 100.0, 1.0, 1.0, 0.05)
    assert (low, high) == pytest.approx((-stats.norm.ppf(0.95), 100 + stats.norm.ppf(0.95)), 1e-6)


def test_bounds_through_the_runner_binary_outcome():
    rng = np.random.default_rng(2)
    d = rng.integers(0, 2, 500)
    y = (rng.random(500) < 0.3 + 0.2 * d).astype(int)
    frame = pd.DataFrame({"d": d, "y": y})
    result = cerebro.counterfactual(frame, treatment="d", outcome="y", bounds="manski,mts",
                                    bootstrap=200)  # fmt: skip
    expected = closed_forms(y.astype(float), d.astype(float), 0.0, 1.0)
    assert result.estimate("manski_lower").value == pytest.approx(expected["manski"][0], 1e-12)
    assert result.estimate("mts_upper").value == pytest.approx(expected["mts"][1], 1e-12)
    table = result.tables["bounds"]
    assert (table.ate_ci_low <= table.lower).all() and (table.ate_ci_high >= table.upper).all()


def test_a_continuous_outcome_needs_its_range_and_must_lie_in_it():
    frame = pd.DataFrame({"d": [0, 1] * 20, "y": np.linspace(0, 5, 40)})
    with pytest.raises(UserInputError, match="--outcome-bounds"):
        cerebro.counterfactual(frame, treatment="d", outcome="y", bounds="manski")
    with pytest.raises(UserInputError, match="outside --outcome-bounds 0,4"):
        cerebro.counterfactual(frame, treatment="d", outcome="y", bounds="manski",
                               outcome_bounds="0,4")  # fmt: skip

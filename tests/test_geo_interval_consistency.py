"""Every geotest estimate lies inside its own interval, and a cell of a multi-cell test is the
same analysis as that cell run alone against the same donors.

Why an estimate could fall outside its interval. The point estimate is the pre-period fit's
(GeoLift's); the interval inverts the conformal test, whose refit under H0 "effect = τ" uses
*all* dates. When the test-window path is not a constant shift of the pre-period fit, the
refit moves the weights and rejects τ = the estimate itself: GeoLift's multi-cell cell 2
(honolulu, indianapolis) has ATT 216.4 but p(216.4) = 0.038 (two-sided |Σu|, cyclic blocks);
the accepted ATTs were [252.6, 885.2], and before the fix that set was reported as the
interval of an estimate outside it (GeoLift itself prints incremental 6,493 with the 90 %
interval (8,745, 118,670)). The interval is now the smallest one holding both the accepted set
and the estimate – a superset of a valid confidence set, so it keeps its coverage – and a
warning says the test rejects the estimate.

Cells. GeoLift's multi-cell analysis fits each cell against the donors with the other cells'
geos removed. Run alone with the default pool, a cell has the other cells' treated geos as
donors: under H0 the refit over all dates then leans on them (for cell 2, Cincinnati – treated
in cell 1 with a 22.8 % lift – takes weight 0.40 in the refit at τ = 0 against 0.007 in the
pre-period fit), so its one-sided p is 0.19 instead of 0.0095. That difference is legitimate:
those geos were treated. Run alone with them excluded from the pool (`control_geos`), a cell
must give exactly the multi-cell numbers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebro.geo.analysis import geotest
from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test

DATA = Path(__file__).parent / "data" / "geolift"
SINGLE = pd.read_csv(DATA / "GeoLift_Test.csv")
MULTI = pd.read_csv(DATA / "GeoLift_Test_MultiCell.csv")
CELLS = [["chicago", "cincinnati"], ["honolulu", "indianapolis"]]
ALTERNATIVES = ("two-sided", "greater", "less")


def _run(frame: pd.DataFrame, cells: list[list[str]], **options):
    return geotest(frame, geo_column="location", outcome="Y", date_column="date",
                   treatment_start="2021-04-01", treatment_geos=cells, **options)  # fmt: skip


def _assert_inside(result) -> None:
    codes = {f.code for f in result.findings}
    checked = 0
    for e in result.estimates:
        if e.ci_low is None and e.ci_high is None:
            continue
        low = -math.inf if e.ci_low is None else e.ci_low  # None: unbounded on that side
        high = math.inf if e.ci_high is None else e.ci_high
        if math.isnan(low) and math.isnan(high):
            assert "no_interval" in codes, e.label  # an empty confidence set is said, not hidden
            continue
        tol = 1e-9 * max(1.0, abs(e.value))
        assert low - tol <= e.value <= high + tol, (e.label, e.value, low, high)
        checked += 1
    assert checked


def _cells_of(result) -> dict[int, dict[str, tuple]]:
    out: dict[int, dict[str, tuple]] = {}
    for e in result.estimates:
        label = e.label.split(" ", 2)[2] if e.label.startswith("cell ") else e.label
        out.setdefault(e.extra["cell"], {})[label] = (e.value, e.ci_low, e.ci_high, e.p_value)
    return out


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_multi_cell_estimates_inside_their_intervals(alternative):
    _assert_inside(_run(MULTI, CELLS, alternative=alternative))


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(
    ("cell", "method"),
    [
        (["chicago", "portland"], "augmented_synthetic_control"),  # GeoLift's single cell
        (["saint paul", "new york"], "augmented_synthetic_control"),  # rejected: 2-sided, greater
        (["atlanta", "baltimore"], "augmented_synthetic_control"),  # rejected: less
        (["atlanta", "baltimore"], "synthetic_control"),
        (["honolulu", "dallas"], "synthetic_control"),
        (["saint paul", "new york"], "matched_markets"),
        (["saint paul", "new york"], "tbr"),
    ],
)
def test_single_cell_estimates_inside_their_intervals(cell, method, alternative):
    _assert_inside(_run(SINGLE, [cell], method=method, alternative=alternative))


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("seed", [1, 2])
def test_spend_estimates_inside_their_intervals(seed, alternative):
    sim = simulate_geo_test(lift=0.05, seed=seed)
    frame = geo_test_frame(sim, spend=100.0)
    res = geotest(frame, geo_column="geo", outcome="sales", date_column="date",
                  treatment_geos="geo 00,geo 01", treatment_start="2021-04-01", spend="spend",
                  alternative=alternative)  # fmt: skip
    assert any(e.label == "incremental ROAS" for e in res.estimates)
    _assert_inside(res)


def test_rejected_estimate_is_flagged_and_the_interval_widened_to_it():
    res = _run(MULTI, CELLS)
    att = {e.extra["cell"]: e for e in res.estimates if e.label.endswith("ATT per geo-day")}
    flagged = [f.message for f in res.findings if f.code == "estimate_rejected"]
    assert len(flagged) == 1 and flagged[0].startswith("for cell 2 ")
    two = att[2]
    assert two.ci_low == pytest.approx(two.value)  # the accepted set [252.6, 885.2] lies above
    assert two.ci_high == pytest.approx(885.17, abs=0.1)  # bisection tolerance ≈ 0.03
    one = att[1]  # cell 1's estimate is accepted: its interval is the test inversion unchanged
    assert (one.ci_low, one.ci_high) == pytest.approx((514.603, 827.563), abs=1e-3)


@pytest.mark.parametrize("permutation", ["block", "iid"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_cell_alone_without_the_other_cells_equals_the_multi_cell_cell(alternative, permutation):
    multi = _cells_of(_run(MULTI, CELLS, alternative=alternative, permutation=permutation))
    geos = sorted(MULTI["location"].unique())
    for c, cell in enumerate(CELLS, start=1):
        others = {g for k, other in enumerate(CELLS, start=1) if k != c for g in other}
        pool = [g for g in geos if g not in cell and g not in others]
        alone = _run(MULTI, [cell], alternative=alternative, permutation=permutation,
                     control_geos=pool)  # fmt: skip
        got = _cells_of(alone)[1]
        assert got.keys() == multi[c].keys()
        for label, values in got.items():
            assert values == multi[c][label], (c, label)


def test_cell_alone_with_the_other_cells_as_donors_legitimately_differs():
    multi = _cells_of(_run(MULTI, CELLS, alternative="greater"))
    alone = _cells_of(_run(MULTI, [CELLS[1]], alternative="greater"))
    assert multi[2]["lift"][3] == pytest.approx(1 / 105)  # below every cyclic shift
    assert alone[1]["lift"][3] == pytest.approx(20 / 105)  # cell 1's geos absorb the effect
    assert np.isfinite(alone[1]["lift"][1]) and alone[1]["lift"][1] < 0

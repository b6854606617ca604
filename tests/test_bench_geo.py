"""Smoke test of the geo peer benchmark's helpers (`bench/bench_geo.py`), a few seconds.

The bench times a pysyncon pipeline and Cerebro's per-cell solver on sampled cells of the
`geo-design` workload; these tests check that the workload is counted as `geo-design` runs it
and that both per-cell pipelines reproduce `block_power` – the routine inside `geo-design` –
exactly, so the bench times the same numbers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_geo", Path(__file__).parents[1] / "bench" / "bench_geo.py"
)
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


@pytest.fixture(scope="module")
def panel():
    names, Y = bench.load_panel()
    return names, Y, bench.candidate_sets(Y)


def test_workload_is_the_issue_workload(panel):
    """135 GeoLift-built sets for N = 2..5 on the 40 × 90 pre-test panel → 243,000 cells."""
    _, Y, sets = panel
    assert Y.shape == (40, 90)
    assert len(sets) == 135
    assert bench.cell_count(sets, Y.shape[1]) == 135 * 2 * 90 * 10 == 243_000


def test_sample_is_seeded_and_distinct(panel):
    _, Y, sets = panel
    a = bench.sample_cells(sets, Y.shape[1], 50, seed=3)
    assert a == bench.sample_cells(sets, Y.shape[1], 50, seed=3)
    assert a != bench.sample_cells(sets, Y.shape[1], 50, seed=4)
    assert len(set(a)) == 50


def test_block_p_value_ranks_the_window():
    """A window holding the largest |residuals| gets p = 1/T; a quiet one gets p = 1."""
    u = np.ones(30)
    u[10:13] = 5.0
    assert bench.block_p_value(u, 3, 10) == pytest.approx(1 / 30, abs=1e-15)
    u = np.full(30, 5.0)
    u[4:7] = 0.1
    assert bench.block_p_value(u, 3, 4) == pytest.approx(1.0, abs=1e-15)


def test_per_cell_pipelines_reproduce_geo_design(panel):
    """Cerebro's unbatched refit gives geo-design's p-values exactly (to 1e-9, i.e. the same
    rank of the same block statistic); pysyncon's SLSQP fit (same QP, see the bench's
    docstring) gives the same p-values on these cells."""
    names, Y, sets = panel
    cells = bench.sample_cells(sets, Y.shape[1], 6, seed=11)
    reference = bench.geo_design_p_values(Y, cells)
    _, cerebro = bench.run_cells(names, Y, cells, bench.cerebro_weights)
    np.testing.assert_allclose(cerebro, reference, rtol=0, atol=1e-9)
    pytest.importorskip("pysyncon")
    _, peer = bench.run_cells(names, Y, cells, bench.pysyncon_weights)
    np.testing.assert_allclose(peer, reference, rtol=0, atol=1e-9)

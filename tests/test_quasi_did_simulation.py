"""Difference-in-differences recovers known truth in seeded simulations.

- Staggered adoption with effects growing after adoption: the static TWFE coefficient is biased
  (it uses already-treated units as controls; negative weights), Callaway–Sant'Anna is not.
- 95% CI coverage of the 2×2 DiD (cluster-robust) over 400 replications: in [0.93, 0.97]
  (Monte Carlo SD sqrt(.95·.05/400) = 0.011, so the band is ±1.8 SD – the brief's tolerance).
- 95% coverage of Callaway–Sant'Anna's simple aggregate over 300 replications: in
  [0.915, 0.985] (±2.8 Monte Carlo SDs of 0.0126).
"""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.observational.analysis import run_causal
from cerebro.observational.spec import CausalSpec
from cerebro.quasi.did import callaway_santanna as cs
from cerebro.quasi.did.synthetic import staggered_panel, two_by_two
from cerebro.stats.ols import ols


def test_twfe_biased_callaway_santanna_recovers_truth():
    """Truth (cohort-size-weighted ATT over treated cells) 2.014 with seed 20; TWFE says 0.595
    (SE 0.020, 70 SEs too low) while Callaway–Sant'Anna says 2.057 (SE 0.023): within 3 SEs."""
    frame, truth = staggered_panel(
        n_units=3000, n_periods=10, cohorts=(2, 4, 6, 8), never_share=0.1, effect=0.5,
        dynamic_slope=0.6, noise=0.5, seed=20,
    )  # fmt: skip
    spec = CausalSpec(treatment="treated", outcome="sales", method="did", unit="unit",
                      time="period")  # fmt: skip
    res = run_causal(spec, frame)
    csa = res.estimate("ATT (Callaway–Sant'Anna, simple)")
    tw = res.estimate("ATT (TWFE, for comparison)")
    print(f"truth {truth.simple:.4f}  CS {csa.value:.4f} (se {csa.se:.4f})  "
          f"TWFE {tw.value:.4f} (se {tw.se:.4f})")  # fmt: skip
    assert abs(csa.value - truth.simple) < 3 * csa.se
    assert truth.simple - tw.value > 10 * tw.se  # TWFE far below the truth
    dyn = res.estimate("ATT (Callaway–Sant'Anna, dynamic)")
    assert abs(dyn.value - truth.dynamic_overall) < 3 * dyn.se
    # Every event-time effect within 3.5 SEs of its truth (14 event times incl. leads).
    table = res.tables["event_study"]
    for row in table.itertuples():
        target = truth.dynamic.get(row.event_time, 0.0)
        assert abs(row.estimate - target) < 3.5 * row.se, row
    codes = {f.code: f for f in res.findings}
    assert codes["twfe_bias"].level == "warning" and "negatively" in codes["twfe_bias"].message


def test_two_by_two_coverage():
    reps, effect = 400, 0.5
    y, treat, post, x, unit = two_by_two(reps, n_units=200, effect=effect, seed=123)
    hits = np.empty(reps, bool)
    for r in range(reps):
        X = np.column_stack([np.ones(y.shape[1]), treat[r], post[r], treat[r] * post[r], x[r]])
        fit = ols(y[r], X, unit[r])
        low, high, _ = fit.interval(0.05)
        hits[r] = low[3] <= effect <= high[3]
    coverage = hits.mean()
    print(f"2×2 DiD coverage {coverage:.3f}")
    assert 0.93 <= coverage <= 0.97


def test_callaway_santanna_coverage():
    reps = 300
    hits = np.empty(reps, bool)
    for r in range(reps):
        frame, truth = staggered_panel(n_units=200, n_periods=6, cohorts=(2, 4), seed=1000 + r)
        Y = frame.pivot(index="unit", columns="period", values="sales").to_numpy()
        cohort = frame.groupby("unit").cohort.first().to_numpy()
        gt = cs.group_time_att(Y, np.where(cohort < 0, cs.NEVER, cohort))
        _, (value, psi) = cs.aggregate(gt, "simple")
        se = cs.standard_errors(psi[:, None])[0]
        hits[r] = abs(value - truth.simple) <= 1.959964 * se
    coverage = hits.mean()
    print(f"Callaway–Sant'Anna simple coverage {coverage:.3f}")
    assert 0.915 <= coverage <= 0.985


def test_same_seed_same_numbers():
    frame, _ = staggered_panel(n_units=200, seed=5)
    spec = CausalSpec(treatment="treated", outcome="sales", method="did", unit="unit",
                      time="period", seed=3)  # fmt: skip
    a, b = run_causal(spec, frame), run_causal(spec, frame)
    assert a.to_dict()["tables"] == b.to_dict()["tables"]
    assert [e.value for e in a.estimates] == [e.value for e in b.estimates]


@pytest.mark.parametrize("missing", [0.0, 0.1])
def test_twfe_recovers_single_date_effect(missing):
    """One adoption date, constant effect 1.0: TWFE within 3 SEs, balanced or not."""
    frame, _ = staggered_panel(n_units=600, cohorts=(4,), dynamic_slope=0.0, seed=9)
    # Rows missing at random, except the adoption period (else adoption would look later).
    drop = (np.random.default_rng(2).random(len(frame)) < missing) & (frame.period != 4)
    frame = frame[~drop]
    spec = CausalSpec(treatment="treated", outcome="sales", method="did", unit="unit",
                      time="period")  # fmt: skip
    res = run_causal(spec, frame)
    head = res.estimates[0]
    assert head.label == "ATT (TWFE)"
    assert abs(head.value - 1.0) < 3 * head.se
    assert ("unbalanced_panel" in {f.code for f in res.findings}) == (missing > 0)

"""Known truth: type-I error under the null and CI coverage of the lift (VALIDATION.md §2).

Each test runs the public `abtest()` on simulated experiments with a fixed seed. Bands: a rate
of 0.05 over 2000 replications has SE 0.005, so [0.04, 0.06] is ±2 SE; coverage 0.95 over 1000
replications has SE 0.007, so [0.93, 0.97] is ±2.9 SE.

Type-I error measured with these seeds (2000 replications unless said): Welch 0.0485,
Student 0.0465, Mann–Whitney 0.0425, CUPED-Welch 0.0495, post-stratified 0.054, two-proportion
z 0.0485, chi-square 0.0485, ratio metric (delta method) 0.058, Fisher 0.040 (600 replications;
exact tests are conservative by construction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.experiments.abtest.analysis import abtest

ALPHA = 0.05


def experiments(
    reps: int, n: int, seed: int, effect: float = 0.0, binary: bool = False, hetero: bool = True
):
    """`reps` experiments, n control and 4n/3 treated units; skewed mean-zero noise whose scale
    is 1.5× larger under treatment when `hetero` (valid for Welch, not for Student or ranks)."""
    rng = np.random.default_rng(seed)
    for _ in range(reps):
        arm = np.repeat(["control", "treatment"], [n, n + n // 3])
        treated = arm == "treatment"
        pre = rng.gamma(2.0, 1.0, len(arm))
        if binary:
            y = (rng.random(len(arm)) < 0.1 + effect * treated).astype(float)
        else:
            scale = 1.0 + 0.5 * treated if hetero else np.ones(len(arm))
            y = 1.0 + 0.8 * pre + effect * treated + rng.exponential(scale) - scale
        sessions = rng.poisson(2 + pre) + 1.0
        region = rng.choice(["a", "b", "c"], len(arm), p=[0.5, 0.3, 0.2])
        yield pd.DataFrame({"arm": arm, "y": y, "pre": pre, "sessions": sessions, "region": region})


def rejection_rate(
    reps: int, n: int, seed: int, binary: bool = False, hetero: bool = True, **options
) -> float:
    p = [
        abtest(df, treatment="arm", outcome="y", **options).estimates[0].p_value
        for df in experiments(reps, n, seed, binary=binary, hetero=hetero)
    ]
    return float(np.mean(np.array(p) < ALPHA))


@pytest.mark.slow
@pytest.mark.parametrize(
    "options,binary,hetero,n",
    [
        ({"test_type": "welch"}, False, True, 60),
        ({"test_type": "ttest"}, False, False, 60),
        ({"test_type": "mann_whitney"}, False, False, 60),
        ({"covariates": ["pre"]}, False, True, 60),
        ({"strata": ["region"]}, False, True, 150),
        ({}, True, False, 1000),  # two-proportion z
        ({"test_type": "chi_square"}, True, False, 1000),
    ],
    ids=["welch", "student", "mann_whitney", "cuped", "post_stratified", "ztest", "chi_square"],
)
def test_type_one_error(options, binary, hetero, n):
    rate = rejection_rate(2000, n, seed=1, binary=binary, hetero=hetero, **options)
    assert 0.04 <= rate <= 0.06, rate


@pytest.mark.slow
def test_fisher_is_at_most_nominal():
    rate = rejection_rate(600, 600, seed=2, binary=True, test_type="fisher")
    assert 0.03 <= rate <= 0.06, rate


@pytest.mark.slow
def test_ratio_metric_type_one_error():
    p = [
        abtest(df, treatment="arm", outcome="y/sessions").estimates[0].p_value
        for df in experiments(2000, 200, seed=3)
    ]
    assert 0.04 <= np.mean(np.array(p) < ALPHA) <= 0.06


def covers(result, label: str, truth: float) -> bool:
    est = result.estimate(label)
    return est.ci_low <= truth <= est.ci_high


@pytest.mark.slow
def test_coverage_of_absolute_and_relative_lift_and_cuped_shrinks_the_ci():
    """Effect 0.5 on a control mean of 2.6 (pre ~ Gamma(2, 1) has mean 2 and variance 2)."""
    n, reps, effect = 400, 1000, 0.5
    truth_abs, truth_rel = effect, effect / (1.0 + 0.8 * 2.0)
    plain = cuped = relative = 0
    widths = []
    for df in experiments(reps, n, seed=4, effect=effect):
        a = abtest(df, treatment="arm", outcome="y")
        b = abtest(df, treatment="arm", outcome="y", covariates=["pre"])
        plain += covers(a, "y: treatment − control", truth_abs)
        cuped += covers(b, "y: treatment − control", truth_abs)
        relative += covers(a, "y: treatment vs control (relative)", truth_rel)
        ea, eb = a.estimates[0], b.estimates[0]
        widths.append((eb.ci_high - eb.ci_low) / (ea.ci_high - ea.ci_low))
    assert 0.93 <= plain / reps <= 0.97
    assert 0.93 <= cuped / reps <= 0.97
    assert 0.93 <= relative / reps <= 0.97
    # Welch variance ∝ Var_c + Var_t·(3/4): 0.64·2 + 1 and 0.64·2 + 2.25 without CUPED,
    # the noise alone (1 and 2.25) with it.
    expected = np.sqrt((1 + 0.75 * 2.25) / ((1.28 + 1) + 0.75 * (1.28 + 2.25)))
    assert np.mean(widths) == pytest.approx(expected, rel=0.05)


@pytest.mark.slow
def test_cluster_robust_coverage_and_type_one_error():
    """100+ clusters per arm with strong within-cluster correlation; naive rows over-reject."""
    rng = np.random.default_rng(5)
    covered = rejected_null = naive_rejected = 0
    reps = 600
    for _ in range(reps):
        g = 240
        sizes = rng.integers(1, 15, g)
        arm_of = rng.permutation(np.arange(g) % 2)
        cluster = np.repeat(np.arange(g), sizes)
        d = arm_of[cluster]
        base = rng.normal(0, 1, g)[cluster] + rng.normal(0, 1, len(cluster))
        df = pd.DataFrame(
            {
                "arm": np.where(d == 1, "treatment", "control"),
                "user": cluster,
                "y": base + 0.3 * d,
                "y0": base,
            }
        )
        res = abtest(df, treatment="arm", outcome="y,y0", cluster="user")
        covered += covers(res, "y: treatment − control", 0.3)
        rejected_null += res.estimate("y0: treatment − control").p_value < ALPHA
        # The naive row analysis on purpose: without cluster="none" the user column is
        # detected as a repeated unit and clustered on.
        naive = abtest(df, treatment="arm", outcome="y0", cluster="none")
        naive_rejected += naive.estimates[0].p_value < ALPHA
    assert 0.93 <= covered / reps <= 0.97
    assert 0.035 <= rejected_null / reps <= 0.065
    assert naive_rejected / reps > 0.15


@pytest.mark.slow
def test_holm_controls_family_wise_error_where_raw_p_does_not():
    """Four variants, global null, 1000 experiments."""
    rng = np.random.default_rng(6)
    holm_any = raw_any = 0
    reps = 1000
    for _ in range(reps):
        arm = np.repeat(["control", "v1", "v2", "v3", "v4"], 200)
        df = pd.DataFrame({"arm": arm, "y": rng.normal(0, 1, len(arm))})
        # the absolute lifts, one family (the relative lifts are a second family, adjusted alike)
        ests = [
            e
            for e in abtest(df, treatment="arm", outcome="y").estimates
            if e.p_value is not None and e.extra.get("measure") != "relative lift"
        ]
        holm_any += min(e.extra["p_holm"] for e in ests) < ALPHA
        raw_any += min(e.p_value for e in ests) < ALPHA
    assert holm_any / reps <= 0.06
    assert raw_any / reps > 0.12

"""Power analysis: agreement with statsmodels, closed forms, round trips, CUPED and simulation.

References (test extras only): `statsmodels.stats.power` (NormalIndPower, TTestIndPower) with
`proportion_effectsize` for Cohen's h, and `statsmodels.stats.proportion.power_proportions_2indep`
for the pooled two-proportion z-test. The issue asks for 0.5% relative agreement; the
tolerances below are much tighter and limited only by statsmodels' own root finding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

from cerebro.core.errors import UserInputError
from cerebro.core.results import Result
from cerebro.experiments.power import formulas as numerics
from cerebro.experiments.power.analysis import power_analysis
from cerebro.run import run_spec

SM_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}
REL_N = 1e-5  # sample sizes (statsmodels' solve_power stops at ~1e-7)
REL_MDE = 1e-4  # effect sizes solved by statsmodels (its solver stops at ~2e-5)
REL_POWER = 1e-9  # power: the same closed formula on both sides
ISSUE_TOLERANCE = 0.005  # what the issue asks for, used where only approximations agree

# (alternative, control rate, variant rate, ratio n_variant/n_control, alpha, power)
PROPORTION_CASES = [
    ("two-sided", 0.05, 0.06, 1.0, 0.05, 0.8),
    ("two-sided", 0.5, 0.42, 2.5, 0.01, 0.9),
    ("greater", 0.2, 0.23, 0.5, 0.05, 0.8),
    ("less", 0.3, 0.25, 1.5, 0.10, 0.85),
]
# (alternative, difference, sd, ratio, alpha, power)
MEAN_CASES = [
    ("two-sided", 2.5, 10.0, 1.0, 0.05, 0.8),
    ("two-sided", -0.8, 1.7, 0.4, 0.01, 0.9),
    ("greater", 0.3, 1.0, 2.0, 0.05, 0.8),
    ("less", -4.0, 12.0, 1.0, 0.10, 0.95),
]


def rel(a: float, b: float) -> float:
    return abs(a / b - 1)


def exact_n(result: Result) -> float:
    return result.estimate("sample size per group").extra["exact"]


def ref_pooled_power(n_control, p_c, p_v, ratio, alpha, alternative):
    """statsmodels' pooled z-test power; its sample 1 is our variant, its ratio n2/n1 = 1/ratio."""
    return power_proportions_2indep(
        p_v - p_c,
        p_c,
        n_control * ratio,
        ratio=1 / ratio,
        alpha=alpha,
        alternative=SM_ALTERNATIVE[alternative],
        return_results=False,
    )


# -- the seed's call -------------------------------------------------------------------------


def test_seed_call_pooled_default():
    """5% → 6%, alpha 0.05, power 0.8: 8,157.71 → 8,158 per group (statsmodels pooled z)."""
    result = power_analysis(baseline=0.05, mde=0.01, alpha=0.05, power=0.8)
    reference = optimize.brentq(
        lambda n: ref_pooled_power(n, 0.05, 0.06, 1.0, 0.05, "two-sided") - 0.8, 100, 1e6
    )
    assert reference == pytest.approx(8157.7116, abs=1e-3)
    assert rel(exact_n(result), reference) < REL_N
    assert result.estimate("sample size per group").value == 8158
    assert result.estimate("sample size per variant").value == 8158
    assert result.estimate("total sample size").value == 16316
    assert result.kind == "power" and result.method == "proportions"
    answer = next(f for f in result.findings if f.code == "answer").message
    assert answer == (
        "To detect an absolute lift of 1.00 pp from 5.00% with 80% power at alpha 0.05 "
        "(two-sided), you need 8,158 users per group, 16,316 in total."
    )
    formula = next(f for f in result.findings if f.code == "formula")
    assert formula.level == "info" and "pooled" in formula.message
    plan = result.tables["plan"]
    assert list(plan["arm"]) == ["control", "variant", "total"]
    assert list(plan["n"]) == [8158, 8158, 16316]
    assert (
        result.summary["headline_table"] == "plan" and result.summary["solve_for"] == "sample_size"
    )


def test_seed_call_other_formulas():
    """Cohen's h gives 8,142.60 (NormalIndPower), the unpooled formula 8,154.97 (closed form)."""
    h = proportion_effectsize(0.06, 0.05)
    reference = NormalIndPower().solve_power(h, nobs1=None, alpha=0.05, power=0.8, ratio=1)
    arcsine = power_analysis(baseline=0.05, mde=0.01, formula="arcsine")
    assert rel(exact_n(arcsine), reference) < REL_N
    assert arcsine.estimate("sample size per group").value == 8143
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    closed = z**2 * (0.05 * 0.95 + 0.06 * 0.94) / 0.01**2
    unpooled = power_analysis(baseline=0.05, mde=0.01, formula="unpooled")
    assert rel(exact_n(unpooled), closed) < 1e-5  # the closed form drops the far tail
    assert unpooled.estimate("sample size per group").value == 8155


# -- agreement with statsmodels --------------------------------------------------------------


@pytest.mark.parametrize(("alternative", "p_c", "p_v", "ratio", "alpha", "power"), PROPORTION_CASES)
def test_cohens_h_matches_normal_ind_power(alternative, p_c, p_v, ratio, alpha, power):
    common = dict(
        baseline=p_c, alpha=alpha, ratio=ratio, alternative=alternative, formula="arcsine"
    )
    sm = dict(alpha=alpha, ratio=ratio, alternative=SM_ALTERNATIVE[alternative])
    h = proportion_effectsize(p_v, p_c)
    n = exact_n(power_analysis(mde=p_v - p_c, power=power, **common))
    assert rel(n, NormalIndPower().solve_power(h, nobs1=None, power=power, **sm)) < REL_N
    got = power_analysis(n=1500, mde=p_v - p_c, **common).estimate("power").value
    assert rel(got, NormalIndPower().power(h, 1500, **sm)) < REL_POWER
    mde = power_analysis(n=1500, power=power, **common).estimate("mde").value
    h_mde = proportion_effectsize(p_c + mde, p_c)
    h_ref = NormalIndPower().solve_power(None, nobs1=1500, power=power, **sm)
    assert rel(h_mde, h_ref) < REL_MDE
    assert np.sign(mde) == (-1 if alternative == "less" else 1)


@pytest.mark.parametrize(("alternative", "p_c", "p_v", "ratio", "alpha", "power"), PROPORTION_CASES)
def test_pooled_z_matches_power_proportions_2indep(alternative, p_c, p_v, ratio, alpha, power):
    common = dict(baseline=p_c, alpha=alpha, ratio=ratio, alternative=alternative)
    got = power_analysis(n=1500, mde=p_v - p_c, **common).estimate("power").value
    assert rel(got, ref_pooled_power(1500, p_c, p_v, ratio, alpha, alternative)) < REL_POWER
    n = exact_n(power_analysis(mde=p_v - p_c, power=power, **common))
    reference = optimize.brentq(
        lambda m: ref_pooled_power(m, p_c, p_v, ratio, alpha, alternative) - power, 2, 1e8
    )
    assert rel(n, reference) < REL_N
    # statsmodels' explicit one-tail formula (exact for one-sided tests); it returns n_variant
    one_tail = samplesize_proportions_2indep_onetail(
        p_v - p_c,
        p_c,
        power,
        ratio=1 / ratio,
        alpha=alpha,
        alternative=SM_ALTERNATIVE[alternative],
    )
    assert rel(n, one_tail / ratio) < (REL_N if alternative != "two-sided" else 1e-4)
    mde = power_analysis(n=1500, power=power, **common).estimate("mde").value
    assert ref_pooled_power(1500, p_c, p_c + mde, ratio, alpha, alternative) == pytest.approx(
        power, abs=1e-9
    )


@pytest.mark.parametrize(("alternative", "diff", "sd", "ratio", "alpha", "power"), MEAN_CASES)
@pytest.mark.parametrize(
    ("formula", "reference"), [("t", TTestIndPower), ("normal", NormalIndPower)]
)
def test_means_match_statsmodels(alternative, diff, sd, ratio, alpha, power, formula, reference):
    common = dict(sd=sd, alpha=alpha, ratio=ratio, alternative=alternative, formula=formula)
    sm = dict(alpha=alpha, ratio=ratio, alternative=SM_ALTERNATIVE[alternative])
    d = diff / sd
    n = exact_n(power_analysis(mde=diff, power=power, **common))
    assert rel(n, reference().solve_power(d, nobs1=None, power=power, **sm)) < REL_N
    got = power_analysis(n=40, mde=diff, **common).estimate("power").value
    assert rel(got, reference().power(d, 40, **sm)) < REL_POWER
    mde = power_analysis(n=40, power=power, **common).estimate("mde").value
    assert rel(abs(mde) / sd, abs(reference().solve_power(None, nobs1=40, power=power, **sm))) < (
        REL_MDE
    )


def test_means_default_is_the_t_test():
    result = power_analysis(sd=1.0, mde=0.5)
    reference = TTestIndPower().solve_power(0.5, nobs1=None, alpha=0.05, power=0.8)
    assert rel(exact_n(result), reference) < REL_N
    assert result.method == "means" and result.summary["formula"] == "t"
    assert result.estimate("sample size per group").value == 64


def test_bonferroni_over_variants_matches_statsmodels_at_alpha_over_k_minus_1():
    result = power_analysis(baseline=0.1, mde=0.02, arms=4, ratio=1.5, formula="arcsine")
    h = proportion_effectsize(0.12, 0.1)
    reference = NormalIndPower().solve_power(h, nobs1=None, alpha=0.05 / 3, power=0.8, ratio=1.5)
    assert rel(exact_n(result), reference) < REL_N
    assert result.estimate("alpha per comparison").value == pytest.approx(0.05 / 3)
    n_c = math.ceil(reference)
    n_v = math.ceil(1.5 * reference)
    assert result.estimate("sample size per group").value == n_c
    assert result.estimate("sample size per variant").value == n_v
    assert result.estimate("total sample size").value == n_c + 3 * n_v
    plan = result.tables["plan"]
    assert list(plan["arm"]) == ["control", "variant 1", "variant 2", "variant 3", "total"]
    assert list(plan["n"]) == [n_c, n_v, n_v, n_v, n_c + 3 * n_v]
    uncorrected = power_analysis(
        baseline=0.1, mde=0.02, arms=4, ratio=1.5, formula="arcsine", correction="none"
    )
    assert (
        rel(
            exact_n(uncorrected),
            NormalIndPower().solve_power(h, nobs1=None, alpha=0.05, power=0.8, ratio=1.5),
        )
        < REL_N
    )
    assert any(f.code == "multiplicity" and f.level == "warning" for f in uncorrected.findings)


# -- closed forms and round trips ------------------------------------------------------------


@pytest.mark.parametrize("ratio", [1.0, 0.5, 3.0])
def test_means_closed_form(ratio):
    """n_c = (z_{1−α/2} + z_{1−β})² σ² (1 + 1/κ) / δ² (Chow, Shao & Wang 2008, §3.2.1)."""
    sigma, delta = 7.0, 1.3
    z = stats.norm.ppf(1 - 0.05 / 2) + stats.norm.ppf(0.8)
    closed = z**2 * sigma**2 * (1 + 1 / ratio) / delta**2
    result = power_analysis(sd=sigma, mde=delta, ratio=ratio, formula="normal")
    # the closed form ignores the far rejection tail, which changes n by about 2e-6
    assert rel(exact_n(result), closed) < 1e-5
    one_sided = power_analysis(
        sd=sigma, mde=delta, ratio=ratio, formula="normal", alternative="greater"
    )
    z1 = stats.norm.ppf(0.95) + stats.norm.ppf(0.8)
    assert rel(exact_n(one_sided), z1**2 * sigma**2 * (1 + 1 / ratio) / delta**2) < 1e-12


@pytest.mark.parametrize(
    "options",
    [
        dict(baseline=0.05, mde=0.01),
        dict(baseline=0.05, mde=0.2, relative=True, formula="arcsine", ratio=2),
        dict(baseline=0.4, mde=-0.03, formula="unpooled", alternative="less"),
        dict(sd=3.0, mde=0.7, ratio=0.7),
        dict(sd=3.0, mde=0.7, formula="normal", arms=3),
    ],
)
def test_round_trip_power_of_the_sample_size_is_the_target(options):
    solved = power_analysis(power=0.85, **options)
    n_exact = exact_n(solved)
    n = solved.estimate("sample size per group").value
    common = {k: v for k, v in options.items()}
    # the rounded n reaches the target, one user fewer does not
    assert solved.estimate("power").value >= 0.85
    assert power_analysis(n=n - 1, **common).estimate("power").value < 0.85
    # the power at the exact n is the target; the MDE at the exact n is the planned effect
    mde = solved.estimate("mde").value
    problem_power = power_analysis(n=n, **common).estimate("power").value
    assert problem_power == pytest.approx(solved.estimate("power").value, abs=1e-12)
    fractional = numerics.Design(
        alpha=0.05 / (options.get("arms", 2) - 1),
        alternative=options.get("alternative", "two-sided"),
        ratio=options.get("ratio", 1.0),
    )
    if "sd" in options:
        power_at_exact = numerics.power_means(
            n_exact, mde, options["sd"], fractional, options.get("formula", "t")
        )
    else:
        base = options["baseline"]
        power_at_exact = numerics.power_proportions(
            n_exact, base, base + mde, fractional, options.get("formula", "pooled")
        )
    assert power_at_exact == pytest.approx(0.85, abs=1e-9)
    back = power_analysis(
        n=n, power=0.85, **{k: v for k, v in common.items() if k not in ("mde", "relative")}
    )
    assert abs(back.estimate("mde").value) <= abs(mde) + 1e-12
    assert rel(back.estimate("mde").value, mde) < 2 / n  # one user changes the mde by ~1/(2n)


# -- CUPED -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        dict(baseline=0.05, mde=0.01),
        dict(baseline=0.05, mde=0.01, formula="arcsine", ratio=2),
        dict(sd=10.0, mde=1.0, formula="normal"),
    ],
)
def test_cuped_multiplies_normal_sample_sizes_by_one_minus_r_squared(options):
    without = power_analysis(**options)
    with_cuped = power_analysis(cuped_correlation=0.5, **options)
    assert exact_n(with_cuped) / exact_n(without) == pytest.approx(0.75, rel=1e-9)
    cuped = next(f for f in with_cuped.findings if f.code == "cuped")
    assert "25.0% fewer" in cuped.message
    plan = with_cuped.tables["plan"]
    assert plan["n_without_cuped"].iloc[0] == without.estimate("sample size per group").value
    assert plan["n"].iloc[0] == math.ceil(exact_n(with_cuped))


def test_cuped_with_the_t_test_is_close_to_the_same_factor():
    ratio = exact_n(power_analysis(sd=10.0, mde=2.0, cuped_correlation=-0.5)) / exact_n(
        power_analysis(sd=10.0, mde=2.0)
    )
    assert ratio == pytest.approx(0.75, rel=ISSUE_TOLERANCE)


def test_cuped_shrinks_the_mde_by_sqrt_one_minus_r_squared_and_raises_power():
    plain = power_analysis(sd=10.0, n=500, formula="normal").estimate("mde").value
    cuped = power_analysis(sd=10.0, n=500, formula="normal", cuped_correlation=0.6)
    assert cuped.estimate("mde").value / plain == pytest.approx(math.sqrt(1 - 0.36), rel=1e-9)
    powered = power_analysis(baseline=0.05, mde=0.01, n=5000, cuped_correlation=0.6)
    assert (
        powered.estimate("power").value
        > power_analysis(baseline=0.05, mde=0.01, n=5000).estimate("power").value
    )
    assert "power rises from" in next(f for f in powered.findings if f.code == "cuped").message


# -- duration, tables, spec face -------------------------------------------------------------


def test_duration_from_daily_traffic():
    result = power_analysis(baseline=0.05, mde=0.01, daily_traffic=1000)
    assert result.estimate("duration days").value == 17  # ceil(16,316 / 1,000)
    assert list(result.tables["plan"]["days"]) == [17, 17, 17]
    assert "At 1,000 users a day that takes 17 days." in next(
        f.message for f in result.findings if f.code == "answer"
    )
    short = power_analysis(baseline=0.05, mde=0.01, daily_traffic=10_000)
    assert short.estimate("duration days").value == 2
    assert any(f.code == "full_week" for f in short.findings)


def test_mde_and_power_modes_say_what_was_solved():
    mde = power_analysis(baseline=0.05, n=1000)
    assert mde.summary["solve_for"] == "mde"
    assert mde.estimate("mde").extra["solved"] is True
    assert mde.estimate("relative mde").value == pytest.approx(mde.estimate("mde").value / 0.05)
    assert "the smallest effect detected with 80% power" in next(
        f.message for f in mde.findings if f.code == "answer"
    )
    curve = mde.tables["power_curve"]
    assert list(curve.columns)[:2] == ["mde", "power"] and len(curve) == 20
    assert np.all(np.diff(curve["power"]) > 0)
    power = power_analysis(baseline=0.05, n=1000, mde=0.01)
    assert power.summary["solve_for"] == "power" and power.estimate("power").extra["solved"]
    assert power.estimate("power").value == pytest.approx(
        ref_pooled_power(1000, 0.05, 0.06, 1.0, 0.05, "two-sided"), rel=REL_POWER
    )


def test_power_curve_over_n_crosses_the_target_at_the_answer():
    result = power_analysis(baseline=0.05, mde=0.01)
    curve = result.tables["power_curve"]
    assert list(curve.columns)[:2] == ["n_control", "power"] and len(curve) == 20
    assert np.all(np.diff(curve["power"]) > 0)
    n = result.estimate("sample size per group").value
    assert curve.loc[curve["n_control"] < n, "power"].max() < 0.8
    assert curve.loc[curve["n_control"] >= n, "power"].min() >= 0.8


def test_relative_mde():
    relative = power_analysis(baseline=0.05, mde=0.2, relative=True)
    assert exact_n(relative) == pytest.approx(exact_n(power_analysis(baseline=0.05, mde=0.01)))
    means = power_analysis(sd=10.0, baseline=50.0, mde=0.05, relative=True)
    assert exact_n(means) == pytest.approx(exact_n(power_analysis(sd=10.0, mde=2.5)))


def test_spec_face_and_json_round_trip():
    spec = {"kind": "power", "baseline": 0.05, "mde": 0.01, "alpha": 0.05, "power": 0.8}
    via_spec = run_spec(spec)
    assert via_spec.estimate("sample size per group").value == 8158
    payload = via_spec.to_dict()
    assert payload["kind"] == "power" and payload["spec"]["kind"] == "power"
    again = Result.from_dict(payload)
    assert again.to_dict()["estimates"] == payload["estimates"]
    # a power-mode spec (power left empty) survives the round trip too
    power_mode = run_spec({"kind": "power", "baseline": 0.05, "mde": 0.01, "n": 500})
    assert Result.from_dict(power_mode.to_dict()).spec.n == 500


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        (
            dict(baseline=0.05, mde=0.01, alpha=1.5),
            r"alpha must be strictly between 0 and 1, got 1.5",
        ),
        (dict(baseline=0.05, mde=0.01, power=0), r"power must be strictly between 0 and 1, got 0"),
        (
            dict(baseline=2, mde=0.01),
            r"baseline must be a conversion rate strictly between 0 and 1, got 2",
        ),
        (dict(baseline=0.05, mde=0), r"mde must be a non-zero effect, got 0"),
        (
            dict(baseline=0.95, mde=0.1),
            r"baseline 0.95 with mde 0.1 gives a variant rate of 1.05, outside \[0, 1\]; use an mde of at most 0.05",
        ),
        (
            dict(baseline=0.5, mde=-0.6, relative=False),
            r"variant rate of -0.1, outside \[0, 1\]; use an mde of at least -0.5",
        ),
        (dict(sd=0, mde=1), r"sd must be positive, got 0"),
        (dict(sd=-2, mde=1), r"sd must be positive, got -2"),
        (dict(baseline=0.05, mde=0.01, ratio=0), r"ratio must be positive, got 0"),
        (dict(baseline=0.05, mde=0.01, arms=1), r"arms must be at least 2"),
        (dict(baseline=0.05, mde=0.01, daily_traffic=0), r"daily_traffic must be positive, got 0"),
        (
            dict(baseline=0.05, mde=0.01, cuped_correlation=1),
            r"cuped_correlation must be strictly between -1 and 1, got 1",
        ),
        (dict(baseline=0.05, mde=0.01, cuped_correlation=-1.2), r"got -1.2"),
        (
            dict(baseline=0.05),
            r"give mde \(the effect to detect\) to solve for the sample size, or n",
        ),
        (dict(mde=0.01), r"give baseline \(the control conversion rate"),
        (dict(baseline=0.05, mde=0.01, n=100, power=0.9), r"give at most two of n, mde and power"),
        (
            dict(baseline=0.05, mde=-0.01, alternative="greater"),
            r"is a decrease but alternative is 'greater'",
        ),
        (
            dict(baseline=0.05, mde=0.01, alternative="less"),
            r"give the decrease as a negative mde \(e.g. -0.01\)",
        ),
        (dict(sd=1, mde=0.1, relative=True), r"a relative mde for means needs a non-zero baseline"),
        (dict(baseline=0.05, mde=0.01, formula="t"), r"formula 't' does not apply to proportions"),
        (dict(sd=1, mde=0.1, formula="pooled"), r"formula 'pooled' does not apply to means"),
        (dict(baseline=0.05, mde=0.01, alternative="sideways"), r"alternative: Input should be"),
        (dict(baseline=0.05, n=1), r"n must be at least 2"),
        (
            dict(baseline=0.05, n=2),
            r"with n = 2 per group even a change from 5.00% to 100% is not detected",
        ),
        (
            dict(baseline=0.05, mde=0.01, power=0.04),
            r"power 0.04 must exceed the per-comparison alpha 0.05",
        ),
    ],
)
def test_bad_input_is_one_sentence(options, pattern):
    with pytest.raises(UserInputError, match=pattern) as info:
        power_analysis(**options)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")


# -- simulation with known truth -------------------------------------------------------------


def test_simulated_power_of_the_pooled_z_test_at_the_computed_n():
    """2,000 seeded experiments at the computed n: empirical power within ±0.03 of 0.8.

    Monte Carlo SE is √(0.8·0.2/2000) ≈ 0.009, so ±0.03 is over 3 SE.
    """
    result = power_analysis(baseline=0.05, mde=0.01)
    n = result.estimate("sample size per group").value
    rng = np.random.default_rng(20240611)
    sims = 2000
    x_c = rng.binomial(n, 0.05, sims)
    x_v = rng.binomial(n, 0.06, sims)
    pooled = (x_c + x_v) / (2 * n)
    z = (x_v - x_c) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    empirical = np.mean(np.abs(z) > stats.norm.ppf(0.975))
    assert abs(empirical - 0.8) < 0.03


def test_simulated_power_with_unequal_allocation_and_one_sided_test():
    result = power_analysis(baseline=0.2, mde=0.03, ratio=2, alternative="greater", power=0.9)
    n_c = result.estimate("sample size per group").value
    n_v = result.estimate("sample size per variant").value
    rng = np.random.default_rng(7)
    sims = 2000
    p_c = rng.binomial(n_c, 0.2, sims) / n_c
    p_v = rng.binomial(n_v, 0.23, sims) / n_v
    pooled = (p_c * n_c + p_v * n_v) / (n_c + n_v)
    z = (p_v - p_c) / np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_v))
    empirical = np.mean(z > stats.norm.ppf(0.95))
    assert abs(empirical - 0.9) < 0.03


def test_simulated_power_of_the_t_test_with_few_users():
    """Small samples: the noncentral-t answer (n = 26) holds its power in simulation."""
    result = power_analysis(sd=1.0, mde=0.8)
    n = result.estimate("sample size per group").value
    assert n == 26
    rng = np.random.default_rng(11)
    sims = 4000
    control = rng.normal(0.0, 1.0, (sims, n))
    variant = rng.normal(0.8, 1.0, (sims, n))
    t = stats.ttest_ind(variant, control, axis=1).statistic
    empirical = np.mean(np.abs(t) > stats.t.isf(0.025, 2 * n - 2))
    assert abs(empirical - result.estimate("power").value) < 0.03


def test_given_n_uses_whole_users_in_the_variant_arms():
    """n = 1,001 at ratio 1.5: the variant gets ⌈1,501.5⌉ = 1,502 users, and the power is theirs."""
    result = power_analysis(baseline=0.05, n=1001, ratio=1.5, mde=0.01)
    assert list(result.tables["plan"]["n"]) == [1001, 1502, 2503]
    expected = ref_pooled_power(1001, 0.05, 0.06, 1502 / 1001, 0.05, "two-sided")
    assert rel(result.estimate("power").value, expected) < REL_POWER

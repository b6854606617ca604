"""The conventions of the tools experimenters compare with, reproduced through the CLI.

GrowthBook's published test vectors (its `gbstats` unit tests) are the reference: the same
summary statistics give the same numbers here, to the five decimals GrowthBook asserts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()


def _estimates(path, *args: str) -> dict[str, dict]:
    out = runner.invoke(app, ["abtest", str(path), *args, "--json"])
    assert out.exit_code == 0, out.output
    return {e["label"]: e for e in json.loads(out.output)["estimates"]}


def test_relative_lift_p_value_growthbook_welch_vector(tmp_path):
    """GrowthBook TwoSidedTTest: control 0.41 (sd 3.9, n 3407), variant 0.70 (sd 6.2, n 3461)
    → relative lift 0.70732, CI (−0.03526, 1.44989), p 0.06191 (delta method, Welch df)."""
    path = tmp_path / "summary.csv"
    path.write_text("arm,n,y_mean,y_sd\nA,3407,0.41,3.9\nB,3461,0.70,6.2\n")
    est = _estimates(path, "-t", "arm", "--from-summary", "--outcome", "y", "--control", "A")
    rel = est["y: B vs A (relative)"]
    assert rel["value"] == pytest.approx(0.70732, abs=5e-6)
    assert rel["ci_low"] == pytest.approx(-0.03526, abs=5e-6)
    assert rel["ci_high"] == pytest.approx(1.44989, abs=5e-6)
    assert rel["p_value"] == pytest.approx(0.06191, abs=5e-6)
    # the absolute test on the same numbers is significant; the relative one is not – the
    # ratio's SE also carries the noise of the control mean
    assert est["y: B − A"]["p_value"] == pytest.approx(0.02016, abs=5e-6)


def test_relative_lift_p_value_matches_its_interval(tmp_path):
    """On raw rows the relative p-value is below alpha exactly when the interval excludes 0,
    and equals the t statistic lift/SE computed independently from the arms' moments."""
    from scipy import stats

    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 4, 800), rng.normal(10.6, 5, 900)
    path = tmp_path / "rows.csv"
    rows = ["arm,y"] + [f"A,{v}" for v in a] + [f"B,{v}" for v in b]
    path.write_text("\n".join(rows) + "\n")
    rel = _estimates(path, "-t", "arm", "--outcome", "y", "--control", "A")["y: B vs A (relative)"]
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    lift = b.mean() / a.mean() - 1
    se = np.sqrt(vb / a.mean() ** 2 + b.mean() ** 2 * va / a.mean() ** 4)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    assert rel["value"] == pytest.approx(lift, rel=1e-10)
    assert rel["p_value"] == pytest.approx(2 * stats.t.sf(abs(lift / se), df), rel=1e-8)
    assert (rel["p_value"] < 0.05) == (rel["ci_low"] > 0 or rel["ci_high"] < 0)


def _power(*args: str) -> dict:
    out = runner.invoke(app, ["power-analysis", *args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def _by_label(payload: dict) -> dict[str, dict]:
    return {e["label"]: e for e in payload["estimates"]}


GROWTHBOOK_SD = str(3909.99977**0.5)
# GrowthBook splits 400,000 users over 3 arms: 133,333.3 each; the CLI takes whole users, which
# moves the power by 1e-6 – inside the five decimals GrowthBook asserts.
GROWTHBOOK_ARMS = ("--baseline", "10", "--sd", GROWTHBOOK_SD, "--relative", "--n", "133333")
GROWTHBOOK_ARMS += ("--arms", "3", "--correction", "none", "--formula", "delta")


def test_growthbook_relative_power_and_mde():
    """GrowthBook's power calculator: mean 10, variance 3909.99977, +5%, 400,000 users over 3
    arms → power 0.52144; the MDE at 80% power 0.07027 (delta-method relative lift)."""
    power = _by_label(_power(*GROWTHBOOK_ARMS, "--mde", "0.05"))["power"]["value"]
    assert power == pytest.approx(0.52144, abs=5e-6)
    mde = _by_label(_power(*GROWTHBOOK_ARMS))["relative mde"]["value"]
    assert mde == pytest.approx(0.07027, abs=5e-6)


def test_growthbook_delta_power_is_its_closed_form():
    """The delta formula's power equals Φ(δ/se − z) + Φ(−δ/se − z) with the ratio's variance
    at the alternative, computed here independently, for an unequal allocation and CUPED."""
    from scipy.stats import norm

    mean, sd, rel, n, ratio, rho = 4.0, 9.0, -0.08, 5000, 1.5, 0.4
    args = ["--baseline", "4", "--sd", "9", "--relative", "--mde", str(rel), "--n", str(n)]
    args += ["--ratio", str(ratio), "--cuped-correlation", str(rho), "--formula", "delta"]
    power = _by_label(_power(*args))["power"]["value"]
    var = sd**2 * (1 - rho**2)
    se = np.sqrt(var / (mean**2 * ratio * n) + var * (mean * (1 + rel)) ** 2 / (mean**4 * n))
    z = norm.ppf(0.975)
    assert power == pytest.approx(norm.cdf(rel / se - z) + norm.cdf(-rel / se - z), rel=1e-9)


def test_evan_miller_sample_size():
    """Evan Miller's calculator: 20% → 25% at alpha 0.05 and 80% power: 1,030.2 per arm (his
    closed form ((z σ₀ + z_β σ₁)/δ)² with σ₀² = 2·0.2·0.8), rounded up to 1,031 users."""
    payload = _power("--baseline", "0.2", "--mde", "0.05", "--formula", "evan_miller")
    size = _by_label(payload)["sample size per group"]
    assert size["value"] == 1031
    assert size["exact"] == pytest.approx(1030.2, abs=0.05)


def test_convention_formulas_refused_where_they_do_not_apply():
    out = runner.invoke(app, ["power-analysis", "--sd", "3", "--mde", "1", "--formula", "delta"])
    assert out.exit_code == 2 and "formula delta" in out.output and "baseline" in out.output
    out = runner.invoke(
        app,
        [
            "power-analysis",
            "--baseline",
            "0.1",
            "--sd",
            "3",
            "--mde",
            "1",
            "--formula",
            "evan_miller",
        ],
    )
    assert out.exit_code == 2 and "does not apply to means" in out.output


def _gaussian(path, *args: str) -> dict:
    got = _estimates(
        path, "-t", "arm", "--outcome", "y", "--control", "A", "--type", "bayesian",
        "--model", "gaussian", *args,
    )  # fmt: skip
    return next(iter(got.values()))


def test_growthbook_gaussian_bayesian_binomial_vector(tmp_path):
    """GrowthBook's Gaussian model of the relative lift, 49/100 vs 51/100: chance to win
    0.60918, risk (keep control, ship variant) = (0.08140, 0.04058)."""
    path = tmp_path / "b.csv"
    path.write_text("arm,n,y_sum,y_sum_sq\nA,100,49,49\nB,100,51,51\n")
    e = _gaussian(path, "--from-summary")
    assert e["p_beat"] == pytest.approx(0.60918, abs=5e-6)
    assert e["risk_keep_rel"] == pytest.approx(0.08140, abs=5e-6)
    assert e["risk_ship_rel"] == pytest.approx(0.04058, abs=5e-6)
    assert e["rel_lift"] == pytest.approx(51 / 49 - 1, rel=1e-12)


def test_growthbook_gaussian_bayesian_normal_vector(tmp_path):
    """Normal outcome, n = 10 per arm, sums 100 / 105 (sums of squares 1002.25 / 1111.5):
    chance to win 0.91923; the same numbers from the raw rows as from the summary."""
    path = tmp_path / "n.csv"
    path.write_text("arm,n,y_sum,y_sum_sq\nA,10,100,1002.25\nB,10,105,1111.5\n")
    e = _gaussian(path, "--from-summary")
    assert e["p_beat"] == pytest.approx(0.91923, abs=5e-6)
    # rows with the same mean and variance per arm: 10 ± 0.5 and 10.5 ± 1 (sample sd)
    a = 10 + 0.5 * np.array([1, -1] * 5) * np.sqrt(9 / 10)
    b = 10.5 + 1.0 * np.array([1, -1] * 5) * np.sqrt(9 / 10)
    rows = tmp_path / "rows.csv"
    rows.write_text("arm,y\n" + "".join(f"A,{v}\n" for v in a) + "".join(f"B,{v}\n" for v in b))
    assert _gaussian(rows)["p_beat"] == pytest.approx(e["p_beat"], rel=1e-9)


def test_gaussian_model_prior_is_the_normal_normal_update(tmp_path):
    """With --prior m0,s0 the relative lift's posterior is the precision-weighted average of
    the delta-method estimate and the prior, computed here independently."""
    from scipy.stats import norm

    path = tmp_path / "n.csv"
    path.write_text("arm,n,y_sum,y_sum_sq\nA,10,100,1002.25\nB,10,105,1111.5\n")
    e = _gaussian(path, "--from-summary", "--prior", "0,0.03")
    rel, var = 0.05, 1 / (10 * 100) + 10.5**2 * 0.25 / (10 * 10**4)
    precision = 1 / var + 1 / 0.03**2
    mean, sd = rel / var / precision, precision**-0.5
    assert e["rel_lift"] == pytest.approx(mean, rel=1e-10)
    assert e["p_beat"] == pytest.approx(norm.cdf(mean / sd), rel=1e-10)
    assert e["rel_lift_ci_high"] == pytest.approx(mean + norm.ppf(0.975) * sd, rel=1e-10)


def test_gaussian_model_refusals(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("arm,n,y_sum,y_sum_sq\nA,10,0,2.25\nB,10,105,1111.5\n")
    args = ["abtest", str(path), "-t", "arm", "--from-summary", "--outcome", "y"]
    args += ["--control", "A", "--type", "bayesian", "--model", "gaussian"]
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "control's mean is 0" in out.output
    path.write_text("arm,n,y_sum,y_sum_sq\nA,10,100,1002.25\nB,10,105,1111.5\n")
    out = runner.invoke(app, [*args, "--prior", "0,1,1"])
    assert out.exit_code == 2 and "mean,sd" in out.output


def _looks_table(payload: dict) -> list[dict]:
    table = payload["tables"]["looks"]
    if isinstance(table, dict) and "columns" in table:
        return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
    return table


def _looks_data(tmp_path, per_arm: list[int]):
    rng = np.random.default_rng(5)
    rows = ["arm,day,y"]
    for day, k in enumerate(per_arm, start=1):
        rows += [f"{arm},{day},{v}" for arm in "AB" for v in rng.normal(0, 1, k)]
    path = tmp_path / "looks.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_spotify_renormalises_a_test_that_ran_past_its_plan(tmp_path):
    """Spotify's convention: looks at 250/450/630/810 units with 300 planned, alpha 0.01,
    power spending ρ = 2 → nominal α 0.00095, 0.00241, 0.00410, 0.00636 (two-sided), the
    fractions renormalised to the largest sample seen, with a warning saying so."""
    from scipy.stats import norm

    path = _looks_data(tmp_path, [125, 100, 90, 90])  # per arm; totals 250, 450, 630, 810
    args = ["abtest", str(path), "-t", "arm", "--outcome", "y", "--control", "A"]
    args += ["--type", "sequential", "--time", "day", "--planned-n", "150", "--alpha", "0.01"]
    out = runner.invoke(app, [*args, "--spending", "power", "--rho", "2", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    looks = _looks_table(payload)
    nominal = [2 * norm.sf(r["z_boundary"]) for r in looks]
    assert nominal == pytest.approx([0.00095, 0.00241, 0.00410, 0.00636], abs=5e-6)
    assert [r["info_fraction"] for r in looks] == pytest.approx(
        [250 / 810, 450 / 810, 630 / 810, 1]
    )
    assert any(f["code"] == "past_plan" for f in payload["findings"])


def test_looks_short_of_the_plan_keep_their_fractions(tmp_path):
    """Looks taken so far against a planned maximum: fractions below 1, boundaries for them
    equal to sequential-design's at those fractions, and no renormalisation."""
    from cerebro.experiments.sequential.boundaries import boundaries

    path = _looks_data(tmp_path, [100, 100])
    args = ["abtest", str(path), "-t", "arm", "--outcome", "y", "--control", "A"]
    args += ["--type", "sequential", "--time", "day", "--planned-n", "500", "--spending", "power"]
    out = runner.invoke(app, [*args, "--rho", "1.5", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    looks = _looks_table(payload)
    assert [r["info_fraction"] for r in looks] == pytest.approx([0.2, 0.4])
    expected = boundaries(np.array([0.2, 0.4]), 0.05, 2, "power", 1.5)
    assert [r["z_boundary"] for r in looks] == pytest.approx(expected, rel=1e-9)
    assert not any(f["code"] == "past_plan" for f in payload["findings"])


def test_rho_needs_power_spending(tmp_path):
    path = _looks_data(tmp_path, [50, 50])
    args = ["abtest", str(path), "-t", "arm", "--outcome", "y", "--type", "sequential"]
    out = runner.invoke(app, [*args, "--time", "day", "--planned-n", "500", "--rho", "2"])
    assert out.exit_code == 2 and "--spending power" in out.output


def test_growthbook_confidence_sequence_relative_lift(tmp_path):
    """GrowthBook's sequential test, 1396/3000 vs 2422/3461 with tuning N* 5000: relative lift
    0.50386, always-valid CI (0.40098, 0.60675) – from a summary (one look)."""
    path = tmp_path / "s.csv"
    path.write_text("arm,n,y_sum,y_sum_sq\nA,3000,1396,1396\nB,3461,2422,2422\n")
    args = ["-t", "arm", "--from-summary", "--outcome", "y", "--control", "A"]
    est = _estimates(path, *args, "--type", "sequential", "--sequential-tuning", "5000")
    rel = est["y: B vs A (relative)"]
    assert rel["value"] == pytest.approx(0.50386, abs=5e-6)
    assert rel["ci_low"] == pytest.approx(0.40098, abs=5e-6)
    assert rel["ci_high"] == pytest.approx(0.60675, abs=5e-6)


def test_confidence_sequence_over_looks_equals_its_formula(tmp_path):
    """With looks from rows, each look's sequence is the formula at that look's cumulative
    moments, intersected over looks, and its p-value the running minimum of 1/E."""

    path = _looks_data(tmp_path, [400, 300, 300])
    args = ["abtest", str(path), "-t", "arm", "--outcome", "y", "--control", "A", "--type"]
    args += ["sequential", "--time", "day", "--sequential-tuning", "2000", "--json"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    looks = _looks_table(json.loads(out.output))
    frame = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding=None)
    a2 = -2 * np.log(0.05)
    rho2 = (a2 + np.log(a2 + 1)) / 2000
    lows, highs, ps = [], [], []
    for day in (1, 2, 3):
        seen = frame[frame["day"] <= day]
        ya, yb = seen["y"][seen["arm"] == "A"], seen["y"][seen["arm"] == "B"]
        rel = yb.mean() / ya.mean() - 1
        se = np.sqrt(
            yb.var(ddof=1) / (ya.mean() ** 2 * yb.size)
            + yb.mean() ** 2 * ya.var(ddof=1) / (ya.mean() ** 4 * ya.size)
        )
        n = ya.size + yb.size
        half = se * np.sqrt(2 * (n * rho2 + 1) / (n * rho2) * np.log(np.sqrt(n * rho2 + 1) / 0.05))
        lows.append(rel - half)
        highs.append(rel + half)
        e = np.exp(rho2 * n * (rel / se) ** 2 / (2 * (n * rho2 + 1))) / np.sqrt(n * rho2 + 1)
        ps.append(min(1.0, 1 / e))
    assert [r["cs_low"] for r in looks] == pytest.approx(np.maximum.accumulate(lows), rel=1e-9)
    assert [r["cs_high"] for r in looks] == pytest.approx(np.minimum.accumulate(highs), rel=1e-9)
    assert [r["p_always_valid"] for r in looks] == pytest.approx(
        np.minimum.accumulate(ps), rel=1e-9
    )


def test_growthbook_always_valid_power_and_mde():
    """GrowthBook's power calculator with sequential testing (N* 5000) on the power vector:
    power 0.20596, MDE 0.07027 → 0.12821."""
    args = (*GROWTHBOOK_ARMS, "--sequential-tuning", "5000")
    assert _by_label(_power(*args, "--mde", "0.05"))["power"]["value"] == pytest.approx(
        0.20596, abs=5e-6
    )
    assert _by_label(_power(*args))["relative mde"]["value"] == pytest.approx(0.12821, abs=5e-6)


def test_sequential_tuning_refusals(tmp_path):
    args = ["power-analysis", "--baseline", "0.1", "--mde", "0.01", "--sequential-tuning", "5000"]
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "sequential_tuning" in out.output
    path = _looks_data(tmp_path, [50, 50])
    args = ["abtest", str(path), "-t", "arm", "--outcome", "y", "--type", "sequential"]
    args += ["--time", "day", "--sequential-tuning", "5000", "--mixing-sd", "0.1"]
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "keep one" in out.output


def test_randomisation_inference_thornton(tmp_path):
    """Thornton (2008) via the Mixtape's randomisation-inference example: learning one's HIV
    status (`got`) by any cash incentive (`any`); 1,000 re-randomisations give p ≈ 0.001 – no
    re-draw is as extreme as the observed assignment, so p = 1/1001."""
    from causaldata import thornton_hiv

    path = tmp_path / "thornton.csv"
    thornton_hiv.load_pandas().data.to_csv(path, index=False)
    args = ["-t", "any", "--outcome", "got", "--control", "0", "--permutations", "1000"]
    est = _estimates(path, *args)["got: 1 − 0"]
    assert est["p_permutation"] == pytest.approx(1 / 1001, rel=1e-12)
    assert est["value"] == pytest.approx(0.4506, abs=5e-5)


def _exact_randomisation_p(y: np.ndarray, treated: np.ndarray, strata: np.ndarray) -> float:
    """Share of all assignments (arm sizes kept within each stratum) whose Welch p-value is at
    most the observed one – the exact randomisation p-value, by enumeration."""
    from itertools import combinations, product

    from scipy import stats

    def welch_p(t: np.ndarray) -> float:
        return stats.ttest_ind(y[t], y[~t], equal_var=False).pvalue

    observed = welch_p(treated)
    per_stratum = []
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        k = int(treated[rows].sum())
        per_stratum.append([rows[list(c)] for c in combinations(range(rows.size), k)])
    hits = total = 0
    for choice in product(*per_stratum):
        t = np.zeros(y.size, bool)
        t[np.concatenate(choice)] = True
        hits += welch_p(t) <= observed * (1 + 1e-9)
        total += 1
    return hits / total


@pytest.mark.parametrize("stratified", [False, True])
def test_randomisation_p_matches_exact_enumeration(tmp_path, stratified):
    """On 12 units the Monte Carlo randomisation p-value (4,000 draws) is within 4 MC standard
    errors of the exact one, enumerated over every assignment – within strata when stratified."""
    rng = np.random.default_rng(11)
    y = rng.normal(0, 1, 12) + np.r_[np.zeros(6), np.full(6, 0.9)]
    treated = np.r_[np.zeros(6, bool), np.ones(6, bool)]
    strata = np.tile([0, 1], 6) if stratified else np.zeros(12, int)
    path = tmp_path / "small.csv"
    arm = np.where(treated, "B", "A")
    path.write_text(
        "arm,y,s\n" + "".join(f"{a},{v},{s}\n" for a, v, s in zip(arm, y, strata, strict=True))
    )
    args = ["-t", "arm", "--outcome", "y", "--control", "A", "--type", "welch"]
    args += ["--permutations", "4000", *(["--strata", "s"] if stratified else [])]
    got = _estimates(path, *args)["y: B − A"]["p_permutation"]
    exact = _exact_randomisation_p(y, treated, strata)
    assert abs(got - exact) < 4 * np.sqrt(exact * (1 - exact) / 4000) + 1 / 4001


def test_randomisation_keeps_clusters_whole_and_is_seeded(tmp_path):
    rng = np.random.default_rng(2)
    cluster = np.repeat(np.arange(20), 5)
    arm = np.where(cluster % 2 == 0, "A", "B")
    y = rng.normal(0, 1, 100) + rng.normal(0, 1, 20)[cluster] + (arm == "B") * 0.3
    path = tmp_path / "clustered.csv"
    path.write_text(
        "arm,y,c\n" + "".join(f"{a},{v},{c}\n" for a, v, c in zip(arm, y, cluster, strict=True))
    )
    args = ["-t", "arm", "--outcome", "y", "--control", "A", "--cluster", "c"]
    first = _estimates(path, *args, "--permutations", "400")["y: B − A"]["p_permutation"]
    again = _estimates(path, *args, "--permutations", "400")["y: B − A"]["p_permutation"]
    other = _estimates(path, *args, "--permutations", "400", "--seed", "3")["y: B − A"]
    assert first == again and 0 < first <= 1
    assert other["p_permutation"] != first
    # 10 clusters per arm: at most C(20, 10) = 184,756 distinct assignments, and the p-value
    # moves in steps of 1/401
    assert (first * 401) == pytest.approx(round(first * 401))


def test_permutation_refusals(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("arm,y,c\nA,1,1\nB,2,1\nA,3,2\nB,4,2\nA,1,3\nB,2,4\n")
    base = ["abtest", str(path), "-t", "arm", "--outcome", "y", "--control", "A"]
    out = runner.invoke(app, [*base, "--cluster", "c", "--permutations", "100"])
    assert out.exit_code == 2 and "unit of randomisation" in out.output
    out = runner.invoke(app, [*base, "--type", "bayesian", "--permutations", "100"])
    assert out.exit_code == 2 and "--permutations" in out.output


def test_narrow_tables_say_which_columns_they_hide():
    """At 80 and 120 characters the terminal table hides the least essential columns and says
    which, instead of dropping them silently; at full width nothing is hidden."""
    import pandas as pd

    import cerebro
    from cerebro.report.text import render_text

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"arm": np.repeat([0, 1], 200), "y": rng.normal(0, 1, 400)})
    result = cerebro.abtest(frame, treatment="arm", outcome="y", control=0)
    assert "Not shown" not in render_text(result, width=250)
    for width in (80, 120):
        text = render_text(result, width=width)
        assert "Not shown at this width: n ctrl" in text
        assert all(len(line) <= width for line in text.splitlines())

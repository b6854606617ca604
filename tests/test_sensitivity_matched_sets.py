"""Rosenbaum bounds for matched sets with several controls (1:k, k varying): the Huber–Maritz
m-scores and the separable bound of Rosenbaum (2007) / Gastwirth, Krieger & Rosenbaum (2000), as
R's `sensitivitymv::senmv` computes them, checked against independent computations – scores
from their definition pair by pair, the per-set maximum over every u ∈ {0, 1}^n (not only the
cut points), the exact randomisation moments at Γ = 1, the closed form for pairs – and, in
simulation, the bound's promise: at the true Γ it rejects a true null at most alpha of the time."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cerebro.stats.rosenbaum import m_scores, separable_bound, sets_bounds, sets_gamma


def _sets(seed: int = 0, n: int = 60, effect: float = 0.0) -> np.ndarray:
    """1 treated + 1 to 3 controls per set, NaN-padded (the layout of senmv's y)."""
    rng = np.random.default_rng(seed)
    y = rng.standard_t(4, size=(n, 4))
    y[:, 0] += effect
    size = rng.integers(2, 5, n)
    y[np.arange(4)[None, :] >= size[:, None]] = np.nan
    return y


def _huber(x: float, trim: float) -> float:
    return float(np.sign(x) * min(abs(x), trim) / trim) if np.isfinite(trim) else float(x)


@pytest.mark.parametrize("trim", [1.0, 2.5, np.inf])
def test_m_scores_equal_their_definition_pair_by_pair(trim) -> None:
    """Scale: the median of |y_ij − y_ik| over all ordered pairs in all sets; score of unit j:
    Σ_k ψ((y_ij − y_ik)/s)/n_i with ψ Huber's function flat beyond `trim`."""
    y = _sets(seed=1, n=12)
    gaps = [abs(r[j] - r[k]) for r in y for j, k in itertools.permutations(range(4), 2)
            if not (np.isnan(r[j]) or np.isnan(r[k]))]  # fmt: skip
    s = float(np.median(gaps)) if np.isfinite(trim) else 1.0
    got = m_scores(y, trim=trim)
    for i, r in enumerate(y):
        units = [j for j in range(4) if not np.isnan(r[j])]
        for j in units:
            want = sum(_huber((r[j] - r[k]) / s, trim) for k in units if k != j) / len(units)
            assert got[i, j] == pytest.approx(want, abs=1e-14)
        assert np.isnan(got[i, len(units) :]).all()


def test_the_cut_points_attain_the_maximum_over_every_hidden_bias_pattern() -> None:
    """Gastwirth, Krieger & Rosenbaum: per set, the largest expectation of the treated unit's
    score over u ∈ {0, 1}^n (probabilities ∝ Γ^u) is attained at a cut point of the sorted
    scores; brute force over all 2^n patterns agrees, and so does the variance there."""
    y = _sets(seed=2, n=25)
    q = m_scores(y)
    for gamma in (1.5, 3.0, 7.0):
        brute_mu = brute_var = 0.0
        for row in q:
            r = row[~np.isnan(row)]
            best = (-np.inf, -np.inf)
            for u in itertools.product((0, 1), repeat=len(r)):
                if len(set(u)) == 1:
                    continue  # all equal: the randomised case, never above a cut point
                p = gamma ** np.array(u, float)
                p /= p.sum()
                mu = float(p @ r)
                best = max(best, (mu, float(p @ r**2 - mu**2)))
            brute_mu, brute_var = brute_mu + best[0], brute_var + best[1]
        t, mu, var, upper = separable_bound(q, gamma)
        assert mu == pytest.approx(brute_mu, rel=1e-12)
        assert var == pytest.approx(brute_var, rel=1e-12)
        assert upper == pytest.approx(stats.norm.sf((t - brute_mu) / np.sqrt(brute_var)), rel=1e-10)


def test_gamma_one_is_the_randomisation_distribution() -> None:
    """Γ = 1: each unit equally likely treated – mean and variance of the set's scores (the
    scores sum to 0 in a set, so the expectation is 0); both bounds coincide."""
    q = m_scores(_sets(seed=3))
    _, mu, var, upper = separable_bound(q, 1.0)
    assert mu == pytest.approx(0.0, abs=1e-12)
    assert var == pytest.approx(float(np.nansum(np.nanmean(q**2, axis=1))), rel=1e-12)
    _, lower, upper2 = sets_bounds(q, 1.0)
    assert lower == pytest.approx(upper, rel=1e-12) and upper2 == upper


def test_pairs_reduce_to_the_closed_form() -> None:
    """Pairs with differences d: scores ±ψ(d/s)/2, so at Γ the expectation is
    Σ|ψ|/2·(Γ − 1)/(Γ + 1) and the variance Σ(ψ/2)²·4Γ/(1 + Γ)² (senmv's vector input)."""
    rng = np.random.default_rng(4)
    d = rng.normal(0.3, 1.0, 40)
    y = np.column_stack([d / 2, -d / 2])
    s = float(np.median(np.abs(d)))
    psi = np.clip(d / s, -2.5, 2.5) / 2.5 / 2
    for gamma in (1.0, 2.0, 4.0):
        t, mu, var, _ = separable_bound(m_scores(y), gamma)
        assert t == pytest.approx(psi.sum(), rel=1e-12)
        assert mu == pytest.approx(np.abs(psi).sum() * (gamma - 1) / (gamma + 1), rel=1e-12)
        assert var == pytest.approx(np.sum(psi**2) * 4 * gamma / (1 + gamma) ** 2, rel=1e-12)


def test_gamma_star_is_where_the_bound_reaches_alpha() -> None:
    q = m_scores(_sets(seed=5, n=150, effect=1.0))
    gamma = sets_gamma(q, 0.05)
    assert gamma > 2
    assert separable_bound(q, gamma)[3] == pytest.approx(0.05, abs=1e-9)
    assert sets_gamma(m_scores(_sets(seed=6, effect=-0.5)), 0.05) == 1.0


def test_the_bound_holds_its_level_under_hidden_bias_of_the_stated_size() -> None:
    """Simulation: no effect, a hidden binary u in each set, the treated unit drawn with odds
    Γ₀ = 2 for u = 1 (the worst case the bound allows). At Γ = Γ₀ the upper bound rejects at 5%
    in at most 5% of 400 studies (+ Monte Carlo error); at Γ = 1 (ignoring the bias) it rejects
    far more often. The outcome depends on u, as a confounder would."""
    rng = np.random.default_rng(7)
    rejections = {1.0: 0, 2.0: 0}
    for _ in range(400):
        n_sets, size = 80, rng.integers(2, 5, 80)
        y = np.full((n_sets, 4), np.nan)
        for i in range(n_sets):
            u = rng.random(size[i]) < 0.5
            outcome = 1.0 * u + rng.normal(size=size[i])
            w = np.where(u, 2.0, 1.0)
            treated = rng.choice(size[i], p=w / w.sum())
            y[i, : size[i]] = np.r_[outcome[treated], np.delete(outcome, treated)]
        q = m_scores(y)
        for g in rejections:
            rejections[g] += separable_bound(q, g)[3] < 0.05
    assert rejections[2.0] / 400 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 400)
    assert rejections[1.0] / 400 > 0.2


def _psm_frame() -> pd.DataFrame:
    """600 units, confounded 0/1 treatment d (share ≈ 0.3), effect 0.8 on y."""
    rng = np.random.default_rng(8)
    n = 600
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-(x - 1)))).astype(int)
    y = 0.8 * d + x + rng.normal(size=n)
    return pd.DataFrame({"d": d, "y": y, "x": x})


def test_sensitivity_psm_with_three_neighbours_reports_the_sets(tmp_path) -> None:
    """`cerebro sensitivity --method psm --neighbours 3`: the ATT of 1:3 matching and Γ* of its
    matched sets, equal to the m-test of the sets rebuilt from the matches."""
    import cerebro

    frame = _psm_frame()
    d = frame.d.to_numpy()
    res = cerebro.sensitivity(frame, treatment="d", outcome="y", confounders=["x"],
                              method="psm", neighbours=3, refute=False)  # fmt: skip
    causal = cerebro.causal(frame, treatment="d", outcome="y", confounders=["x"], method="psm",
                            estimand="att", neighbours=3)  # fmt: skip
    sets = causal.fit.sets
    assert sets.shape == (int(d.sum()), 4)
    att = np.mean(sets[:, 0] - np.nanmean(sets[:, 1:], axis=1))
    assert causal.estimates[0].value == pytest.approx(att, rel=1e-12)
    gamma = sets_gamma(m_scores(sets), 0.05)
    assert res.estimate("gamma").value == pytest.approx(gamma, rel=1e-12)
    assert gamma > 1.5
    table = res.tables.columns("rosenbaum")
    assert set(table) >= {"gamma", "statistic", "expectation", "variance", "p_lower", "p_upper"}
    assert "matched sets" in " ".join(f.message for f in res.findings)
    with pytest.raises(ValueError, match="drop --neighbours"):
        cerebro.sensitivity(frame, treatment="d", outcome="y", confounders=["x"],
                            method="aipw", neighbours=3)  # fmt: skip


DATA = Path(__file__).parent / "data"


def _senmv_rule(scores: np.ndarray, gamma: float) -> float:
    """The variance senmv sums: per set, that of the first cut point (in increasing order) whose
    expectation is strictly the largest in floating point – where two cut points tie exactly in
    theory, rounding picks one; the method (and Cerebro) takes the larger variance of the two."""
    total = 0.0
    for row in scores:
        r = np.sort(row[~np.isnan(row)])
        best_mu = best_var = -np.inf
        for a in range(1, len(r)):
            w = np.r_[np.ones(a), np.full(len(r) - a, gamma)]
            mu = np.sum(r[:a]) + gamma * np.sum(r[a:])
            mu /= w.sum()
            var = (np.sum(r[:a] ** 2) + gamma * np.sum(r[a:] ** 2)) / w.sum() - mu**2
            if mu > best_mu:
                best_mu, best_var = mu, var
            elif mu == best_mu:
                best_var = max(best_var, var)
        total += best_var
    return total


def test_equal_to_senmv_on_stored_matched_sets() -> None:
    """R's sensitivitymv::senmv (tests/reference/senmv_sets.R, numbers stored): statistic,
    maximal expectation, variance and p-value bound equal to 1e-12 at Γ = 1–3, trim 1, 2.5, ∞
    and inner trimming; at Γ = 1.5 one set's two cut points tie exactly in expectation and
    senmv's float comparison keeps the first one's variance (the rule reproduced in
    `_senmv_rule` gives senmv's number), where Cerebro takes the larger as the method says –
    the p-value bound then moves by ≤ 1.1e-4 in the conservative direction."""
    y = pd.read_csv(DATA / "matched_sets.csv").to_numpy(float)
    rows = [dict(zip(w[::2], map(float, w[1::2]), strict=True))
            for w in (line.split() for line in (DATA / "senmv_reference.txt").read_text().splitlines())]  # fmt: skip
    assert len(rows) == 13
    tied = 0
    for ref in rows:
        scores = m_scores(y, inner=ref.get("inner", 0.0), trim=ref["trim"])
        t, mu, var, upper = separable_bound(scores, ref["gamma"])
        assert t == pytest.approx(ref["statistic"], abs=1e-12)
        assert mu == pytest.approx(ref["expectation"], abs=1e-12)
        assert _senmv_rule(scores, ref["gamma"]) == pytest.approx(ref["variance"], rel=1e-12)
        if var == pytest.approx(ref["variance"], rel=1e-12):
            assert upper == pytest.approx(ref["pval"], abs=1e-12)
        else:  # the exact tie: a larger variance, a larger (more conservative) p-value bound
            tied += 1
            assert var > ref["variance"] and 0 < upper - ref["pval"] < 1.1e-4
    assert tied == 2  # trim 2.5 and ∞ at Γ = 1.5


def test_m_trim_and_m_inner_reach_the_m_test_from_every_face(tmp_path) -> None:
    """`--m-trim` / `--m-inner` (senmv's trim and inner): Γ* from the CLI and the Python API equals
    the m-test of the matched sets with those ψ settings; a trim beyond every gap is the untrimmed
    test; the settings are refused where no m-test is run, or out of range, in one sentence."""
    import json

    import cerebro
    from cli_refusals import invoke, refused

    frame = _psm_frame()
    common = dict(treatment="d", outcome="y", confounders=["x"], method="psm", neighbours=3)
    sets = cerebro.causal(frame, estimand="att", **common).fit.sets
    for trim, inner in [(1.0, 0.0), (2.5, 0.5), (1e9, 0.0)]:
        res = cerebro.sensitivity(frame, refute=False, m_trim=trim, m_inner=inner, **common)
        want = sets_gamma(m_scores(sets, inner=inner, trim=trim), 0.05)
        assert res.estimate("gamma").value == pytest.approx(want, rel=1e-12)
    untrimmed = sets_gamma(m_scores(sets, trim=np.inf), 0.05)
    assert res.estimate("gamma").value == pytest.approx(untrimmed, rel=1e-9)
    default = sets_gamma(m_scores(sets), 0.05)
    assert abs(untrimmed - default) > 1e-3  # the settings matter on this data

    path = tmp_path / "m.csv"
    frame.to_csv(path, index=False)
    base = ["sensitivity", path, "--treatment", "d", "--outcome", "y", "--confounders", "x",
            "--method", "psm", "--neighbours", "3", "--no-refute"]  # fmt: skip
    out = invoke(*base, "--m-trim", "1", "--json")
    assert out.exit_code == 0, out.output
    got = next(e for e in json.loads(out.stdout)["estimates"] if e["key"] == "gamma")["value"]
    assert got == pytest.approx(sets_gamma(m_scores(sets, trim=1.0), 0.05), rel=1e-12)
    refused(invoke(*base, "--m-trim", "0"), "m_trim must be a positive number")
    refused(invoke(*base, "--m-trim", "inf"), "m_trim must be a positive number")
    refused(invoke(*base, "--m-inner", "3"), "m_inner must be in [0, m_trim)")
    refused(invoke(*base[:-3], "--m-trim", "1"), "drop --m-trim")

"""Multi-valued treatments beyond the ATE by IPW/g-computation/AIPW: DML with several arms,
ATT/ATC of every arm (pairwise), trimming, weight truncation and the bootstrap."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from cerebro.core.errors import UserInputError
from cerebro.observational import dml, multiarm
from cerebro.observational.analysis import causal
from test_causal_estimators import _data, _simulate
from test_causal_multiarm import EFFECTS, _multi, _three_arms

OPTIONS = dict(treatment="campaign", outcome="y", confounders=["x1", "x2"])


def test_dml_with_two_arms_equals_the_binary_dml():
    """One-vs-rest propensities normalised to one are the binary propensity when there are two
    arms (the two unpenalised logistic fits agree to their solver tolerance, ~1e-6)."""
    data = _data(_simulate(1000, np.random.default_rng(11)))
    binary, _ = dml.dml_irm(data, "linear", 5, 3, "ate", 0.01)
    multi, _ = multiarm.dml_multi(data, "linear", 5, 3, 0.01)
    np.testing.assert_allclose(multi.mu, binary.mu, rtol=1e-5)
    np.testing.assert_allclose(multi.cov, binary.cov, rtol=1e-4)


@pytest.mark.slow
def test_dml_three_arms_coverage():
    """150 data sets of 1,500 units, true ATEs 1.0 and 2.5 (linear nuisances, 5 folds): bias within
    4 MC SE and 95% coverage in [0.91, 0.99] for both contrasts (MC SE of coverage ≈ 1.3 points
    over 300 intervals)."""
    rng = np.random.default_rng(21)
    errors, covered = [], []
    for rep in range(150):
        data = _multi(_three_arms(1500, rng))
        means, _ = multiarm.dml_multi(data, "linear", 5, rep, 0.01)
        c = means.cov
        for arm in (1, 2):
            diff = means.mu[arm] - means.mu[0]
            se = np.sqrt(c[arm, arm] + c[0, 0] - 2 * c[arm, 0])
            errors.append(diff - EFFECTS[arm])
            covered.append(abs(diff - EFFECTS[arm]) < 1.96 * se)
    errors = np.array(errors)
    assert abs(errors.mean()) < 4 * errors.std() / np.sqrt(len(errors))
    assert 0.91 <= np.mean(covered) <= 0.99, np.mean(covered)


def test_dml_three_arms_from_the_python_face():
    res = causal(_three_arms(4000, np.random.default_rng(12)), **OPTIONS, method="dml")
    for est, truth in zip(res.estimates, EFFECTS[1:], strict=True):
        assert abs(est.value - truth) < 4 * est.se, (est.label, est.value)
    assert res.estimates[0].label == "ATE B vs A (difference in means)"
    assert "lightgbm" in {f.code: f for f in res.findings}["method"].message


@cache
def _att_truth() -> np.ndarray:
    """ATT of B and C against A in `_three_arms`: B's effect is constant (1.0); C's is
    2.5 + 0.5·x1, so its ATT is 2.5 + 0.5·E[x1 | A = C], taken from 2 million draws (MC SE
    of that mean ≈ 0.0015)."""
    big = _three_arms(2_000_000, np.random.default_rng(0))
    return np.array([1.0, 2.5 + 0.5 * big.loc[big.campaign == "C", "x1"].mean()])


@pytest.mark.parametrize("method", ["ipw", "aipw", "gcomp", "psm", "dml"])
def test_att_of_every_arm_recovers_the_truth(method):
    frame = _three_arms(6000, np.random.default_rng(13))
    res = causal(frame, **OPTIONS, method=method, estimand="att")
    truth = _att_truth()
    assert truth[1] > 2.6  # C's ATT (≈ 2.64) is not its ATE (2.5): the check can tell them apart
    labels = [e.label for e in res.estimates]
    assert labels == ["ATT B vs A (difference in means)", "ATT C vs A (difference in means)"]
    for est, value in zip(res.estimates, truth, strict=True):
        assert abs(est.value - value) < 4 * est.se, (method, est.label, est.value, value)
    # every comparison is the two-arm analysis of its pair, to the last digit
    pair = frame[frame.campaign.isin(["A", "C"])]
    alone = causal(pair, **OPTIONS, method=method, estimand="att").estimates[0]
    assert res.estimates[1].value == pytest.approx(alone.value, rel=1e-12)
    assert res.estimates[1].se == pytest.approx(alone.se, rel=1e-12)
    assert "p_holm" in res.tables["effects"]


def test_atc_with_trimming_and_bootstrap_per_pair():
    frame = _three_arms(3000, np.random.default_rng(14))
    res = causal(frame, **OPTIONS, method="ipw", estimand="atc", trim="crump", bootstrap=60, seed=1)
    assert [e.extra["arm"] for e in res.estimates] == ["B", "C"]
    messages = [f.message for f in res.findings if f.code == "trimming"]
    assert len(messages) == 2 and messages[0].startswith("B vs A: Crump")


def test_fixed_trimming_with_three_arms_equals_analysis_of_the_kept_units():
    frame = _three_arms(3000, np.random.default_rng(15))
    probabilities = multiarm.multinomial_propensity(_multi(frame)).probabilities
    keep = probabilities.min(axis=1) >= 0.1
    assert 0 < (~keep).sum() < len(frame) / 2
    trimmed = causal(frame, **OPTIONS, method="aipw", trim=0.1)
    kept = causal(frame[keep], **OPTIONS, method="aipw")
    for a, b in zip(trimmed.estimates, kept.estimates, strict=True):
        assert a.value == pytest.approx(b.value, rel=1e-10)
        assert a.se == pytest.approx(b.se, rel=1e-10)
    assert {f.code: f for f in trimmed.findings}["trimming"].level == "warning"


def test_truncated_multiarm_ipw_equals_direct_capped_means():
    frame = _three_arms(2000, np.random.default_rng(16))
    data = _multi(frame)
    mp = multiarm.multinomial_propensity(data)
    codes = data.a.astype(int)
    own = 1 / mp.probabilities[np.arange(len(codes)), codes]
    w = np.minimum(own, np.percentile(own, 95))
    direct = [np.sum((w * data.y)[codes == k]) / np.sum(w[codes == k]) for k in range(3)]
    means = multiarm.ipw_multi(data, mp, "hajek", truncate=95)
    np.testing.assert_allclose(means.mu, direct, rtol=1e-12)
    untruncated = multiarm.ipw_multi(data, mp, "hajek")
    assert not np.allclose(means.mu, untruncated.mu)


def test_multiarm_bootstrap_is_seeded_and_agrees_with_influence_se():
    """200 replicates: the SE of a bootstrap SE is about 5%; allow 4 of those."""
    frame = _three_arms(1500, np.random.default_rng(17))
    analytic = causal(frame, **OPTIONS, method="aipw").estimates
    boot = causal(frame, **OPTIONS, method="aipw", bootstrap=200, seed=4).estimates
    again = causal(frame, **OPTIONS, method="aipw", bootstrap=200, seed=4).estimates
    for a, b, c in zip(analytic, boot, again, strict=True):
        assert b.se == c.se and b.ci_low == c.ci_low
        assert b.se == pytest.approx(a.se, rel=0.2)
        assert b.value == a.value


def test_refusals_name_the_fix():
    frame = _three_arms(600, np.random.default_rng(18))
    with pytest.raises(UserInputError, match="--dml-model irm"):
        causal(frame, **OPTIONS, method="dml", dml_model="plr")
    with pytest.raises(UserInputError, match="derived for two arms"):
        causal(frame, **OPTIONS, method="ipw", trim="crump")

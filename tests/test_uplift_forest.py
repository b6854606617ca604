"""Causal forest mechanics: honesty, forest weights, little-bags variance, out-of-bag, state, errors.

The compiled kernels are checked against slow, independent Python recomputations from the
stored trees: leaf statistics from the estimation rows only (honesty), τ̂(x) from explicit
forest weights α_i(x), the bootstrap-of-little-bags variance, and out-of-bag predictions from
the trees that did not draw the row.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cerebro.core.errors import UserInputError
from cerebro.uplift import forest_kernels as K
from cerebro.uplift.forest import CausalForest, apply_bins


def _data(n=1500, p=4, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, p))
    t = rng.binomial(1, 0.5, n)
    tau = 1.0 + 2.0 * (X[:, 0] > 0.5)
    y = X[:, 1] + tau * t + rng.normal(size=n)
    return X, y, t, tau


@pytest.fixture(scope="module")
def fitted():
    X, y, t, _tau = _data()
    y_hat = np.full(len(y), y.mean())
    f = CausalForest(n_estimators=20, min_leaf=5, seed=11).fit(X, y, t, y_hat=y_hat, t_hat=0.5)
    return f, X, y, t, y_hat


def _walk(f, b, xb):
    """Leaf index (within tree b) of one binned row, by a plain Python walk."""
    o = f.node_offset_[b]
    node = 0
    while f.feature_[o + node] >= 0:
        go_left = xb[f.feature_[o + node]] <= f.threshold_[o + node]
        node = f.left_[o + node] if go_left else f.right_[o + node]
    return f.left_[o + node]


def _draws(f, n):
    """Each tree's row draw, regenerated from the seed as the fit drew it."""
    gs = f.ci_group_size
    m = int(f.sample_fraction * n)
    out = []
    for g in range(f.n_estimators_ // gs):
        s = np.empty((gs, m), np.int32)
        K.group_samples(n, n // 2, m, gs, f.seed, g, s)
        out.extend(s[k].copy() for k in range(gs))
    return out, m


def test_draws_are_without_replacement_and_bags_share_a_half_sample(fitted):
    f, X, *_ = fitted
    n = X.shape[0]
    draws, m = _draws(f, n)
    assert m == n // 2
    for b in range(0, len(draws), 2):
        a, c = draws[b], draws[b + 1]
        assert np.unique(a).size == m  # without replacement
        # sample_fraction 0.5 with bags of 2: each tree takes its bag's whole half-sample
        np.testing.assert_array_equal(np.sort(a), np.sort(c))
    assert len({tuple(np.sort(d)[:20]) for d in draws[::2]}) == len(draws) // 2


def test_leaves_hold_estimation_rows_only(fitted):
    """Honesty: each leaf's statistics are the means over the estimation half of the tree's draw
    routed to it; the test fails if the splitting half (or any other row) entered a leaf."""
    f, X, y, t, y_hat = fitted
    n = X.shape[0]
    Xb = apply_bins(X, f.edges_)
    yr, tr = y - y_hat, t - 0.5
    draws, m = _draws(f, n)
    n_split = int(f.honesty_fraction * m)
    for b, draw in enumerate(draws):
        est = draw[n_split:]
        lo, hi = f.leaf_offset_[b], f.leaf_offset_[b + 1]
        stats = f.leaf_stats_[lo:hi]
        acc = np.zeros((hi - lo, 5))
        for r in est:
            leaf = _walk(f, b, Xb[r])
            acc[leaf] += (1.0, tr[r], yr[r], tr[r] * yr[r], tr[r] ** 2)
        reach = acc[:, 0] > 0
        np.testing.assert_array_equal(stats[reach, 0], acc[reach, 0])
        np.testing.assert_allclose(
            stats[reach, 1:], acc[reach, 1:] / acc[reach, :1], rtol=0, atol=1e-12
        )
        # every estimation row is counted once and no splitting row is
        assert stats[:, 0].sum() == len(est) == m - n_split
        # the splitting rows decide the splits: each reachable leaf has at least min_leaf
        # treated and min_leaf control splitting rows
        split_leaf = np.array([_walk(f, b, Xb[r]) for r in draw[:n_split]])
        for leaf in np.flatnonzero(reach):
            tw = t[draw[:n_split]][split_leaf == leaf]
            if tw.size:  # a leaf promoted by pruning may be reached by estimation rows only
                assert tw.sum() >= f.min_leaf and (1 - tw).sum() >= f.min_leaf


def test_estimate_equals_explicit_forest_weights(fitted):
    """τ̂(x) = Σα(tr − T̄)(yr − Ȳ) / Σα(tr − T̄)² with α_i(x) = (1/B)Σ_b 1{i ∈ L_b(x)}/|L_b(x)|."""
    f, X, y, t, y_hat = fitted
    n = X.shape[0]
    Xb = apply_bins(X, f.edges_)
    yr, tr = y - y_hat, t - 0.5
    draws, m = _draws(f, n)
    n_split = int(f.honesty_fraction * m)
    rng = np.random.default_rng(0)
    Xq = rng.uniform(size=(6, X.shape[1]))
    Xqb = apply_bins(Xq, f.edges_)
    tau_kernel = f.predict(Xq)
    B = len(draws)
    for q in range(len(Xq)):
        alpha = np.zeros(n)
        for b, draw in enumerate(draws):
            est = draw[n_split:]
            target = _walk(f, b, Xqb[q])
            members = np.array([r for r in est if _walk(f, b, Xb[r]) == target])
            alpha[members] += 1.0 / (B * members.size)
        assert alpha.sum() == pytest.approx(1.0, abs=1e-12)
        tbar, ybar = alpha @ tr, alpha @ yr
        want = (alpha @ ((tr - tbar) * (yr - ybar))) / (alpha @ (tr - tbar) ** 2)
        assert tau_kernel[q] == pytest.approx(want, rel=1e-10, abs=1e-12)


def _little_bags(f, leaves_stats, tau):
    """Independent bootstrap-of-little-bags variance from per-tree leaf statistics (B × 5)."""
    s = leaves_stats
    tbar, ybar, att = s[:, 1].mean(), s[:, 2].mean(), s[:, 4].mean()
    xi = att - tbar**2
    psi = (
        s[:, 3]
        - tbar * s[:, 2]
        - ybar * s[:, 1]
        + tbar * ybar
        - tau * (s[:, 4] - 2 * tbar * s[:, 1] + tbar**2)
    )
    gs = f.ci_group_size
    groups = psi.reshape(-1, gs)
    gm = groups.mean(axis=1)
    G = gm.size
    between = np.mean((gm - gm.mean()) ** 2)
    noise = np.sum((groups - gm[:, None]) ** 2) / (G * gs * (gs - 1))
    est = between - noise
    se = max(between, noise) * math.sqrt(2 / G)
    r = est / se
    phi = math.exp(-r * r / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * math.erfc(-r / math.sqrt(2))
    return (est + se * phi / cdf if r <= 8 else est) / xi**2


def test_variance_equals_independent_little_bags(fitted):
    f, X, *_ = fitted
    rng = np.random.default_rng(1)
    Xq = rng.uniform(size=(8, X.shape[1]))
    Xqb = apply_bins(Xq, f.edges_)
    tau, var = f.predict(Xq, variance=True)
    for q in range(len(Xq)):
        stats = np.array(
            [f.leaf_stats_[f.leaf_offset_[b] + _walk(f, b, Xqb[q])] for b in range(f.n_estimators_)]
        )
        assert var[q] == pytest.approx(_little_bags(f, stats, tau[q]), rel=1e-9)
        assert var[q] > 0


def test_out_of_bag_uses_only_trees_that_did_not_draw_the_row(fitted):
    f, X, *_ = fitted
    n = X.shape[0]
    Xb = apply_bins(X, f.edges_)
    draws, _ = _draws(f, n)
    oob, oob_var = f.oob_predict(variance=True)
    # a row drawn by every tree has no out-of-bag estimate (NaN); with 10 bags that is 2^-10
    drawn_by_all = np.ones(n, bool)
    for d in draws:
        mask = np.zeros(n, bool)
        mask[d] = True
        drawn_by_all &= mask
    np.testing.assert_array_equal(np.isnan(oob), drawn_by_all)
    for i in [0, 7, 100, 999]:
        valid = [b for b, d in enumerate(draws) if i not in set(d.tolist())]
        stats = np.array([f.leaf_stats_[f.leaf_offset_[b] + _walk(f, b, Xb[i])] for b in valid])
        m = stats.mean(axis=0)
        want = (m[3] - m[1] * m[2]) / (m[4] - m[1] ** 2)
        assert oob[i] == pytest.approx(want, rel=1e-10, abs=1e-12)
    # sample_fraction 0.5 in bags of 2: a row drawn by one tree of a bag is drawn by both, so
    # each row is out of bag for about half of the bags
    # out-of-bag variance needs at least two bags none of whose trees drew the row
    free_bags = np.zeros(n, int)
    for d in draws[::2]:
        mask = np.ones(n, bool)
        mask[d] = False
        free_bags += mask
    np.testing.assert_array_equal(np.isfinite(oob_var), free_bags >= 2)


def test_state_round_trip_is_exact_and_json_able(fitted):
    f, X, *_ = fitted
    state = f.to_state()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    rest = {k: v for k, v in state.items() if k not in arrays}
    json.dumps(rest)  # everything but the arrays is plain JSON
    assert all(a.dtype != object for a in arrays.values())
    g = CausalForest.from_state(
        json.loads(json.dumps(rest)) | {k: v.copy() for k, v in arrays.items()}
    )
    rng = np.random.default_rng(2)
    Xq = np.vstack([X[:50], rng.uniform(-0.5, 1.5, size=(50, X.shape[1]))])
    a, va = f.predict(Xq, variance=True)
    b, vb = g.predict(Xq, variance=True)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(va, vb)
    with pytest.raises(UserInputError, match="training rows"):
        g.oob_predict()


def test_damaged_state_fails_clearly(fitted):
    f, *_ = fitted
    state = f.to_state()
    bad = dict(state, left=state["left"].copy())
    bad["left"][0] = 10**8
    with pytest.raises(UserInputError, match="damaged"):
        CausalForest.from_state(bad)
    with pytest.raises(UserInputError, match="not a saved causal forest"):
        CausalForest.from_state({"format": "pickle"})


def test_same_seed_same_forest_for_any_thread_count():
    X, y, t, _ = _data(n=1200, seed=5)
    kw = dict(y_hat=np.zeros(len(y)), t_hat=0.5)
    a = CausalForest(n_estimators=10, seed=4, n_jobs=1).fit(X, y, t, **kw)
    b = CausalForest(n_estimators=10, seed=4, n_jobs=2).fit(X, y, t, **kw)
    c = CausalForest(n_estimators=10, seed=5, n_jobs=1).fit(X, y, t, **kw)
    for name in ("feature_", "threshold_", "left_", "right_", "leaf_stats_", "node_offset_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.predict(X[:100]), c.predict(X[:100]))


def test_mtry_and_rounding_of_trees():
    X, y, t, _ = _data(n=800, p=6, seed=6)
    f = CausalForest(n_estimators=7, mtry=2, seed=1).fit(X, y, t, y_hat=np.zeros(800), t_hat=0.5)
    assert f.n_estimators_ == 8 and f.mtry_ == 2
    assert (
        CausalForest(n_estimators=3, ci_group_size=1, seed=1)
        .fit(X, y, t, y_hat=np.zeros(800), t_hat=0.5)
        .n_estimators_
        == 3
    )


def test_nuisances_are_cross_fitted_when_not_given():
    X, y, t, _ = _data(n=1000, seed=8)
    f = CausalForest(n_estimators=4, seed=2).fit(X, y, t)
    assert f.y_hat_.shape == (1000,) and np.all((f.t_hat_ >= 0.01) & (f.t_hat_ <= 0.99))
    # out of fold: ŷ is not the in-sample fit, so the residuals keep their noise
    assert np.corrcoef(f.y_hat_, y)[0, 1] < 0.9
    g = CausalForest(n_estimators=4, seed=2).fit(X, y, t, t_hat=0.5)
    np.testing.assert_array_equal(g.t_hat_, 0.5)
    np.testing.assert_array_equal(g.y_hat_, f.y_hat_)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample_fraction": 0.6}, "at most 0.5"),
        ({"min_leaf": 0}, "min_leaf"),
        ({"max_bins": 300}, "max_bins"),
        ({"honesty_fraction": 1.0}, "honesty_fraction"),
        ({"balance": 0.7}, "balance"),
    ],
)
def test_bad_parameters_are_user_errors(kwargs, match):
    with pytest.raises(UserInputError, match=match):
        CausalForest(**kwargs)


def test_bad_data_are_user_errors():
    X, y, t, _ = _data(n=200, seed=9)
    f = CausalForest(n_estimators=2)
    with pytest.raises(UserInputError, match="not fitted"):
        f.predict(X)
    with pytest.raises(UserInputError, match="coded 0"):
        f.fit(X, y, t * 2, t_hat=0.5)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(UserInputError, match="column 2"):
        f.fit(Xn, y, t, t_hat=0.5)
    with pytest.raises(UserInputError, match="treated"):
        f.fit(X, y, np.r_[np.ones(5), np.zeros(195)].astype(int), t_hat=0.5)
    with pytest.raises(UserInputError, match="strictly between 0 and 1"):
        f.fit(X, y, t, y_hat=np.zeros(200), t_hat=np.ones(200))
    f.fit(X, y, t, y_hat=np.zeros(200), t_hat=0.5)
    with pytest.raises(UserInputError, match="fitted on 4"):
        f.predict(X[:, :3])
    with pytest.raises(UserInputError, match="ci_group_size"):
        CausalForest(n_estimators=2, ci_group_size=1).fit(
            X, y, t, y_hat=np.zeros(200), t_hat=0.5
        ).predict(X, variance=True)

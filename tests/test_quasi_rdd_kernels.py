"""The compiled RD kernels (`rdd_kernels`, used from `COMPILED_MIN_ROWS` rows) against their
plain-NumPy twins (`rdd_local.NumpyKernels`), against an independent nearest-neighbour loop in
the style of rdrobust, and, end to end, against rdrobust itself.

Tolerances: sums in another order differ by rounding only – 1e-12 relative on the kernel
outputs; the end-to-end estimates go through the ill-conditioned order-(p+3) pilot fits of the
bandwidth selector, which amplify rounding to ~1e-10, so 1e-8 relative there (observed ≤ 5e-10
between backends, ≤ 5e-11 against rdrobust).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import rdrobust as rdrobust

from cerebro.quasi.rdd import kernels as K
from cerebro.quasi.rdd import local as rdd_local
from cerebro.quasi.rdd.estimate import rd_fit
from cerebro.quasi.rdd.local import NumpyKernels as N
from cerebro.quasi.rdd.local import make_sides
from cerebro.quasi.rdd.synthetic import simulate_arrays
from test_quasi_rdd_reference import COVS, SENATE, SENATE_COVS

Z95 = 1.959963984540054


def fit(compiled: bool, monkeypatch, y, x, **kw) -> np.ndarray:
    monkeypatch.setattr(rdd_local, "COMPILED_MIN_ROWS", 0 if compiled else 10**12)
    f = rd_fit(y, x, **kw).fit
    out = [f.h, f.b, f.tau, f.tau_bc, f.se, f.se_rb]
    return np.array(out + list(f.first_stage or []))


def rel(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


# --------------------------------------------------------------------------- end to end
@pytest.mark.parametrize("kernel", ["triangular", "uniform", "epanechnikov"])
@pytest.mark.parametrize("p", [1, 2])
def test_compiled_backend_matches_rdrobust_on_senate(kernel, p, monkeypatch):
    y, x = SENATE.vote.to_numpy(), SENATE.margin.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = rdrobust.rdrobust(y, x, p=p, kernel=kernel)
    ref = [o.bws.iloc[0, 0], o.bws.iloc[1, 0], o.coef.iloc[0, 0], o.se.iloc[0, 0],
           o.ci.iloc[2, 0], o.ci.iloc[2, 1]]  # fmt: skip
    h, b, tau, tau_bc, se, se_rb = fit(True, monkeypatch, y, x, p=p, kernel=kernel)
    mine = [h, b, tau, se, tau_bc - Z95 * se_rb, tau_bc + Z95 * se_rb]
    assert rel(mine, ref) < 1e-8


def test_compiled_backend_matches_rdrobust_with_covariates_and_clusters(monkeypatch):
    d = SENATE_COVS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = rdrobust.rdrobust(d.vote, d.margin, covs=d[COVS], cluster=d.state)
    ref = [o.bws.iloc[0, 0], o.bws.iloc[1, 0], o.coef.iloc[0, 0], o.se.iloc[0, 0],
           o.ci.iloc[2, 0], o.ci.iloc[2, 1]]  # fmt: skip
    h, b, tau, tau_bc, se, se_rb = fit(
        True, monkeypatch, d.vote.to_numpy(), d.margin.to_numpy(),
        covariates=d[COVS].to_numpy(), cluster=d.state.to_numpy(),
    )  # fmt: skip
    assert rel([h, b, tau, se, tau_bc - Z95 * se_rb, tau_bc + Z95 * se_rb], ref) < 1e-8


Y, X, T, Z1, Z2, G = simulate_arrays(3000, 0.5, seed=1, fuzzy=True)
CASES = list(
    itertools.product(["triangular", "uniform", "epanechnikov"], [1, 2], [False, True],
                      ["none", "covariates", "clusters", "both"], [False, True])
)  # fmt: skip


@pytest.mark.parametrize("kernel,p,fuzzy,extra,mass", CASES[::3])
def test_backends_agree(kernel, p, fuzzy, extra, mass, monkeypatch):
    """Every design: compiled and NumPy backends give the same bandwidths and inference."""
    x = np.round(X * 20) / 20 if mass else X  # 41 mass points: bwcheck and tied blocks
    kw = {"p": p, "kernel": kernel}
    if fuzzy:
        kw["treatment"] = T
    if extra in ("covariates", "both"):
        kw["covariates"] = np.column_stack([Z1, Z2])
    if extra in ("clusters", "both"):
        kw["cluster"] = G
    assert rel(fit(True, monkeypatch, Y, x, **kw), fit(False, monkeypatch, Y, x, **kw)) < 1e-8


def test_compiled_fit_is_deterministic(monkeypatch):
    a = fit(True, monkeypatch, Y, X)
    b = fit(True, monkeypatch, Y, X)
    assert np.array_equal(a, b)


# --------------------------------------------------------------------------- sorting
def _sides(x, cols, compiled):
    return make_sides(x, cols, None, compiled=compiled)


def test_sorted_sides_match_a_stable_argsort():
    rng = np.random.default_rng(0)
    n = 5000
    x = rng.uniform(-1, 1, n)
    # Distinct distances closer than the key resolution (2^-(52-13) relative): the repair.
    x[300:500] = 0.3 * (1 + rng.integers(0, 4096, 200) * 2.0**-50)
    x[500:600] = -0.25  # exact ties
    x[600:700] = -0.0  # goes right, distance 0
    y = rng.normal(size=n)
    keys = K.side_keys(x, y[None, :], int(np.count_nonzero(x >= 0)), 13)
    for key in keys[:2]:
        key.sort()
        assert K.gather_side(key, 13, keys[2])[0]  # repaired in place, no fallback
    for compiled in (True, False):
        for side, mask in zip(_sides(x, [y], compiled), (x < 0, x >= 0), strict=True):
            rows = np.flatnonzero(mask)
            order = rows[np.argsort(np.abs(x[rows]), kind="stable")]
            assert np.array_equal(side.x, x[order])
            assert np.array_equal(side.D[:, 0], y[order])
            d = np.abs(x[order])
            starts = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]]))
            assert np.array_equal(side.group_start, starts)


def test_sort_falls_back_when_keys_are_too_coarse():
    """All distances distinct but sharing one key, in reverse row order: too many moves for
    the repair, so the compiled path sorts by argsort – same sides as NumPy."""
    n = 3000
    x = 0.5 + (n - np.arange(n)) * 2.0**-52  # one key bucket, decreasing
    x = np.concatenate([x, -x])
    y = np.arange(2 * n, dtype=float)
    for a, b in zip(_sides(x, [y], True), _sides(x, [y], False), strict=True):
        assert np.array_equal(a.x, b.x) and np.array_equal(a.D, b.D)
        assert np.all(np.diff(a.dist) > 0)


# --------------------------------------------------------------------------- kernels
def _rdrobust_style_nn(x, y, matches=3):
    """Nearest-neighbour residuals by the plain loop of CCT (2014)/rdrobust: x sorted, exact
    comparisons of the gaps (no near-equal gaps in the data used here)."""
    n = len(x)
    uniq, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    res = np.empty(n)
    for i in range(n):
        g = inv[i]
        lo = hi = g
        have = counts[g] - 1
        while have < min(matches, n - 1):
            dl = x[i] - uniq[lo - 1] if lo > 0 else np.inf
            dr = uniq[hi + 1] - x[i] if hi < len(uniq) - 1 else np.inf
            if dl <= dr:
                lo -= 1
                have += counts[lo]
            if dr <= dl:
                hi += 1
                have += counts[hi]
        block = (inv >= lo) & (inv <= hi)
        J = block.sum() - 1
        res[i] = np.sqrt(J / (J + 1)) * (y[i] - (y[block].sum() - y[i]) / J)
    return res


@pytest.mark.parametrize("ties", [False, True])
def test_nn_residuals_match_a_plain_loop(ties):
    rng = np.random.default_rng(3)
    n = 600
    x = np.sort(rng.uniform(0, 1, n))
    if ties:
        x = np.sort(rng.integers(0, 150, n) / 128.0)  # mass points, exact gaps
    y = rng.normal(size=n)
    ref = _rdrobust_style_nn(x, y)
    for compiled in (True, False):
        right = _sides(x, [y], compiled)[1]
        res, _, _ = right.nn(right.n)
        assert np.abs(res[:, 0] - ref).max() < 1e-12


def test_nn_residuals_of_prefix_windows_and_near_ties():
    """Near-equal gaps (within the tie tolerance), tied groups and prefix windows: compiled and
    NumPy residuals agree, and a window read off a larger cached one equals a fresh one."""
    rng = np.random.default_rng(5)
    base = np.cumsum(rng.choice([1.0, 2.0], 4000)) / 4000  # many exactly equal gaps
    base[1000:1100] = base[1000]  # a tied group
    base = base * (1 + rng.choice([0, 1e-12], 4000))  # gaps equal only within the tolerance
    x = np.sort(base)
    y = rng.normal(size=(4000, 2))
    sides = {c: make_sides(x, [y[:, 0], y[:, 1]], None, compiled=c)[1] for c in (True, False)}
    gs = sides[True].gstart
    assert np.array_equal(gs, sides[False].gstart)
    for m in (int(gs[-1]), int(gs[len(gs) * 5 // 8]), int(gs[len(gs) // 4]), int(gs[37]), 3):
        got = {}
        for c, side in sides.items():
            res, tail, t0 = side.nn(m)
            got[c] = np.vstack([res[: min(t0, m)], tail])[:m]
            fresh = make_sides(x, [y[:, 0], y[:, 1]], None, compiled=c)[1]
            r2, tail2, t2 = fresh.nn(m)
            assert np.abs(np.vstack([r2[: min(t2, m)], tail2])[:m] - got[c]).max() < 1e-12
        assert np.abs(got[True] - got[False]).max() < 1e-12


def close(a, b, tol):
    """Equal to `tol` relative to the largest entry (empty arrays trivially)."""
    return a.shape == b.shape and (b.size == 0 or np.abs(a - b).max() <= tol * np.abs(b).max())


def test_weighted_sums_match_numpy():
    rng = np.random.default_rng(7)
    m = 5003
    xs = np.sort(rng.uniform(0, 1, m)) * rng.choice([-1.0, 1.0])
    D = rng.normal(size=(m, 3))
    res = rng.normal(size=(m, 3))
    tail = rng.normal(size=(50, 3))
    s = np.array([1.0, -0.3, 0.2])
    cl = rng.integers(0, 40, m)
    for kcode in (0, 1, 2):
        for a, b in zip(K.moments(xs, D, m - 7, 0.8, kcode, 10, 4, True, 0.6, 3),
                        N.moments(xs, D, m - 7, 0.8, kcode, 10, 4, True, 0.6, 3), strict=True):  # fmt: skip
            assert np.allclose(a, b, rtol=1e-12, atol=0)
        a = K.nn_meat(xs, m, 0.8, kcode, 7, s, res, tail, m - 50)
        b = N.nn_meat(xs, m, 0.8, kcode, 7, s, res, tail, m - 50)
        assert np.allclose(a, b, rtol=1e-12, atol=0)
        beta = rng.normal(size=3)
        ta, ga = K.cluster_scores(xs, D, m, 0.8, kcode, 2, s, beta, cl, 40)
        tb, gb = N.cluster_scores(xs, D, m, 0.8, kcode, 2, s, beta, cl, 40)
        assert ga == gb == 40 and np.abs(ta - tb).max() < 1e-10 * np.abs(tb).max()
        S = np.vstack([s, [0.0, 1.0, 0.0]])
        args = (xs, D, m, 0.5, 0.9, kcode, 1, rng.normal(size=3), rng.normal(size=2), S)
        nn = (res, tail, m - 50, np.zeros((2, 2)), np.zeros((2, 3)), np.empty(0, np.int64), 0)
        for a, b in zip(K.bias_corrected(*args, *nn), N.bias_corrected(*args, *nn), strict=True):
            assert close(np.asarray(a), np.asarray(b), 1e-12)
        clus = (res, tail, 0, rng.normal(size=(2, 2)), rng.normal(size=(2, 3)), cl, 40)
        for a, b in zip(K.bias_corrected(*args, *clus), N.bias_corrected(*args, *clus),
                        strict=True):  # fmt: skip
            assert close(np.asarray(a), np.asarray(b), 1e-12)

"""Local polynomial building blocks of regression discontinuity: one side of the cutoff.

Each side is stored once, sorted by distance to the cutoff, so every kernel window (all points
with positive weight at bandwidth h) is a *prefix* of the arrays – no masks, no copies. What a
weighted least-squares fit of order p on a window needs from the data are a few kernel-weighted
sums (`LocalFit`: Σ w u^j, Σ w u^j D, …); the sandwich "meat" sums use the nearest-neighbour
residuals of Calonico, Cattaneo & Titiunik (2014, "CCT") or, with clusters, the fitted residuals
(CR1). Only (order+1)-square matrices are formed here; the sums over the points come from one
of two backends with the same functions: one-pass compiled loops (`rdd.kernels`, numba) from
`COMPILED_MIN_ROWS` rows on, and below that their vectorised NumPy twins (`NumpyKernels`), which
spare a short run numba's start-up. The two agree to rounding (tests/test_quasi_rdd_kernels.py).

Designs are in units of u = (x − c)/h (well conditioned whatever the scale of x); coefficients are
converted back to the raw scale where a derivative is needed.

Reference: Calonico, Cattaneo & Titiunik (2014), "Robust nonparametric confidence intervals for
regression-discontinuity designs", Econometrica 82(6); Calonico, Cattaneo & Farrell (2018, JASA).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from cerebro.core.errors import UserInputError

KERNELS = ("triangular", "uniform", "epanechnikov")
KERNEL_CODE = {"triangular": 0, "uniform": 1, "epanechnikov": 2}
MATCHES = 3  # nearest neighbours of the variance estimator (rdrobust's default nnmatch)
# From this many rows on, the sums run in the compiled kernels of `rdd.kernels`. Below it the
# NumPy twins in this module take well under 0.1 s per fit – less than importing and starting
# numba costs a fresh process (~0.5 s; its first-ever run also compiles, once per install).
# CEREBRO_RDD_COMPILED_MIN_ROWS overrides it (0: always compiled; a huge number: never).
COMPILED_MIN_ROWS = int(os.environ.get("CEREBRO_RDD_COMPILED_MIN_ROWS", "500000"))
_TIE = float(np.sqrt(np.finfo(float).eps))  # relative tolerance of an equidistant neighbour


def kernel_weights(u: np.ndarray, kernel: str) -> np.ndarray:
    """K(u) up to a constant factor (which cancels from every estimate and variance)."""
    # In place on one buffer: on a million points each fresh temporary costs more (page faults)
    # than the arithmetic on it.
    a = np.abs(u)
    if kernel == "triangular":
        np.subtract(1.0, a, out=a)
        return np.maximum(a, 0.0, out=a)
    if kernel == "epanechnikov":
        np.multiply(a, a, out=a)
        np.subtract(1.0, a, out=a)
        np.multiply(0.75, a, out=a)
        return np.maximum(a, 0.0, out=a)
    return np.where(a <= 1.0, 0.5, 0.0)


def window_size(dist: np.ndarray, h: float, kernel: str) -> int:
    """How many points (a prefix of `dist`, sorted ascending) get a positive kernel weight."""
    # Triangular and Epanechnikov weights vanish at |u| = 1; the uniform kernel keeps that point.
    side = "right" if kernel == "uniform" else "left"
    return int(np.searchsorted(dist, h, side=side))


def inverse_gram(G: np.ndarray) -> np.ndarray:
    """(R'WR)⁻¹ by Cholesky (pseudo-inverse if singular)."""
    try:
        Linv = np.linalg.inv(np.linalg.cholesky(G))
        return Linv.T @ Linv
    except np.linalg.LinAlgError:
        return np.linalg.pinv(G)


def hankel(M: np.ndarray, size: int) -> np.ndarray:
    """The size × size matrix with entries M[j + l] (a Gram or meat matrix of monomials)."""
    idx = np.arange(size)
    return M[idx[:, None] + idx[None, :]]


@dataclass
class Side:
    """One side of the cutoff, sorted by distance |x − c| ascending (ties in row order).

    `x` is the signed distance x − c; `D` holds the columns [outcome, (treatment), covariates…],
    one row per point; `cluster` integer codes (0 … n_clusters−1) or None; `gstart` the first
    index of each run of tied distances and a final sentinel n. Fits and nearest-neighbour
    residuals are cached."""

    x: np.ndarray
    dist: np.ndarray
    D: np.ndarray
    cluster: np.ndarray | None
    gstart: np.ndarray
    n_clusters: int = 0
    kern: object = None  # the backend of the sums: `rdd.kernels` or `NumpyKernels`
    fits: dict = field(default_factory=dict)
    _res: np.ndarray | None = None  # nn residuals of the first _res_groups tie groups
    _res_groups: int = 0

    @property
    def n(self) -> int:
        return len(self.x)

    @property
    def group_start(self) -> np.ndarray:
        return self.gstart[:-1]

    @property
    def unique(self) -> int:
        return len(self.gstart) - 1

    def unique_in(self, m: int) -> int:
        """Distinct x values among the first m points."""
        return int(np.searchsorted(self.group_start, m, side="left"))

    def with_columns(self, cols: list[int]) -> Side:
        """The same points with a subset of the data columns."""
        D = np.ascontiguousarray(self.D[:, cols])
        return Side(self.x, self.dist, D, self.cluster, self.gstart, self.n_clusters, self.kern)

    def nn(self, m: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Nearest-neighbour residuals of the first m points (CCT 2014, vce='nn') as
        (res, tail, t0): rows before t0 are rows of res, rows t0 … m−1 rows of tail.

        Each residual is √(J/(J+1))·(D_i − mean of its J ≥ 3 nearest neighbours in x within the
        window), all ties at a distance taken together. Computed for the largest window asked
        for so far; a smaller window (a prefix) changes only blocks that could reach past it –
        those of its last `MATCHES` tie groups – which are recomputed inside it."""
        G = self.unique_in(m)
        cap = min(MATCHES, m - 1)
        k = self.D.shape[1]
        if cap < MATCHES:  # a tiny window: every block may differ from a larger window's
            res = np.empty((m, k))
            self.kern.nn_residuals(self.dist, self.D, self.gstart, 0, G, cap, res)
            return res, np.empty((0, k)), m
        if self._res is None or self._res_groups < G:
            res = np.empty((m, k))
            self.kern.nn_residuals(self.dist, self.D, self.gstart, 0, G, cap, res)
            self._res, self._res_groups = res, G
            return res, np.empty((0, k)), m
        if self._res_groups == G:
            return self._res, np.empty((0, k)), m
        g0 = max(0, G - cap)
        t0 = int(self.gstart[g0])
        tail = np.empty((m - t0, k))
        self.kern.nn_residuals(self.dist, self.D, self.gstart, g0, G, cap, tail)
        return self._res, tail, t0


def make_sides(
    x: np.ndarray, columns: list[np.ndarray], cluster: np.ndarray | None,
    compiled: bool | None = None,
) -> tuple[Side, Side]:  # fmt: skip
    """(left, right): the points below and at-or-above 0 of x (centred at the cutoff), each
    sorted by distance to the cutoff (ties in row order), with their data columns and cluster
    codes. `compiled`: the backend of the sums (default: compiled from `COMPILED_MIN_ROWS`)."""
    x = np.ascontiguousarray(x, dtype=float)
    if compiled is None:
        compiled = len(x) >= COMPILED_MIN_ROWS
    if cluster is not None:  # carried through the sort as one more (exact) column
        columns = [*columns, np.asarray(cluster, dtype=float)]
    cols = np.ascontiguousarray(np.vstack(columns) if len(columns) > 1 else columns[0][None, :])
    if compiled:
        from cerebro.quasi.rdd import kernels as backend

        parts = _sorted_compiled(x, cols)
    else:
        backend = NumpyKernels
        parts = _sorted_numpy(x, cols)
    sides = []
    for xs, dist, D, gstart in parts:
        codes = None
        n_cl = 0
        if cluster is not None:
            codes = D[:, -1].astype(np.int64)
            D = np.ascontiguousarray(D[:, :-1])
            n_cl = int(cluster.max()) + 1
        sides.append(Side(xs, dist, D, codes, gstart, n_cl, backend))
    return sides[0], sides[1]


def stable_order(dist: np.ndarray) -> np.ndarray:
    """np.argsort(dist, kind="stable") for non-negative finite dist, about twice as fast.

    A non-negative double orders like its bit pattern read as an integer, so the keys
    (bits of dist with the low ones replaced by the position) sort, as plain int64 (numpy's SIMD
    sort, no index array), by dist to within a relative 2^-(52-b) (b bits for a position) and
    then by position. Keys that tie on the kept bits – exactly equal distances, or distinct ones
    closer than that – are put in exact (dist, position) order afterwards; with many such ties
    the stable argsort itself is used."""
    n = len(dist)
    if n < 2:
        return np.arange(n)
    b = (n - 1).bit_length()
    low = (1 << b) - 1
    key = dist.view(np.int64) & ~low
    key |= np.arange(n)
    key.sort()
    order = key & low
    key >>= b
    tie = key[1:] == key[:-1]
    if tie.any():
        if np.count_nonzero(tie) > n // 16:
            return np.argsort(dist, kind="stable")
        at = np.flatnonzero(tie)
        pos = np.unique(np.concatenate([at, at + 1]))  # every member of a run of equal keys
        run = np.cumsum(np.concatenate([[True], np.diff(pos) > 1]) | ~np.isin(pos - 1, at))
        sub = order[pos]
        order[pos] = sub[np.lexsort((sub, dist[sub], run))]
    return order


def _sorted_numpy(x: np.ndarray, cols: np.ndarray):
    """(xs, dist, D, gstart) of each side, by a stable sort of the distances."""
    out = []
    for rows in (np.flatnonzero(x < 0.0), np.flatnonzero(x >= 0.0)):
        order = rows[stable_order(np.abs(x[rows]))]
        xs = x[order]
        dist = np.abs(xs)
        D = np.empty((len(order), cols.shape[0]))
        for c in range(cols.shape[0]):
            np.take(cols[c], order, out=D[:, c])
        new = np.empty(len(dist), dtype=bool)
        if len(dist):
            new[0] = True
            np.not_equal(dist[1:], dist[:-1], out=new[1:])
        gstart = np.append(np.flatnonzero(new), len(dist))
        out.append((xs, dist, D, gstart))
    return out


def _sorted_compiled(x: np.ndarray, cols: np.ndarray):
    """`_sorted_numpy` with packed rows, integer sort keys and compiled gathers."""
    from cerebro.quasi.rdd import kernels as kern

    n = len(x)
    n_right = int(np.count_nonzero(x >= 0.0))
    bits = max(1, (n - 1).bit_length())
    *keys, packed = kern.side_keys(x, cols, n_right, bits)
    out = []
    for key, offset in zip(keys, (0, n - n_right), strict=True):
        key.sort()  # numpy's SIMD sort of plain integers: no index array, no comparisons of pairs
        ok, xs, dist, D, gstart = kern.gather_side(key, bits, packed)
        if not ok:  # many distinct distances closer than the key resolution
            rows = np.arange(offset, offset + len(key))
            order = rows[np.argsort(np.abs(packed[rows, 0]), kind="stable")]
            xs, dist, D, gstart = kern.gather_order(order, packed)
        out.append((xs, dist, D, gstart))
    return out


@dataclass
class LocalFit:
    """The kernel-weighted sums of an order-`order` fit on the window of bandwidth h (its first
    m points), u = x/h: S[j] = Σ w u^j (j ≤ 2·order+1), T = R'WD (one row per coefficient),
    C = Σ w D D' (with covariates), E[j] = Σ w u^j (x/b)^bpow; and (R'WR)⁻¹."""

    m: int
    h: float
    order: int
    S: np.ndarray
    T: np.ndarray
    C: np.ndarray
    E: np.ndarray
    inv_g: np.ndarray

    def coef(self) -> np.ndarray:
        """Weighted least-squares coefficients of the columns of D (u units)."""
        return self.inv_g @ self.T


def local_fit(
    side: Side, h: float, order: int, kernel: str, *, cross: bool = False, b: float = 0.0,
    bpow: int = 0,
) -> LocalFit:  # fmt: skip
    """The sums of the order-`order` fit at bandwidth h.

    Cached: the sums of a lower order at the same bandwidth are the leading entries of a
    higher order's (the selector fits orders 3, 2, 1 at its pilot and 4, 3 at the full range),
    and the selector's last bias fit, order p+1 at b, is the bias-correction fit of the final
    estimate."""
    key = (h, order, kernel, cross, b, bpow)
    if key in side.fits:
        return side.fits[key]
    for (h2, o2, k2, c2, b2, p2), big in side.fits.items():
        if (h2, k2, c2, b2, p2) == (h, kernel, cross, b, bpow) and o2 > order:
            S, T, E = big.S[: 2 * order + 2], big.T[: order + 1], big.E[: order + 1]
            fit = LocalFit(big.m, h, order, S, T, big.C, E, inverse_gram(hankel(S, order + 1)))
            side.fits[key] = fit
            return fit
    m = window_size(side.dist, h, kernel)
    S, T, C, E = side.kern.moments(
        side.x, side.D, m, h, KERNEL_CODE[kernel], 2 * order + 2, order, cross, b, bpow
    )
    fit = LocalFit(m, h, order, S, T, C, E, inverse_gram(hankel(S, order + 1)))
    side.fits[key] = fit
    return fit


def cr1(totals: np.ndarray, g: int, n: int, k: int) -> np.ndarray:
    """CR1 meat from per-cluster score totals: (n−1)/(n−k)·G/(G−1)·Σ_g t_g t_g'."""
    factor = (n - 1) / (n - k) * g / (g - 1) if g > 1 else np.nan
    return factor * (totals.T @ totals)


def fit_meat(side: Side, fit: LocalFit, s: np.ndarray, kernel: str) -> np.ndarray:
    """Σ a_i a_i' r_i² (a_i = w_i (1, u_i, …)') with r the combination s of the nearest-neighbour
    residuals, or with clusters the CR1 sum over clusters of (Σ_g a_i r_i)(…)' with the fitted
    residuals of the combination."""
    kcode = KERNEL_CODE[kernel]
    s = np.ascontiguousarray(s, dtype=float)
    if side.cluster is None:
        res, tail, t0 = side.nn(fit.m)
        M = side.kern.nn_meat(side.x, fit.m, fit.h, kcode, 2 * fit.order + 1, s, res, tail, t0)
        return hankel(M, fit.order + 1)
    beta_s = np.ascontiguousarray(fit.coef() @ s)
    tot, g = side.kern.cluster_scores(
        side.x, side.D, fit.m, fit.h, kcode, fit.order, s, beta_s, side.cluster, side.n_clusters
    )
    return cr1(tot, g, fit.m, fit.order + 1)


def require_points(side: Side, m: int, order: int, name: str, what: str) -> None:
    if side.unique_in(m) < order + 1:
        raise UserInputError(
            f"only {side.unique_in(m)} distinct running-variable values {name} the cutoff fall "
            f"inside the {what}; an order-{order} polynomial needs {order + 1} – use a larger "
            "--bandwidth or a lower --order."
        )


# --------------------------------------------------------------------------- NumPy twins
def _grow_blocks(
    ux: np.ndarray, count: np.ndarray, groups: np.ndarray, G: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour blocks [lo, hi] (tie-group indices) of `groups`, among the first G groups.

    A block starts at the group itself (ties are neighbours from the start) and grows towards
    the nearer neighbouring group – both when equidistant – until it holds `cap` other points.
    All unfinished blocks grow at once: at most `cap` vectorised steps."""
    lo = groups.copy()
    hi = groups.copy()
    have = count[groups] - 1
    active = np.flatnonzero(have < cap)
    while active.size:
        a_lo, a_hi = lo[active], hi[active]
        can_l = a_lo > 0
        can_r = a_hi < G - 1
        here = ux[groups[active]]
        d_l = np.where(can_l, here - ux[np.maximum(a_lo - 1, 0)], np.inf)
        d_r = np.where(can_r, ux[np.minimum(a_hi + 1, G - 1)] - here, np.inf)
        both = can_l & can_r
        tol = np.where(both, np.maximum(d_l, d_r) * _TIE, 0.0)
        take_r = ~can_l | (both & (d_l - d_r > tol))
        take_l = ~can_r | (both & (d_r - d_l > tol))
        tie = both & ~take_r & ~take_l
        take_r |= tie
        take_l |= tie
        stuck = ~can_l & ~can_r  # a single group: nothing left to take
        take_r &= ~stuck
        take_l &= ~stuck
        new_lo = np.where(take_l, a_lo - 1, a_lo)
        new_hi = np.where(take_r, a_hi + 1, a_hi)
        lo[active], hi[active] = new_lo, new_hi
        have[active] += np.where(take_l, count[np.maximum(new_lo, 0)], 0) + np.where(
            take_r, count[np.minimum(new_hi, G - 1)], 0
        )
        active = active[(have[active] < cap) & ~stuck]
    return lo, hi


def _grow_merge(
    ux: np.ndarray, count: np.ndarray, g0: int, G: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """`_grow_blocks` for the groups g0 … G−1, without step-by-step growth where it is a merge.

    For a single point whose `cap` nearest groups on either side are single points, growing the
    block takes one point per step, the nearer of the next left and right candidates: a merge of
    the left gaps L_1 ≤ L_2 ≤ … and the right gaps R_1 ≤ R_2 ≤ …, so the block holds
    a = Σ_j [L_j < R_(cap+1−j)] points on the left. Wherever a comparison the growth could make
    (L_j against R_k, j + k ≤ cap + 1) may be a tie within the tolerance, next to tied values and
    near the ends, the block is grown step by step instead."""
    idx = np.arange(max(g0, cap), G - cap)
    if cap < 1 or len(idx) == 0:
        return _grow_blocks(ux, count, np.arange(g0, G), G, cap)
    here = ux[idx]
    left = [here - ux[idx - j] for j in range(1, cap + 1)]
    right = [ux[idx + j] - here for j in range(1, cap + 1)]
    thr = np.maximum(left[-1], right[-1]) * _TIE
    a = np.zeros(len(idx), dtype=np.intp)
    slow = np.zeros(len(idx), dtype=bool)
    for j in range(1, cap + 1):
        for k in range(1, cap + 2 - j):
            d = left[j - 1] - right[k - 1]
            if j + k == cap + 1:
                a += d < 0.0
            slow |= np.abs(d) <= thr
    multi = np.concatenate([[0], np.cumsum(count > 1)])  # tied groups nearby: grow step by step
    slow |= multi[idx + cap + 1] - multi[idx - cap] > 0
    lo = np.arange(g0, G)
    fast = idx[~slow]
    lo[fast - g0] -= a[~slow]
    hi = lo + cap
    redo = np.concatenate([np.arange(g0, idx[0]), idx[slow], np.arange(idx[-1] + 1, G)])
    lo[redo - g0], hi[redo - g0] = _grow_blocks(ux, count, redo, G, cap)
    return lo, hi


def _weights(u: np.ndarray, kcode: int) -> np.ndarray:
    return kernel_weights(u, KERNELS[kcode])  # KERNEL_CODE numbers KERNELS in order


class NumpyKernels:
    """Plain NumPy versions of the compiled kernels of `rdd.kernels`, same signatures and the
    same sums (in another order): the backend below `COMPILED_MIN_ROWS` rows, and the reference
    the compiled kernels are tested against."""

    @staticmethod
    def nn_residuals(dist, D, gstart, g0, G, cap, out):
        """See `kernels.nn_residuals`."""
        distinct = gstart[G] == G  # no ties in the window: group g is point g
        ux = dist[:G] if distinct else dist[gstart[:G]]
        count = np.ones(G, dtype=np.int64) if distinct else np.diff(gstart[: G + 1])
        lo, hi = _grow_merge(ux, count, g0, G, cap)
        r0, r1 = int(gstart[g0]), int(gstart[G])
        a0 = int(gstart[lo.min()]) if len(lo) else r0
        start = gstart[lo] - a0
        stop = gstart[hi + 1] - a0
        if r1 - r0 > G - g0:  # tied groups: every point of a group shares its block
            gid = np.repeat(np.arange(G - g0), count[g0:G])
            start, stop = start[gid], stop[gid]
        J = (stop - start - 1).astype(float)
        f = np.sqrt(J / (J + 1.0))
        cs = np.zeros(r1 - a0 + 1)
        others = np.empty(r1 - r0)
        for c in range(D.shape[1]):  # column by column: 1-d temporaries
            col = D[a0:r1, c]
            centre = col.mean() if len(col) else 0.0
            np.cumsum(col - centre, out=cs[1:])  # centred: window sums stay accurate
            own = D[r0:r1, c] - centre
            np.subtract(cs.take(stop), cs.take(start), out=others)
            others -= own
            others /= J
            np.subtract(own, others, out=own)
            own *= f
            out[: r1 - r0, c] = own

    @staticmethod
    def moments(xs, D, m, h, kcode, npow, order, cross, b, bpow):
        """See `kernels.moments`."""
        u = xs[:m] / h
        w = _weights(u, kcode)
        Dm = D[:m]
        vp = (xs[:m] / b) ** bpow if b > 0.0 else None
        S = np.empty(npow)
        T = np.empty((order + 1, D.shape[1]))
        E = np.zeros(order + 1)
        # einsum, not BLAS: on skinny operands a threaded gemv only waits for busy cores.
        p = w.copy()
        for j in range(npow):
            S[j] = p.sum()
            if j <= order:
                T[j] = np.einsum("i,ic->c", p, Dm)
                if vp is not None:
                    E[j] = np.einsum("i,i->", p, vp)
            p *= u
        C = np.einsum("i,ic,id->cd", w, Dm, Dm) if cross else np.zeros((0, 0))
        return S, T, C, E

    @staticmethod
    def _combined(res, tail, t0, m, s):
        head = np.einsum("ic,c->i", res[: min(t0, m)], s)
        return np.concatenate([head, np.einsum("ic,c->i", tail[: max(m - t0, 0)], s)])

    @staticmethod
    def nn_meat(xs, m, h, kcode, nmom, s, res, tail, t0):
        """See `kernels.nn_meat`."""
        u = xs[:m] / h
        p = (_weights(u, kcode) * NumpyKernels._combined(res, tail, t0, m, s)) ** 2
        M = np.empty(nmom)
        for j in range(nmom):
            M[j] = p.sum()
            p *= u
        return M

    @staticmethod
    def cluster_scores(xs, D, m, h, kcode, order, s, beta_s, cluster, n_clusters):
        """See `kernels.cluster_scores`."""
        u = xs[:m] / h
        w = _weights(u, kcode)
        r = D[:m] @ s - np.vander(u, order + 1, increasing=True) @ beta_s
        cl = cluster[:m]
        tot = np.column_stack(
            [np.bincount(cl, weights=w * r * u**j, minlength=n_clusters) for j in range(order + 1)]
        )
        return tot, len(np.unique(cl))

    @staticmethod
    def bias_corrected(xs, D, m, h, b, kcode, p, iq, L, S, res, tail, t0, bps, bqs, cluster,
                       ncl):  # fmt: skip
        """See `kernels.bias_corrected`."""
        u = xs[:m] / h
        v = xs[:m] / b
        Vq = np.vander(v, len(iq), increasing=True)
        mv = (Vq @ iq) * _weights(v, kcode)
        Up = np.vander(u, p + 1, increasing=True)
        A = Up.T * _weights(u, kcode)
        Q = A - np.outer(L, mv)
        Dm = D[:m]
        ns = S.shape[0]
        mh = np.zeros((ns, p + 1, p + 1))
        mb = np.zeros((ns, p + 1, p + 1))
        th = np.zeros((ns, ncl, p + 1))
        tb = np.zeros((ns, ncl, p + 1))
        g = 0
        for t in range(ns):
            if len(cluster) == 0:
                r2 = NumpyKernels._combined(res, tail, t0, m, S[t]) ** 2
                mh[t] = np.einsum("ji,i,ki->jk", A, r2, A)
                mb[t] = np.einsum("ji,i,ki->jk", Q, r2, Q)
                continue
            cl = cluster[:m]
            g = len(np.unique(cl))
            sd = Dm @ S[t]
            rh = sd - Up @ bps[t]
            rb = sd - Vq @ bqs[t]
            for j in range(p + 1):
                th[t, :, j] = np.bincount(cl, weights=A[j] * rh, minlength=ncl)
                tb[t, :, j] = np.bincount(cl, weights=Q[j] * rb, minlength=ncl)
        return np.einsum("ji,ic->jc", Q, Dm), mh, mb, th, tb, g

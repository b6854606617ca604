"""Local polynomial building blocks of regression discontinuity: one side of the cutoff.

Each side is stored once, sorted by distance to the cutoff, so every kernel window (all points
with positive weight at bandwidth h) is a *prefix* of the arrays – no masks, no copies. The
pieces here are the weighted least-squares fit of order p on a window, the nearest-neighbour
residuals of Calonico, Cattaneo & Titiunik (2014, "CCT") and the sandwich "meat" sums
(heteroskedasticity-robust or clustered).

Designs are in units of u = (x − c)/h (well conditioned whatever the scale of x); coefficients are
converted back to the raw scale where a derivative is needed.

Speed without changing a digit: the higher-order pilot fits of the bandwidth selector are
ill-conditioned enough (an order-4 global fit) that merely summing in another order moves h by
up to ~1e-10 relative (the number of OpenBLAS threads alone moves it by ~1e-11). So every shortcut
here keeps the arithmetic: the same elementwise operations and the same BLAS calls (matrix
products are layout-independent in BLAS gemm/syrk; matrix-vector products get the column layout
they always had), and the nearest-neighbour blocks come from comparisons that reproduce the
step-by-step growth exactly. What is saved is work that was repeated or thrown away: sorting,
gathers, per-step fancy indexing, strided temporaries and refits.

Reference: Calonico, Cattaneo & Titiunik (2014), "Robust nonparametric confidence intervals for
regression-discontinuity designs", Econometrica 82(6); Calonico, Cattaneo & Farrell (2018, JASA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.core.errors import UserInputError

KERNELS = ("triangular", "uniform", "epanechnikov")
_TIE = np.sqrt(np.finfo(float).eps)


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


def powers(u: np.ndarray, order: int) -> np.ndarray:
    """The design [1, u, …, u^order] by repeated multiplication, one row per power.

    Rows keep each power contiguous, which makes building and weighting the design several
    times faster on long windows than the (n × order+1) layout; the matrix products below give
    bit-for-bit the same results in either layout (BLAS gemm/syrk), except matrix-vector
    products, which take the column layout (`LocalFit.R`, `LocalFit.RW`)."""
    out = np.empty((order + 1, len(u)))
    out[0] = 1.0
    for j in range(1, order + 1):
        np.multiply(out[j - 1], u, out=out[j])
    return out


def inverse_gram(RT: np.ndarray, RWT: np.ndarray) -> np.ndarray:
    """(R'WR)⁻¹ from the design rows R' and the weighted rows R'W, by Cholesky (pseudo-inverse if
    singular)."""
    G = RWT @ RT.T
    try:
        Linv = np.linalg.inv(np.linalg.cholesky(G))
        return Linv.T @ Linv
    except np.linalg.LinAlgError:
        return np.linalg.pinv(G)


@dataclass
class LocalFit:
    """The kernel-weighted design of an order-`order` fit on the first m points of a side at
    bandwidth h: u = x/h, weights w, the design rows R' = [1, u, …]' and R'W, and (R'WR)⁻¹."""

    m: int
    h: float
    u: np.ndarray
    w: np.ndarray
    RT: np.ndarray
    RWT: np.ndarray
    inv_g: np.ndarray
    _R: np.ndarray | None = None
    _RW: np.ndarray | None = None

    @property
    def R(self) -> np.ndarray:
        """The design in the (m × order+1) layout, built on first use."""
        if self._R is None:
            self._R = np.ascontiguousarray(self.RT.T)
        return self._R

    @property
    def RW(self) -> np.ndarray:
        """W·R in the (m × order+1) layout, built on first use."""
        if self._RW is None:
            self._RW = np.ascontiguousarray(self.RWT.T)
        return self._RW

    def coef(self, D: np.ndarray) -> np.ndarray:
        """Weighted least-squares coefficients of the columns of D (u units)."""
        if D.shape[1] == 1:  # a matrix-vector product: the column layout
            return self.inv_g @ (self.RW.T @ D)
        return self.inv_g @ (self.RWT @ D)


def local_fit(side: Side, h: float, order: int, kernel: str, m: int) -> LocalFit:
    """The fit of `order` at bandwidth h on the first m points of `side`.

    The last fit of each side is kept: the bandwidth selector's last bias fit (order p+1 at b)
    is the bias-correction fit of the final estimate."""
    key = (h, order, kernel, m)
    if side.last_fit is not None and side.last_fit[0] == key:
        return side.last_fit[1]
    u = side.x[:m] / h
    w = kernel_weights(u, kernel)
    RT = powers(u, order)
    RWT = RT * w
    fit = LocalFit(m, h, u, w, RT, RWT, inverse_gram(RT, RWT))
    side.last_fit = (key, fit)
    return fit


def combine(res: np.ndarray, s: np.ndarray) -> np.ndarray:
    """res @ s, the residual of the combination s of the columns (the column itself if s = [1])."""
    if len(s) == 1 and s[0] == 1.0:
        return res[:, 0]
    return res @ s


@dataclass
class Side:
    """One side of the cutoff, sorted by distance |x − c| ascending.

    `x` is the signed distance x − c; `D` holds the columns [outcome, (treatment), covariates…];
    `cluster` integer codes or None; `group_start` the first index of each run of tied x values.
    The nearest-neighbour blocks and running sums are computed once, on first use."""

    x: np.ndarray
    dist: np.ndarray
    D: np.ndarray
    cluster: np.ndarray | None
    group_start: np.ndarray
    blocks: tuple[np.ndarray, np.ndarray] | None = None
    full_nn: np.ndarray | None = None
    _cumsum: np.ndarray | None = None
    centre: np.ndarray | None = None
    _count: np.ndarray | None = None
    last_fit: tuple[tuple, LocalFit] | None = None

    @property
    def n(self) -> int:
        return len(self.x)

    @property
    def unique(self) -> int:
        return len(self.group_start)

    def unique_in(self, m: int) -> int:
        """Distinct x values among the first m points."""
        return int(np.searchsorted(self.group_start, m, side="left"))

    @property
    def count(self) -> np.ndarray:
        """Size of each tie group."""
        if self._count is None:
            self._count = np.diff(self.group_start, append=self.n)
        return self._count

    @property
    def ux(self) -> np.ndarray:
        """The distinct distances, ascending."""
        return self.dist if self.unique == self.n else self.dist[self.group_start]

    @property
    def cumsum(self) -> np.ndarray:
        """Running sums of the centred columns, one row per column (centring keeps window sums
        accurate)."""
        if self._cumsum is None:
            self.centre = self.D.mean(axis=0)
            self._cumsum = np.zeros((self.D.shape[1], self.n + 1))
            for j in range(self.D.shape[1]):
                np.cumsum(self.D[:, j] - self.centre[j], out=self._cumsum[j, 1:])
        return self._cumsum


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


def make_side(
    x: np.ndarray, columns: list[np.ndarray], cluster: np.ndarray | None, rows: np.ndarray
) -> Side:
    """One side of the cutoff: the points `rows` (ascending) of x (centred at the cutoff), of the
    data columns and of the cluster codes, sorted by distance to the cutoff."""
    xs = x[rows]
    dist = np.abs(xs)
    order = stable_order(dist)
    sdist = dist[order]
    new = np.empty(len(sdist), dtype=bool)
    if len(sdist):
        new[0] = True
        np.not_equal(sdist[1:], sdist[:-1], out=new[1:])
    take = rows[order]
    D = np.empty((len(take), len(columns)))
    for j, col in enumerate(columns):
        np.take(col, take, out=D[:, j])
    return Side(
        x=xs[order],
        dist=sdist,
        D=D,
        cluster=None if cluster is None else cluster[take],
        group_start=np.flatnonzero(new),
    )


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
        new_lo = np.where(take_l, a_lo - 1, a_lo)
        new_hi = np.where(take_r, a_hi + 1, a_hi)
        lo[active], hi[active] = new_lo, new_hi
        have[active] += np.where(take_l, count[np.maximum(new_lo, 0)], 0) + np.where(
            take_r, count[np.minimum(new_hi, G - 1)], 0
        )
        active = active[have[active] < cap]
    return lo, hi


def _grow_all(ux: np.ndarray, count: np.ndarray, G: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """`_grow_blocks` for every one of the first G groups, without gathers.

    A block never takes more than `cap` groups on a side, so the candidate gaps and group sizes
    are shifted copies of the sorted arrays; each growth step picks among them with np.choose."""
    ux, count = ux[:G], count[:G]
    inf = np.full(G, np.inf)
    zero = np.zeros(G, dtype=count.dtype)
    gaps_l, gaps_r, size_l, size_r = [], [], [], []
    for j in range(1, cap + 1):
        gl, gr, cl, cr = inf.copy(), inf.copy(), zero.copy(), zero.copy()
        if j < G:
            gl[j:] = ux[j:] - ux[:-j]
            gr[:-j] = ux[j:] - ux[:-j]
            cl[j:] = count[:-j]
            cr[:-j] = count[j:]
        gaps_l.append(gl)
        gaps_r.append(gr)
        size_l.append(cl)
        size_r.append(cr)
    gaps_l.append(inf)
    gaps_r.append(inf)
    size_l.append(zero)
    size_r.append(zero)
    a = np.zeros(G, dtype=np.intp)
    b = np.zeros(G, dtype=np.intp)
    have = count - 1
    for _ in range(cap):
        active = have < cap
        if not active.any():
            break
        d_l = np.choose(a, gaps_l)
        d_r = np.choose(b, gaps_r)
        fin_l, fin_r = np.isfinite(d_l), np.isfinite(d_r)
        both = fin_l & fin_r
        tol = np.where(both, np.maximum(d_l, d_r) * _TIE, 0.0)
        take_r = ~fin_l | (both & (d_l - d_r > tol))
        take_l = ~fin_r | (both & (d_r - d_l > tol))
        tie = both & ~take_r & ~take_l
        take_l = active & (take_l | tie)
        take_r = active & (take_r | tie)
        have = (
            have
            + np.where(take_l, np.choose(a, size_l), 0)
            + np.where(take_r, np.choose(b, size_r), 0)
        )
        a += take_l
        b += take_r
    groups = np.arange(G)
    return groups - a, groups + b


def _grow_fast(
    ux: np.ndarray, count: np.ndarray, G: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """`_grow_all` without its step-by-step growth where that growth is a plain merge.

    For a single point whose `cap` nearest groups on either side are single points, growing the
    block takes one point per step, the nearer of the next left and right candidates: a merge of
    the left gaps L_1 ≤ L_2 ≤ … and the right gaps R_1 ≤ R_2 ≤ …. The block then holds
    a = Σ_j [L_j < R_(cap+1−j)] points on the left and cap − a on the right – a few comparisons of
    shifted arrays. Wherever one of the comparisons the growth could make (L_j against R_k with
    j + k ≤ cap + 1) may be a tie within the tolerance, near the ends of the window and next to
    tied values, the block is grown step by step by `_grow_blocks` instead, so every block is the
    one the step-by-step rule gives."""
    ux, count = ux[:G], count[:G]
    n_in = G - 2 * cap  # points with all 2·cap neighbours inside the window
    # left[j-1][i] = ux[cap+i] − ux[cap+i−j], right[k-1][i] = ux[cap+i+k] − ux[cap+i]: the same
    # subtractions as the step-by-step growth.
    left, right = [], []
    for j in range(1, cap + 1):
        diff = ux[j:] - ux[:-j]
        left.append(diff[cap - j : cap - j + n_in])
        right.append(diff[cap : cap + n_in])
    # Every comparison involves gaps no larger than the largest of L_cap and R_cap, so its tie
    # tolerance is at most `thr`: |L_j − R_k| > thr rules a tie out (a superset is checked).
    thr = np.maximum(left[-1], right[-1])
    thr *= _TIE
    a = np.zeros(n_in, dtype=np.int8)
    d = np.empty(n_in)
    closest = np.full(n_in, np.inf)
    less = np.empty(n_in, dtype=bool)
    for j in range(1, cap + 1):
        for k in range(1, cap + 2 - j):
            np.subtract(left[j - 1], right[k - 1], out=d)
            if j + k == cap + 1:
                np.less(d, 0.0, out=less)
                np.add(a, less.view(np.int8), out=a)
            np.abs(d, out=d)
            np.minimum(closest, d, out=closest)
    slow = closest <= thr
    if count.max(initial=1) > 1:
        # Blocks of points near tied values take whole groups: grow those step by step.
        multi = np.concatenate([[0], np.cumsum(count > 1)])
        i = np.arange(cap, G - cap)
        slow |= multi[i + cap + 1] - multi[i - cap] > 0
    redo = np.concatenate([np.arange(cap), cap + np.flatnonzero(slow), np.arange(G - cap, G)])
    if len(redo) > G // 4:  # mostly ties: the growth for all groups at once is faster
        return (*_grow_all(ux, count, G, cap), None)
    lo = np.arange(G)
    lo[cap : G - cap] -= a
    hi = lo + cap
    lo[redo], hi[redo] = _grow_blocks(ux, count, redo, G, cap)
    return lo, hi, redo


def _fill_regular(side: Side, out: np.ndarray, lo: np.ndarray, cap: int) -> None:
    """Residuals of the first len(lo) points, each of which is a single point whose block is the
    cap + 1 points lo … lo + cap (J = cap others): `_block_residuals` with the block sums read
    off one array of running window sums instead of two gathers."""
    m = len(lo)
    cs = side.cumsum
    J = float(cap)
    factor = np.sqrt(J / (J + 1.0))
    centred = np.empty(m)
    others = np.empty(m)
    stop = min(m, side.n - cap)
    for j in range(side.D.shape[1]):
        # W[t] = cs[t + cap + 1] − cs[t]: the same subtraction as cs[stop] − cs[start].
        W = cs[j, cap + 1 : cap + 1 + stop] - cs[j, :stop]
        np.subtract(side.D[:m, j], side.centre[j], out=centred)
        np.take(W, lo, out=others, mode="clip")  # rows with another block are redone after
        others -= centred
        others /= J
        np.subtract(centred, others, out=others)
        others *= factor
        out[:, j] = others


def _block_residuals(
    side: Side, rows: np.ndarray | slice, start: np.ndarray, stop: np.ndarray, out: np.ndarray
) -> None:
    """out[rows] = √(J/(J+1))·(D_i − mean of the other J points of rows [start, stop))."""
    cs = side.cumsum
    J = (stop - start - 1).astype(float)
    factor = J + 1.0
    np.divide(J, factor, out=factor)
    np.sqrt(factor, out=factor)
    centred = np.empty(len(J))
    others = np.empty(len(J))
    for j in range(side.D.shape[1]):  # column by column: contiguous, in place
        np.subtract(side.D[rows, j], side.centre[j], out=centred)
        np.take(cs[j], stop, out=others)
        others -= cs[j].take(start)
        others -= centred
        others /= J
        np.subtract(centred, others, out=others)
        others *= factor
        out[rows, j] = others


def nn_residuals(side: Side, m: int, matches: int = 3) -> np.ndarray:
    """Nearest-neighbour residuals of the first m points (CCT 2014, vce='nn').

    Each point's residual is √(J/(J+1))·(D_i − mean of its J nearest neighbours in x, within the
    window), with at least `matches` neighbours and all ties at a distance taken together. On
    sorted data the neighbours of a point form a contiguous block of tie groups. Blocks are
    computed for the largest window asked for so far; a smaller window (a prefix) changes only
    the blocks that reach past it, which are regrown inside it."""
    count = side.count
    ux = side.ux
    G = side.unique_in(m)
    cached = 0 if side.blocks is None else len(side.blocks[0])
    if cached < G:
        # A larger window than any before: find every block inside it.
        cap = min(matches, m - 1)
        redo = None
        if cap >= 1 and 4 * cap < G:
            lo_all, hi_all, redo = _grow_fast(ux, count, G, cap)
        else:
            lo_all, hi_all = _grow_all(ux, count, G, cap)
        side.blocks = (lo_all, hi_all)
        res = np.empty((m, side.D.shape[1]))
        if redo is not None and m == G:  # no ties: regular blocks of cap + 1 points but a few
            _fill_regular(side, res, lo_all, cap)
            _fill(side, res, redo, lo_all[redo], hi_all[redo], count)
        else:
            _fill(side, res, np.arange(G), lo_all, hi_all, count)
        side.full_nn = res
        return res
    out = side.full_nn[:m] if cached == G else side.full_nn[:m].copy()
    bad = np.flatnonzero(side.blocks[1][:G] >= G)  # blocks that reach past the window
    if bad.size:
        lo, hi = _grow_blocks(ux[:G], count[:G], bad, G, min(matches, m - 1))
        _fill(side, out, bad, lo, hi, count)
    return out


def _fill(
    side: Side, out: np.ndarray, groups: np.ndarray, lo: np.ndarray, hi: np.ndarray,
    count: np.ndarray,
) -> None:  # fmt: skip
    """Write the residuals of every point of `groups` (blocks [lo, hi]) into `out`."""
    if len(groups) == len(out):  # every group a single point, all of them: no index juggling
        # Without ties group g is point g: a block [lo, hi] holds the points lo … hi.
        if side.unique == side.n:
            _block_residuals(side, slice(0, len(out)), lo, hi + 1, out)
            return
        gstart = side.group_start
        _block_residuals(side, slice(0, len(out)), gstart[lo], gstart[hi] + count[hi], out)
        return
    gstart = side.group_start
    sizes = count[groups]
    offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    rows = np.repeat(gstart[groups], sizes) + offsets
    gid = np.repeat(np.arange(len(groups)), sizes)
    start, stop = gstart[lo][gid], (gstart[hi] + count[hi])[gid]
    _block_residuals(side, rows, start, stop, out)


def meat(A: np.ndarray, r: np.ndarray, cluster: np.ndarray | None, k: int) -> np.ndarray:
    """Σ a_i a_i' r_i² (no clusters), or the CR1 sum over clusters of (Σ_g a_i r_i)(…)'.

    `A` has one row per coefficient (a_i is its i-th column). The cluster version carries the
    small-sample factor (n−1)/(n−k)·G/(G−1)."""
    scores = A * r
    if cluster is None:
        return scores @ scores.T
    codes, inverse = np.unique(cluster, return_inverse=True)
    g = len(codes)
    totals = np.column_stack(
        [np.bincount(inverse, weights=scores[j], minlength=g) for j in range(A.shape[0])]
    )
    n = len(r)
    factor = (n - 1) / (n - k) * g / (g - 1) if g > 1 else np.nan
    return factor * (totals.T @ totals)


def fit_residuals(side: Side, fit: LocalFit, beta: np.ndarray, vce: str) -> np.ndarray:
    """Residuals for the variance: nearest-neighbour, or plain fitted residuals with clusters."""
    if vce == "nn":
        return nn_residuals(side, fit.m)
    return side.D[: fit.m] - fit.R @ beta


def require_points(side: Side, m: int, order: int, name: str, what: str) -> None:
    if side.unique_in(m) < order + 1:
        raise UserInputError(
            f"only {side.unique_in(m)} distinct running-variable values {name} the cutoff fall "
            f"inside the {what}; an order-{order} polynomial needs {order + 1} – use a larger "
            "--bandwidth or a lower --order."
        )

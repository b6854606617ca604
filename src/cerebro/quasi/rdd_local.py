"""Local polynomial building blocks of regression discontinuity: one side of the cutoff.

Each side is stored once, sorted by distance to the cutoff, so every kernel window (all points
with positive weight at bandwidth h) is a *prefix* of the arrays – no masks, no copies. The
pieces here are the weighted least-squares fit of order p on a window, the nearest-neighbour
residuals of Calonico, Cattaneo & Titiunik (2014, "CCT") and the sandwich "meat" sums
(heteroskedasticity-robust or clustered).

Designs are in units of u = (x − c)/h (well conditioned whatever the scale of x); coefficients are
converted back to the raw scale where a derivative is needed.

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
    a = np.abs(u)
    if kernel == "triangular":
        return np.maximum(1.0 - a, 0.0)
    if kernel == "epanechnikov":
        return np.maximum(0.75 * (1.0 - a * a), 0.0)
    return np.where(a <= 1.0, 0.5, 0.0)


def window_size(dist: np.ndarray, h: float, kernel: str) -> int:
    """How many points (a prefix of `dist`, sorted ascending) get a positive kernel weight."""
    # Triangular and Epanechnikov weights vanish at |u| = 1; the uniform kernel keeps that point.
    side = "right" if kernel == "uniform" else "left"
    return int(np.searchsorted(dist, h, side=side))


def vander(u: np.ndarray, order: int) -> np.ndarray:
    """[1, u, …, u^order] by repeated multiplication."""
    out = np.empty((len(u), order + 1))
    out[:, 0] = 1.0
    for j in range(1, order + 1):
        np.multiply(out[:, j - 1], u, out=out[:, j])
    return out


def inverse_gram(R: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(R'WR)⁻¹, by Cholesky (pseudo-inverse if singular)."""
    G = (R * w[:, None]).T @ R
    try:
        Linv = np.linalg.inv(np.linalg.cholesky(G))
        return Linv.T @ Linv
    except np.linalg.LinAlgError:
        return np.linalg.pinv(G)


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
    def cumsum(self) -> np.ndarray:
        """Running sums of the centred columns (centring keeps window sums accurate)."""
        if self._cumsum is None:
            self.centre = self.D.mean(axis=0)
            self._cumsum = np.zeros((self.n + 1, self.D.shape[1]))
            np.cumsum(self.D - self.centre, axis=0, out=self._cumsum[1:])
        return self._cumsum


def make_side(x: np.ndarray, D: np.ndarray, cluster: np.ndarray | None) -> Side:
    """Sort one side by distance to the cutoff (x already centred at the cutoff)."""
    dist = np.abs(x)
    order = np.argsort(dist, kind="stable")
    dist = dist[order]
    new = np.empty(len(dist), dtype=bool)
    if len(dist):
        new[0] = True
        np.not_equal(dist[1:], dist[:-1], out=new[1:])
    return Side(
        x=x[order],
        dist=dist,
        D=np.ascontiguousarray(D[order]),
        cluster=None if cluster is None else cluster[order],
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


def _block_residuals(
    side: Side, rows: np.ndarray | slice, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """√(J/(J+1))·(D_i − mean of the other J points of rows [start, stop))."""
    cs = side.cumsum
    centred = side.D[rows] - side.centre
    J = (stop - start - 1).astype(float)
    others = cs[stop] - cs[start] - centred
    return np.sqrt(J / (J + 1.0))[:, None] * (centred - others / J[:, None])


def nn_residuals(side: Side, m: int, matches: int = 3) -> np.ndarray:
    """Nearest-neighbour residuals of the first m points (CCT 2014, vce='nn').

    Each point's residual is √(J/(J+1))·(D_i − mean of its J nearest neighbours in x, within the
    window), with at least `matches` neighbours and all ties at a distance taken together. On
    sorted data the neighbours of a point form a contiguous block of tie groups. Blocks are
    computed for the largest window asked for so far; a smaller window (a prefix) changes only
    the blocks that reach past it, which are regrown inside it."""
    gstart = side.group_start
    count = np.diff(np.append(gstart, side.n))
    ux = side.dist[gstart]
    G = side.unique_in(m)
    cached = 0 if side.blocks is None else len(side.blocks[0])
    if cached < G:
        # A larger window than any before: find every block inside it (cheap without gathers).
        lo_all, hi_all = _grow_all(ux, count, G, min(matches, m - 1))
        side.blocks = (lo_all, hi_all)
        res = np.empty((m, side.D.shape[1]))
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
    gstart = side.group_start
    sizes = count[groups]
    if len(groups) == len(out):  # every group a single point, all of them: no index juggling
        rows: np.ndarray | slice = slice(0, len(out))
        start, stop = gstart[lo], gstart[hi] + count[hi]
    else:
        offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        rows = np.repeat(gstart[groups], sizes) + offsets
        gid = np.repeat(np.arange(len(groups)), sizes)
        start, stop = gstart[lo][gid], (gstart[hi] + count[hi])[gid]
    out[rows] = _block_residuals(side, rows, start, stop)


def meat(A: np.ndarray, r: np.ndarray, cluster: np.ndarray | None, k: int) -> np.ndarray:
    """Σ a_i a_i' r_i² (no clusters), or the CR1 sum over clusters of (Σ_g a_i r_i)(…)'.

    The cluster version carries the small-sample factor (n−1)/(n−k)·G/(G−1)."""
    scores = A * r[:, None]
    if cluster is None:
        return scores.T @ scores
    codes, inverse = np.unique(cluster, return_inverse=True)
    g = len(codes)
    totals = np.column_stack(
        [np.bincount(inverse, weights=scores[:, j], minlength=g) for j in range(A.shape[1])]
    )
    n = len(r)
    factor = (n - 1) / (n - k) * g / (g - 1) if g > 1 else np.nan
    return factor * (totals.T @ totals)


def fit_residuals(side: Side, m: int, R: np.ndarray, beta: np.ndarray, vce: str) -> np.ndarray:
    """Residuals for the variance: nearest-neighbour, or plain fitted residuals with clusters."""
    if vce == "nn":
        return nn_residuals(side, m)
    return side.D[:m] - R @ beta


def require_points(side: Side, m: int, order: int, name: str, what: str) -> None:
    if side.unique_in(m) < order + 1:
        raise UserInputError(
            f"only {side.unique_in(m)} distinct running-variable values {name} the cutoff fall "
            f"inside the {what}; an order-{order} polynomial needs {order + 1} – use a larger "
            "--bandwidth or a lower --order."
        )

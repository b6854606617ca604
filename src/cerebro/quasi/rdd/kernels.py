"""Compiled one-pass kernels of the regression discontinuity estimator.

Everything the local polynomial fits of `rdd_bandwidth` and `rdd_estimate` need from the data is
a handful of kernel-weighted sums over a window (a prefix of one side sorted by distance to the
cutoff): Σ w u^j, Σ w u^j D, the sandwich "meat" Σ (w u^j r)(w u^l r) with nearest-neighbour or
clustered residuals r, and the bias-corrected design Q of Calonico, Cattaneo & Titiunik (2014,
Econometrica 82(6), "CCT"). Here each is one pass over the window with no temporaries: no
(n × order+1) design matrices, no BLAS on skinny matrices, no page faults of fresh arrays – on a
million rows those cost far more than the arithmetic. The small (order+1)² matrices are then
inverted in NumPy by the callers.

The sums are accumulated in blocks of `_BLOCK` points (a two-level summation, four partial sums
per block in a fixed order: the same input always gives the same bits), so the rounding error
grows like (block + n/block)·ε instead of n·ε. That matters because the bandwidth selector's
order-(p+3) pilot fit is ill-conditioned: summing in another order moves h by up to ~1e-10
relative (on 1M rows h agrees with rdrobust to ~4e-12).

The nearest-neighbour residuals follow CCT (2014) (rdrobust's vce='nn', 3 matches): a point's
residual is √(J/(J+1))·(D_i − mean of its J nearest neighbours within the window), the block of
neighbours grown one tie group at a time towards the nearer side (both when equidistant within a
relative tolerance), until it holds at least `cap` other points.

``cache=True``: the compile cost (several seconds) is paid once per installation, not per
process; each process still pays numba's import and start-up (~0.5 s), which is why
`rdd.local` uses these kernels only for large inputs. The same functions in NumPy are
`rdd.local.NumpyKernels` (the tests hold the two to rounding).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Kernels are numbered as `rdd.local.KERNEL_CODE`: 0 triangular, 1 uniform, 2 epanechnikov.
TIE = float(np.sqrt(np.finfo(float).eps))  # relative tolerance of an equidistant neighbour
_BLOCK = 256


@njit(cache=True)
def _weight(u, kcode):
    """K(u) up to a constant factor, as `rdd.local.kernel_weights` computes it."""
    a = abs(u)
    if kcode == 0:
        v = 1.0 - a
        return v if v > 0.0 else 0.0
    if kcode == 2:
        v = 0.75 * (1.0 - a * a)
        return v if v > 0.0 else 0.0
    return 0.5 if a <= 1.0 else 0.0


# --------------------------------------------------------------------------- sorting
@njit(cache=True)
def side_keys(x, cols, n_right, bits):
    """Split the points by side of the cutoff (0): the rows (x, data columns…) of each side
    packed together (left rows first, each side in row order) and one sort key per point,
    the bits of |x| (a non-negative double orders like its bit pattern read as an integer) with
    the low `bits` bits replaced by the point's row in the packed array.

    Sorting the keys as plain int64 orders each side by distance to the cutoff (to a relative
    2^-(52-bits)) and then by row; `gather_side` repairs the order of distinct distances that
    share a key. Packing the rows makes the gather after the sort one cache line per point. One
    pass, no branches on the (random) side of each point."""
    n = len(x)
    k = cols.shape[0]
    low = (np.int64(1) << bits) - 1
    buf = np.empty(n, np.float64)
    key = buf.view(np.int64)
    packed = np.empty((n, k + 1))
    a = 0
    b = n - n_right
    for i in range(n):
        xi = x[i]
        right = xi >= 0.0
        pos = b if right else a
        buf[pos] = abs(xi)
        key[pos] = (key[pos] & ~low) | pos
        packed[pos, 0] = xi
        for c in range(k):
            packed[pos, c + 1] = cols[c, i]
        a += 1 - right
        b += right
    return key[: n - n_right], key[n - n_right :], packed


@njit(cache=True)
def gather_side(keys, bits, packed):
    """One side in order of (distance, row) from its sorted keys: signed x, distance, the data
    columns (one row per point) and the start of each run of tied distances (with a final
    sentinel n). Returns ok=False if the keys were too coarse for too many points (then the
    caller sorts by distance itself)."""
    n = len(keys)
    k = packed.shape[1] - 1
    low = (np.int64(1) << bits) - 1
    xs = np.empty(n)
    dist = np.empty(n)
    D = np.empty((n, k))
    for j in range(n):
        i = keys[j] & low
        xv = packed[i, 0]
        xs[j] = xv
        dist[j] = abs(xv)
        for c in range(k):
            D[j, c] = packed[i, c + 1]
    # Distinct distances closer than the key resolution came out in row order: a stable
    # insertion sort by distance puts them right (ties keep row order), within a work budget.
    row = np.empty(k)
    moves = 0
    for j in range(1, n):
        if dist[j] < dist[j - 1]:
            d, xv = dist[j], xs[j]
            for c in range(k):
                row[c] = D[j, c]
            t = j
            while t > 0 and dist[t - 1] > d:
                dist[t] = dist[t - 1]
                xs[t] = xs[t - 1]
                for c in range(k):
                    D[t, c] = D[t - 1, c]
                t -= 1
                moves += 1
            dist[t], xs[t] = d, xv
            for c in range(k):
                D[t, c] = row[c]
            if moves > 4 * n + 1000:
                return False, xs, dist, D, np.empty(0, np.int64)
    return True, xs, dist, D, group_starts(dist)


@njit(cache=True)
def gather_order(order, packed):
    """`gather_side` for a given order of packed rows (the fallback)."""
    n = len(order)
    k = packed.shape[1] - 1
    xs = np.empty(n)
    dist = np.empty(n)
    D = np.empty((n, k))
    for j in range(n):
        i = order[j]
        xs[j] = packed[i, 0]
        dist[j] = abs(packed[i, 0])
        for c in range(k):
            D[j, c] = packed[i, c + 1]
    return xs, dist, D, group_starts(dist)


@njit(cache=True)
def group_starts(dist):
    """First index of each run of equal values of sorted `dist`, and the sentinel len(dist)."""
    n = len(dist)
    g = 1 if n else 0
    for j in range(1, n):
        if dist[j] != dist[j - 1]:
            g += 1
    out = np.empty(g + 1, np.int64)
    out[g] = n
    if n:
        out[0] = 0
        t = 1
        for j in range(1, n):
            if dist[j] != dist[j - 1]:
                out[t] = j
                t += 1
    return out


# --------------------------------------------------------------------------- nearest neighbours
@njit(cache=True)
def _block(dist, gstart, g, G, cap):
    """Neighbour block [lo, hi] (tie-group indices) of group g among the first G groups: it
    starts at g (ties are neighbours from the start) and grows towards the nearer neighbouring
    group – both when equidistant – until it holds `cap` other points."""
    lo = g
    hi = g
    have = gstart[g + 1] - gstart[g] - 1
    here = dist[gstart[g]]
    while have < cap:
        can_l = lo > 0
        can_r = hi < G - 1
        if not (can_l or can_r):
            break
        d_l = here - dist[gstart[lo - 1]] if can_l else np.inf
        d_r = dist[gstart[hi + 1]] - here if can_r else np.inf
        both = can_l and can_r
        tol = max(d_l, d_r) * TIE if both else 0.0
        take_r = (not can_l) or (both and d_l - d_r > tol)
        take_l = (not can_r) or (both and d_r - d_l > tol)
        if both and not take_r and not take_l:
            take_l = True
            take_r = True
        if take_l:
            lo -= 1
            have += gstart[lo + 1] - gstart[lo]
        if take_r:
            hi += 1
            have += gstart[hi + 1] - gstart[hi]
    return lo, hi


@njit(cache=True)
def nn_residuals(dist, D, gstart, g0, G, cap, out):
    """Residuals of the points of groups g0 … G−1, neighbours among the first G groups, written
    to out[i − gstart[g0]]: √(J/(J+1))·(D_i − mean of the J others of the block).

    Fast path (cap = 3, a single point whose three neighbouring groups on each side are single
    points): the growth takes one point per step, the nearer of the next left and right ones, so
    the block holds a = [L1 < R3] + [L2 < R2] + [L3 < R1] points on the left (L_j, R_j the gaps to
    the j-th neighbour on each side) – unless one of the comparisons the growth could make is a
    tie within the tolerance, when the block is grown step by step."""
    k = D.shape[1]
    row0 = gstart[g0]
    sums = np.empty(k)
    J3 = 3.0
    f3 = np.sqrt(J3 / (J3 + 1.0))
    for g in range(g0, G):
        i = gstart[g]
        if cap == 3 and g >= 3 and g + 3 < G and gstart[g + 4] - gstart[g - 3] == 7:
            here = dist[i]
            l1 = here - dist[i - 1]
            l2 = here - dist[i - 2]
            l3 = here - dist[i - 3]
            r1 = dist[i + 1] - here
            r2 = dist[i + 2] - here
            r3 = dist[i + 3] - here
            thr = max(l3, r3) * TIE
            if (
                abs(l1 - r1) > thr
                and abs(l1 - r2) > thr
                and abs(l2 - r1) > thr
                and abs(l1 - r3) > thr
                and abs(l2 - r2) > thr
                and abs(l3 - r1) > thr
            ):
                a = i - (int(l1 < r3) + int(l2 < r2) + int(l3 < r1))
                for c in range(k):
                    t = D[a, c] + D[a + 1, c]
                    t += D[a + 2, c]
                    t += D[a + 3, c]
                    out[i - row0, c] = f3 * (D[i, c] - (t - D[i, c]) / J3)
                continue
        lo, hi = _block(dist, gstart, g, G, cap)
        a = gstart[lo]
        z = gstart[hi + 1]
        J = z - a - 1.0
        f = np.sqrt(J / (J + 1.0))
        for c in range(k):
            sums[c] = 0.0
        for t in range(a, z):
            for c in range(k):
                sums[c] += D[t, c]
        for r in range(gstart[g], gstart[g + 1]):
            for c in range(k):
                out[r - row0, c] = f * (D[r, c] - (sums[c] - D[r, c]) / J)


# --------------------------------------------------------------------------- weighted sums
# Sums run over blocks of `_BLOCK` points held in small buffers (L1 cache): per block, each
# power of u is one multiply of the buffer and one sum with four independent partial sums (a
# fixed order, so the same input always gives the same bits), added to the running total.
@njit(cache=True)
def _sum(a, n):
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
        i += 4
    while i < n:
        s0 += a[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True)
def _dot(a, b, n):
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
        i += 4
    while i < n:
        s0 += a[i] * b[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True)
def _dot3(a, b, c, n):
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += a[i] * b[i] * c[i]
        s1 += a[i + 1] * b[i + 1] * c[i + 1]
        s2 += a[i + 2] * b[i + 2] * c[i + 2]
        s3 += a[i + 3] * b[i + 3] * c[i + 3]
        i += 4
    while i < n:
        s0 += a[i] * b[i] * c[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True)
def moments(xs, D, m, h, kcode, npow, order, cross, b, bpow):
    """Sums over the first m points, u = x/h, w = K(u):
    S[j] = Σ w u^j (j < npow), T[j, c] = Σ w u^j D_c (j ≤ order), C = Σ w D D' (if `cross`),
    E[j] = Σ w u^j (x/b)^bpow (j ≤ order; if b > 0)."""
    k = D.shape[1]
    S = np.zeros(npow)
    T = np.zeros((order + 1, k))
    nc = k if cross else 0
    C = np.zeros((nc, nc))
    E = np.zeros(order + 1)
    ub = np.empty(_BLOCK)
    wb = np.empty(_BLOCK)
    pb = np.empty(_BLOCK)
    vb = np.empty(_BLOCK)
    db = np.empty((k, _BLOCK))  # the block's data, one row per column
    for start in range(0, m, _BLOCK):
        nb = min(_BLOCK, m - start)
        for i in range(nb):
            u = xs[start + i] / h
            ub[i] = u
            w = _weight(u, kcode)
            wb[i] = w
            pb[i] = w
            for c in range(k):
                db[c, i] = D[start + i, c]
        if b > 0.0:
            for i in range(nb):
                v = xs[start + i] / b
                vp = 1.0
                for _ in range(bpow):
                    vp *= v
                vb[i] = vp
        for j in range(npow):
            S[j] += _sum(pb, nb)
            if j <= order:
                for c in range(k):
                    T[j, c] += _dot(pb, db[c], nb)
                if b > 0.0:
                    E[j] += _dot(pb, vb, nb)
            if j + 1 < npow:
                for i in range(nb):
                    pb[i] *= ub[i]
        for c in range(nc):
            for d in range(nc):
                C[c, d] += _dot3(wb, db[c], db[d], nb)
    return S, T, C, E


@njit(cache=True)
def _combine_block(res, tail, t0, start, nb, s, out):
    """out[i] = s'·(nearest-neighbour residuals of point start + i), i < nb; rows from t0 on
    are rows of `tail`. (A called function, not inlined: numba's inlining of this loop made
    the callers several times slower.)"""
    k = len(s)
    stop = start + nb
    for i in range(start, min(stop, t0)):
        r = 0.0
        for c in range(k):
            r += s[c] * res[i, c]
        out[i - start] = r
    for i in range(max(start, t0), stop):
        r = 0.0
        for c in range(k):
            r += s[c] * tail[i - t0, c]
        out[i - start] = r


@njit(cache=True)
def nn_meat(xs, m, h, kcode, nmom, s, res, tail, t0):
    """M[j] = Σ (w r)² u^j (j < nmom) over the first m points, r = s'·(nn residuals): the
    meat Σ (w u^j r)(w u^l r) is M[j + l]."""
    M = np.zeros(nmom)
    ub = np.empty(_BLOCK)
    pb = np.empty(_BLOCK)
    rb = np.empty(_BLOCK)
    for start in range(0, m, _BLOCK):
        nb = min(_BLOCK, m - start)
        _combine_block(res, tail, t0, start, nb, s, rb)
        for i in range(nb):
            u = xs[start + i] / h
            ub[i] = u
            wr = _weight(u, kcode) * rb[i]
            pb[i] = wr * wr
        for j in range(nmom):
            M[j] += _sum(pb, nb)
            if j + 1 < nmom:
                for i in range(nb):
                    pb[i] *= ub[i]
    return M


@njit(cache=True)
def cluster_scores(xs, D, m, h, kcode, order, s, beta_s, cluster, n_clusters):
    """Per-cluster score totals Σ_(i in g) w u^j r_i over the first m points, r the fitted
    residual s'·D_i − Σ_j u^j (β s)_j; and how many clusters appear among those points."""
    k = D.shape[1]
    tot = np.zeros((n_clusters, order + 1))
    seen = np.zeros(n_clusters, np.bool_)
    g = 0
    for i in range(m):
        cl = cluster[i]
        if not seen[cl]:
            seen[cl] = True
            g += 1
        u = xs[i] / h
        w = _weight(u, kcode)
        if w == 0.0:
            continue
        r = 0.0
        for c in range(k):
            r += s[c] * D[i, c]
        p = 1.0
        for j in range(order + 1):
            r -= p * beta_s[j]
            p *= u
        p = w * r
        for j in range(order + 1):
            tot[cl, j] += p
            p *= u
    return tot, g


@njit(cache=True)
def bias_corrected(xs, D, m, h, b, kcode, p, iq, L, S, res, tail, t0, bps, bqs, cluster, ncl):
    """The pass of the final estimate over the first m points (CCT 2014): with u = x/h,
    v = x/b, a_j = w_h u^j and the bias-corrected design Q_j = a_j − w_b (Σ_k iq_k v^k) L_j,

    QD = Σ Q D' (the bias-corrected coefficients are Γ_p⁻¹ QD), and for every combination s
    (rows of S) the meats Σ a a' r² and Σ Q Q' r² – r the nearest-neighbour residual s'·res
    (`cluster` empty) – or, with clusters, the per-cluster totals of a·r_h and Q·r_b with the
    fitted residuals r_h = s'D − Σ u^j bps_j, r_b = s'D − Σ v^k bqs_k."""
    k = D.shape[1]
    ns = S.shape[0]
    q1 = len(iq)
    p1 = p + 1
    clustered = len(cluster) > 0
    QD = np.zeros((p1, k))
    mh = np.zeros((ns, p1, p1))
    mb = np.zeros((ns, p1, p1))
    th = np.zeros((ns, ncl, p1))
    tb = np.zeros((ns, ncl, p1))
    A = np.empty((p1, _BLOCK))
    Q = np.empty((p1, _BLOCK))
    ub = np.empty(_BLOCK)
    vb = np.empty(_BLOCK)
    r2 = np.empty((ns, _BLOCK))
    db = np.empty((k, _BLOCK))
    seen = np.zeros(ncl, np.bool_)
    g = 0
    for start in range(0, m, _BLOCK):
        nb = min(_BLOCK, m - start)
        for i in range(nb):
            x = xs[start + i]
            u = x / h
            v = x / b
            ub[i] = u
            vb[i] = v
            wh = _weight(u, kcode)
            mv = 0.0
            pv = 1.0
            for j in range(q1):
                mv += pv * iq[j]
                pv *= v
            mv *= _weight(v, kcode)
            pu = wh
            for j in range(p1):
                A[j, i] = pu
                Q[j, i] = pu - mv * L[j]
                pu *= u
            for c in range(k):
                db[c, i] = D[start + i, c]
        for j in range(p1):
            for c in range(k):
                QD[j, c] += _dot(Q[j], db[c], nb)
        if not clustered:
            for t in range(ns):
                _combine_block(res, tail, t0, start, nb, S[t], r2[t])
                for i in range(nb):
                    r2[t, i] *= r2[t, i]
                for j in range(p1):
                    for jj in range(j + 1):
                        mh[t, j, jj] += _dot3(A[j], A[jj], r2[t], nb)
                        mb[t, j, jj] += _dot3(Q[j], Q[jj], r2[t], nb)
            continue
        for i in range(nb):
            cl = cluster[start + i]
            if not seen[cl]:
                seen[cl] = True
                g += 1
            u = ub[i]
            v = vb[i]
            for t in range(ns):
                sd = 0.0
                for c in range(k):
                    sd += S[t, c] * db[c, i]
                rh = sd
                pu = 1.0
                for j in range(p1):
                    rh -= pu * bps[t, j]
                    pu *= u
                rb = sd
                pv = 1.0
                for j in range(q1):
                    rb -= pv * bqs[t, j]
                    pv *= v
                for j in range(p1):
                    th[t, cl, j] += A[j, i] * rh
                    tb[t, cl, j] += Q[j, i] * rb
    for t in range(ns):
        for j in range(p1):
            for jj in range(j):
                mh[t, jj, j] = mh[t, j, jj]
                mb[t, jj, j] = mb[t, j, jj]
    return QD, mh, mb, th, tb, g

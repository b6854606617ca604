"""Compiled kernels of the causal forest (`cerebro.uplift.forest`): sampling, tree growth, prediction.

Everything here works on the binned design (uint8, one byte per feature per row) and on the
locally centred outcome and treatment ``yr = Y − ŷ(X)``, ``tr = T − t̂(X)``. The public class in
`forest.py` validates input, bins features and fits the nuisances; these functions only count.

Why compiled: a GRF tree is grown until every leaf is small, so a forest of 200 trees over
millions of rows visits each row ~20 times per tree. The inner loops (a histogram of
pseudo-outcomes per node, an in-place partition, a tree walk per test point) are scalar loops
that numpy cannot vectorise without materialising O(n × features) temporaries per node; numba
compiles them to machine code (``cache=True``, so the compile cost is paid once per machine).

Randomness comes from splitmix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
generators") seeded by (seed, group): each group of trees draws the same rows whatever the thread
schedule, so the same seed gives the same forest for any ``n_jobs``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# leaf statistics columns: estimation-sample count and the means of tr, yr, tr·yr, tr²
LEAF_N, LEAF_T, LEAF_Y, LEAF_TY, LEAF_TT = 0, 1, 2, 3, 4
N_LEAF_STATS = 5


@njit(cache=True, inline="always")
def _next(state):
    """One splitmix64 step on ``state[0]`` (uint64); returns 64 random bits."""
    state[0] = state[0] + np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _below(state, m):
    """A uniform integer in [0, m) from the top 53 bits (bias < 2^-53 · m, negligible)."""
    u = np.float64(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    k = np.int64(u * m)
    return k if k < m else m - 1


@njit(cache=True)
def _seed_state(seed, stream, sub):
    """A generator state for (seed, stream, sub) with the three mixed through splitmix64."""
    state = np.empty(1, np.uint64)
    state[0] = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(stream + 1)
    _next(state)
    state[0] = state[0] ^ (np.uint64(sub + 1) * np.uint64(0xD1B54A32D192ED03))
    _next(state)
    return state


@njit(cache=True)
def group_samples(n, n_half, m, group_size, seed, group, out):
    """Rows of each tree of one little bag, written to ``out`` (group_size, m), random order.

    With ``group_size > 1`` the group first draws a half-sample of ``n_half`` rows without
    replacement, and each tree then draws ``m`` rows without replacement from that half (GRF's
    bootstrap of little bags: trees of a group share a half-sample, Athey, Tibshirani & Wager
    2019, Sec. 4). With ``group_size == 1`` each tree draws ``m`` rows from all ``n``.
    Partial Fisher–Yates shuffles, so the first rows of each draw are themselves a uniform
    random subset (used for the honesty split).
    """
    state = _seed_state(seed, group, 0)
    perm = np.arange(n).astype(np.int32)
    pool = n
    if group_size > 1:
        for i in range(n_half):
            j = i + _below(state, n - i)
            perm[i], perm[j] = perm[j], perm[i]
        pool = n_half
    buf = np.empty(pool, np.int32)
    for k in range(group_size):
        buf[:] = perm[:pool]
        for i in range(m):
            j = i + _below(state, pool - i)
            buf[i], buf[j] = buf[j], buf[i]
        out[k, :] = buf[:m]


@njit(cache=True)
def _gather(Xb, yr, tr, tw, rows):
    """Copies of the rows' bins, residuals and treatment, contiguous in ``rows`` order."""
    k = rows.shape[0]
    p = Xb.shape[1]
    X = np.empty((k, p), np.uint8)
    y = np.empty(k)
    t = np.empty(k)
    w = np.empty(k, np.uint8)
    for i in range(k):
        r = rows[i]
        X[i, :] = Xb[r, :]
        y[i] = yr[r]
        t[i] = tr[r]
        w[i] = tw[r]
    return X, y, t, w


@njit(cache=True)
def _partition(X, y, t, w, lo, hi, f, b):
    """Move rows lo..hi−1 with X[:, f] ≤ b to the front (in place); return the boundary."""
    i = lo
    j = hi - 1
    p = X.shape[1]
    while i <= j:
        if X[i, f] <= b:
            i += 1
        else:
            for q in range(p):
                X[i, q], X[j, q] = X[j, q], X[i, q]
            y[i], y[j] = y[j], y[i]
            t[i], t[j] = t[j], t[i]
            w[i], w[j] = w[j], w[i]
            j -= 1
    return i


@njit(cache=True, inline="always")
def _cross_sums(t, y, w, lo, hi):
    """Σt, Σy, Σt·y, Σt² and the treated count Σw over rows lo..hi−1: a node's split moments
    and a leaf's statistics.

    One loop for both, so the split criterion and the leaf estimates add the rows in the same
    order and the same way, in one pass over the rows.
    """
    st = 0.0
    sy = 0.0
    sty = 0.0
    stt = 0.0
    nt = 0
    for i in range(lo, hi):
        a = t[i]
        b = y[i]
        st += a
        sy += b
        sty += a * b
        stt += a * a
        nt += w[i]
    return st, sy, sty, stt, nt


@njit(cache=True, inline="always")
def _push(stack, top, node, s0, s1, e0, e1, depth):
    """Put a node to grow on the stack at ``top``; return the new top."""
    stack[top, 0] = node
    stack[top, 1] = s0
    stack[top, 2] = s1
    stack[top, 3] = e0
    stack[top, 4] = e1
    stack[top, 5] = depth
    return top + 1


@njit(cache=True)
def _best_split(Xs, ys, ts, ws, s0, s1, min_leaf, balance, mtry, state, feats, cand, hist,
                touched, ntouch):  # fmt: skip
    """The admissible split of splitting rows s0..s1−1 with the largest criterion: (feature, bin).

    Returns feature −1 when the node should be a leaf (too few treated or control rows, no
    variation in treatment, or no admissible split beating the parent). ``feats``, ``cand``,
    ``hist``, ``touched`` and ``ntouch`` are the tree's scratch arrays, handed in so that a node
    allocates nothing; ``hist`` and ``ntouch`` are left zeroed for the next node. The criterion,
    pseudo-outcomes and admissibility rules are those described in `grow_tree`.
    """
    p = Xs.shape[1]
    best_f = -1
    best_b = 0
    c = s1 - s0
    st, sy, sty, stt, nt = _cross_sums(ts, ys, ws, s0, s1)
    tb = st / c
    yb = sy / c
    var_t = stt / c - tb * tb
    if nt < 2 * min_leaf or c - nt < 2 * min_leaf or var_t <= 1e-12:
        return best_f, best_b
    tau = (sty / c - tb * yb) / var_t
    if mtry < p:
        for i in range(mtry):
            j = i + _below(state, p - i)
            feats[i], feats[j] = feats[j], feats[i]
    for i in range(mtry):
        cand[i] = feats[i]
    # large nodes fill every bin anyway: skip the touched-bin bookkeeping (a
    # data-dependent branch per update) and scan all 256 bins instead
    dense = c > 2048
    srho = 0.0
    srho2 = 0.0
    for i in range(s0, s1):
        dt = ts[i] - tb
        v = dt * ((ys[i] - yb) - dt * tau)
        srho += v
        srho2 += v * v
        wi = ws[i]
        if dense:
            for j in range(mtry):
                b = Xs[i, cand[j]]
                hist[j, b, 0] += 1.0
                hist[j, b, 1] += v
                hist[j, b, 2] += wi
        else:
            for j in range(mtry):
                b = Xs[i, cand[j]]
                if hist[j, b, 0] == 0.0:
                    touched[j, ntouch[j]] = b
                    ntouch[j] += 1
                hist[j, b, 0] += 1.0
                hist[j, b, 1] += v
                hist[j, b, 2] += wi
    min_child = max(math.ceil(balance * c), 1)
    # a split must beat the parent by more than rounding noise
    best_gain = srho * srho / c + 1e-12 * srho2
    for j in range(mtry):
        if dense:
            k = 256
            for q in range(256):
                touched[j, q] = q
        else:
            k = ntouch[j]
            ntouch[j] = 0
        tj = touched[j, :k]
        if not dense and k > 1:
            tj.sort()
        cl = 0.0
        sl = 0.0
        wl = 0.0
        for q in range(k - 1):
            b = tj[q]
            if hist[j, b, 0] == 0.0:
                continue
            cl += hist[j, b, 0]
            sl += hist[j, b, 1]
            wl += hist[j, b, 2]
            cr = c - cl
            wr = nt - wl
            if (
                wl >= min_leaf and cl - wl >= min_leaf and wr >= min_leaf
                and cr - wr >= min_leaf and cl >= min_child and cr >= min_child
            ):  # fmt: skip
                sr = srho - sl
                gain = sl * sl / cl + sr * sr / cr
                if gain > best_gain:
                    best_gain = gain
                    best_f = cand[j]
                    best_b = b
        for q in range(k):
            b = tj[q]
            hist[j, b, 0] = 0.0
            hist[j, b, 1] = 0.0
            hist[j, b, 2] = 0.0
    return best_f, best_b


@njit(cache=True)
def _fill_leaf(te, ye, we, e0, e1, out):
    """Write a leaf's estimation-row count and means of tr, yr, tr·yr, tr² into ``out`` (one row).

    An empty leaf gets zeros; `_prune_empty_children` then removes the split that made it.
    """
    m = e1 - e0
    a_t, a_y, a_ty, a_tt, _ = _cross_sums(te, ye, we, e0, e1)
    out[LEAF_N] = m
    if m > 0:
        out[LEAF_T] = a_t / m
        out[LEAF_Y] = a_y / m
        out[LEAF_TY] = a_ty / m
        out[LEAF_TT] = a_tt / m
    else:
        out[1:] = 0.0


@njit(cache=True)
def _prune_empty_children(feat, thr, left, right, leaf, n_nodes):
    """GRF's leaf pruning: replace a split with an empty child (no estimation rows) by the other child.

    Children have larger ids than their parent, so a reverse sweep sees every subtree already
    pruned; afterwards every reachable leaf has estimation rows.
    """
    for node in range(n_nodes - 1, -1, -1):
        if feat[node] < 0:
            continue
        lc = left[node]
        rc = right[node]
        l_empty = feat[lc] < 0 and leaf[left[lc], LEAF_N] == 0
        r_empty = feat[rc] < 0 and leaf[left[rc], LEAF_N] == 0
        if l_empty or r_empty:
            keep = lc if r_empty else rc
            feat[node] = feat[keep]
            thr[node] = thr[keep]
            left[node] = left[keep]
            right[node] = right[keep]


@njit(cache=True)
def grow_tree(
    Xs, ys, ts, ws, Xe, ye, te, we, min_leaf, balance, max_depth, mtry, state,
    feat, thr, left, right, leaf,
):  # fmt: skip
    """Grow one honest causal tree; return (number of nodes, number of leaves).

    ``Xs, ys, ts, ws`` are the splitting rows (bins, yr, tr, raw treatment), ``Xe, ye, te, we``
    the estimation rows, both private copies that are reordered in place. Splits are chosen on
    the splitting rows only; leaves are filled with statistics of the estimation rows only
    (honesty, Wager & Athey 2018). At a node with split-sample means t̄, ȳ and the node's effect
    τ_P = cov(tr, yr)/var(tr), each splitting row gets GRF's pseudo-outcome
    ρ_i = (tr_i − t̄)((yr_i − ȳ) − (tr_i − t̄) τ_P) (the influence of row i on τ_P, up to the node
    constant 1/var(tr)), and the split maximises the regression criterion S_L²/n_L + S_R²/n_R of
    ρ (Athey, Tibshirani & Wager 2019, Sec. 2.3). A split is admissible only if each child keeps
    at least ``min_leaf`` treated and ``min_leaf`` control splitting rows and at least a fraction
    ``balance`` of the node's splitting rows (grf's ``alpha``, 0.05 by default: without it the
    noisy criterion prefers end cuts that peel off a few rows, and trees grow thousands of
    levels deep). Candidate thresholds are the bin boundaries of ``mtry`` features drawn per
    node.

    Nodes are grown depth-first from an explicit stack; a node's rows are a contiguous slice of
    the copies, partitioned in place (rows move with their bins, so every pass reads memory in
    order instead of gathering scattered rows: the whole tree needs O(rows) memory). The
    histogram per candidate feature (count, Σρ, treated count per bin) of a large node is read
    bin by bin; a small node's histogram tracks the bins it touched, so it costs O(node rows),
    not O(bins).

    After growth, GRF's leaf pruning: a split with a child that received no estimation rows is
    removed (the node is replaced by its non-empty child), so every reachable leaf has
    estimation rows.

    Output arrays: ``feat`` (−1 for a leaf), ``thr`` (rows with bin ≤ thr go left), ``left``,
    ``right`` (for a leaf, ``left`` holds the leaf index) and ``leaf`` (leaves × 5 statistics).
    """
    p = Xs.shape[1]
    ns = Xs.shape[0]
    max_nodes = feat.shape[0]
    hist = np.zeros((mtry, 256, 3))
    touched = np.empty((mtry, 256), np.int64)
    ntouch = np.zeros(mtry, np.int64)
    feats = np.arange(p)
    cand = np.empty(mtry, np.int64)
    # the stack of nodes to grow, one row per node: id, splitting rows s0..s1−1, estimation rows
    # e0..e1−1, depth
    stack = np.empty((max_nodes, 6), np.int64)
    top = _push(stack, 0, 0, 0, ns, 0, Xe.shape[0], 0)
    n_nodes = 1
    n_leaves = 0
    while top > 0:
        top -= 1
        node, s0, s1, e0, e1, depth = stack[top]
        best_f = -1
        best_b = 0
        if depth < max_depth and s1 - s0 >= 4 * min_leaf and n_nodes + 2 <= max_nodes:
            best_f, best_b = _best_split(Xs, ys, ts, ws, s0, s1, min_leaf, balance, mtry, state,
                                         feats, cand, hist, touched, ntouch)  # fmt: skip
        if best_f >= 0:
            smid = _partition(Xs, ys, ts, ws, s0, s1, best_f, best_b)
            emid = _partition(Xe, ye, te, we, e0, e1, best_f, best_b)
            feat[node] = best_f
            thr[node] = best_b
            lc = n_nodes
            rc = n_nodes + 1
            n_nodes += 2
            left[node] = lc
            right[node] = rc
            # push right first so the left child is grown first
            top = _push(stack, top, rc, smid, s1, emid, e1, depth + 1)
            top = _push(stack, top, lc, s0, smid, e0, emid, depth + 1)
        else:
            feat[node] = -1
            thr[node] = 0
            left[node] = n_leaves
            right[node] = -1
            _fill_leaf(te, ye, we, e0, e1, leaf[n_leaves])
            n_leaves += 1
    _prune_empty_children(feat, thr, left, right, leaf, n_nodes)
    return n_nodes, n_leaves


@njit(cache=True, parallel=True)
def fit_groups(
    Xb, yr, tr, tw, n_half, m, n_split, honesty, group_size, seed, groups, min_leaf, balance,
    max_depth, mtry, feat, thr, left, right, leaf, n_nodes, n_leaves,
):  # fmt: skip
    """Grow the trees of the little bags ``groups`` in parallel (one group per task).

    Tree ``k`` of the i-th group of this batch writes row ``i·group_size + k`` of the output
    arrays. With honesty the first ``n_split`` rows of a tree's draw split, the rest estimate;
    without it all ``m`` rows do both.
    """
    n = Xb.shape[0]
    for gi in prange(groups.shape[0]):
        g = groups[gi]
        samples = np.empty((group_size, m), np.int32)
        group_samples(n, n_half, m, group_size, seed, g, samples)
        for k in range(group_size):
            b = gi * group_size + k
            state = _seed_state(seed, g, k + 1)
            if honesty:
                Xs, ys, ts, ws = _gather(Xb, yr, tr, tw, samples[k, :n_split])
                Xe, ye, te, we = _gather(Xb, yr, tr, tw, samples[k, n_split:])
            else:
                Xs, ys, ts, ws = _gather(Xb, yr, tr, tw, samples[k])
                Xe, ye, te, we = _gather(Xb, yr, tr, tw, samples[k])
            nn, nl = grow_tree(
                Xs, ys, ts, ws, Xe, ye, te, we, min_leaf, balance, max_depth, mtry, state,
                feat[b], thr[b], left[b], right[b], leaf[b],
            )  # fmt: skip
            n_nodes[b] = nn
            n_leaves[b] = nl


@njit(cache=True)
def inbag_bits(n, n_half, m, group_size, seed, n_groups):
    """In-sample indicator of every (row, tree), packed 8 trees per byte: shape (n, ⌈B/8⌉)."""
    n_trees = n_groups * group_size
    bits = np.zeros((n, (n_trees + 7) // 8), np.uint8)
    samples = np.empty((group_size, m), np.int32)
    for g in range(n_groups):
        group_samples(n, n_half, m, group_size, seed, g, samples)
        for k in range(group_size):
            b = g * group_size + k
            byte = b >> 3
            mask = np.uint8(1 << (b & 7))
            for i in range(m):
                r = samples[k, i]
                bits[r, byte] |= mask
    return bits


@njit(cache=True, inline="always")
def _debias(between, noise, n_groups):
    """Variance of the forest mean from the little-bags moments, kept positive.

    ``between − noise`` is unbiased but can be negative when few groups are available. Treat it
    as a normal observation of the true variance v ≥ 0 with standard error
    max(between, noise)·√(2/G) (the chi-square spread of a variance from G groups) and return
    the posterior mean of v under a flat prior on [0, ∞): est + se·φ(est/se)/Φ(est/se), the mean
    of a normal truncated at zero. This keeps intervals from collapsing to zero width; it is
    the same idea as GRF's Bayes debiasing of the little-bags variance.
    """
    est = between - noise
    se = max(between, noise) * math.sqrt(2.0 / n_groups)
    if se <= 0.0:
        return max(est, 0.0)
    r = est / se
    if r > 8.0:
        return est
    phi = math.exp(-0.5 * r * r) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * math.erfc(-r / math.sqrt(2.0))
    if cdf < 1e-300:
        return se * 1e-300
    return est + se * phi / cdf


@njit(cache=True, parallel=True)
def leaf_index(Xb, nodes, node_off, leaf_off, inbag, use_inbag, lo, out):
    """Global leaf index of rows lo, lo+1, … of ``Xb`` in every tree: ``out[b, i]`` (−1 when, in
    out-of-bag mode, tree b drew the row). Parallel over trees, rows inner, so one tree's nodes
    stay in cache while a block of rows walks it. ``nodes`` packs each node's (feature,
    threshold, left, right) in one int32 row: one cache line per step of the walk."""
    n_trees = node_off.shape[0] - 1
    k = out.shape[1]
    for b in prange(n_trees):
        base = node_off[b]
        byte = b >> 3
        bit = b & 7
        for q in range(k):
            i = lo + q
            if use_inbag and (inbag[i, byte] >> bit) & 1:
                out[b, q] = -1
                continue
            node = 0
            f = nodes[base, 0]
            while f >= 0:
                if Xb[i, f] <= nodes[base + node, 1]:
                    node = nodes[base + node, 2]
                else:
                    node = nodes[base + node, 3]
                f = nodes[base + node, 0]
            out[b, q] = leaf_off[b] + nodes[base + node, 2]


@njit(cache=True, inline="always")
def _leaf_moment(leaf, lf, at, ay, tau):
    """Ψ_b of one tree at x: the mean over its leaf ``lf`` of (tr − T̄)((yr − Ȳ) − (tr − T̄)τ̂),
    expanded in the leaf's stored means so that no row is revisited."""
    lt = leaf[lf, LEAF_T]
    return (
        leaf[lf, LEAF_TY] - at * leaf[lf, LEAF_Y] - ay * lt + at * ay
        - tau * (leaf[lf, LEAF_TT] - 2.0 * at * lt + at * at)
    )  # fmt: skip


@njit(cache=True, parallel=True)
def combine_leaves(leaves, leaf, group_size, want_var, lo, out_tau, out_var):
    """CATE (and its variance) at each row of ``Xb`` from the forest weights.

    With α_i(x) = (1/B) Σ_b 1{i ∈ L_b(x)} / |L_b(x)| the forest weights (estimation rows that
    share x's leaf in tree b), the estimate is GRF's weighted residual-on-residual regression
    with an intercept: τ̂(x) = Σα(tr − T̄)(yr − Ȳ) / Σα(tr − T̄)² with T̄ = Σα·tr, Ȳ = Σα·yr,
    computed from per-leaf means. Variance: the bootstrap of little bags (Athey, Tibshirani &
    Wager 2019, Sec. 4) on the per-tree moment Ψ_b = mean over L_b(x) of
    (tr − T̄)((yr − Ȳ) − (tr − T̄)τ̂): with Ψ̄_g the group means,
    V = (1/G)Σ(Ψ̄_g − Ψ̄)² − (1/G)Σ_g Σ_{b∈g}(Ψ_b − Ψ̄_g)² / (ℓ(ℓ − 1)), debiased to stay
    positive, and Var τ̂ = V / (Σα(tr − T̄)²)².

    ``leaves`` (trees × rows) from `leaf_index`; results go to rows lo, lo+1, … of the outputs.
    Out-of-bag mode for training rows – a tree whose draw contained the row is
    skipped, and the variance uses only groups none of whose trees contained it.
    """
    n_trees = leaves.shape[0]
    n_groups = n_trees // group_size
    for q in prange(leaves.shape[1]):
        i = lo + q
        at = 0.0
        ay = 0.0
        aty = 0.0
        att = 0.0
        nv = 0
        for b in range(n_trees):
            lf = leaves[b, q]
            if lf < 0:
                continue
            at += leaf[lf, LEAF_T]
            ay += leaf[lf, LEAF_Y]
            aty += leaf[lf, LEAF_TY]
            att += leaf[lf, LEAF_TT]
            nv += 1
        if nv == 0:
            out_tau[i] = np.nan
            if want_var:
                out_var[i] = np.nan
            continue
        at /= nv
        ay /= nv
        aty /= nv
        att /= nv
        xi = att - at * at
        if xi <= 0.0:
            out_tau[i] = np.nan
            if want_var:
                out_var[i] = np.nan
            continue
        tau = (aty - at * ay) / xi
        out_tau[i] = tau
        if not want_var:
            continue
        s = 0.0
        s2 = 0.0
        within = 0.0
        ng = 0
        for g in range(n_groups):
            ok = True
            for k in range(group_size):
                if leaves[g * group_size + k, q] < 0:
                    ok = False
            if not ok:
                continue
            pg = 0.0
            for k in range(group_size):
                pg += _leaf_moment(leaf, leaves[g * group_size + k, q], at, ay, tau)
            pg /= group_size
            for k in range(group_size):
                within += (_leaf_moment(leaf, leaves[g * group_size + k, q], at, ay, tau) - pg) ** 2
            s += pg
            s2 += pg * pg
            ng += 1
        if ng < 2 or group_size < 2:
            out_var[i] = np.nan
            continue
        mean = s / ng
        between = max(s2 / ng - mean * mean, 0.0)
        noise = within / (ng * group_size * (group_size - 1))
        out_var[i] = _debias(between, noise, ng) / (xi * xi)

"""Causal forest with honest splitting and pointwise confidence intervals (GRF semantics).

Estimand: the conditional average treatment effect τ(x) = E[Y(1) − Y(0) | X = x] of a binary
treatment T, under unconfoundedness (Y(0), Y(1) ⟂ T | X) and overlap (0 < P(T = 1 | X) < 1).

Method (Athey, Tibshirani & Wager 2019, "Generalized random forests", Ann. Statist. 47(2);
Wager & Athey 2018, "Estimation and inference of heterogeneous treatment effects using random
forests", JASA 113):

1. Local centering (Robinson's transformation, as in GRF's ``causal_forest``): out-of-fold
   nuisances ŷ(x) ≈ E[Y | X = x] and t̂(x) ≈ P(T = 1 | X = x) (5-fold cross-fitted LightGBM
   unless given), residuals yr = Y − ŷ, tr = T − t̂.
2. Trees grown on subsamples drawn without replacement (``sample_fraction`` of the rows), in
   little bags of ``ci_group_size`` trees that share a half-sample. Each tree's draw is split in
   two (honesty): one part chooses the splits, the other fills the leaves.
3. Splits maximise the heterogeneity of GRF's gradient pseudo-outcomes
   ρ_i = (tr_i − t̄)((yr_i − ȳ) − (tr_i − t̄) τ_P) over the node's splitting rows (see
   `forest_kernels.grow_tree`); each child keeps at least ``min_leaf`` treated and
   ``min_leaf`` control splitting rows; ``mtry`` features are tried per split.
4. τ̂(x) from the forest weights α_i(x) (the share of trees in which estimation row i shares x's
   leaf, divided by that leaf's size): the weighted regression of yr on tr with an intercept,
   τ̂(x) = Σα(tr − T̄)(yr − Ȳ) / Σα(tr − T̄)², T̄ = Σα·tr, Ȳ = Σα·yr (GRF's estimate; without
   the intercept it is Σα·yr·tr / Σα·tr²). The variance is the bootstrap of little bags
   (ATW 2019, Sec. 4) and intervals are pointwise normal: τ̂ ± z·√V̂.

Scale: features are binned once into at most 256 quantile bins (one byte per value), the split
search reads histograms of the pseudo-outcomes, and each tree holds only its own row indices
while growing (O(n) memory per tree, a fixed number of trees at a time). A tree stores per-leaf
means of (tr, yr, tr·yr, tr²), which is all the forest weights are needed for, so prediction
needs neither the training rows nor O(n × trees) memory. Kernels: `forest_kernels` (numba).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.spec import worker_count

STATE_FORMAT = "cerebro.causal_forest"
STATE_VERSION = 1
#: rows used to place the quantile bin boundaries of each feature
BIN_SAMPLE_ROWS = 200_000
#: trees' arrays are preallocated for this many trees at once (bounds the memory while growing)
_BATCH_GROUPS_PER_JOB = 4
#: rows predicted per block (their leaf indices: trees × block int64)
PREDICT_BLOCK_ROWS = 8192

_last_compile_seconds: float | None = None


def _fail(message: str) -> None:
    raise UserInputError(message)


# --------------------------------------------------------------------------- binning
def bin_edges(X: np.ndarray, max_bins: int = 256, seed: int = 0) -> list[np.ndarray]:
    """Upper boundaries of the quantile bins of each column (at most ``max_bins`` bins).

    A column with at most ``max_bins`` distinct values (in a sample of ``BIN_SAMPLE_ROWS``
    rows) gets one bin per value (boundaries half-way between values); otherwise the
    boundaries are its sample quantiles at 1/max_bins, 2/max_bins, …, merged where tied.
    """
    n = X.shape[0]
    rows = None
    if n > BIN_SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(n, BIN_SAMPLE_ROWS, replace=False))
    edges = []
    for j in range(X.shape[1]):
        col = X[:, j] if rows is None else X[rows, j]
        u = np.unique(col)
        if u.size <= max_bins:
            e = (u[:-1] + u[1:]) / 2.0
        else:
            q = np.quantile(col, np.arange(1, max_bins) / max_bins)
            e = np.unique(q)
        edges.append(np.ascontiguousarray(e, dtype=np.float64))
    return edges


def apply_bins(X: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Bin index of each value: the number of boundaries strictly below it (value ≤ edge k
    ⇔ bin ≤ k), as uint8, row-major (a row's bins are adjacent for the tree walks)."""
    out = np.empty(X.shape, dtype=np.uint8)
    for j, e in enumerate(edges):
        out[:, j] = np.searchsorted(e, X[:, j], side="left")
    return out


# --------------------------------------------------------------------------- nuisances
def cross_fitted_nuisances(
    X: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    *,
    t_hat: float | np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
    fit_outcome: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Out-of-fold ŷ(x) = E[Y | X] and t̂(x) = P(T = 1 | X) by ``folds``-fold LightGBM.

    Every row's nuisances come from models that never saw it (cross-fitting, Chernozhukov et al.
    2018), so the forest's residuals are not overfit. A number (or array) ``t_hat`` is a known
    propensity (a randomised experiment) and is used as given. The propensity is clipped to
    [0.01, 0.99] as the meta-learners do. ``fit_outcome=False`` skips ŷ (returned as None).
    """
    import lightgbm as lgb

    n = X.shape[0]
    fold = np.random.default_rng(seed).permutation(n) % folds
    y_hat = np.empty(n) if fit_outcome else None
    est_t = t_hat is None
    t_out = np.empty(n) if est_t else np.broadcast_to(np.asarray(t_hat, float), (n,)).copy()
    params = dict(
        n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
        subsample=1.0, colsample_bytree=1.0, random_state=seed, n_jobs=n_jobs, verbose=-1,
    )  # fmt: skip
    for k in range(folds):
        test = fold == k
        train = ~test
        if fit_outcome:
            reg = lgb.LGBMRegressor(**params).fit(X[train], y[train])
            y_hat[test] = reg.predict(X[test])
        if est_t:
            if np.unique(t[train]).size < 2:
                t_out[test] = t[train].mean()
                continue
            clf = lgb.LGBMClassifier(**params).fit(X[train], t[train])
            t_out[test] = clf.predict_proba(X[test])[:, 1]
    return y_hat, (np.clip(t_out, 0.01, 0.99) if est_t else t_out)


# --------------------------------------------------------------------------- the forest
def _check_X(X: Any, p: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        _fail(f"X has shape {X.shape}; pass a non-empty 2-D array of rows × features.")
    if p is not None and X.shape[1] != p:
        _fail(
            f"X has {X.shape[1]} features but the forest was fitted on {p}; pass the same columns."
        )
    if not np.isfinite(X).all():
        j = int(np.where(~np.isfinite(X).all(axis=0))[0][0])
        _fail(f"feature column {j} has missing or infinite values; impute or drop them first.")
    return X


class CausalForest:
    """Honest causal forest (GRF semantics) for the CATE of a binary treatment.

    Parameters follow grf's ``causal_forest``: ``n_estimators`` trees (rounded up to a multiple
    of ``ci_group_size``), ``min_leaf`` treated and control splitting rows per child (grf's
    ``min.node.size`` with stabilised splits), ``sample_fraction`` of the rows per tree (at most
    0.5 when ``ci_group_size`` > 1), ``honesty`` with ``honesty_fraction`` of a tree's rows
    choosing splits, ``mtry`` features tried per split (default min(⌈√p + 20⌉, p), grf's),
    ``max_bins`` ≤ 256 quantile bins per feature, ``n_jobs`` threads, ``balance`` the least
    share of a node's splitting rows each child keeps (grf's ``alpha``), ``nuisance_folds`` the
    cross-fitting folds of the LightGBM nuisances.

    Assumptions and method: see the module docstring. References: Athey, Tibshirani & Wager
    (2019), Wager & Athey (2018).
    """

    def __init__(
        self,
        n_estimators: int = 200,
        min_leaf: int = 5,
        max_depth: int | None = None,
        sample_fraction: float = 0.5,
        honesty: bool = True,
        honesty_fraction: float = 0.5,
        ci_group_size: int = 2,
        mtry: int | None = None,
        max_bins: int = 256,
        seed: int = 0,
        n_jobs: int = 1,
        nuisance_folds: int = 5,
        balance: float = 0.05,
    ):
        if not (isinstance(n_estimators, int | np.integer) and n_estimators >= 1):
            _fail(f"n_estimators={n_estimators!r} must be a positive integer, e.g. 200.")
        if not (isinstance(min_leaf, int | np.integer) and min_leaf >= 1):
            _fail(f"min_leaf={min_leaf!r} must be a positive integer, e.g. 5.")
        if max_depth is not None and not (
            isinstance(max_depth, int | np.integer) and max_depth >= 1
        ):
            _fail(f"max_depth={max_depth!r} must be a positive integer or None (no limit).")
        if not (isinstance(ci_group_size, int | np.integer) and ci_group_size >= 1):
            _fail(f"ci_group_size={ci_group_size!r} must be a positive integer; 2 gives intervals.")
        if not 0.0 < sample_fraction <= 1.0:
            _fail(f"sample_fraction={sample_fraction!r} must be in (0, 1], e.g. 0.5.")
        if ci_group_size > 1 and sample_fraction > 0.5:
            _fail(
                f"sample_fraction={sample_fraction!r} must be at most 0.5 when ci_group_size > 1 "
                "(each little bag draws from a half-sample); lower it or set ci_group_size=1."
            )
        if not 0.0 < honesty_fraction < 1.0:
            _fail(
                f"honesty_fraction={honesty_fraction!r} must be strictly between 0 and 1, e.g. 0.5."
            )
        if not (isinstance(max_bins, int | np.integer) and 2 <= max_bins <= 256):
            _fail(
                f"max_bins={max_bins!r} must be an integer from 2 to 256 (features are stored as bytes)."
            )
        if mtry is not None and not (isinstance(mtry, int | np.integer) and mtry >= 1):
            _fail(f"mtry={mtry!r} must be a positive integer or None (grf's default).")
        if not 0.0 <= balance < 0.5:
            _fail(
                f"balance={balance!r} must be in [0, 0.5): the least share of a node's rows each child keeps (grf's alpha, 0.05)."
            )
        if not (isinstance(n_jobs, int | np.integer) and (n_jobs >= 1 or n_jobs == -1)):
            _fail(f"n_jobs={n_jobs!r} must be a positive integer or -1 (all cores).")
        self.n_estimators = int(n_estimators)
        self.min_leaf = int(min_leaf)
        self.max_depth = max_depth
        self.sample_fraction = float(sample_fraction)
        self.honesty = bool(honesty)
        self.honesty_fraction = float(honesty_fraction)
        self.ci_group_size = int(ci_group_size)
        self.mtry = mtry
        self.max_bins = int(max_bins)
        self.seed = int(seed)
        self.n_jobs = int(n_jobs)
        self.nuisance_folds = int(nuisance_folds)
        self.balance = float(balance)
        self._fitted = False
        self._train: dict[str, Any] | None = None
        self.timings_: dict[str, float] = {}

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        X: Any,
        y: Any,
        t: Any,
        *,
        y_hat: np.ndarray | None = None,
        t_hat: float | np.ndarray | None = None,
    ) -> CausalForest:
        """Grow the forest on (X, y, t); ``y_hat``/``t_hat`` are out-of-fold nuisances.

        When ``y_hat`` or ``t_hat`` is None it is cross-fitted with LightGBM
        (`cross_fitted_nuisances`); a float ``t_hat`` is a known propensity. Pass out-of-fold
        predictions, never in-sample fits, or the centring absorbs part of the effect.
        """
        X, y, t_arr = self._checked_data(X, y, t)
        n, p = X.shape
        timings: dict[str, float] = {}
        start = time.perf_counter()
        y_hat, t_hat = self._nuisances(X, y, t_arr, y_hat, t_hat)
        timings["nuisance_seconds"] = time.perf_counter() - start

        start = time.perf_counter()
        edges = bin_edges(X, self.max_bins, self.seed)
        Xb = apply_bins(X, edges)
        timings["binning_seconds"] = time.perf_counter() - start

        yr = y - y_hat
        tr = t_arr - t_hat
        tw = t_arr.astype(np.uint8)
        gs = self.ci_group_size
        n_groups = math.ceil(self.n_estimators / gs)
        n_half = n // 2 if gs > 1 else n
        m = max(int(self.sample_fraction * n), 2)
        n_split = int(self.honesty_fraction * m) if self.honesty else m
        if self.honesty and (n_split < 1 or m - n_split < 1):
            _fail(
                f"only {n} rows: too few to split each tree's sample for honesty; add data or set honesty=False."
            )
        mtry = self.mtry if self.mtry is not None else min(math.ceil(math.sqrt(p) + 20), p)
        mtry = min(int(mtry), p)
        max_depth = self.max_depth if self.max_depth is not None else 1 << 30
        # each leaf keeps ≥ min_leaf treated and ≥ min_leaf control splitting rows
        max_leaves = max(1, n_split // (2 * self.min_leaf))
        max_nodes = 2 * max_leaves + 1
        state = _seed_kernels()
        start = time.perf_counter()
        trees = self._grow_trees(
            Xb, yr, tr, tw, n_groups, n_half, m, n_split, mtry, max_depth, max_leaves, max_nodes
        )
        timings["trees_seconds"] = time.perf_counter() - start
        if state is not None:
            timings["compile_seconds"] = state

        self._set_trees(trees)
        self._nodes = None
        self.edges_ = edges
        self.n_features_ = p
        self.n_estimators_ = n_groups * gs
        self.mtry_ = mtry
        self._train = {
            "Xb": Xb, "n": n, "n_half": n_half, "m": m, "n_groups": n_groups, "inbag": None,
        }  # fmt: skip
        self.y_hat_ = y_hat
        self.t_hat_ = t_hat
        self.timings_ = timings
        self._fitted = True
        return self

    def _checked_data(self, X: Any, y: Any, t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, y, t) as float arrays, refusing mismatched lengths, a non-finite outcome, a
        treatment not coded 0/1 and too few rows of either arm for one pair of leaves."""
        X = _check_X(X)
        n = X.shape[0]
        y = np.asarray(y, dtype=np.float64).ravel()
        t_arr = np.asarray(t).ravel()
        if y.shape[0] != n or t_arr.shape[0] != n:
            _fail(
                f"X has {n} rows but y has {y.shape[0]} and t has {t_arr.shape[0]}; pass one value per row."
            )
        if not np.isfinite(y).all():
            _fail("the outcome has missing or infinite values; drop those rows first.")
        if not np.isin(t_arr, (0, 1)).all():
            _fail(
                "the treatment must be coded 0 (control) and 1 (treated); recode it or fit one arm at a time."
            )
        t_arr = t_arr.astype(np.float64)
        n_t = int(t_arr.sum())
        need = 2 * self.min_leaf
        if n_t < need or n - n_t < need:
            _fail(
                f"only {n_t} treated and {n - n_t} control rows; a causal forest with min_leaf="
                f"{self.min_leaf} needs at least {need} of each (lower min_leaf or add data)."
            )
        return X, y, t_arr

    def _nuisances(
        self,
        X: np.ndarray,
        y: np.ndarray,
        t_arr: np.ndarray,
        y_hat: np.ndarray | None,
        t_hat: float | np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The out-of-fold ŷ(X) and t̂(X) the forest centres on: given ones are checked (one
        finite value per row, propensities inside (0, 1)), missing ones cross-fitted."""
        n = X.shape[0]
        if t_hat is not None and np.ndim(t_hat) == 0:
            t_hat = np.full(n, float(t_hat))  # a known (randomised) propensity
        if y_hat is None or t_hat is None:
            yh, th = cross_fitted_nuisances(
                X, y, t_arr, t_hat=t_hat, folds=self.nuisance_folds, seed=self.seed,
                n_jobs=self._threads(), fit_outcome=y_hat is None,
            )  # fmt: skip
            y_hat = yh if y_hat is None else y_hat
            t_hat = th if t_hat is None else t_hat
        y_hat = np.asarray(y_hat, dtype=np.float64).ravel()
        t_hat = np.asarray(t_hat, dtype=np.float64).ravel()
        if y_hat.shape[0] != n or t_hat.shape[0] != n:
            _fail("y_hat and t_hat must hold one out-of-fold prediction per row of X.")
        if not (np.isfinite(y_hat).all() and np.isfinite(t_hat).all()):
            _fail(
                "y_hat or t_hat has missing or infinite values; pass finite out-of-fold predictions."
            )
        if ((t_hat <= 0) | (t_hat >= 1)).any():
            _fail(
                "t_hat must be a propensity strictly between 0 and 1 for every row; clip it, e.g. to [0.01, 0.99]."
            )
        return y_hat, t_hat

    def _grow_trees(
        self,
        Xb: np.ndarray,
        yr: np.ndarray,
        tr: np.ndarray,
        tw: np.ndarray,
        n_groups: int,
        n_half: int,
        m: int,
        n_split: int,
        mtry: int,
        max_depth: int,
        max_leaves: int,
        max_nodes: int,
    ) -> list[tuple[np.ndarray, ...]]:
        """Grow every tree with the compiled kernel, a batch of little bags at a time (the
        output arrays of one batch are sized for the largest possible tree, so batches bound
        the memory), each tree trimmed to its own nodes and leaves."""
        from cerebro.uplift import forest_kernels as K

        gs = self.ci_group_size
        jobs = self._threads()
        import numba

        old_threads = numba.get_num_threads()
        numba.set_num_threads(min(jobs, numba.config.NUMBA_NUM_THREADS))
        trees: list[tuple[np.ndarray, ...]] = []
        try:
            batch = max(1, _BATCH_GROUPS_PER_JOB * jobs)
            for g0 in range(0, n_groups, batch):
                groups = np.arange(g0, min(g0 + batch, n_groups), dtype=np.int64)
                bt = groups.size * gs
                feat = np.empty((bt, max_nodes), np.int32)
                thr = np.empty((bt, max_nodes), np.uint8)
                left = np.empty((bt, max_nodes), np.int32)
                right = np.empty((bt, max_nodes), np.int32)
                leaf = np.empty((bt, max_leaves, K.N_LEAF_STATS), np.float64)
                nn = np.zeros(bt, np.int64)
                nl = np.zeros(bt, np.int64)
                K.fit_groups(
                    Xb, yr, tr, tw, n_half, m, n_split, self.honesty, gs, self.seed, groups,
                    self.min_leaf, self.balance, max_depth, mtry, feat, thr, left, right, leaf, nn, nl,
                )  # fmt: skip
                for b in range(bt):
                    k, q = int(nn[b]), int(nl[b])
                    trees.append(
                        (feat[b, :k].copy(), thr[b, :k].copy(), left[b, :k].copy(),
                         right[b, :k].copy(), leaf[b, :q].copy())
                    )  # fmt: skip
                del feat, thr, left, right, leaf
        finally:
            numba.set_num_threads(old_threads)
        return trees

    def _threads(self) -> int:
        return worker_count(self.n_jobs)

    def _set_trees(self, trees: list[tuple[np.ndarray, ...]]) -> None:
        sizes = np.array([len(tr[0]) for tr in trees], dtype=np.int64)
        lsizes = np.array([len(tr[4]) for tr in trees], dtype=np.int64)
        self.node_offset_ = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.leaf_offset_ = np.concatenate([[0], np.cumsum(lsizes)]).astype(np.int64)
        self.feature_ = np.concatenate([tr[0] for tr in trees])
        self.threshold_ = np.concatenate([tr[1] for tr in trees])
        self.left_ = np.concatenate([tr[2] for tr in trees])
        self.right_ = np.concatenate([tr[3] for tr in trees])
        self.leaf_stats_ = np.concatenate([tr[4] for tr in trees])

    # ----------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not self._fitted:
            _fail("this CausalForest is not fitted; call .fit(X, y, t) first.")

    def _packed_nodes(self) -> np.ndarray:
        if getattr(self, "_nodes", None) is None:
            self._nodes = np.ascontiguousarray(
                np.stack(
                    [self.feature_, self.threshold_.astype(np.int32), self.left_, self.right_],
                    axis=1,
                )
            )
        return self._nodes

    def _run_predict(self, Xb: np.ndarray, inbag: np.ndarray | None, variance: bool):
        import numba

        from cerebro.uplift import forest_kernels as K

        n = Xb.shape[0]
        tau = np.empty(n)
        var = np.empty(n if variance else 1)
        if variance and self.ci_group_size < 2:
            _fail("variance needs ci_group_size ≥ 2 (little bags); refit with ci_group_size=2.")
        old = numba.get_num_threads()
        numba.set_num_threads(min(self._threads(), numba.config.NUMBA_NUM_THREADS))
        try:
            nodes = self._packed_nodes()
            bits = inbag if inbag is not None else np.zeros((1, 1), np.uint8)
            # rows in blocks: a block walks one tree at a time (the tree stays in cache), and
            # the block's leaf indices (trees × block) stay small
            block = PREDICT_BLOCK_ROWS
            leaves = np.empty((self.node_offset_.size - 1, min(block, n)), np.int64)
            for lo in range(0, n, block):
                k = min(block, n - lo)
                out = leaves if k == leaves.shape[1] else np.empty((leaves.shape[0], k), np.int64)
                K.leaf_index(
                    Xb,
                    nodes,
                    self.node_offset_,
                    self.leaf_offset_,
                    bits,
                    inbag is not None,
                    lo,
                    out,
                )
                K.combine_leaves(out, self.leaf_stats_, self.ci_group_size, variance, lo, tau, var)
        finally:
            numba.set_num_threads(old)
        return (tau, var) if variance else tau

    def predict(self, X: Any, *, variance: bool = False):
        """τ̂(x) for each row of X; with ``variance=True`` also its little-bags variance.

        Pointwise normal interval: τ̂ ± z_{1−α/2}·√var (see `confidence_interval`).
        """
        self._check_fitted()
        X = _check_X(X, self.n_features_)
        return self._run_predict(apply_bins(X, self.edges_), None, variance)

    def oob_predict(self, *, variance: bool = False):
        """Out-of-bag τ̂ for the training rows: each row uses only trees whose draw excluded it
        (and, for the variance, only little bags none of whose trees drew it)."""
        from cerebro.uplift import forest_kernels as K

        self._check_fitted()
        if self._train is None:
            _fail(
                "out-of-bag predictions need the training rows, which a loaded forest does not keep; use the model's saved predictions or refit."
            )
        tr = self._train
        if tr["inbag"] is None:
            tr["inbag"] = K.inbag_bits(
                tr["n"], tr["n_half"], tr["m"], self.ci_group_size, self.seed, tr["n_groups"]
            )
        return self._run_predict(tr["Xb"], tr["inbag"], variance)

    @staticmethod
    def confidence_interval(tau: np.ndarray, var: np.ndarray, alpha: float = 0.05):
        """Pointwise normal interval (τ̂ − z·√var, τ̂ + z·√var), z = Φ⁻¹(1 − α/2)."""
        from cerebro.stats.intervals import normal_interval

        low, high, _ = normal_interval(tau, np.sqrt(var), alpha)
        return low, high

    # ----------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """JSON-able parameters plus numpy arrays – everything `predict` needs, no pickle.

        The training rows are not kept (out-of-bag predictions are for the fitting session).
        """
        self._check_fitted()
        params = {
            "n_estimators": self.n_estimators, "min_leaf": self.min_leaf,
            "max_depth": self.max_depth, "sample_fraction": self.sample_fraction,
            "honesty": self.honesty, "honesty_fraction": self.honesty_fraction,
            "ci_group_size": self.ci_group_size, "mtry": self.mtry, "max_bins": self.max_bins,
            "seed": self.seed, "n_jobs": self.n_jobs, "nuisance_folds": self.nuisance_folds,
            "balance": self.balance,
        }  # fmt: skip
        state: dict[str, Any] = {
            "format": STATE_FORMAT, "version": STATE_VERSION, "params": params,
            "n_features": int(self.n_features_), "n_estimators_fitted": int(self.n_estimators_),
            "n_edges": [int(e.size) for e in self.edges_],
            "edges": np.concatenate(self.edges_) if self.edges_ else np.empty(0),
            "feature": self.feature_, "threshold": self.threshold_, "left": self.left_,
            "right": self.right_, "node_offset": self.node_offset_,
            "leaf_stats": self.leaf_stats_, "leaf_offset": self.leaf_offset_,
        }  # fmt: skip
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CausalForest:
        """Rebuild a fitted forest from `to_state` output (validated, so a damaged file fails
        with a clear message instead of a crash in the compiled kernels)."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            _fail(
                "this is not a saved causal forest (format tag missing); save it with CausalForest.to_state()."
            )
        if state.get("version") != STATE_VERSION:
            _fail(
                f"causal forest state version {state.get('version')!r} is not supported; refit and save with this Cerebro."
            )
        forest = cls(**state["params"])
        p = int(state["n_features"])
        n_edges = [int(k) for k in state["n_edges"]]
        flat = np.asarray(state["edges"], dtype=np.float64)
        if len(n_edges) != p or sum(n_edges) != flat.size:
            _fail("the saved causal forest's bin boundaries are inconsistent; the file is damaged.")
        bounds = np.cumsum([0, *n_edges])
        forest.edges_ = [flat[bounds[j] : bounds[j + 1]].copy() for j in range(p)]
        forest.n_features_ = p
        forest.n_estimators_ = int(state["n_estimators_fitted"])
        forest.feature_ = np.ascontiguousarray(state["feature"], dtype=np.int32)
        forest.threshold_ = np.ascontiguousarray(state["threshold"], dtype=np.uint8)
        forest.left_ = np.ascontiguousarray(state["left"], dtype=np.int32)
        forest.right_ = np.ascontiguousarray(state["right"], dtype=np.int32)
        forest.node_offset_ = np.ascontiguousarray(state["node_offset"], dtype=np.int64)
        forest.leaf_stats_ = np.ascontiguousarray(state["leaf_stats"], dtype=np.float64)
        forest.leaf_offset_ = np.ascontiguousarray(state["leaf_offset"], dtype=np.int64)
        _validate_trees(forest)
        forest._nodes = None
        forest._fitted = True
        forest._train = None
        return forest


def _validate_trees(f: CausalForest) -> None:
    """Check that every index in the saved trees stays in range (the kernels do not check)."""
    bad = "the saved causal forest's trees are inconsistent; the file is damaged."
    no, lo = f.node_offset_, f.leaf_offset_
    n_trees = no.size - 1
    if n_trees < 1 or lo.size != no.size or n_trees != f.n_estimators_ or n_trees % f.ci_group_size:
        _fail(bad)
    if no[0] != 0 or lo[0] != 0 or np.any(np.diff(no) < 1) or np.any(np.diff(lo) < 1):
        _fail(bad)
    if no[-1] != f.feature_.size or not (
        f.feature_.size == f.threshold_.size == f.left_.size == f.right_.size
    ):
        _fail(bad)
    if f.leaf_stats_.ndim != 2 or f.leaf_stats_.shape != (lo[-1], 5):
        _fail(bad)
    tree_of = np.repeat(np.arange(n_trees), np.diff(no))
    size = np.diff(no)[tree_of]
    nleaf = np.diff(lo)[tree_of]
    internal = f.feature_ >= 0
    if np.any(f.feature_ >= f.n_features_):
        _fail(bad)
    li, ri = f.left_[internal], f.right_[internal]
    if np.any((li < 1) | (li >= size[internal]) | (ri < 1) | (ri >= size[internal])):
        _fail(bad)
    # children come after their parent, so every walk ends at a leaf
    local = np.arange(f.feature_.size) - no[tree_of]
    if np.any(li <= local[internal]) or np.any(ri <= local[internal]):
        _fail(bad)
    leaves = ~internal
    if np.any((f.left_[leaves] < 0) | (f.left_[leaves] >= nleaf[leaves])):
        _fail(bad)
    if not np.isfinite(f.leaf_stats_).all():
        _fail(bad)


def _seed_kernels() -> float | None:
    """Compile (or load from the cache) the kernels once per process; return the seconds spent
    the first time (the first-call compile cost reported in ``timings_``), else None."""
    global _last_compile_seconds
    if _last_compile_seconds is not None:
        return None
    from cerebro.uplift import forest_kernels as K

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    Xb = apply_bins(X, bin_edges(X, 16))
    t = (np.arange(64) % 2).astype(np.float64)
    y = rng.normal(size=64)
    f = np.empty((2, 33), np.int32)
    th = np.empty((2, 33), np.uint8)
    le = np.empty((2, 33), np.int32)
    ri = np.empty((2, 33), np.int32)
    lf = np.empty((2, 16, K.N_LEAF_STATS))
    nn = np.zeros(2, np.int64)
    nl = np.zeros(2, np.int64)
    K.fit_groups(Xb, y, t - 0.5, t.astype(np.uint8), 32, 16, 8, True, 2, 0,
                 np.arange(1, dtype=np.int64), 1, 0.05, 1 << 30, 2, f, th, le, ri, lf, nn, nl)  # fmt: skip
    K.inbag_bits(64, 32, 16, 2, 0, 1)
    _last_compile_seconds = time.perf_counter() - start
    return _last_compile_seconds

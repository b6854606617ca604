"""Scoring fitted LightGBM models with a compiled tree walker.

Cross-fitting scores every held-out row with every nuisance model (the X-learner scores 1.6 n
rows per fold: imputed effects on the training rows, four models on the held-out fold; DML's
AIPW 3 n rows in all), and LightGBM's own `Booster.predict` costs nearly as much per row as
growing the trees: it walks one row through one tree at a time, so every level waits on a
mispredicted branch. `BoosterModel` therefore walks the trees itself, compiled with numba: a
block of 64 rows is copied once into a small contiguous buffer and descends each tree level by
level together, each step a branch-free select of the child, which keeps the CPU busy with
independent rows. Measured on one thread: 100 trees of 8 leaves on 1M rows × 20 features,
1.2–1.3 µs per row against `Booster.predict`'s 2.2–3.5 µs; 100 trees of 16 leaves, ≈ 2 µs per row
(1.2–4× faster than `Booster.predict`, least on the lopsided trees of noisy targets).

The result is **bit-identical** to `Booster.predict` – the same double comparisons
(``x <= threshold`` goes left; NaN, and |x| ≤ 1e-35 as LightGBM's dense-row reader does, read as
0), the trees summed in the same order from 0, the same logistic transform for the binary
objective (tested). Models this walker does not cover – categorical or missing-value splits,
linear trees, other objectives, multi-class – fall back to `Booster.predict`. The walker also
takes row indices, so no copy of X[rows] is made.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from cerebro.core.errors import UserInputError


class BoosterModel:
    """A LightGBM booster; predicts the mean (binary objective: P(class 1))."""

    def __init__(self, booster: Any, jobs: int = 1) -> None:
        self.booster = booster
        self.jobs = jobs
        self._trees: TreeArrays | bool | None = False  # False: not compiled yet

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Predictions for X (or for X[rows], without copying those rows)."""
        if self._trees is False:
            self._trees = TreeArrays.from_model_string(self.booster.model_to_string())
        if self._trees is None:  # a model the compiled walker does not cover
            data = X if rows is None else X[rows]
            return np.asarray(self.booster.predict(data, num_threads=self.jobs), float)
        return self._trees.predict(X, rows)

    def to_state(self) -> dict[str, Any]:
        return {"type": "lightgbm", "model": self.booster.model_to_string()}


# Values LightGBM's dense-row reader treats as zero (its kZeroThreshold, a float literal 1e-35f).
_ZERO = float(np.float32(1e-35))
_BLOCK = 64


class TreeArrays:
    """A LightGBM model's trees as flat arrays for `_walk` (see the module docstring).

    Each tree of k leaves is 2k − 1 nodes: the k − 1 splits, then the k leaves, which point to
    themselves (feature 0, threshold +inf) so that every row can take exactly `depth` steps.
    """

    def __init__(self, feature, threshold, child, value, offset, depth, sigmoid) -> None:
        self.feature, self.threshold, self.child = feature, threshold, child
        self.value, self.offset, self.depth, self.sigmoid = value, offset, depth, sigmoid

    @classmethod
    def from_model_string(cls, text: str) -> TreeArrays | None:
        """The arrays of a `model_to_string()` text, or None when the walker does not cover
        the model (it is then predicted by LightGBM)."""
        head, _, body = text.partition("\nTree=")
        header = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
        objective = header.get("objective", "").split()
        if (
            header.get("num_class") != "1"
            or header.get("num_tree_per_iteration") != "1"
            or "average_output" in head.splitlines()
            or not body
        ):
            return None
        if objective == ["regression"]:
            sigmoid = 0.0
        elif len(objective) == 2 and objective[0] == "binary" and objective[1][:8] == "sigmoid:":
            sigmoid = float(objective[1][8:])
        else:
            return None
        fields = {key: [] for key in _TREE_FIELDS}
        leaves = []
        for block in body.split("\nend of trees")[0].split("\nTree="):
            tree = dict(line.split("=", 1) for line in block.split("\n") if "=" in line)
            if tree.get("num_cat", "0") != "0" or tree.get("is_linear", "0") != "0":
                return None
            leaves.append(int(tree["num_leaves"]))
            for key in _TREE_FIELDS if leaves[-1] > 1 else ("leaf_value",):
                fields[key].append(tree[key])
        array = {
            key: np.array(" ".join(parts).split(), float if key in _REAL else np.int64)
            for key, parts in fields.items()
        }  # fmt: skip
        decision = array["decision_type"]
        if np.any(decision & 1) or np.any((decision >> 2) & 3):
            return None  # categorical or missing-value splits
        return cls(
            *_layout(np.array(leaves, np.int64), array["split_feature"], array["threshold"],
                     array["left_child"], array["right_child"], array["leaf_value"]),
            sigmoid,
        )  # fmt: skip

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=float)
        if X.ndim != 2 or (len(self.feature) and int(self.feature.max()) >= X.shape[1]):
            raise UserInputError(
                f"X has {X.shape[1] if X.ndim == 2 else 0} feature columns, fewer than the "
                "model was trained on; build it with the same features."
            )
        index = np.empty(0, np.int64) if rows is None else np.asarray(rows, np.int64)
        out = np.empty(len(X) if rows is None else len(index))
        _walk(X, index, rows is not None, self.feature, self.threshold, self.child, self.value,
              self.offset, self.depth, self.sigmoid, out)  # fmt: skip
        return out


_TREE_FIELDS = (
    "split_feature", "threshold", "decision_type", "left_child", "right_child", "leaf_value"
)  # fmt: skip
_REAL = ("threshold", "leaf_value")


@njit(cache=True)
def _layout(leaves, split_feature, threshold, left, right, leaf_value):
    """`TreeArrays`' node arrays from LightGBM's per-tree fields (all trees concatenated; a
    tree of k leaves has k − 1 splits, whose children j ≥ 0 are splits and ~j leaves)."""
    nodes = 2 * leaves.sum() - leaves.shape[0]
    feature = np.zeros(nodes, np.int32)
    cut = np.full(nodes, np.inf)
    child = np.empty(2 * nodes, np.int64)
    value = np.zeros(nodes)
    offset = np.zeros(leaves.shape[0] + 1, np.int64)
    depth = np.zeros(leaves.shape[0], np.int64)
    level = np.zeros(nodes, np.int64)
    split, leaf = 0, 0  # position in the concatenated split and leaf fields
    for tree in range(leaves.shape[0]):
        k, base = leaves[tree], offset[tree]
        offset[tree + 1] = base + 2 * k - 1
        for j in range(k):  # leaves are nodes k − 1 … 2k − 2 and point to themselves
            u = base + k - 1 + j
            value[u] = leaf_value[leaf + j]
            child[2 * u] = u
            child[2 * u + 1] = u
        for j in range(k - 1):
            u = base + j
            feature[u] = split_feature[split + j]
            cut[u] = threshold[split + j]
            for side, c in ((0, left[split + j]), (1, right[split + j])):
                child[2 * u + side] = base + (c if c >= 0 else k - 1 + ~c)
        level[base] = 0
        for j in range(k - 1):  # parents come before their children in LightGBM's numbering
            u = base + j
            for side in range(2):
                v = child[2 * u + side]
                level[v] = level[u] + 1
                depth[tree] = max(depth[tree], level[v])
        split += k - 1
        leaf += k
    return feature, cut, child, value, offset, depth


@njit(cache=True, nogil=True)
def _walk(X, rows, use_rows, feature, threshold, child, value, offset, depth, sigmoid, out):
    """Sum of the trees' leaf values for each row (then the logistic transform if sigmoid > 0),
    in LightGBM's arithmetic; a block of rows descends each tree one level at a time."""
    m = out.shape[0]
    width = X.shape[1]
    # The block's rows are copied once into a small contiguous buffer, NaN and |x| ≤ 1e-35 read
    # as 0 as LightGBM's dense reader does: every tree then reads L1-resident values with no
    # per-visit cleaning (1.1–1.4× faster than reading X by row index at each node).
    block = np.empty(_BLOCK * width)
    node = np.empty(_BLOCK, np.int64)
    total = np.empty(_BLOCK)
    for start in range(0, m, _BLOCK):
        size = min(m - start, _BLOCK)
        for r in range(size):
            i = rows[start + r] if use_rows else start + r
            for f in range(width):
                x = X[i, f]
                block[r * width + f] = x if abs(x) > _ZERO else 0.0
            total[r] = 0.0
        for tree in range(depth.shape[0]):
            for r in range(size):
                node[r] = offset[tree]
            for _ in range(depth[tree]):
                for r in range(size):
                    j = node[r]
                    node[r] = child[2 * j + (block[r * width + feature[j]] > threshold[j])]
            for r in range(size):
                total[r] += value[node[r]]
        for r in range(size):
            t = total[r]
            out[start + r] = 1.0 / (1.0 + math.exp(-sigmoid * t)) if sigmoid > 0 else t

"""The linear omitted-variable-bias analysis of one regression Y ~ D + X, from arrays.

`linear_ovb` fits the outcome regression by least squares with the classical SE (what the
Cinelli & Hazlett 2020 formulas are stated in, and what sensemakr reports; an HC1 robust SE on
request – statsmodels' HC1 of the same coefficient, by Frisch–Waugh – scales the reported SEs), and returns the partial R² of the treatment with the outcome,
the robustness values, the strength implied by each benchmark covariate (`kd`, `ky` times its
partial R² with the treatment and with the outcome) and the bias-adjusted estimate of each
confounder asked about. Formulas in `cerebro.stats.sensitivity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cerebro.stats.sensitivity import (
    Adjusted,
    benchmark_strength,
    bias_adjusted,
    group_partial_r2,
    partial_r2,
    robustness_value,
)


@dataclass
class LinearOVB:
    """The regression's treatment coefficient and how confounding would move it."""

    estimate: float
    se: float  # reported SE (classical, or HC1 when robust)
    se_classical: float
    dof: int
    t: float  # classical t-statistic: partial R² and RV are stated in it
    r2yd: float
    rv: float
    rv_alpha: float
    q: float
    alpha: float
    adjusted: list[tuple[str, Adjusted]] = field(default_factory=list)
    benchmarks: list[tuple[str, float, float]] = field(default_factory=list)  # name, r2dxj, r2yxj

    @property
    def se_ratio(self) -> float:
        return self.se / self.se_classical


def residualize(Z: np.ndarray, *vectors: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """The rank of Z and each vector's residual on Z's column space. Z is scaled to unit
    column norms and its Gram matrix eigendecomposed once for every vector (a k × k problem:
    fast where a QR of the n × k design is slow, with hundreds of dummy columns); directions
    with eigenvalues below k·eps of the largest are dropped, as lstsq drops collinear columns."""
    if len(Z) and np.all(Z[:, 0] == 1):  # with an intercept, centring the rest spans the same
        Z = np.column_stack(
            [Z[:, 0], Z[:, 1:] - Z[:, 1:].mean(axis=0)]
        )  # space, better conditioned
    scale = np.linalg.norm(Z, axis=0)
    scale[scale == 0] = 1.0
    Zs = Z / scale
    values, vectors_ = np.linalg.eigh(Zs.T @ Zs)
    keep = values > values.max() * Z.shape[1] * np.finfo(float).eps * 10
    basis = Zs @ (vectors_[:, keep] / np.sqrt(values[keep]))  # orthonormal columns
    return int(keep.sum()), [v - basis @ (basis.T @ v) for v in vectors]


def linear_ovb(y: np.ndarray, d: np.ndarray, X: np.ndarray, *, alpha: float, q: float = 1.0,
               robust: bool = False) -> LinearOVB:  # fmt: skip
    """Fit Y ~ 1 + D + X (by Frisch–Waugh: D's coefficient from the residuals of Y and D on
    [1, X]); the estimate, SEs, partial R² of D and RV_q, RV_{q,alpha}."""
    n = len(y)
    rank, (y_res, d_res) = residualize(np.column_stack([np.ones(n), X]), y, d)
    dd = float(d_res @ d_res)
    coef = float(d_res @ y_res) / dd
    resid = y_res - coef * d_res
    dof = n - rank - 1
    se_classical = float(np.sqrt(float(resid @ resid) / dof / dd))
    se = se_classical
    if robust:  # HC1: n/(n − k) Σ d̃ᵢ²ûᵢ² / (Σ d̃ᵢ²)², the sandwich of D's coefficient (FWL)
        se = float(np.sqrt(n / dof * np.sum(d_res**2 * resid**2)) / dd)
    t = coef / se_classical
    rv_alpha = robustness_value(t, dof, q, alpha, se_ratio=se / se_classical)
    return LinearOVB(
        coef, se, se_classical, int(dof), t, partial_r2(t, dof),
        robustness_value(t, dof, q), rv_alpha, q, alpha,
    )  # fmt: skip


def benchmark_r2(
    y: np.ndarray, d: np.ndarray, X: np.ndarray, columns: list[int]
) -> tuple[float, float]:
    """Partial R² of the confounder columns `columns` (one benchmark, possibly several dummy
    columns) with the treatment given the other X, and with the outcome given D and the other X
    (each the share of the residual sum of squares without them that they remove)."""
    n = len(y)
    keep = [j for j in range(X.shape[1]) if j not in columns]
    _, (y_full, d_full) = residualize(np.column_stack([np.ones(n), X]), y, d)
    _, (y_less, d_less) = residualize(np.column_stack([np.ones(n), X[:, keep]]), y, d)

    def rss_with_d(y_res: np.ndarray, d_res: np.ndarray) -> float:
        return float(y_res @ y_res - (d_res @ y_res) ** 2 / (d_res @ d_res))

    r2dxj = group_partial_r2(float(d_less @ d_less), float(d_full @ d_full))
    r2yxj = group_partial_r2(rss_with_d(y_less, d_less), rss_with_d(y_full, d_full))
    return r2dxj, r2yxj


def add_strengths(ovb: LinearOVB, strengths: list[tuple[str, float, float]]) -> None:
    """The bias-adjusted estimate for each (label, r2dz, r2yz)."""
    for label, r2dz, r2yz in strengths:
        adj = bias_adjusted(ovb.estimate, ovb.se_classical, ovb.dof, r2dz, r2yz, ovb.alpha,
                            ovb.se_ratio)  # fmt: skip
        ovb.adjusted.append((label, adj))


def benchmark_strengths(name: str, r2dxj: float, r2yxj: float, kd: list[float],
                        ky: list[float]) -> list[tuple[str, float, float]]:  # fmt: skip
    """(label, r2dz, r2yz) of confounders kd/ky times as strong as the benchmark `name`."""
    out = []
    for kd_i, ky_i in zip(kd, ky, strict=True):
        r2dz, r2yz = benchmark_strength(r2dxj, r2yxj, kd_i, ky_i)
        same = kd_i == ky_i
        label = f"{kd_i:g}x {name}" if same else f"{kd_i:g}x/{ky_i:g}x {name}"
        out.append((label, r2dz, r2yz))
    return out

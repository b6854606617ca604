"""The linear omitted-variable-bias analysis of one regression Y ~ D + X, from arrays.

`linear_ovb` fits the outcome regression by least squares with the classical SE (what the
Cinelli & Hazlett 2020 formulas are stated in, and what sensemakr reports; an HC1 robust SE on
request scales the reported SEs), and returns the partial R² of the treatment with the outcome,
the robustness values, the strength implied by each benchmark covariate (`kd`, `ky` times its
partial R² with the treatment and with the outcome) and the bias-adjusted estimate of each
confounder asked about. Formulas in `cerebro.stats.sensitivity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cerebro.stats.ols import ols
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


def _rss(y: np.ndarray, Z: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
    return float(np.sum((y - Z @ coef) ** 2))


def linear_ovb(y: np.ndarray, d: np.ndarray, X: np.ndarray, *, alpha: float, q: float = 1.0,
               robust: bool = False) -> LinearOVB:  # fmt: skip
    """Fit Y ~ 1 + D + X; the estimate, SEs, partial R² of D and RV_q, RV_{q,alpha}."""
    n = len(y)
    Z = np.column_stack([np.ones(n), d, X])
    coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
    resid = y - Z @ coef
    dof = n - np.linalg.matrix_rank(Z)
    sigma2 = float(resid @ resid) / dof
    se_classical = float(np.sqrt(sigma2 * np.linalg.pinv(Z.T @ Z)[1, 1]))
    se = float(ols(y, Z, cov_type="HC1").se[1]) if robust else se_classical
    t = float(coef[1]) / se_classical
    rv_alpha = robustness_value(t, dof, q, alpha, se_ratio=se / se_classical)
    return LinearOVB(
        float(coef[1]), se, se_classical, int(dof), t, partial_r2(t, dof),
        robustness_value(t, dof, q), rv_alpha, q, alpha,
    )  # fmt: skip


def benchmark_r2(
    y: np.ndarray, d: np.ndarray, X: np.ndarray, columns: list[int]
) -> tuple[float, float]:
    """Partial R² of the confounder columns `columns` (one benchmark, possibly several dummy
    columns) with the treatment given the other X, and with the outcome given D and the other X."""
    n = len(y)
    keep = [j for j in range(X.shape[1]) if j not in columns]
    full_d = np.column_stack([np.ones(n), X])
    less_d = np.column_stack([np.ones(n), X[:, keep]])
    r2dxj = group_partial_r2(_rss(d, less_d), _rss(d, full_d))
    r2yxj = group_partial_r2(
        _rss(y, np.column_stack([less_d, d])), _rss(y, np.column_stack([full_d, d]))
    )
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

"""Least squares with heteroskedasticity- and cluster-robust variances: the one sandwich.

`ols(y, X, cov_type=…, cluster=…)` fits y = Xβ + e (give X its intercept column) and returns a
`LinearFit` with the covariance

    V = c · (X'X)⁻¹ (Σ s sᵀ) (X'X)⁻¹,

s the per-row score xᵢûᵢ (HC0, HC1), xᵢûᵢ/√(1 − hᵢ) (HC2) or xᵢûᵢ/(1 − hᵢ) (HC3), hᵢ the leverage;
for CR1 the scores summed within clusters, c = G/(G−1)·(N−1)/(N−K) and inference on t(G − 1);
HC1 has c = N/(N−K); HC0, HC2, HC3 c = 1 (statsmodels' ``cov_type`` conventions, and Stata's;
HC* intervals use t(N − K) as statsmodels' OLS results do). ``classical`` is the model-based
V = s²(X'X)⁻¹, s² = û'û/(N − K), for homoskedastic errors (statsmodels' "nonrobust" default).
Weighted least squares is this on √w·y and √w·X (statsmodels' WLS does the same). `sandwich` is the same covariance for
an X and residuals computed elsewhere (e.g. after absorbing fixed effects, with K counting them).

References: White (1980); MacKinnon & White (1985) for HC1–HC3; Cameron & Miller (2015),
"A practitioner's guide to cluster-robust inference", J. Human Resources 50(2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from cerebro.stats.intervals import cdf, quantile

CovType = Literal["HC0", "HC1", "HC2", "HC3", "CR1", "classical"]


@dataclass
class LinearFit:
    """Coefficients, their covariance and the reference distribution's degrees of freedom."""

    coef: np.ndarray
    vcov: np.ndarray
    df: float  # t degrees of freedom (G − 1 with clusters, N − K otherwise)
    n: int
    k: int  # K in the small-sample factor
    clusters: int | None
    resid: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def interval(self, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, high, two-sided p) of every coefficient from t(df)."""
        se = self.se
        q = quantile(1 - alpha / 2, self.df)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * cdf(-np.abs(self.coef / se), self.df)
        return self.coef - q * se, self.coef + q * se, p

    def combination(
        self, weights: np.ndarray, alpha: float
    ) -> tuple[float, float, float, float, float]:
        """A linear combination wᵀβ: (value, se, low, high, p) from t(df)."""
        value = float(weights @ self.coef)
        se = float(np.sqrt(weights @ self.vcov @ weights))
        q = quantile(1 - alpha / 2, self.df)
        p = float(2 * cdf(-abs(value / se), self.df)) if se > 0 else float("nan")
        return value, se, value - q * se, value + q * se, p

    def wald(self, index: np.ndarray) -> tuple[float, int, float, float]:
        """Joint test that the coefficients `index` are zero: (F, q, df2, p) with F = W/q and
        W = bᵀV⁻¹b referred to F(q, df) – fixest's ``wald`` convention."""
        b = self.coef[index]
        V = self.vcov[np.ix_(index, index)]
        q = len(index)
        stat = float(b @ np.linalg.solve(V, b)) / q
        return stat, q, float(self.df), float(special.fdtrc(q, self.df, stat))


def group_codes(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes 0…G−1 of any labels, and G."""
    uniques, codes = np.unique(x, return_inverse=True)
    return codes.ravel(), len(uniques)


def cluster_meat(scores: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Σ_g s_g s_gᵀ for per-row scores (n × k) summed within clusters; and G."""
    codes, g = group_codes(cluster)
    sums = np.column_stack([np.bincount(codes, weights=col, minlength=g) for col in scores.T])
    return sums.T @ sums, g


def sandwich(
    X: np.ndarray,
    u: np.ndarray,
    cov_type: CovType = "HC1",
    cluster: np.ndarray | None = None,
    k_df: int | None = None,
) -> tuple[np.ndarray, float, int | None]:
    """(covariance, t degrees of freedom, clusters) of least-squares coefficients on X with
    residuals u; `k_df` is K of the small-sample factor (default: X's columns)."""
    n, k = X.shape
    k_df = k if k_df is None else k_df
    bread = np.linalg.inv(X.T @ X)
    scores = X * u[:, None]
    if cov_type == "CR1":
        if cluster is None:
            raise ValueError("CR1 needs cluster labels")
        meat, g = cluster_meat(scores, cluster)
        return g / (g - 1) * (n - 1) / (n - k_df) * bread @ meat @ bread, float(g - 1), g
    if cov_type == "classical":
        return float(u @ u) / (n - k_df) * bread, float(n - k_df), None
    if cov_type in ("HC2", "HC3"):
        leverage = np.einsum("ij,jk,ik->i", X, bread, X)
        scale = np.sqrt(1 - leverage) if cov_type == "HC2" else 1 - leverage
        scores = scores / scale[:, None]
    factor = n / (n - k_df) if cov_type == "HC1" else 1.0
    return factor * bread @ (scores.T @ scores) @ bread, float(n - k_df), None


def ols(
    y: np.ndarray,
    X: np.ndarray,
    cluster: np.ndarray | None = None,
    cov_type: CovType | None = None,
) -> LinearFit:
    """OLS of y on X (give X its intercept column): CR1 by `cluster`, else `cov_type` (HC1)."""
    cov_type = cov_type or ("CR1" if cluster is not None else "HC1")
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    u = y - X @ coef
    vcov, df, g = sandwich(X, u, cov_type, cluster)
    return LinearFit(coef, vcov, df, len(y), X.shape[1], g, u)

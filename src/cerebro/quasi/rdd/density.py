"""Manipulation test: is the density of the running variable continuous at the cutoff?

Cattaneo, Jansson & Ma (2020), "Simple local polynomial density estimators", JASA 115(531).
The empirical CDF F̂(x_i) = rank/(n−1) is regressed on a polynomial in (x − c)/h on each side
(kernel-weighted, within the bandwidth); the slope at the cutoff estimates the density there.
Sorting (units bunching just above a threshold) shows up as a jump f(c+) − f(c−). The test uses
an order p+1 fit (bias-corrected inference at the MSE-optimal bandwidth of the order-p
estimator) and the jackknife variance, which accounts for F̂ being estimated from all n points:
the leave-one-out influence of point i on every F̂(x_j) above it enters as a tail sum.

Bandwidth: the plug-in MSE-optimal bandwidths of each side, of the difference and of the sum,
combined as median(each side, difference, sum) for each side; the pilot bandwidths come from a
normal reference with kernel constants computed here by quadrature (so they differ slightly from
the `rddensity` package's pilots, and so may the selected bandwidth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from cerebro.quasi.rdd.local import kernel_weights


@dataclass
class DensityTest:
    """Densities on each side at the cutoff, their difference and the jackknife test."""

    f_left: float
    f_right: float
    difference: float
    se: float
    statistic: float
    p_value: float
    h_left: float
    h_right: float
    n_left: int  # points within the bandwidth
    n_right: int
    order: int


def _ecdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted x, F̂ = rank/(n−1) (ties share the value of their last point), first index of each
    point's tie group."""
    n = len(x)
    xs = np.sort(x)
    new = np.r_[True, xs[1:] != xs[:-1]]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, n - 1]
    sizes = np.diff(np.r_[first, n])
    F = np.repeat(last / (n - 1), sizes)
    first_of = np.repeat(first, sizes)
    return xs, F, first_of


def _fit(
    xs: np.ndarray, F: np.ndarray, first_of: np.ndarray, hl: float, hr: float, p: int,
    kernel: str, jackknife: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, int, int]:  # fmt: skip
    """Coefficients (left powers 0..p, right powers 0..p, in u = x/h) and their jackknife
    covariance (None if not asked for), for centred data xs (sorted)."""
    n = len(xs)
    lo = int(np.searchsorted(xs, -hl, side="left"))
    hi = int(np.searchsorted(xs, hr, side="right"))
    x = xs[lo:hi]
    y = F[lo:hi]
    nh = len(x)
    nl = int(np.searchsorted(x, 0.0, side="left"))  # xs is sorted: the left points come first
    u = np.empty(nh)
    np.divide(x[:nl], hl, out=u[:nl])
    np.divide(x[nl:], hr, out=u[nl:])
    w = kernel_weights(u, kernel)
    w[:nl] /= hl
    w[nl:] /= hr
    k = p + 1
    X = np.zeros((nh, 2 * k))
    powers = np.vander(u, k, increasing=True)
    X[:nl, :k] = powers[:nl]
    X[nl:, k:] = powers[nl:]
    XW = X * w[:, None]
    S_inv = np.linalg.inv(XW.T @ X)
    beta = S_inv @ (XW.T @ y)
    if not jackknife:
        return beta, None, nl, nh - nl
    # Jackknife: dropping point i moves F̂ at every point above it by 1/(n−1); its influence on
    # X'WF̂ is the tail sum of X'W beyond i (from the start of i's tie group with mass points).
    # Each column is non-zero on one side only, so its running tail sum is that side's, held
    # constant across the other side (adding zeros leaves a sum unchanged). One row per column.
    tail = np.zeros((2 * k, nh + 1))
    for j in range(2 * k):
        rows = slice(0, nl) if j < k else slice(nl, nh)
        col = XW[rows, j][::-1]
        acc = tail[j, rows][::-1]
        np.cumsum(col, out=acc)
        if j >= k and nh > nl:
            tail[j, :nl] = tail[j, nl]
    start = first_of[lo:hi] - lo
    if np.array_equal(start, np.arange(nh)):  # no ties in the window: a slice, no gather
        LT = tail[:, 1:] / (n - 1)
    else:
        LT = tail[:, np.clip(start + 1, 0, nh)] / (n - 1)
    # Points of a tie group sharing the group's first index: the tail starts after the group.
    V = S_inv @ (LT @ LT.T) @ S_inv
    return beta, V, nl, nh - nl


def density_jump(
    x: np.ndarray, cutoff: float, h: tuple[float, float], p: int = 2, kernel: str = "triangular"
) -> DensityTest:
    """The jackknife test of f(c+) = f(c−) with an order-(p+1) fit at bandwidths h (left, right)."""
    return _jump(_ecdf(np.asarray(x, float) - cutoff), h, p, kernel)


def _jump(
    ecdf: tuple[np.ndarray, np.ndarray, np.ndarray], h: tuple[float, float], p: int, kernel: str
) -> DensityTest:
    xs, F, first_of = ecdf
    q = p + 1
    hl, hr = h
    beta, V, nl, nr = _fit(xs, F, first_of, hl, hr, q, kernel)
    k = q + 1
    fl, fr = beta[1] / hl, beta[k + 1] / hr
    var = V[1, 1] / hl**2 + V[k + 1, k + 1] / hr**2 - 2 * V[1, k + 1] / (hl * hr)
    se = math.sqrt(var)
    t = (fr - fl) / se
    return DensityTest(
        fl, fr, fr - fl, se, t, float(2 * special.ndtr(-abs(t))), hl, hr, nl, nr, p
    )  # fmt: skip


def _kernel_constants(p: int, k: int, deriv: int, kernel: str) -> tuple[float, float]:
    """Boundary (one-sided) kernel constants of the CDF-regression estimator of derivative
    `deriv` with an order-p fit: variance V = e'S⁻¹ΓS⁻¹e and bias B = e'S⁻¹c_k, where
    S = ∫r rᵀK, c_k = ∫r u^k K and Γ = ∫∫ r(s)r(t)ᵀ K(s)K(t) min(s, t), all on [0, 1]."""
    t, wq = np.polynomial.legendre.leggauss(64)
    u = (t + 1) / 2
    wq = wq / 2
    K = kernel_weights(u, kernel)
    r = np.vander(u, p + 1, increasing=True)
    A = r * (K * wq)[:, None]
    S_inv = np.linalg.inv(A.T @ r)
    c = A.T @ u**k
    gamma = A.T @ np.minimum.outer(u, u) @ A
    return float((S_inv @ gamma @ S_inv)[deriv, deriv]), float((S_inv @ c)[deriv])


def _hermite(z: float, k: int) -> float:
    """Probabilists' Hermite polynomial He_k(z): the k-th derivative of φ is (−1)^k He_k φ."""
    return float(special.eval_hermitenorm(k, z))


def density_bandwidth(
    x: np.ndarray, cutoff: float, p: int = 2, kernel: str = "triangular"
) -> tuple[float, float]:
    """MSE-optimal bandwidths (left, right) for the order-p density estimators at the cutoff."""
    xc = np.asarray(x, float) - cutoff
    return _bandwidth(xc, _ecdf(xc), p, kernel)


def _bandwidth(
    xc: np.ndarray, ecdf: tuple[np.ndarray, np.ndarray, np.ndarray], p: int, kernel: str
) -> tuple[float, float]:
    n = len(xc)
    xs, F, first_of = ecdf
    mu, sd = float(xc.mean()), float(xc.std(ddof=1))
    z = mu / sd
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    # Normal-reference pilots: c for the density (order p), b for its p-th derivative (order p+2).
    v_c, b_c = _kernel_constants(p, p + 1, 1, kernel)
    v_b, b_b = _kernel_constants(p + 2, p + 3, p + 1, kernel)
    ratio_c = 1 / (_hermite(z, p) ** 2 * phi)
    ratio_b = 1 / (_hermite(z, p + 2) ** 2 * phi)
    cn = sd * (ratio_c * v_c / (2 * p * (b_c / math.factorial(p + 1)) ** 2) / n) ** (
        1 / (2 * p + 1)
    )
    bn = sd * ((2 * p + 1) * ratio_b * v_b / (4 * (b_b / math.factorial(p + 3)) ** 2) / n) ** (
        1 / (2 * p + 5)
    )
    nl = int(np.searchsorted(xs, 0.0, side="left"))
    left = np.negative(xs[:nl][::-1])  # distances below the cutoff, ascending (xs is sorted)
    right = xs[nl:]

    def distinct(a: np.ndarray) -> np.ndarray:  # np.unique of sorted data
        return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a

    uniq_l, uniq_r = distinct(left), distinct(right)
    span = max(abs(xs[0]), xs[-1])

    def floor(m: int) -> float:
        # at least m points and m distinct values on each side
        return max(
            left[min(m, len(left)) - 1], right[min(m, len(right)) - 1],
            uniq_l[min(m, len(uniq_l)) - 1], uniq_r[min(m, len(uniq_r)) - 1],
        )  # fmt: skip

    cn = max(min(cn, span), floor(20 + p + 1))
    bn = max(min(bn, span), floor(20 + p + 3))
    # Variance constants at the pilot c (jackknife, order p), bias from the order-(p+2) fit at b.
    _, V, _, _ = _fit(xs, F, first_of, cn, cn, p, kernel)
    k = p + 1
    var_l, var_r = V[1, 1] / cn**2, V[k + 1, k + 1] / cn**2
    cov = V[1, k + 1] / cn**2
    variance = n * cn * np.array([var_l, var_r, var_l + var_r - 2 * cov, var_l + var_r + 2 * cov])
    beta_b, _, _, _ = _fit(xs, F, first_of, bn, bn, p + 2, kernel, jackknife=False)
    kb = p + 3
    lead_l, lead_r = beta_b[p + 1] / bn ** (p + 1), beta_b[kb + p + 1] / bn ** (p + 1)
    _, bias_const = _kernel_constants(p, p + 1, 1, kernel)
    bl = lead_l * bias_const * (-1) ** p  # the left side's boundary kernel is mirrored
    br = lead_r * bias_const
    bias2 = np.array([bl, br, br - bl, br + bl]) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (variance / (2 * p * bias2 * n)) ** (1 / (2 * p + 1))
    h = np.where(np.isfinite(h) & (variance > 0), h, 0.0)
    h[0] = min(h[0], abs(xs[0]))
    h[1] = min(h[1], xs[-1])
    h[2:] = np.minimum(h[2:], span)
    low_l = max(left[min(len(left), 20 + p + 1) - 1], uniq_l[min(len(uniq_l), 20 + p + 1) - 1])
    low_r = max(right[min(len(right), 20 + p + 1) - 1], uniq_r[min(len(uniq_r), 20 + p + 1) - 1])
    h[0] = max(h[0], low_l)
    h[1] = max(h[1], low_r)
    h[2:] = np.maximum(h[2:], max(low_l, low_r))
    return float(np.median([h[0], h[2], h[3]])), float(np.median([h[1], h[2], h[3]]))


def density_test(
    x: np.ndarray, cutoff: float, p: int = 2, kernel: str = "triangular",
    h: tuple[float, float] | None = None,
) -> DensityTest:  # fmt: skip
    """CJM (2020) manipulation test at `cutoff` (bandwidths selected unless given)."""
    xc = np.asarray(x, float) - cutoff
    ecdf = _ecdf(xc)  # sorted once for the bandwidth and the test
    if h is None:
        h = _bandwidth(xc, ecdf, p, kernel)
    return _jump(ecdf, h, p, kernel)

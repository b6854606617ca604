"""Linear instrumental-variable numerics: k-class fits (OLS, 2SLS, LIML) and their covariances.

Model: ``y = β d + W δ + u`` with one endogenous regressor ``d``, exogenous controls ``W``
(intercept included) and excluded instruments ``Z``; the full instrument matrix is
``Zf = [W, Z]``. The k-class estimator solves

    [(1 − κ) X'X + κ X'P X] b = (1 − κ) X'y + κ X'P y,   X = [d, W],  P = Zf (Zf'Zf)⁻¹ Zf'

with κ = 0 for OLS, κ = 1 for 2SLS and κ = the smallest root of
det(R_W'R_W − κ R_Z'R_Z) = 0 for LIML (R_W, R_Z: residuals of [y, d] on W and on Zf;
Anderson & Rubin 1949). Reference: Wooldridge (2010), *Econometric Analysis of Cross Section
and Panel Data*, ch. 5; Davidson & MacKinnon (2004), ch. 8.

Covariances follow the conventions of `linearmodels` (Sheppard) so that numbers agree with it:
``robust`` is White's HC0 sandwich, ``unadjusted`` uses s² = e'e/n, ``clustered`` sums the scores
x̂ᵢeᵢ within clusters; ``debiased=True`` multiplies by n/(n − q) (clusters: also G/(G − 1) ·
(n − 1)/n) and switches p-values and intervals from the normal to t(n − q) (F for Wald tests of
the unadjusted kind). For κ ≠ 1 the scores use the 2SLS projection x̂ = P X and the bread
(1 − κ)X'X + κX'PX, as `linearmodels` does.

Every function accepts a leading batch axis (arrays ``(..., n, m)``) so that simulations fit
thousands of data sets in one call; clusters, when given, are shared by the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np


@dataclass(frozen=True)
class CovSpec:
    """How standard errors are computed (see the module docstring)."""

    kind: str = "robust"  # robust | unadjusted | clustered
    debiased: bool = False
    clusters: np.ndarray | None = None  # integer codes 0..G−1 per row (clustered only)

    @property
    def n_clusters(self) -> int:
        return 0 if self.clusters is None else int(self.clusters.max()) + 1


@dataclass
class Fit:
    """A k-class fit: coefficients, their covariance, residuals and the κ used."""

    params: np.ndarray  # (..., q)
    cov: np.ndarray  # (..., q, q)
    resid: np.ndarray  # (..., n)
    kappa: np.ndarray | float
    df_resid: int  # n − q

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diagonal(self.cov, axis1=-2, axis2=-1))


def _col(a: np.ndarray) -> np.ndarray:
    return a[..., None]


def projection_coef(Zf: np.ndarray, A: np.ndarray) -> np.ndarray:
    """(Zf'Zf)⁻¹ Zf'A, batched (A has the same rows as Zf)."""
    return np.linalg.solve(Zf.mT @ Zf, Zf.mT @ A)


def cluster_sums(scores: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Sum of the rows of `scores` (..., n, m) within each cluster: (..., G, m)."""
    order = np.argsort(clusters, kind="stable")
    sorted_codes = clusters[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    return np.add.reduceat(scores[..., order, :], starts, axis=-2)


def meat(a: np.ndarray, b: np.ndarray, ea: np.ndarray, eb: np.ndarray, cov: CovSpec) -> np.ndarray:
    """Σ (aᵢ eaᵢ)(bᵢ ebᵢ)' / n – or its cluster-sum / homoskedastic analogue – before scaling.

    With ``a = b`` and ``ea = eb`` this is the score covariance Ŝ of the module docstring; the
    cross terms let the Anderson–Rubin statistic be written as a quadratic in β.
    """
    n = a.shape[-2]
    if cov.kind == "unadjusted":
        s2 = np.sum(ea * eb, axis=-1)[..., None, None] / n
        return s2 * (a.mT @ b) / n
    sa, sb = a * _col(ea), b * _col(eb)
    if cov.kind == "clustered":
        sa, sb = cluster_sums(sa, cov.clusters), cluster_sums(sb, cov.clusters)
    return (sa.mT @ sb) / n


def scale(n: int, q: int, cov: CovSpec) -> float:
    """Small-sample factor of the score covariance (1 unless debiased)."""
    if not cov.debiased:
        return 1.0
    factor = n / (n - q)
    if cov.kind == "clustered":
        g = cov.n_clusters
        factor *= g / (g - 1) * (n - 1) / n
    return factor


def liml_kappa(y: np.ndarray, d: np.ndarray, W: np.ndarray, Zf: np.ndarray) -> np.ndarray:
    """κ of LIML: the smallest eigenvalue of (R_W'R_W)(R_Z'R_Z)⁻¹ for R = residuals of [y, d]."""
    Y = np.stack([y, d], axis=-1)
    RW = Y - W @ projection_coef(W, Y)
    RZ = Y - Zf @ projection_coef(Zf, Y)
    roots = np.linalg.eigvals(np.linalg.solve(RZ.mT @ RZ, RW.mT @ RW))
    return np.min(roots.real, axis=-1)


def kclass(
    y: np.ndarray, X: np.ndarray, Zf: np.ndarray, kappa: np.ndarray | float, cov: CovSpec
) -> Fit:
    """The k-class coefficients of y on X with instruments Zf and their covariance.

    ``kclass(y, X, X, 1, cov)`` is OLS with the same covariance conventions.
    """
    n, q = X.shape[-2:]
    k = np.asarray(kappa, float)[..., None, None]
    Xhat = Zf @ projection_coef(Zf, X)  # P X
    bread = (1 - k) * (X.mT @ X) + k * (X.mT @ Xhat)
    rhs = (1 - k) * (X.mT @ _col(y)) + k * (Xhat.mT @ _col(y))
    params = np.linalg.solve(bread, rhs)[..., 0]
    resid = y - (X @ _col(params))[..., 0]
    bread_inv = np.linalg.inv(bread / n)
    if cov.kind == "unadjusted":
        # s² V with V = bread/n (κ-weighted), so the covariance is s² (bread/n)⁻¹ / n
        s2 = scale(n, q, cov) * np.sum(resid**2, axis=-1)[..., None, None] / n
        c = s2 * bread_inv / n
    else:
        s = scale(n, q, cov) * meat(Xhat, Xhat, resid, resid, cov)
        c = bread_inv @ s @ bread_inv / n
    return Fit(params, (c + c.mT) / 2, resid, kappa, n - q)


@dataclass
class FirstStage:
    """The first stage d = Zπ + Wγ + v with the covariance of π̂, and weak-IV statistics."""

    coef: np.ndarray  # (..., k) instrument coefficients π̂
    cov: np.ndarray  # (..., k, k)
    wald: np.ndarray  # π̂' V⁻¹ π̂
    f_stat: np.ndarray  # wald / k
    partial_r2: np.ndarray
    effective_f: np.ndarray  # Montiel Olea–Pflueger
    k_eff: np.ndarray  # their effective degrees of freedom
    resid: np.ndarray  # v̂
    df_resid: int


def first_stage(d: np.ndarray, Zf: np.ndarray, k: int, cov: CovSpec) -> FirstStage:
    """OLS of d on Zf = [W, Z] (the last k columns are the excluded instruments).

    Effective F (Montiel Olea & Pflueger 2013, JBES 31:358): F_eff = π̂'Qπ̂ / tr(V̂_π Q) with
    Q = Z̃'Z̃ the cross-product of the instruments after partialling out W and V̂_π the
    robust (or cluster) covariance of π̂; it equals the robust Wald/1 with one instrument and the
    classical F under homoskedasticity. K_eff = tr(S)²(1 + 2x) / (tr(S²) + 2x tr(S) λmax(S)),
    S = Q^{½} V̂_π Q^{½}, x = 1/τ, is the degrees of freedom of their simplified critical value.
    """
    fit = kclass(d, Zf, Zf, 1.0, cov)
    pi, V = fit.params[..., -k:], fit.cov[..., -k:, -k:]
    wald = (_col(pi).mT @ np.linalg.solve(V, _col(pi)))[..., 0, 0]
    Q = np.linalg.inv(np.linalg.inv(Zf.mT @ Zf)[..., -k:, -k:])  # Z̃'Z̃ by partitioned inverse
    dt = d - (Zf[..., :-k] @ projection_coef(Zf[..., :-k], _col(d)))[..., 0]  # M_W d
    partial_r2 = 1 - np.sum(fit.resid**2, axis=-1) / np.sum(dt**2, axis=-1)
    VQ = V @ Q
    tr = np.trace(VQ, axis1=-2, axis2=-1)
    eff = (_col(pi).mT @ Q @ _col(pi))[..., 0, 0] / tr
    lam = np.linalg.eigvals(VQ).real
    x = 10.0  # 1/τ with τ = 10% of the worst-case benchmark bias
    tr2 = np.trace(VQ @ VQ, axis1=-2, axis2=-1)
    k_eff = tr**2 * (1 + 2 * x) / (tr2 + 2 * x * tr * lam.max(axis=-1))
    return FirstStage(pi, V, wald, wald / k, partial_r2, eff, k_eff, fit.resid, fit.df_resid)


def mop_critical_value(k_eff: float, alpha: float = 0.05, tau: float = 0.10) -> float:
    """Montiel Olea–Pflueger simplified critical value of F_eff for 2SLS (Nagar bias ≤ τ of the
    worst-case benchmark, test size α): χ²-noncentral quantile (Patnaik) / K_eff."""
    from scipy.stats import ncx2

    return float(ncx2.ppf(1 - alpha, k_eff, k_eff / tau) / k_eff)


@dataclass
class ARPieces:
    """The Anderson–Rubin statistic as a function of β: g(β) = γ̂ − βπ̂ and
    V(β) = V_yy − β(V_yd + V_dy) + β² V_dd (covariance of the reduced-form coefficient of the
    instruments in the regression of y − βd on Zf)."""

    gamma: np.ndarray
    pi: np.ndarray
    Vyy: np.ndarray
    Vyd: np.ndarray  # symmetrised: (V_yd + V_dy)/2
    Vdd: np.ndarray
    k: int
    df_denom: int  # n − columns of Zf
    unadjusted: bool

    def wald(self, beta: np.ndarray | float) -> np.ndarray:
        """AR Wald statistic (χ²_k form) at β (broadcast over the batch)."""
        b = np.asarray(beta, float)[..., None, None]
        g = _col(self.gamma) - b * _col(self.pi)
        V = self.Vyy - 2 * b * self.Vyd + b**2 * self.Vdd
        return (g.mT @ np.linalg.solve(V, g))[..., 0, 0]

    def critical_value(self, alpha: float) -> float:
        """Of the Wald form: k·F(k, n − m) quantile for unadjusted, χ²_k otherwise."""
        from scipy import stats

        if self.unadjusted:
            return float(self.k * stats.f.ppf(1 - alpha, self.k, self.df_denom))
        return float(stats.chi2.ppf(1 - alpha, self.k))

    def p_value(self, beta: float) -> np.ndarray:
        from scipy import stats

        w = self.wald(beta)
        if self.unadjusted:
            return stats.f.sf(w / self.k, self.k, self.df_denom)
        return stats.chi2.sf(w, self.k)


def ar_pieces(y: np.ndarray, d: np.ndarray, Zf: np.ndarray, k: int, cov: CovSpec) -> ARPieces:
    """Reduced forms of y and d on Zf and the cross covariances of their instrument blocks."""
    n, m = Zf.shape[-2:]
    coef = projection_coef(Zf, np.stack([y, d], axis=-1))  # (..., m, 2)
    ey = y - (Zf @ coef[..., :1])[..., 0]
    ed = d - (Zf @ coef[..., 1:])[..., 0]
    B = np.linalg.inv(Zf.mT @ Zf / n)
    c = scale(n, m, cov) / n

    def block(ea: np.ndarray, eb: np.ndarray) -> np.ndarray:
        return (c * B @ meat(Zf, Zf, ea, eb, cov) @ B)[..., -k:, -k:]

    vyd = block(ey, ed)
    return ARPieces(
        coef[..., -k:, 0], coef[..., -k:, 1], block(ey, ey), (vyd + vyd.mT) / 2,
        block(ed, ed), k, n - m, cov.kind == "unadjusted",
    )  # fmt: skip


def ar_confidence_set(pieces: ARPieces, alpha: float) -> list[tuple[float, float]]:
    """{β : AR(β) ≤ c} as a sorted list of closed intervals (±inf for unbounded ends).

    AR(β) ≤ c ⟺ det(V(β) − g(β)g(β)'/c) ≥ 0 (matrix determinant lemma, V(β) positive
    definite), and that determinant is a polynomial of degree 2k in β whose real roots are the
    finite eigenvalues of the companion linearisation of the quadratic matrix polynomial
    M(β) = A0 + βA1 + β²A2. Each gap between consecutive roots is then classified by the
    statistic at its midpoint. The set can be an interval, the union of two rays (when the
    first stage is weak: the complement of an interval) or the whole line; with k > 1 it can
    also be empty (every β rejected: the over-identifying restrictions fail). Anderson & Rubin
    (1949); Dufour (1997, Econometrica 65:1365) on why unbounded sets must occur.
    """
    if np.ndim(pieces.gamma) != 1:
        raise ValueError("ar_confidence_set takes one data set (no batch axis)")
    from scipy.linalg import eig

    c = pieces.critical_value(alpha)
    g, p = _col(pieces.gamma), _col(pieces.pi)
    A0 = pieces.Vyy - g @ g.T / c
    A1 = -2 * pieces.Vyd + (g @ p.T + p @ g.T) / c
    A2 = pieces.Vdd - p @ p.T / c
    k = pieces.k
    eye, zero = np.eye(k), np.zeros((k, k))
    # M(β)v = 0 ⟺ [[0, I], [−A0, −A1]] w = β [[I, 0], [0, A2]] w with w = (v, βv)
    values = eig(np.block([[zero, eye], [-A0, -A1]]), np.block([[eye, zero], [zero, A2]]))[0]
    finite = values[np.isfinite(values)]
    size = max(1.0, float(np.max(np.abs(finite.real)))) if finite.size else 1.0
    roots = np.sort(finite.real[np.abs(finite.imag) <= 1e-8 * size])
    roots = roots[np.r_[True, np.diff(roots) > 1e-12 * size]] if roots.size else roots
    edges = np.r_[-np.inf, roots, np.inf]
    span = size if roots.size == 0 else max(1.0, float(np.ptp(roots)))
    intervals: list[tuple[float, float]] = []
    for lo, hi in pairwise(edges):
        if np.isinf(lo) and np.isinf(hi):
            mid = 0.0
        elif np.isinf(lo):
            mid = hi - span
        elif np.isinf(hi):
            mid = lo + span
        else:
            mid = (lo + hi) / 2
        if pieces.wald(mid) <= c:
            if intervals and intervals[-1][1] == lo:
                intervals[-1] = (intervals[-1][0], float(hi))  # a tangency root, not a gap
            else:
                intervals.append((float(lo), float(hi)))
    return intervals


def sargan(resid: np.ndarray, Zf: np.ndarray) -> np.ndarray:
    """Sargan (1958): n · (1 − e'M e / e'e) with M the annihilator of Zf; χ²(k − 1) under
    homoskedastic valid over-identifying restrictions."""
    n = Zf.shape[-2]
    fitted = (Zf @ projection_coef(Zf, _col(resid)))[..., 0]
    u = resid - fitted
    return n * (1 - np.sum(u**2, axis=-1) / np.sum(resid**2, axis=-1))


def hansen_j(
    y: np.ndarray, X: np.ndarray, Zf: np.ndarray, resid_2sls: np.ndarray, cov: CovSpec
) -> np.ndarray:
    """Hansen (1982) J at the two-step efficient GMM estimate: weight Ŝ⁻¹ with Ŝ the robust (or
    cluster) covariance of the moments zᵢeᵢ at the 2SLS residuals (uncentred, no small-sample
    factor – `linearmodels` IVGMM's defaults); J = n ḡ'Ŝ⁻¹ḡ, χ²(k − 1) under valid
    over-identifying restrictions, robust to heteroskedasticity (or clustering)."""
    n = Zf.shape[-2]
    S = meat(Zf, Zf, resid_2sls, resid_2sls, cov)
    Wt = np.linalg.inv(S)
    xz = X.mT @ Zf / n
    zy = Zf.mT @ _col(y) / n
    beta = np.linalg.solve(xz @ Wt @ xz.mT, xz @ Wt @ zy)
    e = y - (X @ beta)[..., 0]
    gbar = Zf.mT @ _col(e) / n
    return n * (gbar.mT @ Wt @ gbar)[..., 0, 0]


def wu_hausman(
    y: np.ndarray, d: np.ndarray, W: np.ndarray, Zf: np.ndarray, resid_iv: np.ndarray
) -> np.ndarray:
    """Wu (1973)–Hausman (1978) F test that d is exogenous (homoskedastic form):
    δ = ‖P_[Zf, d] e_ols‖² − ‖P_Zf e_iv‖², F = δ / ((e_ols'e_ols − δ)/(n − q − 1)) ~ F(1, ·)."""
    X = np.concatenate([_col(d), W], axis=-1)
    e0 = y - (X @ projection_coef(X, _col(y)))[..., 0]
    Z1 = np.concatenate([Zf, _col(d)], axis=-1)
    e1 = (Z1 @ projection_coef(Z1, _col(e0)))[..., 0]
    e2 = (Zf @ projection_coef(Zf, _col(resid_iv)))[..., 0]
    n, q = X.shape[-2:]
    delta = np.sum(e1**2, axis=-1) - np.sum(e2**2, axis=-1)
    return delta / ((np.sum(e0**2, axis=-1) - delta) / (n - q - 1))


def control_function_test(y: np.ndarray, X: np.ndarray, v: np.ndarray, cov: CovSpec) -> np.ndarray:
    """Regression (control-function) test of exogeneity: the Wald statistic of the first-stage
    residual v̂ added to the OLS of y on X, with the chosen covariance (robust or cluster), so
    it stays valid under heteroskedasticity (Wooldridge 2010, §6.3.1). χ²(1)."""
    Xa = np.concatenate([X, _col(v)], axis=-1)
    fit = kclass(y, Xa, Xa, 1.0, cov)
    return fit.params[..., -1] ** 2 / fit.cov[..., -1, -1]

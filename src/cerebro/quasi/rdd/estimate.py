"""Local polynomial RD estimates with robust bias-corrected inference.

Estimand: the jump of E[Y | X = x] at the cutoff c (sharp design), or the ratio of the jumps of
E[Y | X] and E[T | X] (fuzzy design: the local average effect on compliers at the cutoff).
Identification needs the conditional expectations to be continuous at c apart from the treatment
(no sorting across the cutoff, no other policy changing there).

Estimator (Calonico, Cattaneo & Titiunik 2014, "CCT"): weighted least squares of order p on each
side within bandwidth h (kernel weights), the effect the difference of intercepts. The robust
interval re-centres the estimate by the estimated leading bias (an order q = p+1 fit within
bandwidth b) and widens the standard error for the variability of that bias estimate:
τ̂_bc = e₀'Γ_p⁻¹ Q'D with Q = W_h R_p − L · (bias-fit weights), V_rb = e₀'Γ_p⁻¹ (Σ Q_i Q_i' ε_i²) Γ_p⁻¹e₀.
Covariates (Calonico, Cattaneo, Farrell & Titiunik 2019, REStat) enter linearly with a common
coefficient γ on both sides; the effect is τ_Y − γ'τ_Z, which stays consistent for the same
estimand when covariates are balanced at the cutoff and typically shrinks the variance. Fuzzy
designs linearise the ratio (delta method) so that variance and bias correction cover both jumps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cerebro.quasi.rdd.bandwidth import Design, combination
from cerebro.quasi.rdd.local import (
    KERNEL_CODE,
    Side,
    cr1,
    local_fit,
    require_points,
    window_size,
)


@dataclass
class SideFit:
    """Everything one side contributes at bandwidths (h, b)."""

    m: int  # window (points with a positive weight at max(h, b))
    n_h: int
    n_b: int
    inv_p: np.ndarray
    inv_q: np.ndarray
    L: np.ndarray  # Σ W_h R_p v^(p+1), v = x/b: the bias-correction direction
    beta_p: np.ndarray  # (p+1) × k, u units
    beta_q: np.ndarray  # (q+1) × k, v units
    U: np.ndarray  # R_p'W_h D
    ZWD: np.ndarray | None
    beta_bc: np.ndarray | None = None
    meats: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (conv., robust)
    clusters: int = 0


def side_fit(side: Side, h: float, b: float, p: int, design: Design) -> SideFit:
    """The sums of the order-p fit at h and the order-q bias fit at b on one side."""
    q = p + 1
    kernel = design.kernel
    n_h = window_size(side.dist, h, kernel)
    n_b = window_size(side.dist, b, kernel)
    m = max(n_h, n_b)
    name = "left of" if side.x[-1] < 0 else "right of"
    require_points(side, n_h, p, name, f"bandwidth h = {h:.4g}")
    require_points(side, n_b, q, name, f"bias bandwidth b = {b:.4g}")
    fq = local_fit(side, b, q, kernel)  # usually the selector's last bias fit, kept
    fp = local_fit(side, h, p, kernel, cross=design.n_cov > 0, b=b, bpow=p + 1)
    inv_p = fp.inv_g
    ZWD = fp.C[design.cov_cols] if design.n_cov else None
    return SideFit(
        m, n_h, n_b, inv_p, fq.inv_g, fp.E, inv_p @ fp.T, fq.coef(), fp.T, ZWD
    )  # fmt: skip


def finish_side(side: Side, fit: SideFit, h: float, b: float, p: int, S: np.ndarray,
                design: Design) -> None:  # fmt: skip
    """The bias-corrected coefficients and, for each combination s (rows of S), the meats of
    the conventional and the robust variance, in one pass over the window (CCT 2014):
    Q = W_h R_p − m·L' with m_i = w_b,i R_q(v_i)·[Γ_q⁻¹]_(p+1); τ̂_bc = e₀'Γ_p⁻¹ Q'D."""
    k = side.D.shape[1]
    ns = S.shape[0]
    iq = np.ascontiguousarray(fit.inv_q[p + 1])
    if side.cluster is None:
        res, tail, t0 = side.nn(fit.m)
        cluster, ncl = np.empty(0, np.int64), 0
        bps, bqs = np.zeros((ns, p + 1)), np.zeros((ns, p + 2))
    else:
        res, tail, t0 = np.empty((0, k)), np.empty((0, k)), 0
        cluster, ncl = side.cluster, side.n_clusters
        bps = np.ascontiguousarray((fit.beta_p @ S.T).T)
        bqs = np.ascontiguousarray((fit.beta_q @ S.T).T)
    QD, mh, mb, th, tb, g = side.kern.bias_corrected(
        side.x, side.D, fit.m, h, b, KERNEL_CODE[design.kernel], p, iq,
        np.ascontiguousarray(fit.L), S, res, tail, t0, bps, bqs, cluster, ncl,
    )  # fmt: skip
    fit.beta_bc = fit.inv_p @ QD
    if side.cluster is None:
        fit.meats = [(mh[t], mb[t]) for t in range(ns)]
    else:
        fit.clusters = g
        fit.meats = [(cr1(th[t], g, fit.m, p + 1), cr1(tb[t], g, fit.m, p + 2)) for t in range(ns)]


@dataclass
class RDFit:
    """Conventional and robust bias-corrected RD estimates (CCT 2014)."""

    tau: float  # conventional estimate
    tau_bc: float  # bias-corrected estimate (centre of the robust CI)
    se: float  # conventional SE
    se_rb: float  # robust SE
    h: float
    b: float
    n: tuple[int, int]
    n_h: tuple[int, int]
    n_b: tuple[int, int]
    p: int
    gamma: np.ndarray | None
    # fuzzy: the first stage (jump in take-up) and the reduced form
    first_stage: tuple[float, float, float, float] | None = None  # tau, tau_bc, se, se_rb
    coef_left: np.ndarray = field(default_factory=lambda: np.zeros(0))  # outcome fit, raw x − c
    coef_right: np.ndarray = field(default_factory=lambda: np.zeros(0))
    clusters: tuple[int, int] | None = None


def _variance(fit: SideFit, t: int) -> tuple[float, float]:
    """Conventional and robust variance of one side's intercept for the t-th combination."""
    m_cl, m_rb = fit.meats[t]
    v = fit.inv_p[0] @ m_cl @ fit.inv_p[0]
    v_rb = fit.inv_p[0] @ m_rb @ fit.inv_p[0]
    return float(v), float(v_rb)


def rd_estimate(left: Side, right: Side, h: float, b: float, p: int, design: Design) -> RDFit:
    """The RD effect at bandwidths (h, b): point estimates and both standard errors."""
    fl = side_fit(left, h, b, p, design)
    fr = side_fit(right, h, b, p, design)
    gamma = None
    if design.n_cov:
        z = design.cov_cols
        first = np.arange(1 + int(design.treatment))
        zwz = np.zeros((len(z), len(z)))
        zwy = np.zeros((len(z), len(first)))
        for f in (fl, fr):
            uigu = f.U[:, z].T @ f.inv_p @ f.U
            zwz += f.ZWD[:, z] - uigu[:, z]
            zwy += f.ZWD[:, first] - uigu[:, first]
        gamma = np.linalg.pinv(zwz) @ zwy
    jump = fr.beta_p[0] - fl.beta_p[0]
    s = combination(jump, gamma, design, 0)
    if design.treatment:
        s_y, s_t = _selectors(gamma, design)
        S = np.vstack([s, s_t])
    else:
        S = s[None, :]
    S = np.ascontiguousarray(S, dtype=float)
    for side, f in ((left, fl), (right, fr)):
        finish_side(side, f, h, b, p, S, design)
    jump_bc = fr.beta_bc[0] - fl.beta_bc[0]
    first_stage = None
    if not design.treatment:
        tau, tau_bc = float(s @ jump), float(s @ jump_bc)
    else:
        ty, tt = float(s_y @ jump), float(s_t @ jump)
        ty_bc, tt_bc = float(s_y @ jump_bc), float(s_t @ jump_bc)
        tau = ty / tt
        # Bias-correct the ratio through its linearisation: τ − s'(bias of each jump).
        tau_bc = tau - (1 / tt * (ty - ty_bc) - ty / tt**2 * (tt - tt_bc))
        vt = [_variance(f, 1) for f in (fl, fr)]
        first_stage = (
            tt,
            tt_bc,
            float(np.sqrt(vt[0][0] + vt[1][0])),
            float(np.sqrt(vt[0][1] + vt[1][1])),
        )
    vl, vr = _variance(fl, 0), _variance(fr, 0)
    raw = h ** -np.arange(p + 1)
    return RDFit(
        tau=tau,
        tau_bc=tau_bc,
        se=float(np.sqrt(vl[0] + vr[0])),
        se_rb=float(np.sqrt(vl[1] + vr[1])),
        h=h,
        b=b,
        n=(left.n, right.n),
        n_h=(fl.n_h, fr.n_h),
        n_b=(fl.n_b, fr.n_b),
        p=p,
        gamma=gamma,
        first_stage=first_stage,
        coef_left=fl.beta_p[:, 0] * raw,
        coef_right=fr.beta_p[:, 0] * raw,
        clusters=None if left.cluster is None else (fl.clusters, fr.clusters),
    )


def _selectors(gamma: np.ndarray | None, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Column weights giving the outcome jump and the take-up jump (net of covariates)."""
    k = 2 + design.n_cov
    s_y, s_t = np.zeros(k), np.zeros(k)
    s_y[0], s_t[1] = 1.0, 1.0
    if gamma is not None:
        s_y[2:] = -gamma[:, 0]
        s_t[2:] = -gamma[:, 1]
    return s_y, s_t


@dataclass
class RDResult:
    """An RD fit with how its bandwidth was chosen."""

    fit: RDFit
    bandwidth_rule: str  # "mserd" or "manual"
    pilot: float | None
    mass_points: tuple[float, float]  # share of repeated x values on each side
    bwcheck: int | None
    sharp_bandwidth_for_fuzzy: bool = False
    # whether every score differs from the others on its side (then the side's count of distinct
    # scores is its count of points)
    all_distinct: tuple[bool, bool] = (False, False)


def rd_fit(
    y: np.ndarray,
    x: np.ndarray,
    cutoff: float = 0.0,
    *,
    treatment: np.ndarray | None = None,
    covariates: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    p: int = 1,
    kernel: str = "triangular",
    h: float | None = None,
    b: float | None = None,
    regularise: float = 1.0,
) -> RDResult:
    """Sharp (no `treatment`) or fuzzy RD at `cutoff` with robust bias-corrected inference.

    Complete, numeric arrays; `cluster` any labels (CR1 cluster-robust variance), otherwise the
    nearest-neighbour variance (3 neighbours). Without `h`, the MSE-optimal common bandwidth
    (``mserd``); with `h` and no `b`, b = h. Mirrors rdrobust's defaults (masspoints='adjust',
    bwrestrict, scaleregul=1), so the numbers agree with it.
    """
    from cerebro.core.errors import UserInputError
    from cerebro.quasi.rdd.bandwidth import mserd, quantile_type2_sides
    from cerebro.quasi.rdd.local import make_sides

    x = np.asarray(x, float) - cutoff
    columns = [np.asarray(y, float)]
    if treatment is not None:
        columns.append(np.asarray(treatment, float))
    if covariates is not None and covariates.size:
        covariates = np.asarray(covariates, float).reshape(len(x), -1)
        columns.extend(covariates.T)
    codes = None
    if cluster is not None:
        codes = np.unique(np.asarray(cluster), return_inverse=True)[1]
    right_mask = x >= 0
    if right_mask.all() or not right_mask.any():
        raise UserInputError(
            f"the cutoff {cutoff:g} is outside the range of the running variable; choose a "
            "--cutoff with data on both sides."
        )
    # Each side is gathered once, straight into its sorted order.
    left, right = make_sides(x, columns, codes)
    q = p + 1
    for side, name in ((left, "below"), (right, "above")):
        if side.unique < q + 1:
            raise UserInputError(
                f"only {side.unique} distinct running-variable values {name} the cutoff; an "
                f"order-{p} fit with bias correction needs {q + 1} – use a lower --order."
            )
    n_cov = 0 if covariates is None else covariates.shape[1]
    design = Design(treatment is not None, n_cov, kernel, "nn" if cluster is None else "cr1")
    mass = (1 - left.unique / left.n, 1 - right.unique / right.n)
    bwcheck = 10 if max(mass) >= 0.2 else None
    pilot = None
    sharp_bw = False
    rule = "manual"
    if h is None and len(x) < 20:
        h = max(left.dist[-1], right.dist[-1])
    if h is None:
        rule = "mserd"
        bw_design = design
        if treatment is not None:
            t = columns[1]
            # With perfect compliance on one side the take-up has no variance there; rdrobust
            # then selects the bandwidth of the sharp design (reduced form).
            if np.var(t[~right_mask]) == 0 or np.var(t[right_mask]) == 0:
                sharp_bw = True
        if sharp_bw:
            reduced = [0, *range(2, len(columns))]
            bw_sides = [left.with_columns(reduced), right.with_columns(reduced)]
            bw_design = Design(False, n_cov, kernel, design.vce)
        else:
            bw_sides = [left, right]
        sd = float(np.std(x, ddof=1))
        q25, q75 = quantile_type2_sides(left, right, [0.25, 0.75])
        h, b_sel, pilot = mserd(
            bw_sides[0], bw_sides[1], p, bw_design, sd, float(q75 - q25), bwcheck, regularise
        )
        b = b_sel if b is None else b
    elif b is None:
        b = h
    fit = rd_estimate(left, right, float(h), float(b), p, design)
    distinct = (left.unique == left.n, right.unique == right.n)
    return RDResult(fit, rule, pilot, mass, bwcheck, sharp_bw, distinct)

"""Callaway & Sant'Anna (2021) group-time average treatment effects for staggered adoption.

Estimand: ATT(g, t) = E[Y_t(g) − Y_t(∞) | G = g], the average effect in period t on the units
first treated in period g. Identification (panel, absorbing treatment, no anticipation):
parallel trends between cohort g and the comparison group – the never-treated units
(``control="never"``) or the units not yet treated by t (``"notyet"``) – unconditionally or
conditional on covariates X (taken at the base period, as R ``did`` does).

Each ATT(g, t) is a 2×2 difference-in-differences of the long difference ΔY = Y_t − Y_b
between cohort g and its comparison group, with the base period b = g − 1 for t ≥ g and, for the
pre-periods (placebos), b = t − 1 ("varying" base period, R ``did``'s default). With covariates,
the comparison group's ΔY is predicted by OLS on X among the comparisons (outcome regression,
Heckman, Ichimura & Todd 1997; R ``did``'s ``est_method="reg"``).

Inference: every ATT(g, t) has an influence function ψ over the n units (ATT̂ − ATT ≈ Σψ_i / n);
aggregations

    simple   θ = Σ_{t ≥ g} w_g ATT(g, t) / Σ w_g          (w_g = P(G = g))
    dynamic  θ(e) = Σ_g w_g ATT(g, g + e) / Σ w_g, and the average of θ(e) over e ≥ 0
    group    θ(g) = mean_{t ≥ g} ATT(g, t), and Σ_g w_g θ(g) / Σ w_g

carry the influence function of the estimated weights too, so SE = sqrt(Σψ²)/n (clustered: sums
of ψ within clusters). Sampling weights w_i of the units (constant over time, R ``did``'s
``weightsname``) turn every mean above into a w-weighted mean – the 2×2 means, the comparison
group's regression (WLS) and the cohort shares P(G = g) = mean(w·1{G = g}) – and enter each
influence function as R ``did`` / DRDID's ``i.weights`` do. A multiplier bootstrap (Rademacher weights) of the same influence
functions gives uniform confidence bands over event times.

Reference: Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-differences with
multiple time periods", Journal of Econometrics 225(2), 200–230 (eqs. 2.5–2.8, Theorem 2 and
Section 4 on aggregation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NEVER = np.iinfo(np.int64).max  # adoption index of never-treated units


@dataclass
class GroupTime:
    """Every estimated ATT(g, t) with its influence function over the units."""

    group: np.ndarray  # adoption period index g of each cell
    time: np.ndarray  # period index t of each cell
    att: np.ndarray
    psi: np.ndarray  # n_units × cells
    n_treated: np.ndarray
    n_control: np.ndarray
    weight: np.ndarray  # P(G = g) of each cell's cohort
    cohorts: np.ndarray  # every cohort estimated
    cohort_share: np.ndarray  # P(G = g) of each cohort
    cohort_of_unit: np.ndarray  # adoption index per unit (NEVER if never treated)
    skipped: list[tuple[int, int]] = field(default_factory=list)  # cells with no comparison
    unit_weight: np.ndarray | None = None  # sampling weights of the units (mean 1), or None

    @property
    def post(self) -> np.ndarray:
        return self.time >= self.group

    @property
    def n(self) -> int:
        return self.psi.shape[0]


def group_time_att(
    Y: np.ndarray,
    cohort: np.ndarray,
    control: str = "never",
    X: np.ndarray | None = None,
    w: np.ndarray | None = None,
) -> GroupTime:
    """ATT(g, t) for every cohort g ≥ 1 and period t ≥ 1 of a balanced panel.

    `Y` is units × periods; `cohort` the first treated period index of each unit (NEVER if never
    treated; units treated from period 0 must be removed beforehand – nothing identifies their
    effects); `X` (units × periods × k) the covariates, or None; `w` the units' sampling
    weights (positive), or None.
    """
    n, T = Y.shape
    if w is not None:
        w = np.asarray(w, float) / np.mean(w)  # mean 1: ATTs and ψ do not depend on the scale
    ones = np.ones(n) if w is None else w
    cohorts = np.unique(cohort[(cohort != NEVER)])
    cohorts = cohorts[cohorts < T]
    share = np.array([np.mean(ones * (cohort == g)) for g in cohorts])
    cells_g, cells_t, atts, psis, n1s, n0s, wts, skipped = [], [], [], [], [], [], [], []
    for g, p_g in zip(cohorts, share, strict=True):
        treated = cohort == g
        for t in range(1, T):
            base = g - 1 if t >= g else t - 1
            if control == "never":
                comparison = cohort == NEVER
            else:
                comparison = (cohort == NEVER) | ((cohort > t) & ~treated)
            if not comparison.any():
                skipped.append((int(g), t))
                continue
            dy = Y[:, t] - Y[:, base]
            Xb = None if X is None else X[:, base, :]
            att, psi = _two_by_two(dy, treated, comparison, Xb, ones)
            cells_g.append(g)
            cells_t.append(t)
            atts.append(att)
            psis.append(psi)
            n1s.append(int(treated.sum()))
            n0s.append(int(comparison.sum()))
            wts.append(p_g)
    return GroupTime(
        np.array(cells_g, dtype=np.int64),
        np.array(cells_t, dtype=np.int64),
        np.array(atts),
        np.column_stack(psis) if psis else np.empty((n, 0)),
        np.array(n1s),
        np.array(n0s),
        np.array(wts),
        cohorts,
        share,
        cohort,
        skipped,
        w,
    )


def _two_by_two(
    dy: np.ndarray,
    treated: np.ndarray,
    comparison: np.ndarray,
    X: np.ndarray | None,
    w: np.ndarray,
) -> tuple[float, np.ndarray]:
    """The 2×2 DiD of ΔY between two groups and its influence function over all n units, with
    unit weights `w` (all 1 when unweighted).

    Unconditional: ATT = μ₁ − μ₀, the w-weighted means of ΔY among the treated and the
    comparisons, ψ_i = n·w_i·[D_i(ΔY_i − μ₁)/W₁ − C_i(ΔY_i − μ₀)/W₀] (W = Σ w in the group).
    Outcome regression: ATT = the w-weighted mean over the treated of ΔY − X'β̂, β̂ from WLS of
    ΔY on (1, X) among the comparisons; ψ adds the estimation effect of β̂,
    −n·x̄₁ᵀ(Σ_C w x xᵀ)⁻¹ C_i w_i x_i e_i (x̄₁ the treated's weighted mean).
    """
    n = len(dy)
    w1, w0 = w[treated], w[comparison]
    psi = np.zeros(n)
    if X is None:
        mu1 = float(w1 @ dy[treated] / w1.sum())
        mu0 = float(w0 @ dy[comparison] / w0.sum())
        psi[treated] = n * w1 * (dy[treated] - mu1) / w1.sum()
        psi[comparison] = -n * w0 * (dy[comparison] - mu0) / w0.sum()
        return mu1 - mu0, psi
    Z = np.column_stack([np.ones(n), X])
    Zc, yc = Z[comparison], dy[comparison]
    gram = Zc.T @ (w0[:, None] * Zc)
    beta = np.linalg.solve(gram, Zc.T @ (w0 * yc))
    resid_t = dy[treated] - Z[treated] @ beta
    att = float(w1 @ resid_t / w1.sum())
    psi[treated] = n * w1 * (resid_t - att) / w1.sum()
    zbar = w1 @ Z[treated] / w1.sum()
    e_c = yc - Zc @ beta
    psi[comparison] -= n * (Zc @ np.linalg.solve(gram, zbar)) * w0 * e_c
    return att, psi


@dataclass
class Aggregate:
    """Aggregated effects: labels, estimates and influence functions (units × effects)."""

    label: list[str]
    key: np.ndarray  # event time e, cohort g, or 0 for the overall
    att: np.ndarray
    psi: np.ndarray


def _weight_if(gt: GroupTime, keep: np.ndarray) -> np.ndarray:
    """Influence function of the weights w_k = p_{g_k} / Σ_keep p_g (units × kept cells)."""
    p = gt.weight[keep]
    total = p.sum()
    dev = _share_deviations(gt, gt.group[keep], p)
    return dev / total - dev.sum(axis=1, keepdims=True) * (p / total**2)[None, :]


def _share_deviations(gt: GroupTime, groups: np.ndarray, share: np.ndarray) -> np.ndarray:
    """w_i·1{G_i = g_k} − p_k: the influence functions of the estimated cohort shares."""
    member = (gt.cohort_of_unit[:, None] == groups[None, :]).astype(float)
    if gt.unit_weight is not None:
        member *= gt.unit_weight[:, None]
    return member - share[None, :]


def _weighted(gt: GroupTime, keep: np.ndarray) -> tuple[float, np.ndarray]:
    """Σ w_k ATT_k with w ∝ cohort share, and its influence function (with the weights')."""
    w = gt.weight[keep] / gt.weight[keep].sum()
    att = float(w @ gt.att[keep])
    psi = gt.psi[:, keep] @ w + _weight_if(gt, keep) @ gt.att[keep]
    return att, psi


def aggregate(gt: GroupTime, how: str) -> tuple[Aggregate, tuple[float, np.ndarray]]:
    """The aggregation `how` (simple, dynamic, group): its pieces and its overall number."""
    post = gt.post
    if how == "simple":
        overall = _weighted(gt, post)
        return Aggregate(
            ["overall"], np.array([0]), np.array([overall[0]]), overall[1][:, None]
        ), overall
    if how == "dynamic":
        event = gt.time - gt.group
        es = np.unique(event)
        pieces = [_weighted(gt, event == e) for e in es]
        att = np.array([a for a, _ in pieces])
        psi = np.column_stack([p for _, p in pieces])
        after = es >= 0
        overall = (float(att[after].mean()), psi[:, after].mean(axis=1))
        return Aggregate([f"e={e}" for e in es], es, att, psi), overall
    if how == "group":
        groups = np.unique(gt.group[post])
        att, psis = [], []
        for g in groups:
            cells = post & (gt.group == g)
            att.append(float(gt.att[cells].mean()))
            psis.append(gt.psi[:, cells].mean(axis=1))
        att_g, psi_g = np.array(att), np.column_stack(psis)
        share = gt.cohort_share[np.searchsorted(gt.cohorts, groups)]
        w = share / share.sum()
        # The weights' influence function, cohorts as 'cells' (one per group).
        dev = _share_deviations(gt, groups, share)
        wif = dev / share.sum() - dev.sum(axis=1, keepdims=True) * (share / share.sum() ** 2)
        overall = (float(w @ att_g), psi_g @ w + wif @ att_g)
        return Aggregate([f"g={g}" for g in groups], groups, att_g, psi_g), overall
    raise ValueError(f"unknown aggregation {how!r}")


def standard_errors(psi: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """SE of each column's estimate from its influence function: sqrt(Σψ²)/n, or with clusters
    sqrt(Σ_c (Σ_{i∈c} ψ_i)²)/n (R ``did``'s analytic clustered SE)."""
    return np.sqrt(np.sum(_cluster_sums(psi, cluster) ** 2, axis=0)) / psi.shape[0]


def _cluster_sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Influence functions summed within clusters (unchanged without clusters)."""
    if cluster is None:
        return psi
    _, codes = np.unique(cluster, return_inverse=True)
    sums = np.zeros((codes.max() + 1, psi.shape[1]))
    np.add.at(sums, codes, psi)
    return sums


def uniform_band(
    psi: np.ndarray, alpha: float, seed: int, reps: int = 999, cluster: np.ndarray | None = None
) -> float:
    """Critical value c of a (1 − alpha) simultaneous band θ̂_k ± c·SE_k over the columns of psi:
    the (1 − alpha) quantile of max_k |Σ_i v_i ψ_ik / n| / SE_k over Rademacher multipliers v
    (one per cluster when clustered). Reference: Callaway & Sant'Anna (2021), Algorithm 1."""
    n = psi.shape[0]
    psi = _cluster_sums(psi, cluster)
    se = np.sqrt(np.sum(psi**2, axis=0)) / n
    ok = se > 0
    rng = np.random.default_rng(seed)
    stats_max = np.empty(reps)
    for start in range(0, reps, 200):  # chunks bound the memory of the multiplier matrix
        v = rng.integers(0, 2, size=(min(200, reps - start), psi.shape[0])) * 2.0 - 1.0
        draws = v @ psi[:, ok] / n
        stats_max[start : start + len(v)] = np.max(np.abs(draws) / se[ok], axis=1)
    return float(np.quantile(stats_max, 1 - alpha))

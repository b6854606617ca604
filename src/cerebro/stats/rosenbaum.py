"""Rosenbaum bounds for matched pairs: how strong hidden bias Γ must be to explain away the
Wilcoxon signed-rank test of the pair differences (Rosenbaum 2002, *Observational Studies*,
2nd ed., §4.3; Rosenbaum 1987, Biometrika 74).

Within a pair, the odds that the treated unit is the one receiving treatment may differ by at
most a factor Γ ≥ 1 between the two units (Γ = 1 is a randomised pair). Given the pairs, the
signed-rank statistic T (sum of the ranks of |dᵢ| over positive differences, zero differences
dropped, ties given average ranks) is then bounded by sums of independent rᵢ·Bernoulli(p) with
p⁺ = Γ/(1 + Γ) (upper bound on the p-value) and p⁻ = 1/(1 + Γ) (lower bound). The bounds on the
one-sided p-value for a positive effect use the normal approximation with mean p·Σrᵢ and
variance p(1 − p)·Σrᵢ² (rbounds' `psens` formulas with ties; without ties they are
p·n(n + 1)/2 and p(1 − p)·n(n + 1)(2n + 1)/6), or the exact distribution for
integer ranks. The sensitivity value Γ* is the Γ at which the upper p-value reaches alpha.

Matched sets with several controls (1:k matching): the Huber–Maritz m-test of Rosenbaum (2007)
with the separable bound of Gastwirth, Krieger & Rosenbaum (2000), below.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def signed_ranks(differences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks of |d| over the non-zero differences, and whether each is positive."""
    d = np.asarray(differences, float)
    d = d[d != 0]
    from scipy.stats import rankdata

    return rankdata(np.abs(d)), d > 0


def _p_exact(ranks: np.ndarray, t: float, p: float) -> float:
    """P(Σ rᵢ Bᵢ ≥ t) for integer ranks and independent Bᵢ ~ Bernoulli(p), by convolution."""
    r = ranks.astype(int)
    dist = np.zeros(int(r.sum()) + 1)
    dist[0] = 1.0
    for rank in r:
        shifted = np.zeros_like(dist)
        shifted[rank:] = dist[:-rank]
        dist = (1 - p) * dist + p * shifted
    return float(dist[int(np.ceil(t - 1e-9)) :].sum())


def signed_rank_bounds(
    differences: np.ndarray, gamma: float, exact: bool = False
) -> tuple[float, float, float]:
    """(T, lower p, upper p) of the one-sided signed-rank test of a positive effect at Γ."""
    ranks, positive = signed_ranks(differences)
    t = float(ranks[positive].sum())
    bounds = []
    for p in (1 / (1 + gamma), gamma / (1 + gamma)):
        if exact:
            if not np.allclose(ranks, np.round(ranks)):
                raise ValueError("the exact bounds need untied ranks; use the normal approximation")
            bounds.append(_p_exact(ranks, t, p))
        else:
            mean, var = p * ranks.sum(), p * (1 - p) * np.sum(ranks**2)
            bounds.append(float(special.ndtr(-(t - mean) / np.sqrt(var))))
    return t, bounds[0], bounds[1]


def sensitivity_gamma(differences: np.ndarray, alpha: float, exact: bool = False,
                      largest: float = 1e4) -> float:  # fmt: skip
    """Γ* at which the upper p-value first reaches alpha (1 when it is already above alpha at
    Γ = 1; `largest` when even that Γ does not reach it), by bisection on log Γ."""

    return gamma_reaching(lambda g: signed_rank_bounds(differences, g, exact)[2], alpha, largest)


def gamma_reaching(upper, alpha: float, largest: float) -> float:
    """The Γ at which the increasing p-value bound `upper(Γ)` first reaches alpha: 1 when it
    already does at Γ = 1, `largest` when even that Γ does not; else bisection on log Γ."""
    if upper(1.0) >= alpha:
        return 1.0
    if upper(largest) < alpha:
        return largest
    lo, hi = 0.0, np.log(largest)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if upper(np.exp(mid)) < alpha else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))


# --- matched sets with one treated unit and several controls (1:k, k may vary) -------------
#
# Rosenbaum (2007), "Sensitivity analysis for m-estimates, tests, and confidence intervals in
# matched observational studies", Biometrics 63:456, with the large-sample separable bound of
# Gastwirth, Krieger & Rosenbaum (2000, JRSS-B 62:545); R's `sensitivitymv::senmv`. Set i has
# n_i units, the first treated. Each unit's Huber–Maritz m-score is the mean over the set of
# ψ((y_ij − y_ik)/s), s the `quantile` (median) of all within-set absolute differences and ψ
# Huber's function, flat beyond `trim` (inner trimming below `inner`). Under hidden bias Γ the
# chance that unit j is the treated one is proportional to Γ^{u_j}, u ∈ [0, 1]; the statistic
# T = Σ (treated's score) then has, per set, the largest expectation at a u that is 1 on the
# units with the highest scores and 0 on the rest (one of n_i − 1 cut points; among cut points
# with that expectation, the largest variance), and the sets are independent, so the upper
# bound on the one-sided p-value is 1 − Φ((T − Σμᵢ)/√Σvᵢ).


def m_scores(sets: np.ndarray, inner: float = 0.0, trim: float = 2.5,
             quantile: float = 0.5) -> np.ndarray:  # fmt: skip
    """(I, J) m-scores of the units of I matched sets (NaN where a set has fewer units), the
    treated unit in column 0."""
    y = np.asarray(sets, float)
    diff = y[:, :, None] - y[:, None, :]  # diff[i, j, k] = y_ij − y_ik
    off = ~np.eye(y.shape[1], dtype=bool)[None, :, :] & ~np.isnan(diff)
    scaled = np.where(off, diff, np.nan)
    if np.isfinite(trim) or inner > 0:
        s = float(np.quantile(np.abs(scaled[off]), quantile))
        if s <= 0:
            raise ValueError(
                f"the {quantile:g} quantile of the within-set differences is 0; use a higher "
                "quantile"
            )
        scaled = scaled / s
        size = np.abs(scaled)
        if np.isfinite(trim):  # linear from `inner` to `trim`, then flat at 1
            weight = np.clip((size - inner) / (trim - inner), 0, 1) if trim > inner else (
                (size > inner).astype(float))  # fmt: skip
        else:
            weight = np.maximum(size - inner, 0)
        scaled = np.sign(scaled) * weight
    units = (~np.isnan(y)).sum(axis=1)
    scores = np.nansum(np.where(off, scaled, 0.0), axis=2) / units[:, None]
    return np.where(np.isnan(y), np.nan, scores)


def _set_moments(scores: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Per set, the largest expectation of the treated unit's score over the cut-point u vectors
    (u = 0 on the `a` lowest scores, 1 on the rest, a = 1 … n_i − 1), and the largest variance
    among the cut points that attain it (to rounding)."""
    q = np.sort(scores, axis=1)  # NaN last
    units = (~np.isnan(q)).sum(axis=1)
    q = np.nan_to_num(q)
    low, low2 = np.cumsum(q, axis=1), np.cumsum(q**2, axis=1)
    total, total2 = low[:, -1:], low2[:, -1:]
    a = np.arange(1, q.shape[1])[None, :]
    valid = a < units[:, None]
    weight = np.where(valid, a + gamma * (units[:, None] - a), 1.0)  # 1: padding, dropped below
    mu = (low[:, :-1] + gamma * (total - low[:, :-1])) / weight
    var = (low2[:, :-1] + gamma * (total2 - low2[:, :-1])) / weight - mu**2
    mu = np.where(valid, mu, -np.inf)
    best = mu.max(axis=1, keepdims=True)
    tied = valid & np.isclose(mu, best, rtol=1e-12, atol=1e-15)
    return best[:, 0], np.where(tied, var, -np.inf).max(axis=1)


def separable_bound(scores: np.ndarray, gamma: float) -> tuple[float, float, float, float]:
    """(T, expectation, variance, upper bound on the one-sided p-value) at Γ for the m-scores of
    matched sets (column 0 treated)."""
    t = float(np.sum(scores[:, 0]))
    mus, variances = _set_moments(scores, gamma)
    mu, var = float(mus.sum()), float(variances.sum())
    return t, mu, var, float(special.ndtr(-(t - mu) / np.sqrt(var)))


def sets_bounds(scores: np.ndarray, gamma: float) -> tuple[float, float, float]:
    """(T, lower p, upper p) at Γ: the upper bound from the largest expectation, the lower from
    the smallest (the largest of the negated scores)."""
    t, _, _, upper = separable_bound(scores, gamma)
    _, mu, var, _ = separable_bound(-scores, gamma)  # −μ_min, its variance
    lower = float(special.ndtr(-(t + mu) / np.sqrt(var)))
    return t, lower, upper


def sets_gamma(scores: np.ndarray, alpha: float, largest: float = 1e4) -> float:
    """Γ* at which the upper p-value bound of the m-test first reaches alpha (1, `largest` at
    the ends), by bisection on log Γ."""

    return gamma_reaching(lambda g: separable_bound(scores, g)[3], alpha, largest)

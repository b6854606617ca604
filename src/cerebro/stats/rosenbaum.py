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

    def upper(g: float) -> float:
        return signed_rank_bounds(differences, g, exact)[2]

    if upper(1.0) >= alpha:
        return 1.0
    if upper(largest) < alpha:
        return largest
    lo, hi = 0.0, np.log(largest)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if upper(np.exp(mid)) < alpha else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))

"""Randomisation: assign units to arms, and measure the balance the assignment achieved.

Methods (Imbens & Rubin, *Causal Inference for Statistics, Social, and Biomedical Sciences*,
2015, ch. 4 and 9; Morgan & Rubin 2012, "Rerandomization to improve covariate balance in
experiments", Annals of Statistics 40(2)):

- ``simple``: every unit independently, with the allocation probabilities (arm sizes random);
- ``complete``: exactly round(allocation × n) units per arm; the units left over by rounding go
  to arms drawn at random in proportion to their fractional parts, so no arm is favoured;
- ``stratified``: complete randomisation within every stratum (block), so each stratum's arm
  counts are within one unit of allocation × stratum size;
- ``rerandomise``: complete (or stratified) draws repeated until every covariate's |SMD| is
  below `max_smd` (or `max_tries` is reached) – Morgan & Rubin's acceptance rule with the
  balance criterion stated per covariate, which users read more easily than a Mahalanobis bound.

Balance: per covariate the mean per arm, the standardised mean difference against the first
arm (difference over the square root of the mean of the two variances) and the variance
ratio; the omnibus statistic M = Σ_j n_j (x̄_j − x̄)ᵀ S⁻¹ (x̄_j − x̄) with S the covariance of
all units, which is asymptotically χ² with p(k − 1) degrees of freedom under randomisation
(for two arms it is Morgan & Rubin's M = n_t n_c / n · (x̄_t − x̄_c)ᵀ S⁻¹ (x̄_t − x̄_c)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError


def arm_counts(n: int, allocation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Units per arm for a block of `n`: floors of allocation × n, remainders spread at random."""
    exact = allocation * n
    counts = np.floor(exact).astype(np.int64)
    left = n - int(counts.sum())
    if left:
        fractions = exact - counts
        weights = fractions / fractions.sum() if fractions.sum() > 0 else None
        counts[rng.choice(len(allocation), size=left, replace=False, p=weights)] += 1
    return counts


def complete(n: int, allocation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Arm index per unit with exactly `arm_counts` units per arm, in random order."""
    labels = np.repeat(np.arange(len(allocation)), arm_counts(n, allocation, rng))
    return rng.permutation(labels)


def stratified(strata: np.ndarray, allocation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Complete randomisation within each stratum (`strata` holds a block index per unit)."""
    arms = np.empty(len(strata), dtype=np.int64)
    order = np.argsort(strata, kind="stable")
    bounds = np.flatnonzero(np.diff(strata[order])) + 1
    for block in np.split(order, bounds):
        arms[block] = complete(len(block), allocation, rng)
    return arms


def simple(n: int, allocation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(len(allocation), size=n, p=allocation)


@dataclass
class Balance:
    """Balance of covariates `x` (n × p) across arms."""

    means: np.ndarray  # (k, p)
    smd: np.ndarray  # (k, p): arm j against arm 0 (row 0 is 0)
    variance_ratio: np.ndarray  # (k, p): var_j / var_0
    statistic: float  # omnibus M
    df: int
    p_value: float

    @property
    def max_abs_smd(self) -> float:
        return float(np.abs(self.smd).max()) if self.smd.size else 0.0


def balance(x: np.ndarray, arms: np.ndarray, k: int) -> Balance:
    """Means, SMDs, variance ratios and the omnibus Mahalanobis statistic."""
    p = x.shape[1]
    if p == 0:
        empty = np.zeros((k, 0))
        return Balance(empty, empty, empty, 0.0, 0, 1.0)
    means = np.array([x[arms == j].mean(axis=0) for j in range(k)])
    variances = np.array([x[arms == j].var(axis=0, ddof=1) for j in range(k)])
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = (means - means[0]) / np.sqrt((variances + variances[0]) / 2)
        ratio = variances / variances[0]
    smd = np.where(np.isfinite(smd), smd, 0.0)
    centred = means - x.mean(axis=0)
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    counts = np.bincount(arms, minlength=k)
    solved = np.linalg.lstsq(cov, centred.T, rcond=None)[0].T  # pinv: collinear covariates are fine
    statistic = float(np.sum(counts * np.einsum("jp,jp->j", centred, solved)))
    rank = int(np.linalg.matrix_rank(cov))
    df = rank * (k - 1)
    return Balance(
        means, smd, ratio, statistic, df, float(special.chdtrc(df, statistic)) if df else 1.0
    )


def check_allocation(allocation: list[float] | None, arms: int) -> np.ndarray:
    if arms < 2:
        raise UserInputError(f"--arms must be at least 2, got {arms}.")
    if allocation is None:
        return np.full(arms, 1 / arms)
    weights = np.asarray(allocation, dtype=float)
    if len(weights) != arms:
        raise UserInputError(
            f"--allocation has {len(weights)} shares for {arms} arms; give one share per arm "
            "(e.g. 0.5,0.5)."
        )
    if not ((weights > 0).all() and abs(weights.sum() - 1) <= 1e-6):  # NaN fails too
        raise UserInputError(
            f"--allocation shares must be positive and sum to 1, got {allocation} "
            f"(sum {weights.sum():g})."
        )
    return weights / weights.sum()

"""Always-valid inference for a difference in means: the mixture SPRT and its confidence sequence.

At each look the difference of arm means d (variant − control) is approximately N(θ, V) with
V = s²_c/n_c + s²_v/n_v. Mixing the likelihood ratio of θ against 0 over θ ~ N(0, τ²) gives the
normal-mixture statistic (Robbins 1970; Johari, Koomen, Pekelis & Walsh 2017/2022, "Always valid
inference: continuous monitoring of A/B tests", Operations Research 70(3))

    Λ = √(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²))),

a nonnegative martingale under H0, so by Ville's inequality P(sup Λ ≥ 1/α) ≤ α: the
always-valid p-value p_k = min(p_{k−1}, 1/Λ_k) may be watched after every look without
inflating the type-I error. Inverting the same test at every θ gives the confidence sequence

    |d − θ| ≤ √( 2 V (V + τ²)/τ² · (log(1/α) + ½ log((V + τ²)/V)) ),

intersected over looks (Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric,
nonasymptotic confidence sequences", Annals of Statistics 49(2)). Validity is asymptotic in the
arm sizes (the variance is a plug-in and the mean difference approximately normal).

τ (the mixing standard deviation, in the metric's units) sets where the test is most powerful:
effects of about τ are detected soonest. The default is 0.1 pooled standard deviations of the
first look (a "small" standardised effect, typical of A/B tests), fixed before later data.
"""

from __future__ import annotations

import numpy as np


def mixture_log_lr(d: np.ndarray, v: np.ndarray, tau2: float | np.ndarray) -> np.ndarray:
    """log Λ of the normal-mixture SPRT for estimates `d` with variances `v`."""
    return 0.5 * np.log(v / (v + tau2)) + tau2 * d**2 / (2 * v * (v + tau2))


def always_valid_p(d: np.ndarray, v: np.ndarray, tau2: float | np.ndarray) -> np.ndarray:
    """Running always-valid p-values along the last axis (looks): min over looks of 1/Λ, ≤ 1."""
    step = np.minimum(1.0, np.exp(-mixture_log_lr(d, v, tau2)))
    return np.minimum.accumulate(step, axis=-1)


def confidence_sequence(
    d: np.ndarray, v: np.ndarray, tau2: float | np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the running-intersection confidence sequence for θ along the last axis."""
    half = np.sqrt(2 * v * (v + tau2) / tau2 * (np.log(1 / alpha) + 0.5 * np.log((v + tau2) / v)))
    low = np.maximum.accumulate(d - half, axis=-1)
    high = np.minimum.accumulate(d + half, axis=-1)
    return low, high

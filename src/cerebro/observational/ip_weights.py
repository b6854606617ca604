"""Stabilised inverse-probability weights of a structural model: treatment and censoring.

Treatment (What If §12.4–12.5, Technical Point 12.2): SW = f(A | V) / f(A | L), f the
probability of the arm received (binary: logistic; several arms: multinomial logit) or, for a
continuous treatment, its density – here a normal linear model: A | L ~ N(L'γ, σ²), σ² the
residual mean square (the generalised propensity score; Hirano & Imbens 2004, Program 12.4),
numerator A | V ~ N(V'δ, τ²). V is the effect modifier of the MSM, or nothing.

Censoring (§12.6, Program 12.7): rows whose outcome is missing are censored (C = 1); the
uncensored rows get SW_C = P(C = 0 | A[, V]) / P(C = 0 | A, L), two logistic models fitted on
every row; g-estimation uses the unstabilised 1 / P(C = 0 | A, L) (Program 14.2). Valid if
censoring is explained by treatment and the confounders (no unmeasured common cause of
censoring and outcome).
"""

from __future__ import annotations

import warnings

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.data.validate import require_finite_result
from cerebro.observational.structural_data import StructuralData
from cerebro.observational.weighted_glm import weighted_fit

WEIGHT_FIX = (
    "some units almost never receive the treatment they got given their confounders – use "
    "fewer confounder terms, or a coarser treatment."
)


def _baseline(data: StructuralData) -> np.ndarray:
    """The numerator's regressors: an intercept, and the modifier if there is one."""
    ones = np.ones(len(data.a))
    return ones[:, None] if data.v is None else np.column_stack([ones, data.v])


def _normal_density(a: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, float]:
    """Density of a under the normal linear model a ~ Z (σ² = RSS / (n − p), R's sigma)."""
    fit = weighted_fit(Z, a)
    resid = a - fit.mean(Z)
    sigma = float(np.sqrt(resid @ resid / (len(a) - Z.shape[1])))
    return np.exp(-0.5 * (resid / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi)), sigma


def _arm_probability(data: StructuralData, Z: np.ndarray) -> np.ndarray:
    """P(A = the arm received | Z): logistic for two arms, multinomial logit for more."""
    if data.treatment_type == "binary":
        e = weighted_fit(Z, data.a, logistic=True).mean(Z)
        return np.where(data.a == 1, e, 1 - e)
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MNLogit(data.a.astype(int), Z).fit(disp=False, method="newton", maxiter=200)
    probabilities = np.asarray(fit.predict(Z), float)
    return probabilities[np.arange(len(data.a)), data.a.astype(int)]


def treatment_weights(data: StructuralData) -> tuple[np.ndarray, str]:
    """Stabilised treatment weights of every row and a sentence on the models behind them."""
    numerator_terms = _baseline(data)
    given = "V" if data.v is not None else "1"
    if data.treatment_type == "continuous":
        denominator, sigma = _normal_density(data.a, data.design)
        numerator, tau = _normal_density(data.a, numerator_terms)
        how = (
            f"treatment density normal: A | L ~ N(linear in the confounders, σ = {sigma:.3g}), "
            f"numerator A | {given} ~ N(·, σ = {tau:.3g})"
        )
    else:
        denominator = _arm_probability(data, data.design)
        numerator = _arm_probability(data, numerator_terms)
        model = "logistic" if data.treatment_type == "binary" else "multinomial logit"
        how = f"treatment probabilities by {model} regression on the confounders (numerator: " + (
            "on V)" if data.v is not None else "the marginal share)"
        )
    require_finite_result(denominator, "the treatment model's probabilities", WEIGHT_FIX)
    if denominator.min() <= 1e-12:
        raise UserInputError(
            f"the treatment model gives some units a probability (density) of ≈ 0 for what they "
            f"received; {WEIGHT_FIX}"
        )
    return numerator / denominator, how


def censoring_probability(
    data: StructuralData, treatment_terms: np.ndarray, stabilised: bool
) -> np.ndarray:
    """Censoring weights of every row (0 for censored rows): P(C=0 | A[, V]) / P(C=0 | A, L)
    if `stabilised`, else 1 / P(C = 0 | A, L)."""
    uncensored = data.observed.astype(float)
    ones = np.ones((len(data.a), 1))
    Z = np.column_stack([data.design, treatment_terms])
    denominator = weighted_fit(Z, uncensored, logistic=True).mean(Z)
    weights = 1 / denominator
    if stabilised:
        base = ones if data.v is None else np.column_stack([ones, data.v])
        Zn = np.column_stack([base, treatment_terms])
        weights = weighted_fit(Zn, uncensored, logistic=True).mean(Zn) / denominator
    require_finite_result(weights, "the censoring weights", WEIGHT_FIX)
    return np.where(data.observed, weights, 0.0)


def summary_row(name: str, w: np.ndarray) -> dict[str, float | str]:
    """Mean, SD and range of weights (stabilised weights should average ≈ 1)."""
    return {
        "weights": name, "mean": float(w.mean()), "sd": float(w.std(ddof=1)),
        "min": float(w.min()), "max": float(w.max()),
    }  # fmt: skip

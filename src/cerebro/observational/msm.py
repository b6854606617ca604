"""IP-weighted marginal structural models (Hernán & Robins, *What If*, ch. 12).

The MSM models the mean potential outcome as a function of the treatment level (and of an
effect modifier V): E[Y^a | V] = g⁻¹(β₀ + h(a)'β₁ + β₂V + (h(a)·V)'β₃), g the identity (a
continuous outcome) or the logit (a 0/1 outcome: exp(β₁) is the causal odds ratio), h(a) the
treatment's terms – a for two arms, arm dummies for several, and for a dose a line, a quadratic
or a restricted cubic spline (the dose-response curve). It is fitted by weighted regression of Y on those
terms among the uncensored rows, with stabilised weights SW^A (× SW^C with censoring weights;
`ip_weights`). The SE is the robust sandwich treating the weights as known (GEE with an
independence working correlation), as the book reports it – conservative (Robins, Hernán &
Brumback 2000). Assumes exchangeability given L, positivity, consistency, and a correctly
specified MSM (the curve's shape) and treatment model (for a dose: its normal density).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebro.observational.ip_weights import censoring_probability, treatment_weights
from cerebro.observational.structural_data import StructuralData
from cerebro.observational.weighted_glm import WeightedFit, weighted_fit

# restricted cubic spline knots at Harrell's (2015, Regression Modeling Strategies §2.4.6)
# quantiles for 5 knots; the curve is linear below the first and beyond the last
SPLINE_QUANTILES = (0.05, 0.275, 0.5, 0.725, 0.95)


@dataclass
class RestrictedCubicSpline:
    """a and the k − 2 nonlinear terms of a restricted (natural) cubic spline with knots t."""

    knots: np.ndarray

    def transform(self, a: np.ndarray) -> np.ndarray:
        t = self.knots
        scale = (t[-1] - t[0]) ** 2  # keeps the columns of the dose's own order of magnitude

        def cube(x: np.ndarray) -> np.ndarray:
            return np.maximum(x, 0.0) ** 3

        span = t[-1] - t[-2]
        terms = [
            (cube(a - tj) - cube(a - t[-2]) * (t[-1] - tj) / span
             + cube(a - t[-1]) * (t[-2] - tj) / span) / scale
            for tj in t[:-2]
        ]  # fmt: skip
        return np.column_stack([a, *terms])


@dataclass
class TreatmentTerms:
    """h(a): the MSM's columns of the treatment, and the same map for chosen doses."""

    names: list[str]
    spline: Any = None  # the restricted cubic spline of a spline curve
    shape: str = "linear"
    arms: int = 2

    def __call__(self, a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, float)
        if self.spline is not None:
            return self.spline.transform(a)
        if self.arms > 2:
            return np.column_stack([(a == k).astype(float) for k in range(1, self.arms)])
        return np.column_stack([a, a**2]) if self.shape == "quadratic" else a[:, None]


def treatment_terms(data: StructuralData, shape: str, name: str) -> TreatmentTerms:
    """The terms h(a) of the treatment: its type decides, and `shape` for a dose."""
    if data.treatment_type == "categorical":
        return TreatmentTerms([f"{name}[{arm}]" for arm in data.arms[1:]], arms=len(data.arms))
    if data.treatment_type == "binary" or shape == "linear":
        return TreatmentTerms([name])
    if shape == "quadratic":
        return TreatmentTerms([name, f"{name}^2"], shape="quadratic")
    knots = np.unique(np.quantile(data.a, SPLINE_QUANTILES))
    if len(knots) < 3:
        from cerebro.core.errors import UserInputError

        raise UserInputError(
            f"--dose-response spline needs more distinct values of {name!r}; use quadratic."
        )
    spline = RestrictedCubicSpline(knots)
    names = [name, *(f"rcs({name})[{j + 1}]" for j in range(len(knots) - 2))]
    return TreatmentTerms(names, spline, "spline")


@dataclass
class MSMFit:
    """The fitted MSM: coefficients with the sandwich, its terms and the weights used."""

    fit: WeightedFit
    names: list[str]
    terms: TreatmentTerms
    weights: np.ndarray  # SW^A × SW^C of every row (0 for censored rows)
    treatment_weights: np.ndarray
    censoring_weights: np.ndarray | None
    how: str

    def design(self, a: np.ndarray, v: np.ndarray | None) -> np.ndarray:
        return msm_design(self.terms, a, v)


def msm_design(terms: TreatmentTerms, a: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    """[1, h(a)(, v, h(a)·v)] for treatment levels a (and modifier values v)."""
    h = terms(a)
    columns = [np.ones(len(h)), h]
    if v is not None:
        columns += [v, h * np.asarray(v, float)[:, None]]
    return np.column_stack(columns)


def fit_msm(
    data: StructuralData, shape: str, censoring: bool, treatment: str, modifier: str | None
) -> MSMFit:
    """Weights, then the weighted regression of the outcome on the MSM's terms."""
    terms = treatment_terms(data, shape, treatment)
    sw_a, how = treatment_weights(data)
    sw_c = None
    weights = sw_a
    if censoring:
        sw_c = censoring_probability(data, terms(data.a), stabilised=True)
        weights = sw_a * sw_c
        how += "; censoring weights P(uncensored | A) / P(uncensored | A, L) by logistic models"
    rows = data.observed
    names = ["(intercept)", *terms.names]
    if data.v is not None:
        names += [modifier or "V", *(f"{t}:{modifier}" for t in terms.names)]
    X = msm_design(terms, data.a[rows], None if data.v is None else data.v[rows])
    fit = weighted_fit(X, data.y[rows], weights[rows], logistic=data.binary_outcome)
    return MSMFit(fit, names, terms, weights, sw_a, sw_c, how)


def curve(msm: MSMFit, doses: np.ndarray, v: float | None, crit: float) -> dict[str, list[float]]:
    """E[Y^a] at each dose (at modifier value v) with its pointwise band, on the outcome's scale."""
    X = msm.design(doses, None if v is None else np.full(len(doses), v))
    eta = X @ msm.fit.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", X, msm.fit.vcov, X))
    low, high = eta - crit * se, eta + crit * se
    if msm.fit.logistic:
        eta, low, high = (1 / (1 + np.exp(-x)) for x in (eta, low, high))
        se = se * eta * (1 - eta)  # delta method on the probability scale
    return {
        "dose": doses.tolist(), "mean": eta.tolist(), "se": se.tolist(),
        "ci_low": low.tolist(), "ci_high": high.tolist(),
    }  # fmt: skip

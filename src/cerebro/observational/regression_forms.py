"""The outcome-regression forms of What If ch. 15, options of `--method regression`.

- `--regress-on propensity` (§15.2, Program 15.2): y ~ a + e(L), the propensity score as the
  one covariate; `--regress-on propensity_strata` (§15.3, Program 15.3): y ~ a + dummies of the
  score's `strata` quantile groups (deciles with ``--strata 10``; R's ``cut`` at the quantiles,
  lowest included). Both assume a constant effect given e(L) and a model linear in e(L) or
  constant within strata; the SE (HC1) treats the score as known.
- `--interactions t1,… [--at t1=v,…]` (§15.1, Program 15.1): y ~ a + L + a·t, and the effect
  of a at chosen values of the interaction terms, β_a + Σ β_{a·t} v_t (HC1 SE of the linear
  combination), besides the effect at the mean of the terms (the average effect).
With `--all-rows` the propensity model is fitted on every row with treatment and confounders
(the book fits it on all 1,629 NHEFS rows), the outcome model on the rows with an outcome.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result, effect_result
from cerebro.observational.bootstrap import bootstrap
from cerebro.observational.checks import require_finite_estimates
from cerebro.observational.data import CausalData
from cerebro.observational.models import fit_glm
from cerebro.observational.spec import CausalSpec
from cerebro.stats.intervals import interval_from
from cerebro.stats.ols import LinearFit, ols

ROWS = ("estimand", "measure", "estimate", "se", "ci_low", "ci_high", "p_value")


def _observed(data: CausalData) -> np.ndarray:
    return np.ones(len(data.y), bool) if data.observed is None else data.observed


def _propensity_design(data: CausalData, spec: CausalSpec) -> np.ndarray:
    """[1, a, e] or [1, a, stratum dummies 2 … k] over every row of `data`."""
    e = fit_glm(data.design, data.a, logistic=True).mean(data.design)
    ones = np.ones(len(e))
    if spec.regress_on == "propensity":
        return np.column_stack([ones, data.a, e])
    inner = np.quantile(e, np.linspace(0, 1, spec.strata + 1)[1:-1])
    stratum = np.searchsorted(inner, e, side="left")  # (q_{k−1}, q_k], as R's cut
    dummies = [(stratum == k).astype(float) for k in range(1, spec.strata)]
    return np.column_stack([ones, data.a, *dummies])


def _interaction_terms(data: CausalData, spec: CausalSpec) -> list[int]:
    unknown = [t for t in spec.interactions or [] if t not in data.names]
    if unknown:
        raise UserInputError(
            f"interaction term {unknown[0]!r} is not a confounder term; use one of "
            f"{', '.join(data.names)}."
        )
    return [data.names.index(t) for t in spec.interactions or []]


def _fit(data: CausalData, spec: CausalSpec) -> tuple[LinearFit, list[int]]:
    """The OLS fit on the rows with an outcome; the treatment is column 1."""
    rows = _observed(data)
    if spec.regress_on != "confounders":
        Z, terms = _propensity_design(data, spec), []
    else:
        terms = _interaction_terms(data, spec)
        Z = np.column_stack(
            [data.design[:, :1], data.a, data.X, data.a[:, None] * data.X[:, terms]]
        )
    Z = Z[rows]
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise UserInputError(
            "the regression's terms are collinear (a stratum or category is empty); use fewer "
            "--strata or drop a redundant term."
        )
    return ols(data.y[rows], Z, cov_type="HC1"), terms


def _points(
    data: CausalData, spec: CausalSpec, terms: list[int], p: int
) -> list[tuple[str, np.ndarray]]:
    """(label, weights of the p coefficients) of each effect reported."""
    base = np.zeros(p)
    base[1] = 1.0
    if not terms:
        return [("effect", base)]
    rows = _observed(data)
    at_mean = base.copy()
    at_mean[2 + data.X.shape[1] :] = data.X[rows][:, terms].mean(axis=0)
    out = [("effect at the mean of the interaction terms", at_mean)]
    names = [data.names[t] for t in terms]
    for point in spec.at:
        values = dict(part.split("=", 1) for part in point.split("&") if "=" in part)
        values = {k.strip(): v.strip() for k, v in values.items()}
        if set(values) != set(names):
            raise UserInputError(
                f"--at {point!r} must give each interaction term a value, as "
                f"{'&'.join(f'{n}=…' for n in names)}."
            )
        w = base.copy()
        for j, name in enumerate(names):
            try:
                w[2 + data.X.shape[1] + j] = float(values[name])
            except ValueError:
                raise UserInputError(f"--at {point!r}: {values[name]!r} is not a number.") from None
        out.append((f"effect at {point}", w))
    return out


def _statistic(data: CausalData, spec: CausalSpec) -> np.ndarray:
    """Every reported effect of one fit, for the bootstrap."""
    fit, terms = _fit(data, spec)
    return np.array([w @ fit.coef for _, w in _points(data, spec, terms, len(fit.coef))])


def regression_form_result(data: CausalData, spec: CausalSpec, findings: list[Finding]) -> Result:
    """The effect(s) of the regression form the spec names, with their table and findings."""
    fit, terms = _fit(data, spec)
    points = _points(data, spec, terms, len(fit.coef))
    boot = None
    if spec.bootstrap:
        boot = bootstrap(data, partial(_statistic, spec=spec), spec.bootstrap, spec.seed, spec.jobs)
    measure = "risk difference" if data.binary_outcome else "difference in means"
    estimates, rows = [], {k: [] for k in ROWS}
    for k, (label, w) in enumerate(points):
        value, se, *_ = fit.combination(w, spec.alpha)
        se, low, high, p = interval_from(
            value, se, spec.alpha, None if boot is None else boot[:, k]
        )
        estimates.append(Estimate(label, value, se, low, high, p,
                                  {"measure": measure, "method": "regression"}))  # fmt: skip
        for key, v in zip(ROWS, [label, measure, value, se, low, high, p], strict=True):
            rows[key].append(v)
    require_finite_estimates(estimates, "regression")
    form = {
        "propensity": "y ~ treatment + propensity score",
        "propensity_strata": f"y ~ treatment + dummies of {spec.strata} propensity quantile strata",
        "confounders": "y ~ treatment + confounders + treatment × "
        + ", ".join(data.names[t] for t in terms),
    }[spec.regress_on]
    se_how = (f"{spec.bootstrap} bootstrap resamples (seed {spec.seed})" if boot is not None
              else "HC1 robust SE" + (" (propensity treated as known)"
                                      if spec.regress_on != "confounders" else ""))  # fmt: skip
    findings.append(Finding("info", "method", f"outcome regression {form} (OLS, {se_how}); it "
                            "assumes the effect is constant given what the model holds fixed."))  # fmt: skip
    head = estimates[0]
    tables: dict[str, Any] = {"effects": rows}
    return effect_result(
        spec, "regression", estimates, findings, tables,
        title=f"Causal effect of {spec.treatment} on {spec.outcome} — regression ({form})",
        narrative=f"{head.label} of {spec.treatment} on {spec.outcome}: {head.value:+.4g} "
        f"({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to {head.ci_high:+.4g}). Causal only if the "
        "confounders capture every common cause of treatment and outcome.",
        units=int(_observed(data).sum()),
    )  # fmt: skip

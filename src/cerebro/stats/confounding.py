"""Screening recorded variables for confounding: which are associated with both the treatment
assignment and the outcome.

A confounder of treatment T and outcome Y is a common cause of both; in data it shows as a
variable associated with T (imbalanced between arms) *and* with Y beyond T. For each numeric
variable the screen reports

- its imbalance: the standardised mean difference treated − control (pooled SD) with Welch's
  two-sided t test;
- its association with the outcome given the treatment and the other variables: its
  coefficient in the least-squares fit of Y on T and every screened variable (HC1 standard
  errors, t test; `cerebro.stats.ols`). Given the others, because a variable that moves only
  the treatment (an instrument) is associated with Y marginally (through T) and, within arms,
  through every other cause of T (T is a collider); in the joint fit its coefficient is zero.

A variable is flagged when both tests are significant at `alpha` and |SMD| ≥ `min_smd` (0.1,
the usual balance threshold; Austin 2011, Multivariate Behav. Res. 46:399). It is a screen, not
a causal graph: a mediator passes it too, and an unrecorded confounder cannot be found. Rows
missing any screened variable or the outcome are left out (complete cases).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.stats.intervals import p_value_from_statistic, welch_df
from cerebro.stats.ols import ols

MIN_ROWS = 10  # and at least two rows in each arm


def _treatment_association(x: np.ndarray, treated: np.ndarray) -> tuple[float, float]:
    """(standardised mean difference treated − control, Welch two-sided p)."""
    a, b = x[treated], x[~treated]
    var_a, var_b = a.var(ddof=1), b.var(ddof=1)
    diff = a.mean() - b.mean()
    se = np.sqrt(var_a / len(a) + var_b / len(b))
    if se == 0:
        return (0.0, 1.0) if diff == 0 else (float("inf"), 0.0)
    df = welch_df(var_a / len(a), len(a), var_b / len(b), len(b))
    return float(diff / np.sqrt((var_a + var_b) / 2)), float(
        p_value_from_statistic(diff / se, "two-sided", df)
    )


def _varying(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The variables with at least two different finite values."""
    return {name: x for name, x in columns.items() if np.unique(x[np.isfinite(x)]).size > 1}


def screen_confounders(
    columns: dict[str, np.ndarray],
    treated: np.ndarray,
    outcome: np.ndarray,
    alpha: float = 0.05,
    min_smd: float = 0.1,
) -> list[dict[str, Any]]:
    """One row per variable: n, smd, p_treatment, coefficient (on the outcome, given T and the
    others), p_outcome, confounder (bool); or `skipped` with the reason."""
    values = {name: np.asarray(x, dtype=float) for name, x in columns.items()}
    constant = sorted(set(values) - set(_varying(values)))
    values = _varying(values)
    keep = np.isfinite(outcome) & np.all([np.isfinite(x) for x in values.values()], axis=0)
    t, y = treated[keep], outcome[keep]
    rows = [{"variable": n, "skipped": "constant or missing"} for n in constant]
    if not values or keep.sum() < MIN_ROWS + len(values) or t.sum() < 2 or (~t).sum() < 2:
        reason = f"fewer than {MIN_ROWS} complete rows beyond the variables, or an arm below 2"
        return rows + [{"variable": n, "n": int(keep.sum()), "skipped": reason} for n in values]
    X = np.column_stack([np.ones(len(y)), t.astype(float), *(x[keep] for x in values.values())])
    fit = ols(y, X, cov_type="HC1")
    _low, _high, p_coef = fit.interval(alpha)
    for j, (name, x) in enumerate(values.items(), start=2):
        smd, p_t = _treatment_association(x[keep], t)
        rows.append(
            {
                "variable": name,
                "n": int(keep.sum()),
                "smd": smd,
                "p_treatment": p_t,
                "coefficient": float(fit.coef[j]),
                "p_outcome": float(p_coef[j]),
                "confounder": bool(p_t < alpha and p_coef[j] < alpha and abs(smd) >= min_smd),
            }
        )
    return rows

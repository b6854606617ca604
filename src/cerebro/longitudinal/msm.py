"""IP weighting of a marginal structural model for treatment strategies (What If ch. 12, 21).

For a strategy g, a unit whose observed treatment follows g in every period (A_k = g(L_k, V) for
all k) stands for itself and for the units like it who did not: its weight is
W = Π_k 1 / Pr[A_k = a_k | Ā_{k−1}, L̄_k, V], from logistic treatment models per period on
(1, V, L_k, A_{k−1}). The saturated MSM E[Y^g] = β_g, fitted by weighted least squares on the
units that follow g (each strategy its own clone of the data), gives the Hájek mean
E[Y^g] = Σ_follow W Y / Σ_follow W – the estimator for static ("always", "never") and dynamic
("treat when engagement < 0.3") strategies alike. Valid under sequential exchangeability,
positivity (every history has a chance of each treatment the strategy may ask for) and a
correct treatment model; it needs no model for the confounders or the outcome.
"""

from __future__ import annotations

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.longitudinal.data import Panel
from cerebro.longitudinal.strategies import Strategy
from cerebro.stats.logistic import fit_logistic


def treatment_probabilities(panel: Panel) -> np.ndarray:
    """Pr[A_k = observed a_k | history] for each unit and period (n × K)."""
    out = np.empty_like(panel.A)
    for k in range(panel.K):
        columns = [np.ones(panel.n), panel.V, panel.L[:, k]]
        if k > 0:
            columns.append(panel.A[:, k - 1])
        X = np.column_stack(columns)
        a = panel.A[:, k]
        if a.min() == a.max():  # nobody (or everybody) treated in this period: probability 1
            out[:, k] = 1.0
            continue
        p = fit_logistic(X, a, what=f"the treatment model at period {panel.periods[k]}").mean(X)
        out[:, k] = np.where(a == 1, p, 1 - p)
    return out


def follows(panel: Panel, strategy: Strategy) -> np.ndarray:
    """Whether each unit's observed treatment follows `strategy` in every period."""
    ok = np.ones(panel.n, bool)
    for k in range(panel.K):
        values = {c: panel.L[:, k, j] for j, c in enumerate(panel.confounders)}
        values.update({c: panel.V[:, j] for j, c in enumerate(panel.baseline)})
        ok &= panel.A[:, k] == strategy.assign(values, panel.n)
    return ok


def msm_means(panel: Panel, strategies: list[Strategy]) -> tuple[np.ndarray, np.ndarray]:
    """(E[Y^g] per strategy, number of units following each)."""
    weights = 1 / np.prod(treatment_probabilities(panel), axis=1)
    means, counts = [], []
    for strategy in strategies:
        ok = follows(panel, strategy)
        if not ok.any():
            raise UserInputError(
                f"no unit's observed treatment follows strategy {strategy.text!r} in every "
                "period, so IP weighting has nobody to weight up; use --method gformula or "
                "another strategy."
            )
        means.append(float(np.sum(weights[ok] * panel.Y[ok]) / np.sum(weights[ok])))
        counts.append(int(ok.sum()))
    return np.array(means), np.array(counts)

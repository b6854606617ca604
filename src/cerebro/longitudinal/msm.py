"""IP weighting of marginal structural models for treatment strategies (What If ch. 12, 21).

Treatment models per period: logistic Pr[A_k = 1 | Ā_{k−1}, L̄_k, V] on (1, V, L_k, A_{k−1}).

- Static strategies ("always", "never"): the MSM E[Y^ā] = β0 + Σ_k β_k a_k (additive in the
  periods' treatments), fitted by least squares on every unit weighted by the stabilised weight
  SW = Π_k Pr[A_k = a_k | A_{k−1}] / Pr[A_k = a_k | Ā_{k−1}, L̄_k, V] (numerator: logistic on
  (1, A_{k−1})); E[Y^always] = β0 + Σ β_k, E[Y^never] = β0.
- Dynamic strategies ("treat when engagement < 0.3"): no static MSM describes them, so each is
  estimated by its own saturated MSM on the units whose observed treatment follows it in every
  period (A_k = g(L_k, V) for all k), weighted by W = Π_k 1 / Pr[A_k = a_k | history]: the Hájek
  mean E[Y^g] = Σ_follow W Y / Σ_follow W.

Valid under sequential exchangeability, positivity (every history has a chance of each
treatment the strategy may ask for), correct treatment models and, for static strategies, a
correct MSM; no model for the confounders or the outcome is needed.
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


def numerator(panel: Panel) -> np.ndarray:
    """Π_k Pr[A_k = a_k | A_{k−1}]: the logistic model on (1, A_{k−1}) is saturated, so its
    fitted probabilities are the shares treated among units with each previous treatment."""
    out = np.ones(panel.n)
    for k in range(panel.K):
        group = panel.A[:, k - 1] if k else np.zeros(panel.n)
        for g in (0.0, 1.0):
            rows = group == g
            if rows.any():
                share = panel.A[rows, k].mean()
                out[rows] *= np.where(panel.A[rows, k] == 1, share, 1 - share)
    return out


def static_msm(panel: Panel, denominator: np.ndarray) -> np.ndarray:
    """(β0, β_0 … β_{K−1}) of the additive MSM by stabilised-weight least squares."""
    sw = numerator(panel) / denominator
    X = np.column_stack([np.ones(panel.n), panel.A])
    root = np.sqrt(sw)
    return np.linalg.lstsq(X * root[:, None], panel.Y * root, rcond=None)[0]


def msm_means(panel: Panel, strategies: list[Strategy]) -> tuple[np.ndarray, np.ndarray]:
    """(E[Y^g] per strategy, number of units following each)."""
    denominator = np.prod(treatment_probabilities(panel), axis=1)
    weights = 1 / denominator
    beta = None
    means, counts = [], []
    for strategy in strategies:
        ok = follows(panel, strategy)
        if strategy.static is not None:
            beta = static_msm(panel, denominator) if beta is None else beta
            means.append(float(beta[0] + strategy.static * beta[1:].sum()))
            counts.append(int(ok.sum()))
            continue
        if not ok.any():
            raise UserInputError(
                f"no unit's observed treatment follows strategy {strategy.text!r} in every "
                "period, so IP weighting has nobody to weight up; use --method gformula or "
                "another strategy."
            )
        means.append(float(np.sum(weights[ok] * panel.Y[ok]) / np.sum(weights[ok])))
        counts.append(int(ok.sum()))
    return np.array(means), np.array(counts)

"""The parametric g-formula for treatment strategies, by Monte Carlo simulation (What If §21.1).

Under sequential exchangeability (Y^g ⊥ A_k | Ā_{k−1}, L̄_k, V for every k), positivity and
consistency, E[Y^g] = Σ_l̄ E[Y | ā = g(l̄), l̄, v] Π_k f(l_k | ā_{k−1}, l̄_{k−1}, v) f(v, l_0):
the mean outcome when the confounders evolve as they would under g. Estimated by models

- L_k,j given (1, V, L_{k−1}, A_{k−1}), one per period k ≥ 1 and confounder j: linear with
  normal errors (residual SD), logistic for a 0/1 confounder (first-order history);
- Y given (1, V, L_0 … L_{K−1}, A_0 … A_{K−1}): linear, or logistic for a 0/1 outcome;

then M units are simulated: (V, L_0) drawn from the data, A_k = g(L_k, V), L_{k+1} drawn from its
model, and E[Y^g] is the mean of the outcome model's prediction. Draws are seeded and shared by
all strategies (common random numbers), so their contrasts carry less Monte Carlo noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.longitudinal.data import Panel
from cerebro.longitudinal.strategies import Strategy
from cerebro.stats.logistic import expit, fit_logistic


@dataclass
class Model:
    beta: np.ndarray
    logistic: bool
    sd: float = 0.0

    def mean(self, X: np.ndarray) -> np.ndarray:
        eta = X @ self.beta
        return expit(eta) if self.logistic else eta

    def draw(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mu = self.mean(X)
        if self.logistic:
            return (rng.random(len(mu)) < mu).astype(float)
        return mu + self.sd * rng.standard_normal(len(mu))


def fit_model(X: np.ndarray, y: np.ndarray, logistic: bool, what: str) -> Model:
    if logistic:
        return Model(fit_logistic(X, y, what=what).beta, True)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    return Model(beta, False, float(np.sqrt(resid @ resid / max(len(y) - X.shape[1], 1))))


def _history(V: np.ndarray, L: np.ndarray, A: np.ndarray) -> np.ndarray:
    """[1, V, L_{k−1}, A_{k−1}] rows for a period's confounder models."""
    return np.column_stack([np.ones(len(V)), V, L, A])


def outcome_design(V: np.ndarray, L: np.ndarray, A: np.ndarray) -> np.ndarray:
    """[1, V, L_0 … L_{K−1} (every confounder), A_0 … A_{K−1}]."""
    n = len(V)
    return np.column_stack([np.ones(n), V, L.reshape(n, -1), A])


@dataclass
class Models:
    confounders: list[list[Model]]  # [period k − 1][confounder j]
    outcome: Model


def fit_models(panel: Panel) -> Models:
    per_period = []
    for k in range(1, panel.K):
        X = _history(panel.V, panel.L[:, k - 1], panel.A[:, k - 1])
        per_period.append([
            fit_model(X, panel.L[:, k, j], panel.binary_confounders[j],
                      f"the model of {name!r} at period {panel.periods[k]}")
            for j, name in enumerate(panel.confounders)
        ])  # fmt: skip
    outcome = fit_model(outcome_design(panel.V, panel.L, panel.A), panel.Y,
                        panel.binary_outcome, "the outcome model")  # fmt: skip
    return Models(per_period, outcome)


def simulate_means(panel: Panel, models: Models, strategies: list[Strategy], size: int,
                   seed: int) -> np.ndarray:  # fmt: skip
    """E[Y^g] for each strategy from `size` simulated units (common random numbers)."""
    out = []
    for strategy in strategies:
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, panel.n, size)
        V, L = panel.V[rows], np.empty((size, panel.K, panel.L.shape[2]))
        A = np.empty((size, panel.K))
        L[:, 0] = panel.L[rows, 0]
        for k in range(panel.K):
            values = {c: L[:, k, j] for j, c in enumerate(panel.confounders)}
            values.update({c: V[:, j] for j, c in enumerate(panel.baseline)})
            A[:, k] = strategy.assign(values, size)
            if k + 1 < panel.K:
                X = _history(V, L[:, k], A[:, k])
                for j, model in enumerate(models.confounders[k]):
                    L[:, k + 1, j] = model.draw(X, rng)
        out.append(float(models.outcome.mean(outcome_design(V, L, A)).mean()))
    return np.array(out)


def gformula_means(panel: Panel, strategies: list[Strategy], size: int, seed: int) -> np.ndarray:
    return simulate_means(panel, fit_models(panel), strategies, size, seed)

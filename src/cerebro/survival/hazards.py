"""Pooled logistic hazards on person-time and the survival curves they give (What If, ch. 17).

Each unit followed for T periods contributes rows k = 0 … T − 1 with the indicator D_{k+1} of
the event in period k + 1. The hazard model is the book's

    logit Pr[D_{k+1} = 1 | D_k = 0, A, L] = θ0 + θ4 k + θ5 k² + θ1 A + θ2 A·k + θ3 A·k² (+ L'γ)

(time enters scaled, k / K with K the last period, so that k² does not dwarf the other columns;
the fitted hazards are the same). Survival under arm a is the product of one minus the hazards:
S_a(k + 1) = Π_{m ≤ k} (1 − h_a(m)).

- IP weighting (§17.4): the model without L, each unit weighted by its stabilised weight
  SW = Pr[A = a] / Pr[A = a | L] (logistic propensity). The IP-weighted hazards are those of the
  marginal structural model, so the curves are the counterfactual S^{a=1} and S^{a=0}. With only
  time and treatment terms the weighted likelihood depends on the data through the weighted
  number at risk and of events in each (period, arm) cell, so the fit runs on 2K cells.
- g-formula (§17.5): the model with L, fitted on every person-time row; each unit's conditional
  survival under a = 0 and a = 1 is averaged over the units (standardisation to the baseline
  distribution of L).
- Hazard ratio: exp(θ1) of the IP-weighted model without treatment × time terms – a weighted
  average of the period-specific hazard ratios (Fine Point 17.2: read the curves first).

Assumptions: exchangeability given L, positivity, consistency, correct models (treatment and
marginal hazards for IPW, conditional hazards for the g-formula), and censoring independent of
the event given treatment (and L for the g-formula).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.data.person_time import expand
from cerebro.data.validate import require_finite_result
from cerebro.stats.logistic import expit, fit_logistic
from cerebro.survival.data import SurvivalData

NO_EVENTS = (
    "some periods or an arm have no events (or only events), so a hazard is 0 or 1; use longer "
    "periods, fewer confounder terms, or --method km"
)


@dataclass
class Curves:
    """Survival at periods 0 … K under control (s0) and treatment (s1); the hazard ratio; the
    stabilised weights (IP weighting only)."""

    s0: np.ndarray
    s1: np.ndarray
    hazard_ratio: float | None
    weights: np.ndarray | None = None

    @property
    def difference(self) -> np.ndarray:
        return self.s1 - self.s0


def time_terms(k: np.ndarray, a: np.ndarray, K: int, interactions: bool = True) -> np.ndarray:
    """[1, A, u, u², A·u, A·u²] with u = k / K (without the products when not `interactions`)."""
    u = k / K
    columns = [np.ones_like(u), a, u, u**2]
    if interactions:
        columns += [a * u, a * u**2]
    return np.column_stack(columns)


def survival_curve(hazard: np.ndarray) -> np.ndarray:
    """S(0) = 1, S(k + 1) = Π_{m ≤ k} (1 − h(m)), along the last axis."""
    surv = np.cumprod(1 - hazard, axis=-1)
    ones = np.ones((*hazard.shape[:-1], 1))
    return np.concatenate([ones, surv], axis=-1)


def stabilised_weights(data: SurvivalData) -> np.ndarray:
    """SW = Pr[A = a] / Pr[A = a | L] from a logistic propensity model on the confounders."""
    X = np.column_stack([np.ones(data.n), data.L])
    p = fit_logistic(X, data.a, what="the treatment (propensity) model").mean(X)
    marginal = data.a.mean()
    w = np.where(data.a == 1, marginal / p, (1 - marginal) / (1 - p))
    require_finite_result(w, "the IP weights", "the propensity model gives a probability of 0 "
                          "or 1 to some units; coarsen or drop the confounder that predicts "
                          "treatment perfectly.")  # fmt: skip
    return w


def _cells(data: SurvivalData, weights: np.ndarray, K: int) -> tuple[np.ndarray, ...]:
    """(period, arm, weighted number at risk, weighted events) of the 2K (period, arm) cells."""
    k_all, a_all, risk_all, events_all = [], [], [], []
    for arm in (0, 1):
        mine = data.a == arm
        t, d, w = data.time[mine], data.event[mine], weights[mine]
        # at risk in period k (row k exists) iff T > k: weight of units with T ≥ k + 1
        leaving = np.bincount(np.minimum(t, K), weights=w, minlength=K + 1)
        at_risk = w.sum() - np.cumsum(leaving)[:-1]
        ended = np.bincount(np.minimum(t[d == 1], K + 1) - 1, weights=w[d == 1], minlength=K + 1)
        k_all.append(np.arange(K))
        a_all.append(np.full(K, float(arm)))
        risk_all.append(at_risk)
        events_all.append(ended[:K])
    k, a, risk, events = (np.concatenate(x) for x in (k_all, a_all, risk_all, events_all))
    used = risk > 0
    return k[used], a[used], risk[used], events[used]


def ipw_curves(data: SurvivalData, K: int) -> Curves:
    """IP-weighted survival curves and hazard ratio (stabilised weights)."""
    w = stabilised_weights(data)
    k, a, risk, events = _cells(data, w, K)
    share = events / risk
    fit = fit_logistic(time_terms(k, a, K), share, risk, what="the IP-weighted hazards model",
                       separation=NO_EVENTS)  # fmt: skip
    grid = np.arange(K, dtype=float)
    curves = [
        survival_curve(fit.mean(time_terms(grid, np.full(K, float(arm)), K))) for arm in (0, 1)
    ]
    hr = fit_logistic(time_terms(k, a, K, interactions=False), share, risk,
                      what="the IP-weighted hazards model", separation=NO_EVENTS).beta[1]  # fmt: skip
    return Curves(curves[0], curves[1], float(np.exp(hr)), w)


def gformula_curves(data: SurvivalData, K: int) -> Curves:
    """Standardised survival curves from the conditional hazards model (no marginal hazard
    ratio: the model's θ1 is conditional on L)."""
    unit, k, d = expand(data.time, data.event)
    X = np.column_stack([time_terms(k, data.a[unit], K), data.L[unit]])
    fit = fit_logistic(X, d, what="the hazards model", separation=NO_EVENTS)
    beta = fit.beta
    grid = np.arange(K, dtype=float)
    base = data.L @ beta[6:]
    curves = []
    for arm in (0, 1):
        eta = time_terms(grid, np.full(K, float(arm)), K) @ beta[:6]
        hazards = expit(base[:, None] + eta[None, :])
        curves.append(survival_curve(hazards).mean(axis=0))
    return Curves(curves[0], curves[1], None)

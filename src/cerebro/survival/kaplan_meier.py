"""Kaplan–Meier survival per arm and the log-rank test, for randomised comparisons (What If §17.1).

In discrete periods k = 1 … K: n_k units at risk (follow-up ≥ k; a unit censored at k was known
to be event-free through k, lifelines' and R survival's convention) and d_k events;
Ŝ(k) = Π_{m ≤ k} (1 − d_m / n_m). Greenwood's variance Ŝ² Σ d / (n (n − d)); the pointwise
interval is the exponential-Greenwood (log(−log)) one, as lifelines and R's ``conf.type =
"log-log"``; the difference of two arms' survival at a horizon takes the two Greenwood variances
(independent arms). The log-rank statistic (Mantel–Haenszel) Σ (O − E) over event times, with
hypergeometric variance Σ n₁n₀d(n − d) / (n²(n − 1)), is χ² with 1 df (R's ``survdiff``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.stats.intervals import p_value_from_statistic, quantile


@dataclass
class KMCurve:
    """Survival at periods 0 … K, Greenwood variance, numbers at risk and events per period."""

    survival: np.ndarray
    variance: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray

    def interval(self, k: int, alpha: float) -> tuple[float, float]:
        """The log(−log) interval of Ŝ(k) (the point itself where Ŝ is 0 or 1)."""
        s = self.survival[k]
        if not 0 < s < 1:
            return float(s), float(s)
        z = quantile(1 - alpha / 2, None)
        se = np.sqrt(self.variance[k]) / (s * abs(np.log(s)))
        return float(s ** np.exp(z * se)), float(s ** np.exp(-z * se))


def counts(time: np.ndarray, event: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """(at risk, events) in periods 1 … K (index 0 unused)."""
    leaving = np.bincount(np.minimum(time, K + 1), minlength=K + 2)
    at_risk = len(time) - np.cumsum(leaving)[: K + 1] + leaving[: K + 1]
    events = np.bincount(time[(event == 1) & (time <= K)], minlength=K + 1)[: K + 1]
    at_risk[0], events[0] = len(time), 0
    return at_risk.astype(float), events.astype(float)


def kaplan_meier(time: np.ndarray, event: np.ndarray, K: int) -> KMCurve:
    at_risk, events = counts(time, event, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, 0.0)
        term = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
    survival = np.cumprod(1 - hazard)
    return KMCurve(survival, survival**2 * np.cumsum(term), at_risk, events)


def log_rank(
    time: np.ndarray, event: np.ndarray, a: np.ndarray, K: int
) -> tuple[float, float, float, float]:
    """(χ², p, observed, expected events in the treated arm)."""
    n1, d1 = counts(time[a == 1], event[a == 1], K)
    n0, d0 = counts(time[a == 0], event[a == 0], K)
    n, d = n1 + n0, d1 + d0
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(n > 0, d * n1 / n, 0.0)
        var = np.where(n > 1, n1 * n0 * d * (n - d) / (n**2 * (n - 1)), 0.0)
    observed, expect = float(d1[1:].sum()), float(expected[1:].sum())
    chi2 = (observed - expect) ** 2 / float(var[1:].sum())
    return chi2, p_value_from_statistic(np.sqrt(chi2), "two-sided"), observed, expect

"""Event-study regressions: leads and lags of adoption in a two-way fixed-effects model.

    y_it = α_i + λ_t + Σ_{e ≠ −1} β_e · 1{t − G_i = e} + X_it'δ + ε_it

for units that adopt in period G_i (never-treated units have every indicator 0). β_e is the
change in the gap between adopters and the comparison units e periods after adoption, relative
to the period before adoption (e = −1, the reference). With ``leads`` L and ``lags`` K the
endpoints are binned: e ≤ −L enters the indicator of −L and e ≥ K that of K ("−L or earlier",
"K or later"), so the model stays saturated in event time. The leads (e < −1) are placebo
effects; their joint Wald test is the usual check of parallel pre-trends – a failure to reject
is not proof of parallel trends (Roth 2022, AER: Insights 4(3)).

Without never-treated units, calendar time and event time are collinear; a second reference
(the earliest lead bin) is then dropped (Borusyak, Jaravel & Spiess 2024, Section 3).
With staggered adoption and heterogeneous effects these coefficients mix effects of other event
times (Sun & Abraham 2021, J. Econometrics 225(2)); Callaway–Sant'Anna's dynamic aggregation
avoids that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cerebro.quasi.did.ols import TwoWayDemeaner, twfe
from cerebro.stats.ols import LinearFit


@dataclass
class EventStudy:
    event_times: np.ndarray  # the estimated event times (reference −1 excluded)
    fit: LinearFit  # coefficients: event times first, then covariates
    leads: int  # L: event times −L … −2 estimated (−L binned)
    lags: int  # K: event times 0 … K estimated (K binned)
    dropped_extra: int | None  # second reference when there are no never-treated units

    @property
    def lead_index(self) -> np.ndarray:
        return np.flatnonzero(self.event_times < -1)

    @property
    def lag_index(self) -> np.ndarray:
        return np.flatnonzero(self.event_times >= 0)


def event_times(
    relative: np.ndarray, leads: int | None, lags: int | None
) -> tuple[np.ndarray, int, int]:
    """Binned event time of each row (NaN for never-treated rows) and the L, K used."""
    finite = relative[np.isfinite(relative)]
    L = int(-finite.min()) if leads is None else int(leads)
    K = int(finite.max()) if lags is None else int(lags)
    L, K = max(L, 1), max(K, 0)
    return np.clip(relative, -L, K), L, K


def event_study(
    y: np.ndarray,
    relative: np.ndarray,
    unit: np.ndarray,
    time: np.ndarray,
    X: np.ndarray,
    cluster: np.ndarray | None,
    leads: int | None = None,
    lags: int | None = None,
    demeaner: TwoWayDemeaner | None = None,
) -> EventStudy:
    """Fit the event study; `relative` is t − G per row (NaN for never-treated units)."""
    binned, L, K = event_times(relative, leads, lags)
    present = np.unique(binned[np.isfinite(binned)]).astype(int)
    estimated = [e for e in range(-L, K + 1) if e != -1 and e in present]
    dropped = None
    if not np.isnan(relative).any() and estimated and estimated[0] < -1:
        dropped = estimated.pop(0)
    elif not np.isnan(relative).any() and estimated:
        # No pre-period besides −1 and nobody untreated: the last lag goes instead.
        dropped = estimated.pop()
    D = np.column_stack([(binned == e).astype(float) for e in estimated])
    fit = twfe(y, np.column_stack([D, X]), unit, time, cluster, demeaner)
    return EventStudy(np.array(estimated, dtype=int), fit, L, K, dropped)

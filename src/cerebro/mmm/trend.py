"""Piecewise-linear trend (`trend_changepoints` K > 0), as in Prophet (Taylor & Letham 2018,
"Forecasting at scale", The American Statistician 72(1), section 3.1.2).

On the model's time axis τ = t / n_fit (n_fit fitted weeks), the trend is

    trend(τ) = k · (τ − ½) + Σ_j δ_j · max(0, τ − s_j),

continuous, with slope k before the first changepoint and k + Σ_{j: s_j < τ} δ_j after. The K
changepoints s_j are placed as Prophet places its own: evenly over the first 80% of the fitted
weeks (week indices round(linspace(0, ⌊0.8 n_fit⌋ − 1, K + 1))[1:]), so the last slope – the
one a forecast or a plan after the data extends – is estimated from at least the last 20% of
the weeks. Slope changes have a sparse prior, δ_j ~ Laplace(0, `CHANGE_SCALE`) (Prophet's
choice of prior family; the scale in units of the mean KPI per fitted span, half the linear
trend's prior SD of 0.5). Beyond the data the max(0, τ − s_j) columns keep growing, so the last
slope continues. K = 0 is the straight line of before, unchanged.
"""

from __future__ import annotations

import numpy as np

CHANGE_SCALE = 0.25  # Laplace scale of each slope change (KPI / mean per fitted span)
CHANGEPOINT_RANGE = 0.8  # changepoints over the first 80% of the fitted weeks (Prophet's)


def changepoints(n_fit: int, k: int) -> tuple[float, ...]:
    """The K changepoints as fractions of the fitted weeks (s_j = week index / n_fit)."""
    span = int(np.floor(n_fit * CHANGEPOINT_RANGE))
    index = np.linspace(0, span - 1, k + 1).round().astype(int)[1:]
    return tuple(float(i) / n_fit for i in index)


def slopes(trend: np.ndarray, delta: np.ndarray, n_fit: int) -> np.ndarray:
    """Slope of each segment in scaled KPI per week, (draws, K + 1): k, k + δ_1, …"""
    steps = np.concatenate([trend[:, None], delta], axis=1)
    return np.cumsum(steps, axis=1) / n_fit

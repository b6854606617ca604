"""Synthetic geo panels with an injected lift and known truth (for tests, docs and benchmarks).

Daily outcomes of `n_geos` markets follow a linear factor model, the structure under which
synthetic controls are justified (Abadie, Diamond & Hainmueller 2010 §2.3):

    Y0[g, t] = s_g · (1 + β·trend_t·a_g + 0.15·week_t·b_g + 0.05·c_t·d_g) + s_g·σ·e[g, t],

with market sizes s_g log-normal (median 1,000 units a day, SD of log 0.6), a slow common
linear trend (strength β = `trend`, 0.1 by default), a weekly pattern, a common AR(1) shock
c_t, loadings a, b, d ~ U(0.5, 1.5) per market, and idiosyncratic AR(1) noise e
(autocorrelation `rho`, unit variance) – serially correlated like real daily sales. The
treated markets get Y = Y0 · (1 + lift) on the test dates, so the truth is known exactly:

    incremental = lift · Σ_{treated g, test t} Y0[g, t],   ATT = incremental / (n_treated n_post).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GeoSimulation:
    """A simulated geo test: observed `Y`, untreated `Y0`, design and the true effects."""

    Y: np.ndarray
    Y0: np.ndarray
    treated: np.ndarray
    n_pre: int
    n_post: int
    lift: float

    @property
    def incremental(self) -> float:
        return float(self.lift * self.Y0[self.treated, self.n_pre :].sum())

    @property
    def att(self) -> float:
        return self.incremental / (len(self.treated) * self.n_post)


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], rho: float) -> np.ndarray:
    """Stationary AR(1) series with unit variance along the last axis."""
    e = rng.standard_normal(shape)
    out = np.empty(shape)
    out[..., 0] = e[..., 0]
    scale = np.sqrt(1 - rho**2)
    for t in range(1, shape[-1]):
        out[..., t] = rho * out[..., t - 1] + scale * e[..., t]
    return out


def simulate_geo_test(
    n_geos: int = 40,
    n_pre: int = 90,
    n_post: int = 15,
    n_treated: int = 2,
    lift: float = 0.0,
    *,
    noise: float = 0.05,
    rho: float = 0.5,
    trend: float = 0.1,
    seed: int = 0,
) -> GeoSimulation:
    """One seeded geo panel (geos × dates) with `lift` injected into the first `n_treated`
    markets over the last `n_post` dates."""
    rng = np.random.default_rng(seed)
    T = n_pre + n_post
    t = np.arange(T)
    size = 1000.0 * np.exp(0.6 * rng.standard_normal(n_geos))
    loads = rng.uniform(0.5, 1.5, (n_geos, 3))
    slope = (t - T / 2) / T
    week = np.sin(2 * np.pi * t / 7) + 0.5 * np.cos(4 * np.pi * t / 7)
    shock = _ar1(rng, (T,), 0.8)
    shape = 1 + trend * np.outer(loads[:, 0], slope) + 0.15 * np.outer(loads[:, 1], week)
    shape += 0.05 * np.outer(loads[:, 2], shock)
    Y0 = size[:, None] * (shape + noise * _ar1(rng, (n_geos, T), rho))
    Y = Y0.copy()
    treated = np.arange(n_treated)
    Y[:n_treated, n_pre:] *= 1 + lift
    return GeoSimulation(Y, Y0, treated, n_pre, n_post, float(lift))


def geo_test_frame(sim: GeoSimulation, start: str = "2021-01-01", spend: float | None = None):
    """The simulation as a long data frame (geo, date, sales[, spend]) like a user's file;
    `spend` is the daily spend per treated market on test dates (0 elsewhere)."""
    import pandas as pd

    n_geos, T = sim.Y.shape
    dates = pd.date_range(start, periods=T).strftime("%Y-%m-%d")
    frame = pd.DataFrame(
        {
            "geo": np.repeat([f"geo {g:02d}" for g in range(n_geos)], T),
            "date": np.tile(dates, n_geos),
            "sales": sim.Y.ravel().round(2),
        }
    )
    if spend is not None:
        s = np.zeros_like(sim.Y)
        s[sim.treated, sim.n_pre :] = spend
        frame["spend"] = s.ravel()
    return frame

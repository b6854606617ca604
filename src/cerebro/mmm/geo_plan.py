"""A national spend plan for a geo model: split across geos, predicted geo by geo, summed.

The plan (H weeks × channels, national totals, as `mmm-predict --plan` and `mmm-optimize` give
it) is split across geos by each geo's share of the channel's spend over the fitted weeks (the
allocation key the data show; a plan per geo is not read yet). Geo g's part goes through geo
g's model continued into the window (`cerebro.mmm.forecast.PlanWindow`: its own carry-over,
trend, seasonality and controls); the national KPI, response and contributions are the sums
over geos, per posterior draw. So `mmm-optimize` splits a national budget across channels with
each channel's geo split held at its historical key – or, with `GeoPairWindow`
(`mmm-optimize --by-geo`), the plan is one column per geo × channel pair and every geo's part
is its own.
"""

from __future__ import annotations

import numpy as np

from cerebro.mmm.forecast import PlanWindow
from cerebro.mmm.geo import GeoPosterior


class GeoPlanWindow:
    """`PlanWindow`'s questions (kpi, response, contributions) for a national plan."""

    def __init__(
        self,
        posterior: GeoPosterior,
        periods: int,
        controls: np.ndarray | None = None,
        controls_at: str = "mean",
    ) -> None:
        n = posterior.data.n_fit
        spend = np.stack([p.data.spend[:n].sum(axis=0) for p in posterior.geos])  # (G, C)
        total = spend.sum(axis=0)
        self.share = spend / np.where(total > 0, total, 1.0)
        self.periods = int(periods)
        self.windows = [PlanWindow(p, periods, controls, controls_at) for p in posterior.geos]
        self.controls = self.windows[0].controls
        self.zero_kpi = sum(w.zero_kpi for w in self.windows)

    def _sum(self, method: str, plan: np.ndarray) -> np.ndarray:
        plan = np.asarray(plan, float)
        return sum(getattr(w, method)(plan * self.share[g]) for g, w in enumerate(self.windows))

    def kpi(self, plan: np.ndarray) -> np.ndarray:
        """National expected KPI per draw and week, (S, H)."""
        return self._sum("kpi", plan)

    def response(self, plan: np.ndarray) -> np.ndarray:
        """National incremental KPI over the window per draw, (S,)."""
        return self._sum("response", plan)

    def contributions(self, plan: np.ndarray) -> np.ndarray:
        """National contribution of each channel in the window, (S, H, C)."""
        return self._sum("contributions", plan)


class GeoPairWindow:
    """The response of a plan with one column per geo × channel pair (geo-major: geo g's
    channels in columns g·C … g·C + C − 1), each geo's columns through its own model, summed."""

    def __init__(self, window: GeoPlanWindow) -> None:
        self.windows = window.windows
        self.channels = window.share.shape[1]

    def response(self, plan: np.ndarray) -> np.ndarray:
        """National incremental KPI over the window per draw, (S,)."""
        plan = np.asarray(plan, float).reshape(len(plan), len(self.windows), self.channels)
        return sum(w.response(plan[:, g]) for g, w in enumerate(self.windows))

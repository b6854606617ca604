"""Lift-test calibration of the geo MMM: a test ran in some geos (or nationally), and its
measured lift is one more observation of the model (`cerebro.mmm.calibration` for the national
model, whose definitions this follows).

A test row has the national columns (`COLUMNS`: channel, start, end, delta_spend – the spend
change per week over all the test's geos –, lift, lift_se) and optionally `geo`: the geo it ran
in; without it (or empty) it ran in every geo. A `cerebro geotest --json` result ran in its
treated geos (its `cells` table names them). The spend change is split across the test's geos
by their share of the channel's spend over the fitted weeks, and the model lift is the sum over
those geos of each geo's model lift over the window (KPI units):

    model_lift = Σ_g Σ_{t = start … end} kpi_scale_g · β_{g,c} · [s_c(adstock_c(x_{g,c} + Δ_g)) − s_c(adstock_c(x_{g,c}))]_t

Each test adds ``lift ~ Normal(model_lift, lift_se)`` to the likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import table_from_dict
from cerebro.mmm.calibration import (
    LiftTests,
    geotest_row,
    lift_tests_from_frame,
    posterior_lifts,
    read_geotest_result,
)

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.geo import GeoData, GeoPosterior


@dataclass(frozen=True)
class GeoLiftTests:
    """Checked lift tests (national view: `tests.delta` is the spend change per week over all
    the test's geos) and `split` (tests, geos): each geo's share of that change."""

    tests: LiftTests
    split: np.ndarray

    def __len__(self) -> int:
        return len(self.tests)

    def in_geo(self, g: int) -> LiftTests:
        """The tests as geo g sees them: its part of each spend change (0 outside the test)."""
        return replace(self.tests, delta=self.tests.delta * self.split[:, g])

    def scaled_spend(self, data: GeoData) -> np.ndarray:
        """Each test's tested channel's scaled spend with the change, (tests, T, G)."""
        out = []
        for i, c in enumerate(self.tests.channel):
            x = np.stack([p.spend_scaled()[:, c] for p in data.parts], axis=1)  # (T, G)
            scale = np.array([p.spend_scale[c] for p in data.parts])
            window = slice(self.tests.first[i], self.tests.last[i] + 1)
            x[window] += self.tests.delta[i] * self.split[i] / scale
            out.append(x)
        return np.stack(out)


def _geos_of(value: Any, data: GeoData, name: str) -> list[int]:
    """Indices of the geos a test names ('' or missing: all of them)."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip():
        return list(range(len(data.geos)))
    names = [v.strip() for v in str(value).split(",")] if isinstance(value, str) else [value]
    unknown = [n for n in map(str, names) if n not in data.geos]
    if unknown:
        raise UserInputError(
            f"lift test {name}: geo {unknown[0]!r} is not one of the model's geos (e.g. "
            f"{data.geos[0]!r}); name a geo of the data or leave geo empty for a national test."
        )
    return [data.geos.index(str(n)) for n in names]


def geo_lift_tests_from_frame(frame: pd.DataFrame, data: GeoData, source: str) -> GeoLiftTests:
    """Check a table of lift tests (`COLUMNS`, optional `geo`) against the geo data."""

    national = data.national()
    geo_values = frame["geo"].tolist() if "geo" in frame.columns else [None] * len(frame)
    plain = frame.drop(columns=["geo"]) if "geo" in frame.columns else frame
    tests = lift_tests_from_frame(plain, national, source)  # columns, windows, numbers
    n = national.n_fit
    split = np.zeros((len(tests), len(data.geos)))
    for i, value in enumerate(geo_values):
        name = f"{i + 1} ({data.first.channels[tests.channel[i]]})"
        geos = _geos_of(value, data, name)
        c = tests.channel[i]
        spend = np.array([data.parts[g].spend[:n, c].sum() for g in geos])
        split[i, geos] = spend / spend.sum() if spend.sum() > 0 else 1 / len(geos)
        for g in geos:
            week = data.parts[g].spend[tests.first[i] : tests.last[i] + 1, c]
            if (week + tests.delta[i] * split[i, g] < 0).any():
                raise UserInputError(
                    f"lift test {name}: delta_spend {tests.delta[i]:g} per week, split across "
                    f"its geos by their spend, makes the spend of geo {data.geos[g]!r} negative "
                    "in the test weeks; a test can cut at most the spend there was."
                )
        if len(geos) < len(data.geos):
            where = ", ".join(data.geos[g] for g in geos)
            tests.names[i] = f"{tests.names[i]} in {where}"
    return GeoLiftTests(tests, split)


def read_geo_lift_tests(
    source: Any, data: GeoData, channel: str | None = None, spend: float | None = None
) -> GeoLiftTests:
    """Lift tests for the geo model from a file path or DataFrame, or a geotest JSON result
    (run in its treated geos) with the tested `channel` and its total spend change."""
    import pandas as pd

    from cerebro.data.load import load_table

    if isinstance(source, pd.DataFrame):
        return geo_lift_tests_from_frame(source, data, "the calibration table")
    name = f"calibration file {str(source)!r}"
    if not str(source).lower().endswith(".json"):
        return geo_lift_tests_from_frame(load_table(source), data, name)
    result = read_geotest_result(source, channel, spend, name)
    row = geotest_row(result, channel, spend, data.national(), name)
    cells = (result.get("tables") or {}).get("cells")
    treated = table_from_dict(cells).get("geos", [None]) if isinstance(cells, dict) else [None]
    return geo_lift_tests_from_frame(pd.DataFrame([{**row, "geo": treated[0]}]), data, name)


def geo_posterior_lifts(posterior: GeoPosterior, tests: GeoLiftTests) -> np.ndarray:
    """Model lift of every test in KPI units, (draws, tests): the sum of its geos' lifts."""
    return sum(
        posterior_lifts(part, tests.in_geo(g))
        for g, part in enumerate(posterior.geos)
        if tests.split[:, g].any()
    )

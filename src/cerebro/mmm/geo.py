"""Geo-level media mix data and posterior: one national model's arrays per geo, on one scale.

Scaling (Meridian's, Google 2024: KPI and media per capita, then divided by their means): a
geo's *size* n_g is its population (`population_column`) or, without one, its mean KPI over the
fitted weeks. Geo g's KPI is divided by n_g · k̄, k̄ the mean of KPI / n_g over all geos and
fitted weeks; channel c's spend by n_g · s̄_c, s̄_c the mean of spend / n_g. So a geo that
spends its per-capita share has scaled spend about 1, and one set of priors suits every geo.
Controls are standardised over all geos and fitted weeks.

Each geo then is an `MMMData` with its own `kpi_scale` (n_g · k̄) and `spend_scale`
(n_g · s̄), and a `GeoPosterior` is one `MMMPosterior` per geo that share the draws of the
shared parameters: contributions, ROI, predictions of a geo come from the national code, and
national numbers are sums over geos.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import numeric_column
from cerebro.data.load import load_table, require_columns
from cerebro.mmm.data import MMMData, needed_columns, prepare
from cerebro.mmm.posterior import MMMPosterior, ModelForm

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.spec import MMMSpec

# per-geo sample sites: geo on axis 1 of the draws (after the draw axis)
GEO_SITES = ("intercept", "beta", "effect", "sigma", "effect_z")


@dataclass(frozen=True)
class GeoData:
    """Per-geo `MMMData` on the common scale (module docstring), geos in sorted order."""

    geos: list[str]
    parts: list[MMMData]
    size: np.ndarray  # n_g: population, or mean KPI over the fitted weeks
    population: bool  # whether `size` is a population

    @property
    def first(self) -> MMMData:
        return self.parts[0]

    def stacked(self, name: str) -> np.ndarray:
        """A per-geo array stacked on axis 1: kpi (T, G), spend (T, G, C), controls …"""
        return np.stack([getattr(p, name) for p in self.parts], axis=1)

    def national(self) -> MMMData:
        """National totals (KPI and spend summed over geos) with the first geo's settings – for
        dates, fitted weeks, channel names and totals, not for the model's scale."""
        return replace(
            self.first,
            kpi=self.stacked("kpi").sum(axis=1),
            spend=self.stacked("spend").sum(axis=1),
            kpi_scale=float(sum(p.kpi_scale for p in self.parts)),
            spend_scale=np.sum([p.spend_scale for p in self.parts], axis=0),
        )


def prepare_geo(spec: MMMSpec, frame: pd.DataFrame | None, findings: list[Finding]) -> GeoData:
    """Load, check and scale geo × week data: every geo has the same regular weeks and passes
    the national model's checks; one sentence naming the geo otherwise."""
    geo, pop = spec.geo_column, spec.population_column
    assert geo is not None
    named = [*needed_columns(spec), geo, *([pop] if pop else [])]
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        frame = load_table(spec.data, named)
    else:
        require_columns([str(c) for c in frame.columns], named, "the data")
    if frame[geo].isna().any():
        raise UserInputError(f"geo column {geo!r} has missing values; every row needs its geo.")
    names = sorted(str(g) for g in frame[geo].astype(str).unique())
    if len(names) < 2:
        raise UserInputError(
            f"geo column {geo!r} has one geo ({names[0]!r}); the geo model needs at least two – "
            "drop --geo-column to fit the national model."
        )
    parts, sizes = [], []
    keys = frame[geo].astype(str)
    for g in names:
        rows = frame[keys == g]
        try:
            part = prepare(spec, rows, findings if not parts else [])
        except UserInputError as err:
            raise UserInputError(f"geo {g!r}: {err}") from None
        if parts and part.dates != parts[0].dates:
            raise UserInputError(
                f"geo {g!r} has other weeks than geo {names[0]!r} ({part.dates[0]} … "
                f"{part.dates[-1]} against {parts[0].dates[0]} … {parts[0].dates[-1]}); give "
                "every geo the same weeks."
            )
        parts.append(part)
        sizes.append(_size(rows, pop, g) if pop else float(part.kpi[: part.n_fit].mean()))
    if not pop:
        findings.append(
            Finding(
                "info",
                "geo_size",
                "no population column: each geo's size is its mean KPI over the fitted weeks "
                "(KPI and spend are modelled per unit of that size); give --population-column "
                "to model them per capita.",
            )
        )
    return _rescale(names, parts, np.asarray(sizes, float), bool(pop))


def _size(rows: pd.DataFrame, column: str, geo: str) -> float:
    values = numeric_column(rows[column], column, "population")
    if np.isnan(values).any() or not (values > 0).all() or np.ptp(values) > 0:
        raise UserInputError(
            f"population column {column!r} of geo {geo!r} must be one positive number in every "
            f"row (found {values[0]:g} … {values[-1]:g}); give each geo its population."
        )
    return float(values[0])


def _rescale(names: list[str], parts: list[MMMData], size: np.ndarray, population: bool) -> GeoData:
    n = parts[0].n_fit
    kpi = np.stack([p.kpi[:n] / s for p, s in zip(parts, size, strict=True)])  # (G, n)
    spend = np.stack([p.spend[:n] / s for p, s in zip(parts, size, strict=True)])  # (G, n, C)
    kbar, sbar = float(kpi.mean()), spend.mean(axis=(0, 1))
    controls = np.concatenate([p.controls[:n] for p in parts])
    k = controls.shape[1]
    mean = controls.mean(axis=0) if k else np.empty(0)
    sd = controls.std(axis=0) if k else np.empty(0)
    scaled = [
        replace(
            p, kpi_scale=float(s * kbar), spend_scale=s * sbar, control_mean=mean, control_sd=sd
        )
        for p, s in zip(parts, size, strict=True)
    ]
    return GeoData(names, scaled, size, population)


def geo_draws(draws: dict[str, np.ndarray], g: int) -> dict[str, np.ndarray]:
    """The draws of geo g's model: per-geo sites sliced, shared sites as they are."""
    return {k: (v[:, g] if k in GEO_SITES else v) for k, v in draws.items()}


@dataclass
class GeoPosterior:
    """Posterior draws of a geo model: `draws[site]` with draws on axis 0, then geo for the
    per-geo sites (`GEO_SITES`), then channel. `geo(g)` is geo g's `MMMPosterior`; the national
    numbers are sums over geos, in KPI units, per draw."""

    form: ModelForm
    geo_data: GeoData
    draws: dict[str, np.ndarray]
    chains: int
    spec: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.geos = [
            MMMPosterior(self.form, part, geo_draws(self.draws, g), self.chains, self.spec)
            for g, part in enumerate(self.geo_data.parts)
        ]
        self.data = self.geo_data.national()

    @property
    def n_draws(self) -> int:
        return len(self.draws["intercept"])

    def predict(self, spend: np.ndarray | None = None) -> np.ndarray:
        """National expected KPI (draws, weeks); `spend` per geo (T, G, C) or None."""
        return sum(
            p.predict(None if spend is None else spend[:, g]) for g, p in enumerate(self.geos)
        )

    def contributions(self) -> np.ndarray:
        """Per geo contributions, (draws, weeks, geos, channels)."""
        return np.stack([p.contributions() for p in self.geos], axis=2)

    def baseline(self) -> np.ndarray:
        return sum(p.baseline() for p in self.geos)

    def roi(self) -> np.ndarray:
        """National ROI: Σ_g contribution ÷ Σ_g spend over the fitted weeks, (draws, channels)."""
        n = self.data.n_fit
        return self.contributions()[:, :n].sum(axis=(1, 2)) / self.data.spend[:n].sum(axis=0)

    def geo_roi(self) -> np.ndarray:
        """Each geo's ROI, (draws, geos, channels)."""
        return np.stack([p.roi() for p in self.geos], axis=1)

    def marginal_roi(self) -> np.ndarray:
        """National marginal ROI: every geo's spend of the channel up by 1% in every fitted
        week; spend-weighted mean of the geos' marginal ROIs, (draws, channels)."""
        n = self.data.n_fit
        spend = np.stack([p.data.spend[:n].sum(axis=0) for p in self.geos])  # (G, C)
        mroi = np.stack([p.marginal_roi() for p in self.geos], axis=1)  # (D, G, C)
        return (mroi * spend).sum(axis=1) / spend.sum(axis=0)

    def response_curve(self, channel: int, weekly_spend: np.ndarray) -> np.ndarray:
        """National steady-state weekly contribution at a national weekly spend, split across
        geos by their share of the channel's fitted-weeks spend, (draws, grid)."""
        n, c = self.data.n_fit, channel
        share = np.array([p.data.spend[:n, c].sum() for p in self.geos])
        share = share / share.sum()
        grid = np.asarray(weekly_spend, float)
        return sum(p.response_curve(c, grid * share[g]) for g, p in enumerate(self.geos))

    def adstock_weights(self) -> np.ndarray:
        return self.geos[0].adstock_weights()

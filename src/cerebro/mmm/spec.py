"""`MMMSpec`: what a national Bayesian media mix model needs to know.

Light on purpose (no numerics, no JAX) so that the command line can build its options from the
fields without importing the model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.errors import UserInputError
from cerebro.core.event_source import (
    Db,
    EventEngine,
    PanelFreq,
    SparkMaster,
    Table,
    check_event_source,
)
from cerebro.core.spec import Alpha, SpecBase, cli, data_file, split_list

ADSTOCK_CHOICES = ("geometric", "delayed", "weibull_pdf", "weibull_cdf")
SATURATION_CHOICES = ("hill", "logistic", "michaelis_menten")


def parse_roi_prior(text: str | None) -> dict[str, tuple[float, float]] | None:
    """``"tv=1.5:0.8,search=2:1"`` → {"tv": (1.5, 0.8), "search": (2.0, 1.0)} (mean:sd of a
    channel's ROI); empty text → None."""
    if not text:
        return None
    priors = {}
    for part in split_list(text):
        channel, sep, numbers = part.partition("=")
        mean, colon, sd = numbers.partition(":")
        try:
            priors[channel.strip()] = (float(mean), float(sd))
        except ValueError:
            colon = ""
        if not (sep and colon):
            raise UserInputError(
                f"--roi-prior item {part!r} is not CHANNEL=MEAN:SD; write e.g. 'tv=1.5:0.8'."
            )
    return priors


def parse_spend_columns(text: str | None) -> dict[str, str] | None:
    """``"tv=tv_spend,search=search_cost"`` → {"tv": "tv_spend", "search": "search_cost"} (the
    money column beside a channel given in media units); empty text → None."""
    if not text:
        return None
    mapping = {}
    for part in split_list(text):
        channel, sep, column = (s.strip() for s in part.partition("="))
        if not (sep and channel and column):
            raise UserInputError(
                f"--spend-columns item {part!r} is not CHANNEL=SPEND_COLUMN; write e.g. "
                "'tv=tv_spend'."
            )
        mapping[channel] = column
    return mapping


class MMMSpec(SpecBase):
    """A national media mix model: `kpi` each week explained by a baseline (intercept, linear
    trend, Fourier seasonality, `controls`) plus, for each of the `channels` (spend columns),
    a coefficient times the saturation of the adstocked spend; fitted by Bayesian inference.

    Estimands: each channel's total contribution to the KPI over the fitted weeks (the KPI
    minus what the model predicts with that channel's spend set to zero), its ROI (contribution
    ÷ spend), its marginal ROI (extra contribution per extra unit of spend when every week's
    spend of the channel grows by 1%), with credible intervals at level 1 − `alpha`.
    """

    kind: Literal["mmm"] = "mmm"
    data: str | None = data_file(
        "Path of the data file (CSV, Parquet or JSON).",
        help="Data file (CSV, Parquet or JSON): one row per week (or per geo and week; raw "
        "events with --panel-freq).",
        required=False,
    )
    date_column: str = Field(..., description="Week column (dates, or week numbers).")
    kpi: str = Field(..., description="KPI column explained by the model (e.g. revenue).")
    channels: list[str] = Field(
        ...,
        description="Media spend columns, comma-separated (ROI = contribution / spend); or "
        "media units (impressions, GRPs) with their spend in spend_columns.",
    )
    geo_column: str | None = Field(
        None,
        description="Geo column (region, DMA, store): one row per geo and week; fits the "
        "geo-hierarchical model (per-geo baselines, channel effects partially pooled across "
        "geos).",
    )
    population_column: str | None = Field(
        None,
        description="Population of each geo (constant within a geo): KPI and spend are modelled "
        "per capita; without it a geo's size is its mean KPI over the fitted weeks.",
    )
    geo_pooling: Literal["partial", "none", "complete"] = Field(
        "partial",
        description="Geo model: partial pools each channel's effect across geos (hierarchical); "
        "none fits every geo's effect on its own, complete one effect for all geos (both for "
        "comparison).",
    )
    controls: list[str] = Field(
        default_factory=list,
        description="Control variable columns (e.g. price, promo), standardised in the model.",
    )
    adstock: Literal["geometric", "delayed", "weibull_pdf", "weibull_cdf"] = Field(
        "geometric", description="Carryover of spend into later weeks."
    )
    saturation: Literal["hill", "logistic", "michaelis_menten"] = Field(
        "hill", description="Diminishing returns of the adstocked spend."
    )
    l_max: int = Field(8, description="Longest carryover in weeks (adstock lags 0 … l_max − 1).")
    normalize: bool = Field(
        True,
        description="Normalise geometric/delayed adstock weights to sum to 1 (keeps the "
        "adstocked spend on the spend's scale).",
    )
    seasonality: str | None = Field(
        "52:2",
        description="Fourier seasonality PERIOD:HARMONICS (52:3 = yearly on weekly data, 3 "
        "sine/cosine pairs); 'none' for no seasonality.",
        json_schema_extra=cli(raw=True),
    )
    trend: bool = Field(True, description="Include a linear trend in the baseline.")
    trend_changepoints: int = Field(
        0,
        description="Piecewise-linear trend: K changepoints evenly spaced over the first 80% "
        "of the fitted weeks (as Prophet places them), each a slope change with a sparse "
        "Laplace prior; 0 = a straight line.",
    )
    spend_columns: dict[str, str] | None = Field(
        None,
        description="Channels given in media units (impressions, GRPs, clicks): the spend "
        "column of each, e.g. {'tv': 'tv_spend'}; the units drive adstock and saturation, the "
        "spend gives ROI, budgets and plans in money. Channels not named are their own spend.",
        json_schema_extra=cli(
            parse="cerebro.mmm.spec:parse_spend_columns",
            help="Channels in media units and their spend columns, CHANNEL=SPEND_COLUMN "
            "comma-separated (e.g. 'tv=tv_spend,search=search_cost'); ROI, --roi-prior, "
            "lift tests, budgets and plans are then in money.",
        ),
    )
    likelihood: Literal["normal", "student_t"] = Field(
        "normal", description="Noise distribution (student_t is robust to outlying weeks)."
    )
    log_kpi: bool = Field(
        False,
        description="Model log(KPI): multiplicative effects (the KPI must be positive).",
    )
    holdout: int = Field(
        0, description="Leave the last N weeks out of the fit and report accuracy on them."
    )
    roi_prior: dict[str, tuple[float, float]] | None = Field(
        None,
        description="Prior on a channel's ROI instead of its coefficient, mean and sd of a "
        "log-normal, e.g. {'tv': (1.5, 0.8)}.",
        json_schema_extra=cli(
            parse="cerebro.mmm.spec:parse_roi_prior",
            help="Prior on channels' ROI, CHANNEL=MEAN:SD comma-separated (e.g. "
            "'tv=1.5:0.8,search=2:1'); other channels keep the default coefficient prior.",
        ),
    )
    calibration: str | None = Field(
        None,
        description="Lift tests to calibrate the model with: a CSV (or Parquet) file with "
        "columns channel, start, end, delta_spend (spend change per week), lift (measured "
        "incremental KPI over the window) and lift_se (its standard error); each adds "
        "lift ~ Normal(model lift, lift_se) to the likelihood. Or the .json result of "
        "`cerebro geotest --json`, with calibration_channel and calibration_spend.",
    )
    calibration_channel: str | None = Field(
        None, description="The channel a geo-test JSON given as calibration tested."
    )
    calibration_spend: float | None = Field(
        None,
        description="The geo test's total spend change over its window (spread evenly over "
        "the window's weeks; negative for a spend cut).",
    )
    priors: Literal["cerebro", "pymc-marketing"] = Field(
        "cerebro",
        description='Prior set and scaling: cerebro (its own, docs/mmm.md "Priors") or '
        "pymc-marketing – the model PyMC-Marketing's MMM builds by default (KPI and spend "
        "divided by their maximum, controls unscaled, yearly Fourier terms on the calendar day "
        "of year, its default priors), for a like-for-like comparison; national, normal "
        "likelihood, geometric or delayed adstock.",
    )
    inference: Literal["nuts", "svi"] = Field(
        "nuts",
        description="nuts: MCMC (NumPyro's No-U-Turn sampler); svi: a fast variational "
        "approximation (multivariate normal), for exploration.",
    )
    chains: int = Field(4, description="MCMC chains (at least 2, so that R-hat exists).")
    draws: int = Field(1000, description="Posterior draws per chain (or from the SVI fit).")
    warmup: int = Field(1000, description="MCMC warm-up (tuning) iterations per chain.")
    svi_steps: int = Field(3000, description="Optimisation steps of the SVI fit.")
    target_accept: float = Field(0.9, description="NUTS target acceptance probability.")
    alpha: Alpha = Field(0.1, description="1 − credible level (0.1: 90% intervals).")
    seed: int = Field(0, description="Random seed; the same seed and data give the same result.")
    save: str | None = Field(
        None,
        description="Save the fitted model (posterior draws and scaling; a zip of manifest.json "
        "and arrays, no pickle) to this file, e.g. mmm.cerebro.",
        json_schema_extra=cli(output=True),
    )
    panel_freq: PanelFreq
    engine: EventEngine
    spark_master: SparkMaster
    db: Db
    table: Table

    @field_validator("channels", "controls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("seasonality", mode="before")
    @classmethod
    def _seasonality(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            return None
        text = str(value).strip()
        period, colon, harmonics = text.partition(":")
        try:
            p, k = float(period), int(harmonics) if colon else 2
        except ValueError:
            raise ValueError(
                f"seasonality {text!r} is not PERIOD:HARMONICS; write e.g. 52:3"
            ) from None
        if not p > 1 or k < 1 or 2 * k > p:
            raise ValueError(
                f"seasonality {text!r} needs a period > 1 and 1 ≤ harmonics ≤ period/2, e.g. 52:3"
            )
        return f"{p:g}:{k}"

    @model_validator(mode="after")
    def _check(self) -> MMMSpec:
        check_event_source(self)
        if not self.channels:
            raise ValueError("channels: name at least one spend column")
        extra = [c for c in (self.geo_column, self.population_column) if c]
        self._check_media_units()
        spend = list((self.spend_columns or {}).values())
        names = [self.date_column, self.kpi, *self.channels, *self.controls, *extra, *spend]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"column {repeated[0]!r} is named twice; give each column one role")
        if not 1 <= self.l_max <= 104:
            raise ValueError(f"l_max must be between 1 and 104 weeks, got {self.l_max}")
        if self.holdout < 0:
            raise ValueError(f"holdout is a number of weeks ≥ 0, got {self.holdout}")
        if self.chains < 1 or (self.inference == "nuts" and self.chains < 2):
            raise ValueError(f"chains must be at least 2 so that R-hat exists, got {self.chains}")
        if self.draws < 100 or self.warmup < 100:
            raise ValueError("draws and warmup need at least 100 iterations per chain")
        if self.svi_steps < 100:
            raise ValueError(f"svi_steps must be at least 100, got {self.svi_steps}")
        if not 0.5 <= self.target_accept < 1:
            raise ValueError(f"target_accept must be in [0.5, 1), got {self.target_accept}")
        for channel, (mean, sd) in (self.roi_prior or {}).items():
            if channel not in self.channels:
                raise ValueError(
                    f"roi_prior names {channel!r}, which is not one of the channels "
                    f"({', '.join(self.channels)})"
                )
            if not (mean > 0 and sd > 0):
                raise ValueError(f"roi_prior of {channel!r} needs a positive mean and sd")
        json_test = str(self.calibration or "").lower().endswith(".json")
        if (self.calibration_channel is not None or self.calibration_spend is not None) and (
            not json_test
        ):
            raise ValueError(
                "calibration_channel and calibration_spend go with a geo-test JSON given as "
                "calibration; a lift-test CSV names channel and delta_spend in its columns"
            )
        if self.calibration_channel is not None and self.calibration_channel not in self.channels:
            raise ValueError(
                f"calibration_channel {self.calibration_channel!r} is not one of the channels "
                f"({', '.join(self.channels)})"
            )
        if self.population_column and not self.geo_column:
            raise ValueError("population_column needs geo_column (a population per geo)")
        if self.priors == "pymc-marketing":
            _check_pymc_marketing(self)
        if self.roi_prior and self.log_kpi:
            raise ValueError(
                "roi_prior needs an additive model (ROI is then linear in the coefficient); "
                "drop log_kpi or the ROI priors"
            )
        return self

    def _check_media_units(self) -> None:
        """`spend_columns` and `trend_changepoints`: one sentence for what is wrong."""
        mapping = self.spend_columns or {}
        for channel, column in mapping.items():
            if channel not in self.channels:
                raise ValueError(
                    f"spend_columns names {channel!r}, which is not one of the channels "
                    f"({', '.join(self.channels)})"
                )
            if column in self.controls:
                raise ValueError(
                    f"spend column {column!r} of {channel!r} is also a control; give each "
                    "column one role"
                )
            if column in self.channels:
                raise ValueError(
                    f"spend column {column!r} of {channel!r} is also a channel; a channel "
                    "without units is its own spend – leave it out of spend_columns"
                )
        shared = sorted({c for c in mapping.values() if list(mapping.values()).count(c) > 1})
        if shared:
            raise ValueError(
                f"spend column {shared[0]!r} is named for two channels; give each channel its "
                "own spend column"
            )
        if self.trend_changepoints < 0 or self.trend_changepoints > 50:
            raise ValueError(
                f"trend_changepoints must be between 0 and 50, got {self.trend_changepoints}"
            )
        if self.trend_changepoints and not self.trend:
            raise ValueError("trend_changepoints needs the trend; drop --no-trend")
        for name, used in (
            ("spend_columns", bool(mapping)),
            ("trend_changepoints", bool(self.trend_changepoints)),
        ):
            if used and self.geo_column:
                raise ValueError(
                    f"{name} is not available for the geo model yet; fit each geo's total "
                    "nationally or drop it"
                )

    @property
    def period_harmonics(self) -> tuple[float, int] | None:
        """(period, harmonics) of the seasonality, or None."""
        if self.seasonality is None:
            return None
        period, _, harmonics = self.seasonality.partition(":")
        return float(period), int(harmonics)


def _check_pymc_marketing(spec: MMMSpec) -> None:
    """The options PyMC-Marketing's default model has no counterpart for (one sentence each)."""
    clashes = [
        (spec.geo_column, "geo_column (the geo model has its own priors)"),
        (spec.likelihood != "normal", f"likelihood {spec.likelihood} (its default is normal)"),
        (spec.log_kpi, "log_kpi (it models the KPI itself)"),
        (spec.roi_prior, "roi_prior (its priors are on the coefficient)"),
        (spec.calibration, "calibration (its lift-test likelihood differs from Cerebro's)"),
        (spec.adstock.startswith("weibull"), f"adstock {spec.adstock} (not yet: it normalises "
                                              "Weibull weights, Cerebro does not)"),
    ]  # fmt: skip
    for clash, what in clashes:
        if clash:
            raise ValueError(
                f"priors 'pymc-marketing' cannot be combined with {what}; drop that option or "
                "use priors 'cerebro'"
            )

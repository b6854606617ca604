"""The weekly table of a media mix model as checked, scaled arrays (`MMMData`).

Scaling (so that one set of default priors suits any currency or KPI size): the KPI is divided
by its mean over the fitted weeks (with `log_kpi`, log(KPI / mean) is modelled); each channel's
spend is divided by its own mean over the fitted weeks; each control is standardised (mean 0,
SD 1 over the fitted weeks). Time runs 0, 1, … over the weeks; the trend is week / fitted weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import numeric_column
from cerebro.data.load import load_table, require_columns
from cerebro.data.validate import (
    regular_dates,
    require_nonnegative,
    require_values,
    require_varying,
)

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.spec import MMMSpec


@dataclass(frozen=True)
class MMMData:
    """Raw and scaled arrays of one national MMM, weeks in time order.

    `spend` (T, C) and `controls` (T, K) are raw; the model sees `spend / spend_scale` and
    `(controls − control_mean) / control_sd`; `n_fit` first weeks are fitted, the rest held out.
    """

    dates: list[str]
    kpi: np.ndarray
    spend: np.ndarray
    controls: np.ndarray
    channels: list[str]
    control_names: list[str]
    n_fit: int
    kpi_scale: float
    spend_scale: np.ndarray
    control_mean: np.ndarray
    control_sd: np.ndarray
    log_kpi: bool
    seasonality: tuple[float, int] | None
    trend: bool
    # media units (`cerebro.mmm.media`): money per unit of each channel over the fitted weeks
    # (1 for a channel that is its own spend) and the weekly money; None: every channel is spend
    unit_cost: np.ndarray | None = None
    money: np.ndarray | None = None
    # piecewise trend: changepoints as fractions of the fitted weeks (t / n_fit)
    changepoints: tuple[float, ...] = ()
    # Fourier terms on the calendar's day of year / 365.25 (PyMC-Marketing's yearly
    # seasonality, `cerebro.mmm.pymc_priors`) instead of on the week index / period
    calendar: bool = False

    @property
    def weeks(self) -> int:
        return len(self.kpi)

    @property
    def target(self) -> np.ndarray:
        """What the likelihood describes: KPI / scale, or its log."""
        y = self.kpi / self.kpi_scale
        return np.log(y) if self.log_kpi else y

    @property
    def cost(self) -> np.ndarray:
        """Money per media unit of each channel (ones when every channel is spend)."""
        return np.ones(len(self.channels)) if self.unit_cost is None else self.unit_cost

    @property
    def money_spend(self) -> np.ndarray:
        """Weekly spend in money, (T, C): the spend columns, or the channels themselves."""
        return self.spend if self.money is None else self.money

    @property
    def money_scale(self) -> np.ndarray:
        """Money per unit of scaled input (spend_scale × cost per unit), per channel."""
        return self.spend_scale * self.cost

    def spend_scaled(self, spend: np.ndarray | None = None) -> np.ndarray:
        return (self.spend if spend is None else spend) / self.spend_scale

    def baseline_features(self) -> np.ndarray:
        """Columns of the baseline besides the intercept: trend, Fourier terms, controls."""
        return baseline_features(
            self.weeks,
            self.n_fit,
            self.trend,
            self.seasonality,
            (self.controls - self.control_mean) / self.control_sd,
            self.changepoints,
            self.year_phase(self.weeks) if self.calendar else None,
        )

    def year_phase(self, weeks: int) -> np.ndarray:
        """Day of year / 365.25 of weeks 0 … weeks − 1 (the dates continued at their step
        after the data), for calendar Fourier terms; one sentence if the dates are not dates."""
        import pandas as pd

        try:
            if any(d.lstrip("-").isdigit() for d in self.dates[:2]):  # week numbers, not years
                raise ValueError
            first, second = pd.to_datetime(self.dates[:2], format="mixed")
        except (TypeError, ValueError):
            raise UserInputError(
                f"yearly seasonality on the calendar needs dates in the date column, not "
                f"{self.dates[0]!r}; give ISO dates like 2024-01-29 or use --seasonality none."
            ) from None
        days = pd.DatetimeIndex([first + k * (second - first) for k in range(weeks)])
        return days.day_of_year.to_numpy(float) / 365.25

    def feature_names(self) -> list[str]:
        names = ["trend"] if self.trend else []
        if self.seasonality is not None:
            for k in range(1, self.seasonality[1] + 1):
                names += [f"season_sin{k}", f"season_cos{k}"]
        return names + [f"control_{c}" for c in self.control_names]

    def scaling(self) -> dict[str, Any]:
        """The scaling as JSON-safe numbers (saved with a model)."""
        return {
            "kpi_scale": self.kpi_scale,
            "spend_scale": self.spend_scale.tolist(),
            "control_mean": self.control_mean.tolist(),
            "control_sd": self.control_sd.tolist(),
        }


def baseline_features(
    weeks: int,
    n_fit: int,
    trend: bool,
    seasonality: tuple[float, int] | None,
    controls_standardised: np.ndarray,
    changepoints: tuple[float, ...] = (),
    year_phase: np.ndarray | None = None,
) -> np.ndarray:
    """[trend t/n_fit] + [sin(2πkt/P), cos(2πkt/P) for k = 1 … K] + controls, for t = 0 … weeks−1,
    then one column max(0, t/n_fit − s_j) per trend changepoint s_j (`cerebro.mmm.trend`); with
    `year_phase` (day of year / 365.25 per week) the Fourier terms are sin(2πk·phase),
    cos(2πk·phase) instead (the period is then the calendar year)."""
    t = np.arange(weeks, dtype=float)
    columns = [t / n_fit - 0.5] if trend else []
    if seasonality is not None:
        period, harmonics = seasonality
        for k in range(1, harmonics + 1):
            if year_phase is None:
                angle = 2 * np.pi * k * t / period
            else:
                angle = 2 * np.pi * k * np.asarray(year_phase, float)[:weeks]
            columns += [np.sin(angle), np.cos(angle)]
    columns += list(np.asarray(controls_standardised, float).T)
    columns += [np.maximum(t / n_fit - s, 0.0) for s in changepoints]
    return np.column_stack(columns) if columns else np.empty((weeks, 0))


def needed_columns(spec: MMMSpec) -> list[str]:
    spend = list((spec.spend_columns or {}).values())
    return [spec.date_column, spec.kpi, *spec.channels, *spec.controls, *spend]


def prepare(spec: MMMSpec, frame: pd.DataFrame | None, findings: list[Finding]) -> MMMData:
    """Load (if needed), check and scale the weekly table; one sentence for whatever is wrong."""
    named = needed_columns(spec)
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        frame = load_table(spec.data, named)
    else:
        require_columns([str(c) for c in frame.columns], named, "the data")
    order = regular_dates(frame[spec.date_column].to_numpy(), spec.date_column)
    frame = frame.iloc[order].reset_index(drop=True)
    dates = [_date_text(v) for v in frame[spec.date_column]]
    kpi = numeric_column(frame[spec.kpi], spec.kpi, "KPI")
    if np.isnan(kpi).any():
        first = int(np.flatnonzero(np.isnan(kpi))[0])
        raise UserInputError(
            f"KPI column {spec.kpi!r} is missing in {int(np.isnan(kpi).sum()):,} week(s) (the "
            f"first {dates[first]}); every week needs its KPI – fill it in or drop those weeks "
            "at the start or end."
        )
    T, holdout = len(kpi), spec.holdout
    n_fit = T - holdout
    spend = np.column_stack([_complete(frame, c, "spend", dates) for c in spec.channels])
    controls = (
        np.column_stack([_complete(frame, c, "control", dates) for c in spec.controls])
        if spec.controls
        else np.empty((T, 0))
    )
    media = media_money(spec, frame, spend, n_fit, dates, findings)
    for j, channel in enumerate(spec.channels):
        require_nonnegative(spend[:, j], channel, "spend")
        require_varying(spend[:n_fit, j], channel, "spend", rows="fitted weeks")
    for j, control in enumerate(spec.controls):
        require_varying(controls[:n_fit, j], control, "control", rows="fitted weeks")
    require_varying(kpi[:n_fit], spec.kpi, "KPI", rows="fitted weeks")
    if spec.log_kpi and not (kpi > 0).all():
        raise UserInputError(
            f"KPI column {spec.kpi!r} has values ≤ 0 (e.g. {kpi[kpi <= 0][0]:g}), which have no "
            "logarithm; drop --log-kpi or fix the KPI."
        )
    harmonics = 0 if spec.period_harmonics is None else spec.period_harmonics[1]
    parameters = 2 + int(spec.trend) + 2 * harmonics + len(spec.controls) + 3 * len(spec.channels)
    parameters += spec.trend_changepoints
    if n_fit < max(parameters, 2 * spec.l_max, 10):
        raise UserInputError(
            f"only {n_fit} week(s) to fit (of {T}, holdout {holdout}) for about {parameters} "
            f"parameters and an adstock of {spec.l_max} weeks; give more weeks, fewer channels "
            "or controls, a shorter --holdout or --l-max."
        )
    mean_kpi = float(kpi[:n_fit].mean())
    if not mean_kpi > 0:
        raise UserInputError(
            f"KPI column {spec.kpi!r} has a mean of {mean_kpi:g} over the fitted weeks; the "
            "model needs a positive KPI (revenue, sales, sign-ups)."
        )
    if holdout:
        findings.append(
            Finding(
                "info",
                "holdout",
                f"the last {holdout} weeks ({dates[n_fit]} to {dates[-1]}) are held out of the "
                "fit; accuracy on them is reported as holdout R² and MAPE.",
            )
        )
    sd = controls[:n_fit].std(axis=0) if spec.controls else np.empty(0)
    return MMMData(
        dates=dates,
        kpi=kpi,
        spend=spend,
        controls=controls,
        channels=list(spec.channels),
        control_names=list(spec.controls),
        n_fit=n_fit,
        kpi_scale=mean_kpi,
        spend_scale=spend[:n_fit].mean(axis=0),
        control_mean=controls[:n_fit].mean(axis=0) if spec.controls else np.empty(0),
        control_sd=sd,
        log_kpi=spec.log_kpi,
        seasonality=spec.period_harmonics,
        trend=spec.trend,
        **media,
        changepoints=changepoint_positions(n_fit, spec.trend_changepoints),
    )


def media_money(spec: MMMSpec, frame: pd.DataFrame, units: np.ndarray, n_fit: int,
                dates: list[str], findings: list[Finding]) -> dict[str, Any]:  # fmt: skip
    """`unit_cost` and `money` of `MMMData` for `spec.spend_columns` (`cerebro.mmm.media`)."""
    if not spec.spend_columns:
        return {}
    from cerebro.mmm.media import money_of

    return money_of(spec, frame, units, n_fit, dates, findings)


def changepoint_positions(n_fit: int, k: int) -> tuple[float, ...]:
    """K trend changepoints as fractions of the fitted weeks (`cerebro.mmm.trend`)."""
    if not k:
        return ()
    from cerebro.mmm.trend import changepoints

    return changepoints(n_fit, k)


def _complete(frame: pd.DataFrame, column: str, role: str, dates: list[str]) -> np.ndarray:
    values = numeric_column(frame[column], column, role)
    require_values(values, column, role)
    if np.isnan(values).any():
        first = int(np.flatnonzero(np.isnan(values))[0])
        fill = "0 where nothing was spent" if role == "spend" else "the value of each week"
        raise UserInputError(
            f"{role} column {column!r} is missing in {int(np.isnan(values).sum()):,} week(s) "
            f"(the first {dates[first]}); fill in {fill}."
        )
    return values


def _date_text(value: Any) -> str:
    import pandas as pd

    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)

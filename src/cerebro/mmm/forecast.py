"""The fitted media mix model continued into weeks after its data: a spend plan's KPI.

The same mean as the fit (`cerebro.mmm.posterior.mean_terms`), for the H weeks of a plan that
follow the model's last week (index T = the data's weeks, holdout included):

- baseline: the intercept, the trend (t / fitted weeks − 0.5, extended to t = T … T + H − 1;
  a piecewise trend continues with its last slope, `cerebro.mmm.trend`),
  the Fourier terms at those t, and the controls – from the plan file, or held at their mean
  over the fitted weeks (`controls_at="mean"`) or at the last week's value (`"last"`);
- media: adstock runs over the last weeks of the data followed by the plan, so the spend of the
  last l_max − 1 weeks carries over into the plan's first weeks; then saturation and beta.

`PlanWindow.response(plan)` – what the budget optimiser asks – is, per posterior draw, the
predicted KPI summed over the window minus the same with no media in the window. The carry-over
from the history is in both terms: in the additive model it cancels exactly, so the response is
the effect of the plan's own spend (inside the window); with a log KPI it still enters both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.mmm.data import _complete, baseline_features
from cerebro.mmm.posterior import mean_terms

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.posterior import MMMPosterior


class PlanWindow:
    """H weeks of a saved model starting at week index `start` (default: right after the data),
    with the controls of those weeks fixed; spend plans (H × channels) are its questions."""

    def __init__(
        self,
        posterior: MMMPosterior,
        periods: int,
        controls: np.ndarray | None = None,
        controls_at: str = "mean",
        start: int | None = None,
    ) -> None:
        data = posterior.data
        self.posterior = posterior
        self.periods = int(periods)
        self.start = data.weeks if start is None else int(start)
        self.controls = window_controls(posterior, self.periods, controls, controls_at)
        lags = posterior.form.weights(posterior.draws).shape[0]
        self.lead = min(self.start, lags - 1)  # history weeks whose spend reaches the window
        self.history = data.spend[self.start - self.lead : self.start]
        k = len(data.control_names)
        z = (self.controls - data.control_mean) / data.control_sd if k else self.controls
        padded = np.vstack([np.zeros((self.start, k)), z])
        weeks = self.start + self.periods
        phase = data.year_phase(weeks) if data.calendar else None
        features = baseline_features(  # piecewise trend: the last slope continues
            weeks, data.n_fit, data.trend, data.seasonality, padded, data.changepoints, phase
        )
        self.features = features[self.start - self.lead :]
        self.zero_kpi = self.kpi(np.zeros((self.periods, len(data.channels))))

    def terms(self, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(baseline (H, S), media (H, S, C)) in the window's weeks for the spend `plan` (money;
        a channel in media units gets plan ÷ its cost per unit, `cerebro.mmm.media`)."""
        data = self.posterior.data
        spend = np.vstack([self.history, np.asarray(plan, float) / data.cost])
        x = data.spend_scaled(spend)[:, None, :]
        baseline, media = mean_terms(self.posterior.form, self.posterior.draws, x, self.features)
        return baseline[self.lead :], media[self.lead :]

    def kpi(self, plan: np.ndarray) -> np.ndarray:
        """Expected KPI (median with a log KPI) per draw and week, (S, H)."""
        baseline, media = self.terms(plan)
        mu = (baseline + media.sum(axis=-1)).T
        data = self.posterior.data
        return data.kpi_scale * (np.exp(mu) if data.log_kpi else mu)

    def response(self, plan: np.ndarray) -> np.ndarray:
        """Incremental KPI over the window per draw, (S,): the plan's prediction minus the
        prediction with no media in the window (the history's carry-over is in both)."""
        return (self.kpi(plan) - self.zero_kpi).sum(axis=1)

    def contributions(self, plan: np.ndarray) -> np.ndarray:
        """Each channel's contribution in the window, (S, H, C): the prediction minus the
        prediction with that channel's spend in the window at zero."""
        data = self.posterior.data
        baseline, media = self.terms(plan)
        _, without = self.terms(np.zeros_like(np.asarray(plan, float)))
        own = media - without  # the window's spend of each channel, history carry-over removed
        if not data.log_kpi:
            return data.kpi_scale * np.moveaxis(own, 0, 1)
        full = np.exp(baseline + media.sum(axis=-1))[..., None]
        return data.kpi_scale * np.moveaxis(-full * np.expm1(-own), 0, 1)


def plan_window(
    posterior: MMMPosterior, periods: int, controls: np.ndarray | None, controls_at: str
) -> PlanWindow:
    """The plan window of a national model, or of a geo model (`cerebro.mmm.geo_plan`: a
    national plan split across geos by their historical spend shares)."""
    from cerebro.mmm.geo import GeoPosterior

    if isinstance(posterior, GeoPosterior):
        from cerebro.mmm.geo_plan import GeoPlanWindow

        return GeoPlanWindow(posterior, periods, controls, controls_at)  # type: ignore[return-value]
    return PlanWindow(posterior, periods, controls, controls_at)


def window_controls(
    posterior: MMMPosterior, periods: int, controls: np.ndarray | None, controls_at: str
) -> np.ndarray:
    """The raw controls of the window's weeks, (H, K): as given, or each at its fitted-weeks
    mean or its last week's value."""
    data = posterior.data
    k = len(data.control_names)
    if controls is not None:
        return np.asarray(controls, float).reshape(periods, k)
    if controls_at not in ("mean", "last"):
        raise UserInputError(f"controls_at is {controls_at!r}; use 'mean' or 'last'.")
    level = data.control_mean if controls_at == "mean" else data.controls[-1]
    return np.tile(np.asarray(level, float).reshape(1, k), (periods, 1))


# --- dates and plan files -----------------------------------------------------------------


def _numeric(dates: list[str]) -> bool:
    try:
        [float(d) for d in dates]
    except ValueError:
        return False
    return True


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def future_dates(posterior: MMMPosterior, periods: int) -> list[str]:
    """The `periods` dates after the model's last week, written as the model writes dates."""
    import pandas as pd

    dates = posterior.data.dates
    if _numeric(dates):
        values = np.asarray(dates, float)
        step = values[-1] - values[-2]
        return [_number(v) for v in values[-1] + step * np.arange(1, periods + 1)]
    stamps = pd.to_datetime(pd.Series(dates[-2:]))
    step = stamps.iloc[1] - stamps.iloc[0]
    return [(stamps.iloc[1] + step * k).strftime("%Y-%m-%d") for k in range(1, periods + 1)]


def date_column(posterior: MMMPosterior) -> str:
    return str(posterior.spec.get("date_column") or "date")


def plan_frame(posterior: MMMPosterior, plan: np.ndarray, controls: np.ndarray) -> pd.DataFrame:
    """A plan as a table a `--plan` file holds: the dates after the model's last week, one
    spend column per channel and, if the model has controls, one column per control."""
    import pandas as pd

    data = posterior.data
    frame = pd.DataFrame({date_column(posterior): future_dates(posterior, len(plan))})
    for c, name in enumerate(data.channels):
        frame[name] = np.asarray(plan, float)[:, c]
    for j, name in enumerate(data.control_names):
        frame[name] = np.asarray(controls, float)[:, j]
    return frame


def plan_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes with every float exact (``%.17g``), so that reading it back gives the plan."""
    return frame.to_csv(index=False, float_format="%.17g").encode()


def read_plan(
    posterior: MMMPosterior, path: str
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """(dates, spend (H, C), controls (H, K) or None when the file gives none) of a plan file;
    one sentence for whatever is wrong with it."""
    import pandas as pd

    from cerebro.data.columns import numeric_column
    from cerebro.data.load import load_table
    from cerebro.data.validate import regular_dates

    data = posterior.data
    name = str(path).rsplit("/", 1)[-1]
    when = date_column(posterior)
    frame = load_table(path)
    missing = [c for c in [when, *data.channels] if c not in frame.columns]
    if missing:
        what = "date column" if missing[0] == when else "spend column of channel"
        raise UserInputError(
            f"plan {name!r} has no {what} {missing[0]!r}; a plan has the model's date column "
            f"{when!r} and one column per channel ({', '.join(data.channels)})."
        )
    order = regular_dates(frame[when].to_numpy(), when)
    frame = frame.iloc[order].reset_index(drop=True)
    periods = len(frame)
    expected = future_dates(posterior, periods)
    if _numeric(data.dates):
        given = [_number(v) for v in numeric_column(frame[when], when, "date")]
    else:
        given = [pd.Timestamp(v).strftime("%Y-%m-%d") for v in frame[when]]
    if given != expected:
        first = next(k for k in range(periods) if given[k] != expected[k])
        raise UserInputError(
            f"plan {name!r} has week {given[first]} where the week after the model's last week "
            f"({data.dates[-1]}) continues with {expected[first]}: a plan starts the week after "
            "the model's data and runs week by week; put any weeks in between in the plan with "
            "their spend."
        )
    spend = np.column_stack([_values(frame, c, "spend", name, given) for c in data.channels])
    given_controls = [c for c in data.control_names if c in frame.columns]
    if not given_controls:
        return given, spend, None
    absent = [c for c in data.control_names if c not in frame.columns]
    if absent:
        raise UserInputError(
            f"plan {name!r} gives controls but not {absent[0]!r}; give every control of the "
            f"model ({', '.join(data.control_names)}) or none (then --controls-at fills them)."
        )
    controls = np.column_stack(
        [_values(frame, c, "control", name, given) for c in data.control_names]
    )
    return given, spend, controls


def _values(frame: pd.DataFrame, column: str, role: str, name: str, dates: list[str]):
    """The plan's numbers of `column`: as the fit's data (`cerebro.mmm.data._complete`: numbers,
    none missing), and spend not negative."""
    values = _complete(frame, column, role, dates)
    if role == "spend" and (values < 0).any():
        first = int(np.flatnonzero(values < 0)[0])
        raise UserInputError(
            f"spend column {column!r} of plan {name!r} is negative in "
            f"{int((values < 0).sum()):,} week(s) (the first {dates[first]}: {values[first]:g}); "
            "spend is 0 or more."
        )
    return values


def open_model(path: str | None, data: object = None) -> MMMPosterior:
    """The posterior given in memory (`data`), or the one saved at `path`; one sentence if
    there is none."""
    from pathlib import Path

    from cerebro.mmm.geo import GeoPosterior
    from cerebro.mmm.model_file import load_mmm
    from cerebro.mmm.posterior import MMMPosterior

    if isinstance(data, (MMMPosterior, GeoPosterior)):
        return data
    if data is not None:
        raise UserInputError(
            "the data of an MMM plan is its saved model: pass the model file's path as `model`."
        )
    if not path:
        raise UserInputError("no model: give the file saved by cerebro mmm --save.")
    if not Path(path).is_file():
        raise UserInputError(
            f"model file {Path(path).name!r} does not exist; save one with cerebro mmm --save."
        )
    return load_mmm(path)


def window_notes(
    posterior: MMMPosterior, periods: int, controls_given: bool, controls_at: str
) -> list[Finding]:
    """What a reader of a plan's numbers must know: the window, the carry-over, the controls."""
    data = posterior.data
    dates = future_dates(posterior, periods)
    lags = posterior.form.weights(posterior.draws).shape[0] - 1
    cancels = (
        "cancels from the incremental KPI (additive model)"
        if not data.log_kpi
        else "is in both the prediction and the no-media prediction (log KPI: it does not "
        "cancel exactly)"
    )
    notes = [
        Finding(
            "info",
            "carry_over",
            f"The plan covers the {periods} weeks {dates[0]} to {dates[-1]}, after the model's "
            f"last week {data.dates[-1]}; the spend of the model's last {lags} weeks carries "
            f"over into them (adstock) and {cancels}; trend and seasonality are continued.",
        )
    ]
    if data.unit_cost is not None and (data.unit_cost != 1).any():
        costs = ", ".join(
            f"{c} {k:.6g}" for c, k in zip(data.channels, data.unit_cost, strict=True) if k != 1
        )
        notes.append(
            Finding(
                "info",
                "media_units",
                f"Spend is money: channels in media units get spend ÷ their cost per unit over "
                f"the fitted weeks ({costs}), assumed constant.",
            )
        )
    if data.control_names:
        how = (
            "taken from the plan"
            if controls_given
            else "held at their mean over the fitted weeks (--controls-at mean)"
            if controls_at == "mean"
            else f"held at the model's last week's values, {data.dates[-1]} (--controls-at last)"
        )
        notes.append(
            Finding(
                "info",
                "controls",
                f"The controls ({', '.join(data.control_names)}) in the plan's weeks are {how}.",
            )
        )
    return notes

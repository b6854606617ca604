"""Lift-test calibration of the MMM: experiments as extra observations of the model.

A lift test changed one channel's spend by `delta_spend` per week in the weeks `start` … `end`
(inclusive, dates of the model's date column) and measured the incremental KPI `lift` (total
over those weeks) with standard error `lift_se`. The model's lift of that test is

    model_lift = Σ_{t = start … end} [ E(KPI_t | spend + Δ) − E(KPI_t | spend) ],

Δ = `delta_spend` added to the channel's actual spend in the test weeks: through adstock and
saturation, in KPI units; carry-over inside the window counts, carry-over past `end` does not
(the test did not measure it). Each test adds ``lift ~ Normal(model_lift, lift_se)`` to the
likelihood. `window_lifts` is written once for numpy and JAX: the NumPyro model calls it with
one draw, `posterior_lifts` with all draws.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.stats.intervals import equal_tailed

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.data import MMMData
    from cerebro.mmm.posterior import MMMPosterior, ModelForm

COLUMNS = ("channel", "start", "end", "delta_spend", "lift", "lift_se")
DISAGREE_Z = 3.0  # a test whose measured lift is > 3 of its SEs from the posterior mean


@dataclass(frozen=True)
class LiftTests:
    """Checked lift tests: channel index, first and last week index (inclusive), spend change
    per week (raw units), measured lift and its SE (KPI units)."""

    channel: np.ndarray
    first: np.ndarray
    last: np.ndarray
    delta: np.ndarray
    lift: np.ndarray
    se: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.channel)

    def extra_spend(self, i: int, shape: tuple[int, int]) -> np.ndarray:
        """The test's spend change as a (weeks, channels) array of raw spend."""
        out = np.zeros(shape)
        out[self.first[i] : self.last[i] + 1, self.channel[i]] = self.delta[i]
        return out


def window_lifts(
    form: ModelForm,
    params: dict[str, Any],
    x: Any,
    baseline: Any,
    tests: LiftTests,
    spend_scale: np.ndarray,
    log_kpi: bool,
    xp: Any = np,
) -> list[Any]:
    """Each test's model lift in units of the KPI scale (module docstring). One draw: x (T, C),
    baseline (T,); all draws: x (T, 1, C), baseline (T, D). `baseline` includes the intercept."""
    media = form.media(params, x, xp)
    mu = baseline + media.sum(axis=-1)
    level = xp.exp(mu) if log_kpi else mu
    out = []
    for i in range(len(tests)):
        extra = tests.extra_spend(i, (x.shape[0], x.shape[-1])) / spend_scale
        shifted = x + extra.reshape(extra.shape[0], *([1] * (x.ndim - 2)), extra.shape[1])
        changed = mu + (form.media(params, shifted, xp) - media).sum(axis=-1)
        diff = (xp.exp(changed) if log_kpi else changed) - level
        out.append(diff[tests.first[i] : tests.last[i] + 1].sum(axis=0))
    return out


def posterior_lifts(posterior: MMMPosterior, tests: LiftTests) -> np.ndarray:
    """Model lift of every test in KPI units, (draws, tests)."""
    data = posterior.data
    x = data.spend_scaled()[:, None, :]
    baseline, _ = posterior._terms()
    lifts = window_lifts(
        posterior.form, posterior.draws, x, baseline, tests, data.money_scale, data.log_kpi
    )
    return data.kpi_scale * np.column_stack(lifts)


def _comparable(values: Any) -> np.ndarray:
    """Dates as datetime64 (or week numbers as floats) so that windows can be compared."""
    import pandas as pd

    values = pd.Series(list(values))
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(float)
    with warnings.catch_warnings():  # "could not infer format": each value parsed alone
        warnings.simplefilter("ignore", UserWarning)
        return pd.to_datetime(values, errors="coerce").to_numpy()


def _weeks(start: Any, end: Any, data: MMMData, name: str) -> tuple[int, int]:
    dates = _comparable(data.dates)
    try:
        lo, hi = _comparable([start, end])
    except (TypeError, ValueError):
        lo = hi = None
    comparable = not (lo is None or hi is None or lo != lo or hi != hi)  # NaN / NaT
    # a week number against dates (or the reverse) is no window either
    comparable = comparable and np.asarray([lo]).dtype.kind == dates.dtype.kind
    if not comparable:
        raise UserInputError(
            f"lift test {name}: start {start!r} or end {end!r} is not a date like the model's "
            f"date column (e.g. {data.dates[0]!r})."
        )
    if lo > hi:
        raise UserInputError(f"lift test {name}: start {start} is after end {end}.")
    if lo < dates[0] or hi > dates[-1]:
        raise UserInputError(
            f"lift test {name}: window {start} to {end} is not inside the data "
            f"({data.dates[0]} to {data.dates[-1]}); give a window within the modelled weeks."
        )
    inside = np.flatnonzero((dates >= lo) & (dates <= hi))
    if not len(inside):
        raise UserInputError(
            f"lift test {name}: no week of the data falls in {start} to {end}; give start and "
            "end as dates of the model's date column."
        )
    return int(inside[0]), int(inside[-1])


def _number(value: Any) -> float:
    import pandas as pd

    return float("nan") if pd.isna(value) else float(value)


def lift_tests_from_frame(frame: pd.DataFrame, data: MMMData, source: str) -> LiftTests:
    """Check a table of lift tests against the model's data; one sentence for what is wrong."""
    from cerebro.data.load import require_columns

    columns = [str(c) for c in frame.columns]
    if "geo" in columns:
        raise UserInputError(
            f"{source} has a 'geo' column, but this is a national model: give each test's lift "
            "and spend change summed over its geos and drop the column."
        )
    require_columns(columns, COLUMNS, source)
    if not len(frame):
        raise UserInputError(f"{source} has no lift tests (no rows).")
    rows: dict[str, list[Any]] = {
        k: [] for k in ("channel", "first", "last", "delta", "lift", "se")
    }
    names = []
    for r, row in enumerate(frame.itertuples(index=False)):
        rec = dict(zip(columns, row, strict=True))
        channel = str(rec["channel"]).strip()
        name = f"{r + 1} ({channel})"
        if channel not in data.channels:
            raise UserInputError(
                f"lift test {name}: channel {channel!r} is not one of the model's channels "
                f"({', '.join(data.channels)})."
            )
        c = data.channels.index(channel)
        first, last = _weeks(rec["start"], rec["end"], data, name)
        try:
            delta, lift, se = (_number(rec[k]) for k in ("delta_spend", "lift", "lift_se"))
        except (TypeError, ValueError):
            raise UserInputError(
                f"lift test {name}: delta_spend, lift and lift_se must be numbers."
            ) from None
        if not (np.isfinite(delta) and np.isfinite(lift)):
            raise UserInputError(f"lift test {name}: delta_spend and lift must be given.")
        if not se > 0:  # also NaN
            raise UserInputError(
                f"lift test {name}: lift_se must be a positive standard error, got {se:g}."
            )
        if delta == 0:
            raise UserInputError(f"lift test {name}: delta_spend is 0, so it tests nothing.")
        if (data.money_spend[first : last + 1, c] + delta < 0).any():
            raise UserInputError(
                f"lift test {name}: delta_spend {delta:g} per week makes {channel}'s spend "
                "negative in the test weeks; a test can cut at most the spend there was."
            )
        for key, value in zip(rows, (c, first, last, delta, lift, se), strict=True):
            rows[key].append(value)
        names.append(f"{channel} {data.dates[first]}..{data.dates[last]}")
    return LiftTests(
        channel=np.array(rows["channel"], int),
        first=np.array(rows["first"], int),
        last=np.array(rows["last"], int),
        delta=np.array(rows["delta"], float),
        lift=np.array(rows["lift"], float),
        se=np.array(rows["se"], float),
        names=names,
    )


def geotest_row(result: dict[str, Any], channel: str, spend: float, data: MMMData,
                source: str) -> dict[str, Any]:  # fmt: skip
    """One lift-test row from the JSON of `cerebro geotest --json`: its incremental KPI and
    interval (SE = interval width / (2 z), normal approximation), its window as the model's
    weeks that overlap it (a week runs 7 days from its date), and `spend`, the test's total
    spend change over the window, spread evenly over those weeks."""
    import pandas as pd
    from scipy.stats import norm

    summary = result.get("summary") or {}
    found = [e for e in result.get("estimates") or []
             if str(e.get("key", "")).startswith("incremental_")
             and e.get("key") != "incremental_roas"]  # fmt: skip
    if result.get("kind") != "geotest" or not found or "test_start" not in summary:
        raise UserInputError(f"{source} is not the JSON result of `cerebro geotest --json`.")
    if len(found) > 1:
        raise UserInputError(
            f"{source} has {len(found)} test cells; calibrate with one cell's result (write "
            "its rows into a lift-test CSV)."
        )
    est = found[0]
    low, high, level = est.get("ci_low"), est.get("ci_high"), est.get("level")
    if not all(isinstance(v, (int, float)) and np.isfinite(v) for v in (low, high, level)):
        raise UserInputError(
            f"{source} has no finite interval for its incremental KPI, so it gives no standard "
            "error to weigh the test by; rerun the geo test with more pre-period or donors."
        )
    se = (high - low) / (2 * norm.ppf(0.5 + level / 2))
    dates = pd.to_datetime(pd.Series(data.dates), errors="coerce")
    start, end = pd.Timestamp(summary["test_start"]), pd.Timestamp(summary["test_end"])
    weeks = np.flatnonzero((dates <= end) & (dates + pd.Timedelta(days=6) >= start))
    if not len(weeks):
        raise UserInputError(
            f"{source}: the test ran {start:%Y-%m-%d} to {end:%Y-%m-%d}, which no week of the "
            "data covers; give a geo test from the modelled weeks."
        )
    return {"channel": channel, "start": data.dates[weeks[0]], "end": data.dates[weeks[-1]],
            "delta_spend": spend / len(weeks), "lift": est.get("value"), "lift_se": se}  # fmt: skip


def read_lift_tests(
    source: Any, data: MMMData, channel: str | None = None, spend: float | None = None
) -> LiftTests:
    """Lift tests from a CSV/Parquet file path or a DataFrame (columns `COLUMNS`), or from a
    geotest JSON result (`.json`) with the tested `channel` and its total spend change."""
    import pandas as pd

    from cerebro.data.load import load_table

    if isinstance(source, pd.DataFrame):
        return lift_tests_from_frame(source, data, "the calibration table")
    name = f"calibration file {str(source)!r}"
    if str(source).lower().endswith(".json"):
        result = read_geotest_result(source, channel, spend, name)
        row = geotest_row(result, channel, spend, data, name)
        return lift_tests_from_frame(pd.DataFrame([row]), data, name)
    return lift_tests_from_frame(load_table(source), data, name)


def read_geotest_result(
    source: Any, channel: str | None, spend: float | None, name: str
) -> dict[str, Any]:
    """The JSON result of `cerebro geotest` at `source`, refused in one sentence when it cannot
    be read or when the channel tested and its spend change (which it does not name) are
    missing."""
    import json

    try:
        with open(source, encoding="utf-8") as handle:
            result = json.load(handle)
    except (OSError, ValueError) as err:
        raise UserInputError(f"cannot read {name} as JSON ({err}).") from None
    if channel is None or spend is None:
        raise UserInputError(
            f"{name} is a geo-test result, which names neither the channel tested nor its "
            "spend change; add --calibration-channel and --calibration-spend."
        )
    if not isinstance(result, dict):
        raise UserInputError(f"{name} is not the JSON result of `cerebro geotest --json`.")
    return result


def calibration_table(
    posterior: Any, tests: LiftTests, alpha: float, lifts: np.ndarray | None = None
) -> tuple[dict[str, list], list[Finding]]:
    """Each test: measured lift ± SE against the posterior model lift (mean, interval) and
    z = (measured − model mean) / SE; a warning for |z| > 3. `lifts` (draws, tests): the model
    lifts when they are not the national `posterior_lifts` (the geo model's)."""
    lifts = posterior_lifts(posterior, tests) if lifts is None else lifts
    low, high = equal_tailed(lifts, alpha)
    mean = lifts.mean(axis=0)
    z = (tests.lift - mean) / tests.se
    data = posterior.data
    table = {
        "test": tests.names,
        "channel": [data.channels[c] for c in tests.channel],
        "start": [data.dates[t] for t in tests.first],
        "end": [data.dates[t] for t in tests.last],
        "delta_spend": tests.delta.tolist(),
        "lift": tests.lift.tolist(),
        "lift_se": tests.se.tolist(),
        "model_lift": mean.tolist(),
        "model_low": low.tolist(),
        "model_high": high.tolist(),
        "z": z.tolist(),
    }
    findings = [
        Finding(
            "warning",
            "calibration_disagrees",
            f"lift test {tests.names[i]} measured {tests.lift[i]:,.4g} ± {tests.se[i]:,.3g} but "
            f"the calibrated model says {mean[i]:,.4g} ({z[i]:+.1f} SE): the test and the "
            "observational data disagree; check the test's window and spend change, or the "
            "model's controls for that period.",
        )
        for i in np.flatnonzero(np.abs(z) > DISAGREE_Z)
    ]
    return table, findings

"""Long geo panels (geo, date, outcome[, spend, covariates]) as checked matrices.

Geo experiments arrive long, one row per market and day. Every geo analysis and design works on
the wide matrix (geos × dates), which needs one row per geo and date and the same dates for every
geo; this module builds it and says precisely what is wrong when the file does not allow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.validate import require_bounded

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class GeoPanel:
    """A balanced geo panel: rows are geos (sorted names), columns dates in time order.

    `spend` is geos × dates like `Y` (None without a spend column); `covariates` holds one
    value per geo for each named column (its mean over all dates), e.g. for matched markets.
    """

    geos: list[str]
    dates: list[Any]
    Y: np.ndarray
    spend: np.ndarray | None = None
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    # geos × dates of each time-varying covariate (NaN where a geo-date has none): GeoLift's X
    covariate_series: dict[str, np.ndarray] = field(default_factory=dict)

    def index(self, names: list[str], flag: str) -> np.ndarray:
        """Row indices of geo `names` (matched case- and space-insensitively)."""
        return geo_indices(self.geos, names, flag)

    def date_index(self, value: Any, flag: str) -> int:
        """Position of the first date at or after `value` (a date like those of the panel)."""
        target = date_value(value, self.dates, flag)
        after = [i for i, d in enumerate(self.dates) if d >= target]
        if not after:
            raise UserInputError(
                f"{flag} {value!r} is after the last date of the data "
                f"({_text(self.dates[-1])}); give a date within it."
            )
        return after[0]


def _text(value: Any) -> str:
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def geo_indices(geos: list[str], names: list[str], flag: str) -> np.ndarray:
    """Positions of `names` in `geos`, ignoring case and repeated spaces; one sentence if unknown."""
    lookup = {_key(g): i for i, g in enumerate(geos)}
    out = []
    for name in names:
        if _key(name) not in lookup:
            examples = ", ".join(geos[:5])
            raise UserInputError(
                f"{flag} {name!r} is not a geo of the data (it has e.g. {examples}); check "
                "the spelling."
            )
        out.append(lookup[_key(name)])
    if len(set(out)) < len(out):
        raise UserInputError(f"{flag} names the same geo twice; list each geo once.")
    return np.array(out, dtype=int)


def date_value(value: Any, dates: list[Any], flag: str) -> Any:
    """`value` converted to the type of the panel's dates (timestamps or numbers)."""
    import pandas as pd

    if isinstance(dates[0], pd.Timestamp):
        try:
            return pd.Timestamp(value)
        except (TypeError, ValueError):
            raise UserInputError(
                f"{flag} {value!r} is not a date like those of the data (e.g. {_text(dates[0])})."
            ) from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserInputError(
            f"{flag} {value!r} is not a number, but the date column holds numbers (e.g. "
            f"{_text(dates[0])}); give one of them."
        ) from None


def _dates(column: pd.Series, name: str) -> pd.Series:
    """Dates as timestamps (text or date columns) or floats (period numbers)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    try:
        return pd.to_datetime(column)
    except (TypeError, ValueError):
        example = _not_a_date(column.dropna().unique())
        raise UserInputError(
            f"date column {name!r} has values that are neither dates nor numbers (e.g. "
            f"{example!r}); give ISO dates like 2021-01-31 or period numbers."
        ) from None


def _not_a_date(values: Any) -> Any:
    """The first value that does not read as a date like the first one (pandas infers one
    format from the first value): the one to show the user."""
    import pandas as pd

    parsed = pd.to_datetime(values, errors="coerce")
    bad = np.flatnonzero(pd.isna(parsed))
    return values[bad[0]] if bad.size else (values[0] if len(values) else None)


def _where(frame: pd.DataFrame, rows: pd.Series) -> str:
    """Where flagged rows are: "N row(s), e.g. geo 'x' on <date>"."""
    first = frame[rows].iloc[0]
    return f"{int(rows.sum()):,} row(s), e.g. geo {first['_geo']!r} on {_text(first['_date'])}"


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats; non-numeric text and ±inf are errors (NaN is left to the caller)."""
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce")
    bad = frame[column].notna() & values.isna()
    if bad.any():
        raise UserInputError(
            f"column {column!r} has non-numeric values (e.g. {frame[column][bad].iloc[0]!r}); "
            "give numbers."
        )
    infinite = pd.Series(np.isinf(values.to_numpy(float)), index=values.index)
    if infinite.any():
        raise UserInputError(
            f"infinite values in {column!r} ({_where(frame, infinite)}); replace them with "
            "finite numbers or drop those geos."
        )
    require_bounded(float(values.abs().max()), column)  # squares of larger values overflow
    return values


def _check_varies(wide: pd.DataFrame, outcome: str) -> None:
    """An outcome that never moves within any geo gives nothing to fit a counterfactual to
    (every fit is perfect, every test ties): a wrong column or a broken export."""
    values = wide.to_numpy(float)
    if np.ptp(values, axis=1).max() > 0:
        return
    if np.ptp(values) == 0:
        raise UserInputError(
            f"{outcome!r} is constant (every value is {_text(float(values[0, 0]))}), so there is "
            "nothing to measure a lift against; check that the outcome names the right column."
        )
    raise UserInputError(
        f"{outcome!r} does not change over time in any geo (each geo has one value on every "
        "date), so there is nothing to measure a lift against; check that the outcome names "
        "the right column."
    )


def geo_panel(
    frame: pd.DataFrame,
    geo: str,
    date: str,
    outcome: str,
    *,
    spend: str | None = None,
    covariates: tuple[str, ...] | list[str] = (),
    series: tuple[str, ...] | list[str] = (),
    findings: list[Finding] | None = None,
) -> GeoPanel:
    """Check the long panel and return it wide.

    Rows with a missing geo or date are dropped (a warning finding); one row per geo and date is
    required; every geo must have every date with an outcome (the error names the first geo that
    lacks some, and how many); missing (NaN) or infinite outcomes, infinite spend or covariate
    values, and an outcome that never changes over time in any geo are errors that name the
    column (and the first geo and date); a regular calendar with missing days gets a warning,
    since the pre-period then differs from what the dates suggest.
    """
    findings = findings if findings is not None else []
    for column in [geo, date, outcome, spend, *covariates, *series]:
        if column is not None and column not in frame.columns:
            raise UserInputError(
                f"column {column!r} is not in the data (it has {', '.join(map(str, frame.columns[:8]))}…)."
            )
    data = frame.copy()
    keyed = data[geo].notna() & data[date].notna()
    if (~keyed).any():
        findings.append(
            Finding(
                "warning",
                "dropped_missing",
                f"dropped {int((~keyed).sum()):,} of {len(data):,} rows with no {geo} or {date}.",
            )
        )
        data = data[keyed]
    if data.empty:
        raise UserInputError("the data has no rows with a geo and a date.")
    data["_geo"] = data[geo].map(lambda v: " ".join(str(v).split()))
    data["_date"] = _dates(data[date], date)
    data[outcome] = _numeric(data, outcome)
    missing = data[outcome].isna()
    if missing.any():
        raise UserInputError(
            f"missing values in {outcome!r} ({_where(data, missing)}); fill them (e.g. 0 for a "
            "day without sales) or drop those geos."
        )
    duplicated = data.duplicated(["_geo", "_date"])
    if duplicated.any():
        row = data[duplicated].iloc[0]
        raise UserInputError(
            f"geo {row['_geo']!r} has several rows for {date} {_text(row['_date'])}; give one "
            "row per geo and date (sum or average them first)."
        )
    wide = data.pivot(index="_geo", columns="_date", values=outcome).sort_index()
    wide = wide[sorted(wide.columns)]
    holes = wide.isna().sum(axis=1)
    if holes.any():
        worst = holes[holes > 0]
        first = worst.index[0]
        raise UserInputError(
            f"the panel is unbalanced: geo {first!r} lacks {outcome!r} on {int(worst.iloc[0])} "
            f"of {wide.shape[1]} dates ({len(worst)} geo(s) have gaps); fill those days or drop "
            "those geos."
        )
    dates = list(wide.columns)
    _check_varies(wide, outcome)
    _warn_calendar_gaps(dates, findings)
    if wide.shape[0] < 3:
        raise UserInputError(
            f"the data has {wide.shape[0]} geo(s) in {geo!r}; a geo test needs treated geos and "
            "several control geos."
        )
    spend_matrix = None
    if spend is not None:
        data[spend] = _numeric(data, spend)
        spend_wide = data.pivot(index="_geo", columns="_date", values=spend).reindex(
            index=wide.index, columns=dates
        )
        spend_matrix = spend_wide.fillna(0.0).to_numpy(float)
    covariate_values = {}
    for column in covariates:
        data[column] = _numeric(data, column)
        means = data.groupby("_geo")[column].mean().reindex(wide.index)
        if means.isna().any():
            raise UserInputError(
                f"geo {means[means.isna()].index[0]!r} has no value of {column!r}; fill it or "
                "leave that column out."
            )
        covariate_values[column] = means.to_numpy(float)
    paths = {}
    for column in series:
        data[column] = _numeric(data, column)
        paths[column] = (
            data.pivot(index="_geo", columns="_date", values=column)
            .reindex(index=wide.index, columns=dates)
            .to_numpy(float)
        )
    return GeoPanel(
        list(wide.index), dates, wide.to_numpy(float), spend_matrix, covariate_values, paths
    )


def _warn_calendar_gaps(dates: list[Any], findings: list[Finding]) -> None:
    """A warning when dates look regular (daily, weekly, or unit steps) but some are missing."""
    import pandas as pd

    if len(dates) < 3:
        return
    if isinstance(dates[0], pd.Timestamp):
        steps = np.diff(np.array([d.value for d in dates], dtype=np.int64))
    else:
        steps = np.diff(np.asarray(dates, dtype=float))
    step = np.min(steps)
    missing = int(np.sum(np.round(steps / step) - 1))
    if missing > 0:
        findings.append(
            Finding(
                "warning",
                "calendar_gaps",
                f"{missing} date(s) are missing from the calendar (every geo lacks them); the "
                "analysis treats the remaining dates as consecutive.",
            )
        )

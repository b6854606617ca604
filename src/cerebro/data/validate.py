"""Checks of the data a method needs, before any number is shown: one place, every kind.

Each check raises a one-sentence `UserInputError` that names the column (or arm) and the fix,
or returns nothing. They take plain arrays or pandas Series (NaN / None = missing) and never
change their input, so any family can call them on whatever it has just converted:

==============================================  ==============================================
check                                           refuses
==============================================  ==============================================
``require_values(values, column, role)``        a column whose values are all missing
``require_finite(values, column, role)``        ±inf, and magnitudes above `HUGE` (1e150)
``require_bounded(largest, column, role)``      the same bound from a column's largest |value|
``require_varying(values, column, role)``       a column constant over the rows used
``require_units_per_arm(codes, arms, column)``  an arm with fewer than `minimum` (2) rows (or
                                                units, clusters; `arm_noun` names a design's
                                                groups, e.g. "group", "instrument value")
``require_discrete_treatment(values, column)``  a numeric treatment with > `MAX_ARMS` values
``require_consistent_summary(arm, n, …)``       per-arm summaries that no data could produce
``require_finite_result(values, what, fix)``    a computed quantity (propensities, weights,
                                                estimates) that is NaN or infinite
``require_nonnegative(values, column, role)``     a negative value (spend, counts)
``require_weights(values, column)``             observation weights that are missing, negative
                                                or all zero
``regular_dates(values, column)``                 a time series with a missing or repeated date,
                                                or unevenly spaced dates; returns the sorted
                                                positions
==============================================  ==============================================

Rules chosen:

- **Huge values.** |x| > ``HUGE`` = 1e150 is refused as "too large to compute with". A square
  of such a value is above 1e300 and a sum of squares over more than ~10⁸ rows overflows
  float64 (max ≈ 1.8e308); below the bound, squares and their sums over any realistic table
  stay finite. No measured quantity comes near it, so a value this large is a unit or parsing
  error – the fix is to rescale the column.
- **Continuous treatment.** A numeric treatment column with more than ``MAX_ARMS`` = 10
  distinct values is a dose, not a set of arms; arm-based estimators would make one arm per
  value and fit a propensity model that cannot converge. It is refused until dose-response
  models exist (bin it, or use a 0/1 indicator). Text treatments are arms by construction.
- **Units per arm.** Every arm needs at least 2 complete rows: one unit gives no variance,
  no balance and no matching partner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError

HUGE = 1e150  # |value| above this is refused: its square (> 1e300) leaves no room for sums
MAX_ARMS = 10  # a numeric treatment with more distinct values is continuous (a dose)


def _missing(values: Any) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.isna(values), bool)


def _show(value: float) -> str:
    return f"{value:.3g}"


def _power(bound: float) -> str:
    """1e150 rather than Python's 1e+150."""
    exponent = np.log10(bound)
    return f"1e{int(exponent)}" if exponent.is_integer() else f"{bound:g}"


def require_values(values: Any, column: str, role: str = "") -> None:
    """Refuse a column whose every value is missing (or that has no rows)."""
    if len(values) == 0 or _missing(values).all():
        what = f"{role} column {column!r}" if role else repr(column)
        raise UserInputError(f"all values missing in {what}; fill it in or choose another column.")


def require_finite(values: Any, column: str, role: str = "", bound: float = HUGE) -> None:
    """Refuse ±inf and magnitudes above `bound` in a numeric column (NaN = missing is allowed).

    The message names the first offending row (1-based position among the rows given).
    """
    x = np.asarray(values, float)
    what = f"{role} column {column!r}" if role else f"column {column!r}"
    infinite = np.isinf(x)
    if infinite.any():
        first = int(np.flatnonzero(infinite)[0])
        raise UserInputError(
            f"infinite values in {what} ({int(infinite.sum()):,}, the first in row {first + 1}: "
            f"{x[first]:+}); replace them with numbers, or leave them empty to mark them missing."
        )
    with np.errstate(invalid="ignore"):
        huge = np.abs(x) > bound
    if huge.any():
        first = int(np.flatnonzero(huge)[0])
        raise _too_large(what, f"e.g. {_show(x[first])} in row {first + 1}", bound)


def require_bounded(largest: float, column: str, role: str = "", bound: float = HUGE) -> None:
    """`require_finite`'s bound when only the column's largest magnitude is known (a scan in
    SQL returns it, not the rows): the same sentence, naming that magnitude."""
    if largest > bound:
        what = f"{role} column {column!r}" if role else f"column {column!r}"
        raise _too_large(what, f"largest magnitude {_show(largest)}", bound)


def _too_large(what: str, example: str, bound: float) -> UserInputError:
    return UserInputError(
        f"values too large to compute with in {what} ({example}; magnitudes must be below "
        f"{_power(bound)}); rescale it, e.g. divide by a power of ten."
    )


def require_varying(values: Any, column: str, role: str = "", rows: str = "complete rows") -> None:
    """Refuse a column that takes one value over the rows used (missing values ignored)."""
    x = np.asarray(values, float)
    x = x[~np.isnan(x)]
    what = f"{role} column {column!r}" if role else f"column {column!r}"
    if x.size == 0:
        require_values(x, column, role)
    if x.min() == x.max():
        raise UserInputError(
            f"{what} is constant ({_show(x[0])}) in all {x.size:,} {rows}; there is no "
            "variation to estimate an effect on – check that it is the right column."
        )


def require_units_per_arm(
    codes: Any,
    arms: Sequence[str],
    column: str,
    minimum: int = 2,
    rows: str = "complete rows",
    *,
    arm_noun: str = "treatment arm",
    fix: str = "collect more, or merge or drop that arm",
) -> None:
    """Refuse an arm with fewer than `minimum` rows; `codes` are arm positions (NaN = missing).

    `arm_noun` names what the codes are ("treatment arm"; a design says e.g. "group" or
    "instrument value") and `fix` what to do; `rows` what is counted ("complete rows", "units",
    "clusters of 'c'")."""
    codes = np.asarray(codes, float)
    kind = arm_noun.split()[-1]
    for arm, label in enumerate(arms):
        count = int((codes == arm).sum())
        if count == 0:
            raise UserInputError(
                f"{arm_noun} {label!r} has no {rows}; check {column!r} and the missing "
                "values of the other columns."
            )
        if count < minimum:
            noun = _singular(rows) if count == 1 else rows  # "1 complete row", "3 complete rows"
            raise UserInputError(
                f"{arm_noun} {label!r} has only {count} {noun}; each {kind} of {column!r} needs "
                f"at least {minimum} – {fix}."
            )


def _singular(rows: str) -> str:
    """'complete rows' → 'complete row', "clusters of 'c'" → "cluster of 'c'"."""
    head, sep, tail = rows.partition(" of ")
    return (head[:-1] if head.endswith("s") else head) + sep + tail


DOSE_FIX = (
    "give a treatment with at most {max_arms} arms, e.g. a 0/1 indicator or a few bands of the dose"
)


def require_discrete_treatment(
    values: Any,
    column: str,
    max_arms: int = MAX_ARMS,
    fix: str = DOSE_FIX,
    role: str = "treatment",
    modelled: str = "that is not modelled yet",
) -> None:
    """Refuse a numeric treatment with more than `max_arms` distinct values (a dose).

    `values` is a pandas Series (its dtype says numeric), or the distinct values of a column as
    a list (numeric when every one is a number, not a bool) – what a SQL scan returns, so the
    file path needs no pandas. `fix` may name `{max_arms}`; `role` names the column's part
    (a bandit's "arm")."""
    distinct = _distinct_numbers(values)
    if distinct > max_arms:
        raise UserInputError(
            f"{role} column {column!r} is numeric with {distinct} distinct values, a "
            f"continuous treatment (a dose) {modelled}; "
            f"{fix.format(max_arms=max_arms)}."
        )


def _distinct_numbers(values: Any) -> int:
    """How many distinct numbers a numeric column holds; 0 for text or boolean columns."""
    if isinstance(values, list):
        present = [v for v in values if v is not None and v == v]  # v == v: not NaN
        numbers = all(isinstance(v, int | float | np.number) for v in present)
        text_like = any(isinstance(v, bool | np.bool_) for v in present)
        return len(set(present)) if numbers and not text_like else 0
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(values) or not is_numeric_dtype(values):
        return 0
    return int(values.dropna().nunique())


def require_consistent_summary(
    arm: str,
    n: float,
    *,
    successes: float | None = None,
    total: float | None = None,
    sum_sq: float | None = None,
    variance: float | None = None,
) -> None:
    """Refuse per-arm summary statistics that no data could produce.

    `n` the arm's count (a whole number ≥ 1); `successes` a whole number in [0, n] (binary
    metrics); `total` and `sum_sq` the sum and the sum of squares of the values, which need
    sum_sq ≥ total²/n (a variance is never negative; a relative tolerance of 1e-9 allows for
    rounding); `variance` a finite number ≥ 0. Every number must be finite.
    """
    named = {"n": n, "successes": successes, "total": total, "sum_sq": sum_sq, "variance": variance}
    for name, value in named.items():
        if value is not None and not np.isfinite(float(value)):
            raise UserInputError(
                f"arm {arm!r}: {name} is {value}; summaries must be finite numbers."
            )
    if n < 1 or float(n) != int(n):
        raise UserInputError(f"arm {arm!r}: n is {n}; it must be a whole number of at least 1.")
    if successes is not None and (
        successes < 0 or successes > n or float(successes) != int(successes)
    ):
        raise UserInputError(
            f"arm {arm!r}: {successes} successes out of n = {n}; successes must be a whole "
            "number between 0 and n."
        )
    if variance is not None and variance < 0:
        raise UserInputError(
            f"arm {arm!r}: variance {variance} is negative; give a variance (or SD²) of at least 0."
        )
    if sum_sq is not None:
        if sum_sq < 0:
            raise UserInputError(
                f"arm {arm!r}: sum of squares {sum_sq} is negative; it must be at least 0."
            )
        if total is not None and sum_sq < total**2 / n * (1 - 1e-9) - 1e-12:
            raise UserInputError(
                f"arm {arm!r}: sum of squares {sum_sq} is below sum²/n = {total**2 / n:.6g}, "
                "which would make the variance negative; check that sum_sq sums the squared "
                "values, not the squared deviations or the square of the sum."
            )


def require_finite_result(values: Any, what: str, fix: str) -> None:
    """Refuse a computed quantity that is NaN or infinite, so that it never reaches a table or
    passes a comparison (``NaN < 1e-10`` is False)."""
    x = np.asarray(values, float)
    bad = ~np.isfinite(x)
    if bad.any():
        raise UserInputError(
            f"{what} came out {'NaN' if np.isnan(x[bad]).any() else 'infinite'} "
            f"({int(bad.sum()):,} of {x.size:,} values); {fix}"
        )


def require_nonnegative(values: Any, column: str, role: str = "") -> None:
    """Refuse a negative value (e.g. in a spend column); missing values are left to the caller."""
    x = np.asarray(values, float)
    with np.errstate(invalid="ignore"):
        negative = x < 0
    if negative.any():
        first = int(np.flatnonzero(negative)[0])
        what = f"{role} column {column!r}" if role else f"column {column!r}"
        raise UserInputError(
            f"{what} has {int(negative.sum()):,} negative value(s) (the first in row {first + 1}: "
            f"{_show(x[first])}); it must be ≥ 0 – fix or remove those rows."
        )


def require_weights(values: Any, column: str) -> None:
    """Refuse observation weights no weighted fit can use: a missing value (a row without a
    weight has no place in a weighted mean), a negative one, or all of them zero."""
    x = np.asarray(values, float)
    what = f"weights column {column!r}"
    missing = np.isnan(x)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise UserInputError(
            f"{what} has {int(missing.sum()):,} missing value(s) (the first in row {first + 1}); "
            "give every row a weight (0 leaves a row out)."
        )
    require_nonnegative(x, column, "weights")
    if not (x > 0).any():
        raise UserInputError(f"{what} is zero in every row; give some rows a positive weight.")


def regular_dates(values: Any, column: str) -> np.ndarray:
    """The row order that sorts a time series' dates, refusing what no regular series has.

    `values` are dates (parsed by pandas) or period numbers. Refused: a missing date, a date
    that appears twice (one row per period is expected: aggregate first), and uneven spacing –
    every step between consecutive dates must equal the smallest one (weekly data with a week
    missing is refused, naming the first gap)."""
    import pandas as pd

    series = pd.Series(values)
    if series.isna().any():
        first = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise UserInputError(
            f"date column {column!r} has {int(series.isna().sum()):,} missing value(s) (the first "
            f"in row {first + 1}); every row needs its date."
        )
    if pd.api.types.is_numeric_dtype(series):
        stamps = series.to_numpy(float)
        show = [f"{v:g}" for v in stamps]
    else:
        try:
            parsed = pd.to_datetime(series)
        except (TypeError, ValueError):
            raise UserInputError(
                f"date column {column!r} has values that are neither dates nor numbers (e.g. "
                f"{series.iloc[0]!r}); give ISO dates like 2024-01-29 or period numbers."
            ) from None
        stamps = parsed.to_numpy("datetime64[ns]").astype(np.int64).astype(float)
        show = [d.strftime("%Y-%m-%d") for d in parsed]
    order = np.argsort(stamps, kind="stable")
    ordered = stamps[order]
    if len(ordered) < 3:
        raise UserInputError(
            f"date column {column!r} has {len(ordered)} row(s); a time series needs more."
        )
    steps = np.diff(ordered)
    if (steps == 0).any():
        at = int(order[int(np.flatnonzero(steps == 0)[0])])
        raise UserInputError(
            f"date {show[at]} appears more than once in {column!r}; give one row per date "
            "(sum the rows of each date, e.g. over geos, first)."
        )
    step = steps.min()
    uneven = np.abs(steps - step) > 1e-9 * step
    if uneven.any():
        gap = int(np.flatnonzero(uneven)[0])
        before, after = show[int(order[gap])], show[int(order[gap + 1])]
        missing = round(steps[gap] / step) - 1
        if missing >= 1 and np.isclose(steps[gap], (missing + 1) * step):
            what = f"{missing} date(s) are missing"
        else:
            what = "the spacing changes"
        raise UserInputError(
            f"date column {column!r} is not evenly spaced: between {before} and {after} {what}; "
            "fill in every period (zero spend where there was none)."
        )
    return order

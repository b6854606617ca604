"""Roles a command may leave out when the data name them unambiguously (the issue's rule: infer
it and say so in a warning finding naming what was chosen and the flag that overrides it)."""

from __future__ import annotations

import re
from typing import Any

# Names that mark a column as an identifier, never a covariate.
ID_NAMES = ("id", "uuid", "key", "index")


def binary_named(frame: Any, names: tuple[str, ...]) -> str | None:
    """The one column whose name (any case) is in `names` and whose values are all 0/1."""
    found = [
        str(c) for c in frame.columns
        if str(c).strip().lower() in names and is_binary(frame[c])
    ]  # fmt: skip
    return found[0] if len(found) == 1 else None


def is_binary(values: Any) -> bool:
    """Whether a column's present values are all 0 or 1 (and there is at least one)."""
    present = values.dropna()
    try:
        return len(present) > 0 and set(present.unique().tolist()) <= {0, 1}
    except TypeError:
        return False


def looks_like_id(name: str, values: Any) -> bool:
    """An identifier: named like one (`id`, `user_id`, `customerID`…) or one distinct text or
    integer value per row."""
    lowered = name.strip().lower()
    if lowered in ID_NAMES or lowered.endswith(("_id", "_uuid", "_key")):
        return True
    if len(name) > 2 and name.endswith(("Id", "ID")):  # customerId, userID
        return True
    present = values.dropna()
    integral = present.dtype.kind in "iu" or present.dtype == object
    return bool(integral and len(present) > 1 and present.nunique() == len(present))


def pre_treatment_columns(frame: Any, exclude: list[str]) -> tuple[list[str], dict[str, str]]:
    """Columns a covariate adjustment may use when none are named: every column but those in
    `exclude`, identifiers, dates, constants, free text (more than 20 levels) and columns named
    like post-treatment measurements (`post…`, `…_after`). Returns (chosen, skipped → why)."""
    from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

    chosen, skipped = [], {}
    for column in frame.columns:
        name = str(column)
        values = frame[column]
        lowered = name.lower()
        words = set(re.split(r"[^0-9a-z]+", lowered))
        if name in exclude:
            continue
        if looks_like_id(name, values):
            skipped[name] = "an identifier"
        elif is_datetime64_any_dtype(values) or words & {"date", "datetime", "timestamp"}:
            skipped[name] = "a date or time"
        elif values.nunique(dropna=True) < 2:
            skipped[name] = "constant"
        elif words & {"post", "after"}:
            skipped[name] = "named like a post-treatment measurement"
        elif not is_numeric_dtype(values) and values.nunique(dropna=True) > 20:
            skipped[name] = "free text (more than 20 levels)"
        else:
            chosen.append(name)
    return chosen, skipped


def adjustment_columns(
    frame: Any, treatment: str, outcome: str, verb: str
) -> tuple[list[str], str]:
    """The columns to adjust for when none are named (`pre_treatment_columns`) and the warning
    that says which were chosen, which were left out and why, and the flag that overrides it;
    one sentence when none is left."""
    from cerebro.core.errors import UserInputError

    chosen, skipped = pre_treatment_columns(frame, [treatment, outcome])
    if not chosen:
        raise UserInputError(
            "no column is left to adjust for besides the treatment and outcome; name the "
            "confounders (e.g. --confounders age,income)."
        )
    left = "; ".join(f"{name} ({why})" for name, why in skipped.items())
    message = (
        f"{verb} every column judged pre-treatment: {', '.join(chosen)}"
        + (f"; left out {left}" if left else "")
        + " – check none is affected by the treatment, and override with --confounders."
    )
    return chosen, message

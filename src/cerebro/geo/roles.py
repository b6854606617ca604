"""Roles a geo command may leave out when the data name them unambiguously.

Users type `cerebro geotest data.csv --method matched_markets --matching-vars population,income`
or omit `--treatment-start`: the geo column (dma, geo, region, market, location…), the outcome
(the one numeric column left) and the test start (the first date a 0/1 treated/post column is 1)
are read off the data and said in a warning finding naming what was chosen and the flag that
overrides it; when the data do not name a role unambiguously the error names the flag.
"""

from __future__ import annotations

from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.roles import binary_named, is_binary

GEO_NAMES = ("dma", "geo", "region", "market", "location", "state", "city", "geo_id", "market_id")
TREATED_NAMES = ("treated", "post", "treatment", "is_treated", "test", "in_test")


def _named(columns: list[str], names: tuple[str, ...]) -> list[str]:
    return [c for c in columns if c.strip().lower() in names]


def infer_geo_column(columns: list[str], findings: list[Finding]) -> str:
    """The one column named like a geo; one sentence naming --geo-column otherwise."""
    found = _named(columns, GEO_NAMES)
    if len(found) != 1:
        which = f"several look like one ({', '.join(found)})" if found else "none is named like one"
        raise UserInputError(
            f"name the geo column with --geo-column: {which} (e.g. dma, geo, region, market)."
        )
    findings.append(
        Finding(
            "warning", "inferred_role", f"geo column: {found[0]!r} (override with --geo-column)."
        )
    )
    return found[0]


def infer_outcome(frame: Any, taken: list[str], findings: list[Finding]) -> str:
    """The one numeric, non-binary column no other role takes; one sentence otherwise."""
    import pandas as pd

    left = [
        c for c in frame.columns
        if c not in taken and pd.api.types.is_numeric_dtype(frame[c]) and not is_binary(frame[c])
    ]  # fmt: skip
    if len(left) != 1:
        which = f"candidates: {', '.join(map(str, left))}" if left else "no numeric column is left"
        raise UserInputError(f"name the outcome with --outcome ({which}).")
    findings.append(
        Finding("warning", "inferred_role", f"outcome: {left[0]!r} (override with --outcome).")
    )
    return str(left[0])


def infer_test(
    frame: Any, geo: str, date: str, findings: list[Finding]
) -> tuple[list[str] | None, str | None]:
    """Treated geos and the test start read off a 0/1 treated/post column, if there is one."""
    column = binary_named(frame, TREATED_NAMES)
    if column is None:
        return None, None
    on = frame[frame[column] == 1]
    if on.empty:
        return None, None
    geos = sorted({" ".join(str(g).split()) for g in on[geo]})
    start = on[date].min()
    start = start.isoformat()[:10] if hasattr(start, "isoformat") else str(start)
    findings.append(
        Finding(
            "warning",
            "inferred_role",
            f"test read off {column!r}: treated geos {', '.join(geos)} from {start} (override "
            "with --treatment-geos and --treatment-start).",
        )
    )
    return geos, start

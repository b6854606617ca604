"""Fixed donor weights (`--donor-weights`): the user's synthetic control instead of a fitted one –
read and checked here, once, for every family with a synthetic control (causal, geotest).

A synthetic control is a weighted average of donors; when the weights come from elsewhere (a
previous run's `weights` table, a design agreed before the test, another tool), the
counterfactual is Ŷ₁ₜ(0) = Σⱼ wⱼ Yⱼₜ and the effect the mean post-period gap, exactly as with
fitted weights (Abadie 2021, JEL 59(2), §3). Weights are non-negative and sum to 1 – the ADH
simplex, so the counterfactual stays inside the donors' range; donors not named weigh 0.

Given as text, ``unit=weight,…`` (e.g. ``TX=0.6,FL=0.4``), or as a CSV file of ``unit,weight``
rows with a header (the `weights` table `--json` writes has these columns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cerebro.core.errors import UserInputError

SUM_TOLERANCE = 1e-6  # printed weights lose digits; more than this off 1 is a different design


def parse_inline(text: str) -> dict[str, float] | None:
    """'TX=0.6,FL=0.4' as {unit: weight}; None when `text` is not in that form (a file)."""
    if "=" not in text:
        return None
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        unit, sep, value = part.rpartition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not sep or not unit.strip() or not np.isfinite(weight):
            raise ValueError(
                f"--donor-weights takes 'unit=weight,…' (e.g. TX=0.6,FL=0.4) or a CSV file; "
                f"{part!r} is not unit=number"
            )
        if unit.strip() in out:
            raise ValueError(f"--donor-weights names unit {unit.strip()!r} twice")
        out[unit.strip()] = weight
    return out


def _read_file(path: str, noun: str = "unit") -> dict[str, float]:
    import pandas as pd

    if not Path(path).is_file():
        raise UserInputError(
            f"--donor-weights {path!r} is neither '{noun}=weight,…' nor a file; give "
            f"e.g. TX=0.6,FL=0.4 or a CSV of {noun},weight rows."
        )
    table = pd.read_csv(path)
    name = noun if noun in table.columns else "unit"
    if not {name, "weight"} <= set(table.columns):
        raise UserInputError(
            f"donor weights file {path!r} needs the columns '{noun}' and 'weight' (found "
            f"{', '.join(map(str, table.columns))})."
        )
    weights = pd.to_numeric(table["weight"], errors="coerce")
    if weights.isna().any():
        raise UserInputError(
            f"donor weights file {path!r} has a weight that is not a number (row "
            f"{int(np.flatnonzero(weights.isna().to_numpy())[0]) + 2}); give numbers."
        )
    units = table[name].astype(str).str.strip()
    if units.duplicated().any():
        raise UserInputError(
            f"donor weights file {path!r} names {noun} {units[units.duplicated()].iloc[0]!r} "
            f"twice; give one row per {noun}."
        )
    return dict(zip(units, weights.astype(float), strict=True))


def check_weights(weights: dict[str, float], source: str) -> None:
    """Non-negative, summing to 1 (within `SUM_TOLERANCE`): the synthetic-control simplex."""
    negative = [u for u, w in weights.items() if w < 0]
    if negative:
        raise UserInputError(
            f"donor weight of {negative[0]!r} in {source} is negative ({weights[negative[0]]:g}); "
            "synthetic-control weights are ≥ 0."
        )
    total = sum(weights.values())
    if abs(total - 1) > SUM_TOLERANCE:
        raise UserInputError(
            f"donor weights in {source} sum to {total:.6g}, not 1; rescale them (a synthetic "
            "control is a weighted average of donors)."
        )


def donor_vector(text: str, units: list[str], donors: np.ndarray, noun: str = "unit") -> np.ndarray:
    """The weights of `text` over the donors' rows (0 for a donor not named); `noun` names a
    row in the messages (unit, geo)."""
    inline = parse_inline(text)
    weights = inline if inline is not None else _read_file(text, noun)
    source = "--donor-weights" if inline is not None else repr(text)
    check_weights(weights, source)
    position = {units[j]: i for i, j in enumerate(donors)}
    donor_set = set(position)
    for unit in weights:
        if unit not in donor_set:
            what = f"a treated {noun}" if unit in units else f"not a {noun} of the panel"
            raise UserInputError(
                f"donor weight given for {unit!r}, which is {what}; name donors only (e.g. "
                f"{', '.join(units[j] for j in donors[:3])})."
            )
    w = np.zeros(len(donors))
    for unit, weight in weights.items():
        w[position[unit]] = weight
    return w / w.sum()  # the rounding the tolerance allowed, not a rescaling

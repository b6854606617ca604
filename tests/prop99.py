"""ADH (2010)'s Proposition 99 panel as arrays, shared by the synthetic-control tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"
PREDICTORS = ["lnincome", "retprice", "age15to24"]


def adh_panel() -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray]:
    """(long frame, sorted states, outcome matrix states × years, ADH Table 1 predictors):
    1980–88 means of income, price and youth share, 1984–88 beer, cigsale in 1988, 1980, 1975."""
    frame = pd.read_csv(DATA / "smoking_prop99.csv")
    states = sorted(frame.state.unique())
    Y = frame.pivot(index="state", columns="year", values="cigsale").loc[states].to_numpy()

    def mean_over(column: str, first: int, last: int) -> np.ndarray:
        rows = frame[(frame.year >= first) & (frame.year <= last)]
        return rows.groupby("state")[column].mean().loc[states].to_numpy()

    P = np.column_stack(
        [mean_over(c, 1980, 1988) for c in PREDICTORS]
        + [mean_over("beer", 1984, 1988)]
        + [mean_over("cigsale", y, y) for y in (1988, 1980, 1975)]
    )
    return frame, states, Y, P

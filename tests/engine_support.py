"""What the engine tests share: the PostgreSQL URL and a connect-or-skip helper, the messy A/B
frame every engine must agree on, the comparison of two results, and raw events made from a
panel (for the geo, DiD and MMM families' `--panel-freq`)."""

from __future__ import annotations

import contextlib
import functools
import uuid

import numpy as np
import pandas as pd
import pytest

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Every A/B spec the engines run (tests/test_engines.py); the file path tests the first eleven
# but the z test (the Bayesian and planned-split cases need no file format of their own).
CASES = [
    {"outcome": "revenue"},
    {"outcome": "revenue,converted", "test_type": "ttest"},
    {"outcome": "revenue", "test_type": "ztest"},
    {"outcome": "revenue", "covariates": ["pre_revenue", "pre_other"]},
    {"outcome": "revenue/sessions", "covariates": ["pre_revenue"]},
    {"outcome": "converted"},
    {"outcome": "converted", "test_type": "fisher"},
    {"outcome": "converted", "test_type": "chi_square", "yates": True},
    {"outcome": "revenue,converted", "strata": ["region"]},
    {"outcome": "revenue,converted", "cluster": "user"},
    {"outcome": "revenue/sessions", "cluster": "user", "covariates": ["pre_revenue"]},
    {"outcome": "revenue", "test_type": "bayesian", "draws": 2000},
    {"outcome": "converted", "test_type": "bayesian", "draws": 2000},
    {"outcome": "revenue", "expected_allocation": {"control": 1, "B": 1, "C": 2}},
]
FILE_CASES = [c for i, c in enumerate(CASES[:11]) if i != 2]


def messy_frame(ab: pd.DataFrame) -> pd.DataFrame:
    """`ab` with clusters nested in arms and missing outcomes, covariates, arms and strata."""
    df = ab.copy()
    df["user"] = df.arm + "-" + (np.arange(len(df)) // 3).astype(str)
    df.loc[3:9, "revenue"] = np.nan
    df.loc[20:22, "pre_revenue"] = np.nan
    df.loc[40, "arm"] = None
    df.loc[50:52, "region"] = None
    return df


def same_numbers(got, want, rel: float = 1e-9) -> None:
    """Every estimate's value, se, CI and p-value to `rel` relative, and the same findings."""
    assert [e.label for e in got.estimates] == [e.label for e in want.estimates]
    for a, b in zip(got.estimates, want.estimates, strict=True):
        for field in ("value", "se", "ci_low", "ci_high", "p_value"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None and y is None) or x == pytest.approx(y, rel=rel, abs=1e-12), (
                a.label,
                field,
            )
    codes = lambda r: sorted((f.code, f.message) for f in r.findings)  # noqa: E731
    assert codes(got) == codes(want)


@functools.cache
def postgres_engine():
    """The SQLAlchemy engine on the machine's PostgreSQL (one per test process); the test is
    skipped if the server is unreachable."""
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as err:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {str(err).splitlines()[0]}")
    return engine


@contextlib.contextmanager
def postgres_table(frame: pd.DataFrame, prefix: str = "cerebro"):
    """`frame` as a uniquely named table of the machine's PostgreSQL: yields its name, drops it."""
    engine = postgres_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    frame.to_sql(name, engine, index=False)
    try:
        yield name
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')


def dyadic(values, step: float = 1 / 64) -> np.ndarray:
    """Values rounded to multiples of `step`: their sums are exact in doubles in any order, so
    every engine totals them to the same bits."""
    return np.round(np.asarray(values, dtype=float) / step) * step


def explode(
    panel: pd.DataFrame,
    time: str,
    sums: list[str],
    grain: str = "day",
    seed: int = 0,
    step: float = 1 / 64,
) -> pd.DataFrame:
    """Raw events whose totals per unit and `grain` are `panel`: each panel row becomes one to
    four events at random times within its day (or week, the panel's date being its Monday),
    its `sums` split into dyadic pieces that add up to the row's value; every other column is
    copied. `panel[time]` must be dates and `panel[sums]` multiples of `step`."""
    rng = np.random.default_rng(seed)
    pieces = rng.integers(1, 5, len(panel))
    events = panel.loc[np.repeat(panel.index.to_numpy(), pieces)].reset_index(drop=True)
    last = np.cumsum(pieces) - 1  # the last event of each panel row takes the remainder
    for column in sums:
        total = panel[column].to_numpy(float)
        share = dyadic(rng.uniform(0, 1, len(events)) * np.repeat(total, pieces) / 2, step)
        share[last] = 0.0
        drawn = np.add.reduceat(share, np.r_[0, np.cumsum(pieces)[:-1]])
        share[last] = total - drawn
        events[column] = share
    span = 86400 if grain == "day" else 7 * 86400
    offset = pd.to_timedelta(rng.integers(0, span, len(events)), unit="s")
    events[time] = pd.to_datetime(events[time]) + offset
    return events.sample(frac=1.0, random_state=seed).reset_index(drop=True)

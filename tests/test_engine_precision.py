"""Centred moments keep their digits where the textbook formula loses them all.

Values near 1e9 with a spread of 0.01: Σy² − (Σy)²/n cancels 16 digits of 1e18-sized sums to
leave a number of size 0.1, so computed in doubles by the engine it is noise (often negative).
The moments query (`cerebro.engine.sql_moments`: sums of values shifted by a pilot mean) gives
the variance of numpy's two-pass formula to 1e-9 relative on every engine: the DuckDB file
path, a DuckDB relation, PostgreSQL (Spark: `test_engine_spark.py`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.engine import sql_moments
from cerebro.engine.duckdb_moments import file_columns, file_moments
from cerebro.engine.tables import as_table, sqlalchemy_table
from cerebro.experiments.abtest.analysis import abtest
from engine_support import PG_URL, postgres_engine, postgres_table

NAIVE = (
    "SELECT arm, (sum(y * y) - sum(y) * sum(y) / count(*)) / (count(*) - 1) AS v "
    "FROM {table} GROUP BY arm ORDER BY arm"
)


def large_mean_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    arm = np.where(np.arange(n) % 2 == 0, "A", "B")
    y = 1e9 + rng.normal(0, 0.01, n) + 0.002 * (arm == "B")
    return pd.DataFrame({"arm": arm, "y": y, "x": rng.normal(0, 1, n)})


def two_pass(frame: pd.DataFrame) -> np.ndarray:
    return np.array([np.var(g.y.to_numpy(), ddof=1) for _, g in frame.groupby("arm")])


def exact_difference(frame: pd.DataFrame) -> float:
    from fractions import Fraction

    means = {a: sum(map(Fraction, g.y)) / len(g) for a, g in frame.groupby("arm")}
    return float(means["B"] - means["A"])


def our_variances(table) -> np.ndarray:
    outcomes = [["y", "x"]]
    moments = sql_moments.finish_moments(
        table.query(sql_moments.moments_sql("arm", [], outcomes)), "arm", [], outcomes
    )
    return variances(moments)


def variances(moments) -> np.ndarray:
    order = np.argsort(moments.groups["arm"].astype(str))
    return moments.summaries[0]["y_var"][order]


def check(naive: np.ndarray, ours: np.ndarray, truth: np.ndarray) -> None:
    assert np.all(np.abs(naive / truth - 1) > 1e-2)  # the textbook formula fails …
    np.testing.assert_allclose(ours, truth, rtol=1e-9)  # … ours does not


@pytest.fixture(scope="module")
def frame():
    return large_mean_frame()


def test_duckdb_file_and_relation(frame, tmp_path):
    import duckdb

    path = tmp_path / "big.parquet"
    frame.to_parquet(path)
    con = duckdb.connect()
    naive = np.array([r[1] for r in con.sql(NAIVE.format(table=f"'{path}'")).fetchall()])
    source, types = file_columns(path)
    from_file = variances(file_moments(source, types, "arm", [], [["y", "x"]]))
    truth = two_pass(frame)
    check(naive, from_file, truth)
    check(naive, our_variances(as_table(con.read_parquet(str(path)))), truth)


def test_postgres(frame):
    import sqlalchemy as sa

    engine = postgres_engine()
    with postgres_table(frame, "cerebro_precision") as name:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(NAIVE.format(table=f'"{name}"')).fetchall()
        table = sa.Table(name, sa.MetaData(), autoload_with=engine)
        check(
            np.array([r[1] for r in rows]),
            our_variances(sqlalchemy_table(table, engine)),
            two_pass(frame),
        )
        # and the whole analysis: Welch's standard error equals the in-memory path's, and the
        # difference of two means near 1e9 is within one unit in the last place (1.2e-7) of
        # the exact rational one (the in-memory path's numpy means: 3.4e-7 off, ours 1.5e-8)
        got = abtest(treatment="arm", outcome="y", db=PG_URL, table=name, cluster="none")
    want = abtest(frame, treatment="arm", outcome="y", cluster="none")
    assert got.estimates[0].se == pytest.approx(want.estimates[0].se, rel=1e-9)
    assert got.estimates[0].value == pytest.approx(exact_difference(frame), abs=1.2e-7)

"""The same A/B spec on DuckDB (file and relation), PostgreSQL and a pandas frame gives the
same numbers to 1e-9 relative: the moments come from `cerebro.engine.sql_moments`' one query,
transpiled to each engine, and the statistics from the one summary path.

PostgreSQL: the machine's server at 127.0.0.1:5432, database `test` (trust auth); each test
module writes its own uniquely named table and drops it. Spark is in `test_engine_spark.py`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.experiments.abtest.analysis import abtest
from engine_support import CASES, PG_URL, postgres_engine, postgres_table, same_numbers


@pytest.fixture(scope="module")
def postgres(messy):
    """The messy frame as a table of the machine's PostgreSQL (skipped if unreachable)."""
    with postgres_table(messy, "cerebro_ab") as name:
        yield postgres_engine(), name


@pytest.fixture(scope="module")
def parquet(messy, tmp_path_factory):
    path = tmp_path_factory.mktemp("engines") / "ab.parquet"
    messy.to_parquet(path)
    return str(path)


@pytest.mark.parametrize("options", CASES)
def test_postgres_table_equals_frame(messy, postgres, options):
    _, name = postgres
    want = abtest(messy, treatment="arm", **options)
    same_numbers(abtest(treatment="arm", db=PG_URL, table=name, **options), want)


@pytest.mark.parametrize("options", CASES)
def test_duckdb_relation_and_file_equal_frame(messy, parquet, options):
    import duckdb

    want = abtest(messy, treatment="arm", **options)
    relation = duckdb.connect().read_parquet(parquet)
    same_numbers(abtest(relation, treatment="arm", **options), want)
    same_numbers(abtest(parquet, treatment="arm", **options), want)


def test_sqlalchemy_select_as_data(messy, postgres):
    """`cerebro.abtest(select, db=URL)`: a select is analysed where it runs, like a frame."""
    import sqlalchemy as sa

    engine, name = postgres
    table = sa.Table(name, sa.MetaData(), autoload_with=engine)
    query = sa.select(table).where(table.c.region != "EU")
    kept = messy[messy.region.notna() & (messy.region != "EU")]  # SQL: NULL != x is unknown
    assert len(kept) < len(messy) - 10
    want = abtest(kept, treatment="arm", outcome="revenue")
    same_numbers(abtest(query, treatment="arm", outcome="revenue", db=PG_URL), want)
    from cerebro.engine.tables import Bound

    same_numbers(
        abtest(Bound(table, engine), treatment="arm", outcome="revenue,converted"),
        abtest(messy, treatment="arm", outcome="revenue,converted"),
    )


def test_rows_only_tests_refused_on_a_database(postgres):
    _, name = postgres
    with pytest.raises(UserInputError, match="needs the rows"):
        abtest(treatment="arm", outcome="revenue", test_type="mann_whitney", db=PG_URL, table=name)


def test_missing_table_and_column_named(postgres):
    _, name = postgres
    with pytest.raises(UserInputError, match="table 'no_such_table' does not exist"):
        abtest(treatment="arm", outcome="revenue", db=PG_URL, table="no_such_table")
    with pytest.raises(UserInputError, match="nope"):
        abtest(treatment="arm", outcome="nope", db=PG_URL, table=name)
    with pytest.raises(UserInputError, match=r"column .region. .* is not numeric"):
        abtest(treatment="arm", outcome="region", db=PG_URL, table=name)


def test_cli_db_table(messy, postgres):
    """`cerebro abtest --db URL --table T`: no data file; the database computes the moments."""
    import json

    from typer.testing import CliRunner

    from cerebro.cli.main import app

    _, name = postgres
    words = ["abtest", "--db", PG_URL, "--table", name, "-t", "arm", "-y", "revenue", "--json"]
    out = CliRunner().invoke(app, [*words, "--covariates", "pre_revenue"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)["estimates"]
    want = abtest(messy, treatment="arm", outcome="revenue", covariates=["pre_revenue"])
    assert [e["value"] for e in got] == pytest.approx([e.value for e in want.estimates], rel=1e-9)
    out = CliRunner().invoke(app, ["abtest", "--table", name, "-t", "arm", "-y", "revenue"])
    assert out.exit_code == 2 and "add --db URL" in out.output


def test_password_never_in_the_result():
    from cerebro.engine.tables import redacted_url

    assert redacted_url("postgresql://me:secret@host:5432/db") == "postgresql://me:***@host:5432/db"
    assert redacted_url("postgresql://me@host/db") == "postgresql://me@host/db"
    assert redacted_url("sqlite:///x.db") == "sqlite:///x.db"


def test_rows_only_tests_refused_before_spark_starts(tmp_path):
    with pytest.raises(UserInputError, match=r"on Spark .* needs the rows"):
        abtest(
            str(tmp_path / "x.parquet"),
            treatment="arm",
            outcome="y",
            engine="spark",
            test_type="mann_whitney",
        )


@pytest.fixture(scope="module")
def daily(messy):
    frame = messy.assign(day=np.arange(len(messy)) % 7 + 1)
    frame.loc[60:62, "day"] = None
    return frame


SEQUENTIAL = [
    {"outcome": "revenue", "test_type": "sequential", "time_column": "day"},
    {"outcome": "converted", "test_type": "sequential", "time_column": "day", "planned_n": 300,
     "mde": 0.1},
]  # fmt: skip


@pytest.mark.parametrize("options", SEQUENTIAL)
def test_sequential_looks_on_engines_equal_frame(daily, postgres, options):
    """Per-look moments (per arm × day, merged in time order) give the frame's sequence."""
    import duckdb

    want = abtest(daily, treatment="arm", cluster="none", **options)
    relation = duckdb.connect().from_df(daily)
    same_numbers(abtest(relation, treatment="arm", cluster="none", **options), want)
    with postgres_table(daily, "cerebro_daily") as name:
        got = abtest(treatment="arm", db=PG_URL, table=name, cluster="none", **options)
    same_numbers(got, want)


def test_repeated_unit_detected_on_engines(postgres):
    """User × day rows: the engines find the repeating user id, as the frame path does, and
    cluster on it (same warning, same cluster-robust numbers)."""
    import duckdb

    rng = np.random.default_rng(11)
    users, days = 300, 5
    user = np.repeat(np.arange(users), days)
    arm = np.where(rng.random(users) < 0.5, "control", "treatment")[user]
    y = rng.normal(0, 1, users)[user] + rng.normal(0, 1, users * days) + 0.2 * (arm == "treatment")
    frame = pd.DataFrame(
        {"user_id": user, "arm": arm, "y": y, "day": np.tile(np.arange(days), users)}
    )
    want = abtest(frame, treatment="arm", outcome="y")
    assert "repeated_units" in {f.code for f in want.findings}
    same_numbers(abtest(duckdb.connect().from_df(frame), treatment="arm", outcome="y"), want)
    with postgres_table(frame, "cerebro_units") as name:
        got = abtest(treatment="arm", outcome="y", db=PG_URL, table=name)
    same_numbers(got, want)

"""`cerebro abtest --emit-sql`: the printed query, run in DuckDB and in PostgreSQL, gives the
table `--from-summary` reads, whose analysis equals the direct run's to 1e-9 relative."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.experiments.abtest.analysis import abtest
from engine_support import postgres_engine, postgres_table, same_numbers

runner = CliRunner()

CASES = [
    {"outcome": "revenue"},
    {"outcome": "revenue,converted", "covariates": ["pre_revenue"]},
    {"outcome": "revenue/sessions", "covariates": ["pre_revenue"]},
    {"outcome": "converted", "test_type": "chi_square"},
    {"outcome": "revenue,converted", "strata": ["region"]},
]


def flags(options):
    words = []
    for key, value in options.items():
        words += [
            f"--{key.replace('_', '-')}",
            ",".join(value) if isinstance(value, list) else value,
        ]
    return [w.replace("--test-type", "--type") for w in words]


def emitted(dialect, table, options):
    out = runner.invoke(
        app,
        [
            "abtest",
            "--emit-sql",
            "--dialect",
            dialect,
            "--table",
            table,
            "-t",
            "arm",
            *flags(options),
        ],
    )
    assert out.exit_code == 0, out.output
    return out.stdout


def summary_result(rows, columns, tmp_path, options):
    import pandas as pd

    path = tmp_path / "summary.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return abtest(str(path), treatment="arm", from_summary=True, **options)


@pytest.mark.parametrize("options", CASES)
def test_emitted_duckdb_sql_feeds_from_summary(ab, tmp_path, options):
    import duckdb

    con = duckdb.connect()
    con.register("frame", ab)
    con.execute("CREATE TABLE events AS SELECT * FROM frame")
    result = con.execute(emitted("duckdb", "events", options))
    columns = [d[0] for d in result.description]
    got = summary_result(result.fetchall(), columns, tmp_path, options)
    same_numbers_without_srm(got, abtest(ab, treatment="arm", **options))


def same_numbers_without_srm(got, want):
    """The summary path counts units, the direct path rows: their SRM sentences differ only in
    that word; every number must agree."""
    for result in (got, want):
        result.findings = [f for f in result.findings if f.code not in ("srm", "no_srm")]
    same_numbers(got, want)


@pytest.mark.parametrize("options", CASES[1:3])
def test_emitted_postgres_sql_feeds_from_summary(ab, tmp_path, options):
    with postgres_table(ab, "cerebro_emit") as name, postgres_engine().connect() as connection:
        result = connection.exec_driver_sql(emitted("postgres", name, options))
        columns, rows = list(result.keys()), result.fetchall()
    got = summary_result(rows, columns, tmp_path, options)
    same_numbers_without_srm(got, abtest(ab, treatment="arm", **options))


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake", "spark", "postgres", "duckdb"])
def test_every_dialect_is_emitted_from_one_definition(dialect):
    sql = emitted(dialect, "project.ds.events", {"outcome": "revenue", "covariates": ["pre"]})
    assert "revenue_x_pre_cov" in sql and "LIMIT 10000" in sql
    quote = {"bigquery": "`", "spark": "`"}.get(dialect, '"')
    assert f"{quote}revenue_mean{quote}" in sql


def test_emit_sql_refuses_what_a_summary_cannot_hold():
    out = runner.invoke(
        app, ["abtest", "--emit-sql", "--table", "t", "-t", "arm", "-y", "y", "--cluster", "u"]
    )
    assert out.exit_code == 2 and "--cluster needs cluster totals" in out.output
    out = runner.invoke(
        app, ["abtest", "--emit-sql", "--dialect", "oracle", "--table", "t", "-t", "arm", "-y", "y"]
    )
    assert out.exit_code == 2 and "not one of" in out.output


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake"])
@pytest.mark.parametrize("options", [CASES[1], CASES[2], CASES[4]])
def test_warehouse_sql_round_trips_through_sqlglot_to_duckdb(ab, tmp_path, dialect, options):
    """No BigQuery or Snowflake account is reachable, so their emitted queries were never run
    there. What is checked: sqlglot parses each back in its own dialect, and the query turned
    back into DuckDB's dialect – reading a table of the same three-part name – gives the
    --from-summary table whose analysis equals the direct run's."""
    import duckdb
    import sqlglot

    tree = sqlglot.parse_one(emitted(dialect, "project.ds.events", options), read=dialect)
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS project")
    con.execute("CREATE SCHEMA project.ds")
    con.register("frame", ab)
    con.execute("CREATE TABLE project.ds.events AS SELECT * FROM frame")
    result = con.execute(tree.sql(dialect="duckdb"))
    columns = [d[0] for d in result.description]
    got = summary_result(result.fetchall(), columns, tmp_path, options)
    same_numbers_without_srm(got, abtest(ab, treatment="arm", **options))

"""The same A/B specs on Apache Spark (pyspark, local[2]) give the numbers of the pandas path to
1e-9 relative: a Spark DataFrame passed as data, and a Parquet file on `engine="spark"`.

One SparkSession for the module (start-up is the slow part); small data.
"""

from __future__ import annotations

import pytest

from cerebro.experiments.abtest.analysis import abtest
from engine_support import CASES, same_numbers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("cerebro-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_frame(spark, messy):
    return spark.createDataFrame(messy.astype(object).where(messy.notna(), None)).repartition(3)


# Spark runs a few jobs per query on a loaded 2-core machine: a handful of cases cover CUPED,
# ratio metrics, clusters and the Bayesian path on proportions (all cases: test_engines.py).
SPARK_CASES = [CASES[i] for i in (4, 10, 12)]


@pytest.mark.parametrize("options", SPARK_CASES)
def test_spark_dataframe_equals_frame(messy, spark_frame, options):
    want = abtest(messy, treatment="arm", **options)
    same_numbers(abtest(spark_frame, treatment="arm", **options), want)


def test_parquet_on_spark_engine(messy, spark, tmp_path):
    path = tmp_path / "ab.parquet"
    messy.to_parquet(path)
    options = {"outcome": "revenue/sessions", "covariates": ["pre_revenue"], "cluster": "user"}
    want = abtest(messy, treatment="arm", **options)
    got = abtest(str(path), treatment="arm", engine="spark", spark_master="local[2]", **options)
    same_numbers(got, want)


def test_spark_keeps_the_digits_naive_sums_lose(spark):
    """Values near 1e9, spread 0.01: Spark's Σy² − (Σy)²/n is noise, the moments query's
    variance equals numpy's two-pass one to 1e-9 relative."""
    import numpy as np

    from cerebro.engine.tables import as_table
    from test_engine_precision import NAIVE, check, large_mean_frame, our_variances, two_pass

    frame = large_mean_frame()
    data = spark.createDataFrame(frame).repartition(3)
    data.createOrReplaceTempView("precision_rows")
    naive = np.array([r[1] for r in spark.sql(NAIVE.format(table="precision_rows")).collect()])
    check(naive, our_variances(as_table(data)), two_pass(frame))


def test_spark_panel_totals(spark):
    """Weekly totals per geo from raw events, aggregated by Spark, equal pandas' groupby."""
    from cerebro.engine.panel import panel_totals
    from test_engine_panel import check, events, expected

    frame = events()
    data = spark.createDataFrame(frame.astype(object).where(frame.notna(), None))
    check(panel_totals(data, "geo", "ts", ["revenue", "orders"], "week"), expected(frame, "week"))


def test_emitted_spark_sql_feeds_from_summary(spark, tmp_path):
    """`--emit-sql --dialect spark` run by Spark SQL gives the --from-summary table whose
    analysis equals the direct run's."""
    from conftest import make_ab
    from test_emit_sql import emitted, same_numbers_without_srm, summary_result

    ab = make_ab()
    spark.createDataFrame(ab).createOrReplaceTempView("events")
    options = {"outcome": "revenue/sessions", "covariates": ["pre_revenue"]}
    result = spark.sql(emitted("spark", "events", options).rstrip().rstrip(";"))
    rows = [tuple(r) for r in result.collect()]
    got = summary_result(rows, result.columns, tmp_path, options)
    same_numbers_without_srm(got, abtest(ab, treatment="arm", **options))


def test_spark_finds_the_repeated_unit(spark):
    """User × day rows on Spark: the repeated-unit check runs as Spark SQL and clusters."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    users, days = 200, 4
    user = np.repeat(np.arange(users), days)
    arm = np.where(rng.random(users) < 0.5, "control", "treatment")[user]
    y = rng.normal(0, 1, users)[user] + rng.normal(0, 1, users * days)
    frame = pd.DataFrame({"user_id": user, "arm": arm, "y": y})
    want = abtest(frame, treatment="arm", outcome="y")
    assert "repeated_units" in {f.code for f in want.findings}
    same_numbers(abtest(spark.createDataFrame(frame), treatment="arm", outcome="y"), want)


@pytest.mark.parametrize("family", ["geo", "did"])
def test_families_from_events_on_spark(spark, family, tmp_path):
    """A geo test (a Parquet file on --engine spark) and DiD (a Spark DataFrame) from raw events
    equal the pre-aggregated panel's numbers (`test_engine_panel_families.py`)."""
    from cerebro.run import run
    from test_engine_panel_families import CASES, FREQ

    fields, panel, events = CASES[family]()
    want = run(fields, panel)
    fields = {**fields, "panel_freq": FREQ[family]}
    if family == "geo":
        path = tmp_path / "events.parquet"
        events.to_parquet(path)
        got = run({**fields, "data": str(path), "engine": "spark", "spark_master": "local[2]"})
    else:
        got = run(fields, spark.createDataFrame(events).repartition(3))
    same_numbers(got, want)


def test_mmm_weeks_from_events_on_spark(spark):
    """The national MMM's weekly table (per week only: no unit; controls constant within a
    week), totalled by Spark from events, is the panel bit for bit – the MMM fit from that
    table is `test_engine_panel_families.py`'s (its JAX fit is too slow to repeat here)."""
    import pandas as pd

    from cerebro.engine.panel import event_panel
    from cerebro.mmm.spec import MMMSpec
    from test_engine_panel_families import mmm_case

    fields, panel, events = mmm_case()
    spec = MMMSpec(**{k: v for k, v in fields.items() if k != "kind"}, panel_freq="week")
    sums = [spec.kpi, *spec.channels]
    got, _ = event_panel(spec, spark.createDataFrame(events).repartition(3), None, "week", sums,
                         spec.controls)  # fmt: skip
    want = panel[["week", *sums, *spec.controls]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)

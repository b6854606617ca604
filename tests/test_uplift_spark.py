"""`cerebro uplift-score MODEL DATA --engine spark --output DIR`: Spark's executors score the
rows (mapInPandas) and write Parquet; the scores equal the in-process scorer's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cerebro.cli import uplift_command
from cerebro.uplift.synthetic import uplift_data

pytestmark = pytest.mark.slow
app = typer.Typer(pretty_exceptions_enable=False)
uplift_command.register(app)


@app.callback()
def _root() -> None:
    """A local app for the uplift commands."""


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_spark_scores_equal_local_scores(tmp_path):
    pytest.importorskip("pyspark")
    df, _ = uplift_data(600, p=4, kind="continuous", seed=5)
    df.loc[[3, 8], "x1"] = np.nan
    data, model = tmp_path / "train.csv", tmp_path / "m.cerebro"
    df.to_csv(data, index=False)
    fit = invoke(
        "uplift", data, "--treatment", "treatment", "--outcome", "outcome", "--model",
        "t_learner", "--learner", "linear", "--propensity", "0.5", "--folds", "3", "--save", model,
    )  # fmt: skip
    assert fit.exit_code == 0, fit.output
    rows = df.drop(columns=["treatment", "outcome"]).assign(row_id=np.arange(len(df)))
    new = tmp_path / "new.parquet"
    rows.to_parquet(new)
    local = tmp_path / "local.csv"
    assert invoke("uplift-score", model, new, "--output", local).exit_code == 0
    out = tmp_path / "scores.parquet"
    spark = invoke("uplift-score", model, new, "--engine", "spark", "--output", out)
    assert spark.exit_code == 0, spark.output
    scored = pd.read_parquet(out).sort_values("row_id").reset_index(drop=True)
    assert list(scored.columns) == [*rows.columns, "cate"]
    want = pd.read_csv(local)["cate"].to_numpy()
    np.testing.assert_allclose(scored["cate"].to_numpy(), want, rtol=1e-12, equal_nan=True)
    assert scored["cate"].isna().sum() == 2
    from pyspark.sql import SparkSession

    SparkSession.builder.getOrCreate().stop()

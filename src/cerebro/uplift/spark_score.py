"""Batch scoring of a saved uplift model on Apache Spark: rows never reach the driver.

``cerebro uplift-score model.cerebro huge.parquet --engine spark --output scores.parquet``
reads the file with Spark; each executor loads the model (its bytes broadcast once) and scores
its partitions with `UpliftModel.score` through `mapInPandas`, and Spark writes the input's
columns plus the predictions (`cate`, or `cate_<arm>` and `best_treatment`) as a Parquet
directory. The driver only plans the job. The executors must be able to import cerebro (in
local mode they are this machine's Python).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.uplift.model_file import load_model


def _load_from_bytes(blob: bytes) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.cerebro"
        path.write_bytes(blob)
        return load_model(path)


def score_frame(frame: Any, model_path: Path) -> Any:
    """A Spark DataFrame of `frame`'s columns plus the model's predictions, computed lazily on
    the executors (nothing is collected)."""
    from pyspark.sql import types as T

    fitted = load_model(model_path)
    features = [f.name for f in fitted.encoding.features]
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise UserInputError(
            f"the data lack the model's feature column {missing[0]!r}; its features are "
            f"{', '.join(features)}."
        )
    if len(fitted.arms) == 1:
        added = [T.StructField("cate", T.DoubleType())]
    else:
        added = [T.StructField(f"cate_{arm}", T.DoubleType()) for arm in fitted.arms]
        added.append(T.StructField("best_treatment", T.StringType()))
    clash = [f.name for f in added if f.name in frame.columns]
    if clash:
        raise UserInputError(
            f"the data already have a column {clash[0]!r}, which scoring adds; rename it."
        )
    schema = T.StructType([*frame.schema.fields, *added])
    blob = frame.sparkSession.sparkContext.broadcast(Path(model_path).read_bytes())

    def score(parts: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        model = _load_from_bytes(blob.value)
        for part in parts:
            if len(part) == 0:
                continue
            predictions, _, _ = model.score(part, "a partition")
            yield pd.concat([part.reset_index(drop=True), predictions], axis=1)

    return frame.mapInPandas(score, schema)


def score_file(model_path: Path, data: Path, output: Path, master: str | None) -> None:
    """Score `data` (Parquet, CSV or JSON) on Spark into the Parquet directory `output`."""
    from cerebro.engine.tables import spark_session

    session = spark_session(master)
    name = data.name.lower()
    if name.endswith((".csv", ".tsv")):
        sep = "\t" if name.endswith(".tsv") else ","
        frame = session.read.csv(str(data), header=True, inferSchema=True, sep=sep)
    elif name.endswith((".json", ".jsonl", ".ndjson")):
        frame = session.read.json(str(data))
    else:
        frame = session.read.parquet(str(data))
    score_frame(frame, model_path).write.mode("overwrite").parquet(str(output))

"""A spec sent to the service: validated exactly as `cerebro run` validates it (the same
sentences), with the data coming only from an uploaded dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.core.registry import get_method
from cerebro.core.spec import face_hints, parse_spec
from cerebro.service.errors import ApiError

# Fields naming other files on the server (a saved model, a plan, lift tests): the service
# reads only uploaded datasets, so they are refused rather than read from an arbitrary path.
SERVER_FILES = {"model", "plan", "calibration"}
# Fields that would make the server reach out – connect to a database URL, start or join a
# Spark cluster (abtest's engines; the events of geotest, did and mmm): refused likewise.
SERVER_REACH = {"db": "connects to a database", "spark_master": "joins a Spark cluster"}


def _refuse(message: str, field: str) -> ApiError:
    return ApiError(422, "invalid_spec", message, field)


def check_files(spec: dict[str, Any], spec_fields: dict[str, Any]) -> None:
    if spec.get("data") is not None:
        raise _refuse(
            "the service reads data only from an uploaded dataset: remove spec.data and give "
            "dataset_id (POST /api/v1/datasets uploads a file).",
            "spec.data",
        )
    for name, what in SERVER_REACH.items():
        if spec.get(name) is not None:
            raise _refuse(
                f"spec.{name} {what} from the server, which the service does not allow; remove "
                "it and upload the data as a dataset.",
                f"spec.{name}",
            )
    if spec.get("engine") == "spark":
        raise _refuse(
            "spec.engine spark starts Spark on the server, which the service does not allow; "
            "remove it (the service reads uploaded datasets with DuckDB).",
            "spec.engine",
        )
    for name, field in spec_fields.items():
        writes = face_hints(field, "cli").get("output")
        if (writes or name in SERVER_FILES) and spec.get(name) is not None:
            what = "writes a file on the server" if writes else "names a file on the server"
            raise _refuse(
                f"spec.{name} {what}, which the service does not allow; remove it.",
                f"spec.{name}",
            )


def validated_spec(spec: Any, data_path: Path | None) -> dict[str, Any]:
    """The spec as the user sent it (without `data`), after `parse_spec` accepted it with the
    dataset's file as its data; a refusal is a 422 carrying the CLI's sentence."""
    if not isinstance(spec, dict):
        raise _refuse("a spec must be a mapping with a 'kind' key, e.g. 'kind: abtest'.", "spec")
    try:
        json.dumps(spec, allow_nan=False)
    except ValueError:
        raise _refuse("the spec holds NaN or Infinity; send finite numbers.", "spec") from None
    method = None
    try:
        method = get_method(str(spec["kind"])) if "kind" in spec else None
        if method is not None:
            check_files(spec, method.spec_type.model_fields)
            if method.needs_data and data_path is None:
                raise _refuse(
                    f"a {method.kind} analysis reads data: give the dataset_id of an uploaded "
                    "dataset.",
                    "dataset_id",
                )
        with_data = {**spec, "data": str(data_path)} if data_path is not None else spec
        parse_spec(with_data)
    except UserInputError as err:
        field = "spec.kind" if "kind" not in spec or method is None else "spec"
        raise _refuse(str(err), field) from None
    return dict(spec)

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
# Fields given inline or as a file: their file form is refused (name → how to give it inline,
# and whether a text value is the file form, as each field's reader decides it).
INLINE_OR_FILE: dict[str, tuple[str, Any]] = {
    "donor_weights": ("inline, 'unit=weight,…'", lambda v: "=" not in v),  # parse_inline's test
    "geo_budgets": ("as a mapping {geo: budget}", lambda v: True),  # any text is a CSV path
}
# Fields that would make the server reach out – connect to a database URL, start or join a
# Spark cluster (abtest's engines; the events of geotest, did and mmm): refused likewise.
SERVER_REACH = {"db": "connects to a database", "spark_master": "joins a Spark cluster"}
# The fitted models the service keeps: a kind of MODEL_MAKERS gets its `save` file written by
# the worker under the data folder (an artefact of the analysis); a kind of MODEL_USERS reads
# such a model as its `model` file (`model_analysis_id`), and its uploaded dataset fills the
# field named here (the spend plan of mmm_predict) instead of `data`.
MODEL_MAKERS = frozenset({"mmm"})
MODEL_USERS: dict[str, str | None] = {"mmm_predict": "plan", "mmm_optimize": None}


def data_field(kind: str) -> str | None:
    """The spec field an uploaded dataset fills for `kind` (None: the kind reads none)."""
    return MODEL_USERS.get(kind, "data")


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
    for name, (how, names_a_file) in INLINE_OR_FILE.items():
        value = spec.get(name)
        if isinstance(value, str) and names_a_file(value):
            raise _refuse(
                f"spec.{name} names a file on the server, which the service does not allow; "
                f"give it {how}.",
                f"spec.{name}",
            )
    for name, field in spec_fields.items():
        writes = face_hints(field, "cli").get("output")
        if (writes or name in SERVER_FILES) and spec.get(name) is not None:
            what = "writes a file on the server" if writes else "names a file on the server"
            raise _refuse(
                f"spec.{name} {what}, which the service does not allow; remove it.",
                f"spec.{name}",
            )


def _check_model_use(method: Any, data_path: Path | None, model_path: Path | None) -> None:
    uses_model = method.kind in MODEL_USERS
    if uses_model and model_path is None:
        raise _refuse(
            f"a {method.kind} analysis uses a fitted model: give model_analysis_id, the id of a "
            "succeeded mmm analysis.",
            "model_analysis_id",
        )
    if not uses_model and model_path is not None:
        raise _refuse(
            f"a {method.kind} analysis uses no fitted model; remove model_analysis_id.",
            "model_analysis_id",
        )
    field = data_field(method.kind)
    if field is None and data_path is not None:
        raise _refuse(
            f"a {method.kind} analysis reads no dataset; remove dataset_id.", "dataset_id"
        )
    if field == "plan" and data_path is None:
        raise _refuse(
            f"a {method.kind} analysis reads its spend plan from an uploaded dataset: give "
            "dataset_id.",
            "dataset_id",
        )


def validated_spec(
    spec: Any, data_path: Path | None, model_path: Path | None = None
) -> dict[str, Any]:
    """The spec as the user sent it (without `data`), after `parse_spec` accepted it with the
    dataset's file as its data (or plan) and a kept model as its `model`; a refusal is a 422
    carrying the CLI's sentence."""
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
            _check_model_use(method, data_path, model_path)
            if method.needs_data and data_path is None and method.kind not in MODEL_USERS:
                raise _refuse(
                    f"a {method.kind} analysis reads data: give the dataset_id of an uploaded "
                    "dataset.",
                    "dataset_id",
                )
        field = data_field(method.kind) if method is not None else "data"
        with_data = (
            {**spec, field: str(data_path)} if data_path is not None and field else dict(spec)
        )
        if model_path is not None:
            with_data["model"] = str(model_path)
        parse_spec(with_data)
    except UserInputError as err:
        field = "spec.kind" if "kind" not in spec or method is None else "spec"
        raise _refuse(str(err), field) from None
    return dict(spec)

"""`/api/v1/kinds`: every registered analysis kind with the JSON schema of the spec the service
accepts for it – what a client (the dashboard's "new analysis" form) builds its form from.

The schema is the spec type's own (pydantic's `model_json_schema`, so defaults, ranges, choices
and help come from the spec fields and are never restated here), less what the service refuses:
`data` (it comes from `dataset_id`) and the fields naming server files (`specs.check_files`).
The command-line hints are dropped and each description is rendered for this face: a
backquoted field name reads as the field's name.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from cerebro.core.errors import UserInputError
from cerebro.core.registry import Method, get_method, methods
from cerebro.core.spec import face_hints, render_help
from cerebro.service.deps import Require
from cerebro.service.errors import ApiError
from cerebro.service.security import ANALYSIS_RUN, Principal
from cerebro.service.specs import SERVER_FILES

router = APIRouter(prefix="/api/v1/kinds", tags=["analyses"])


def refused_fields(method: Method) -> set[str]:
    """The spec's fields a request to the service may not set (see `specs.check_files`)."""
    fields = method.spec_type.model_fields
    return {"data"} | {
        name
        for name, field in fields.items()
        if name in SERVER_FILES or face_hints(field, "cli").get("output")
    }


def _plain(text: str, names: set[str]) -> str:
    return render_help(text, lambda name: name if name in names else None)


def spec_schema(method: Method) -> dict[str, Any]:
    """The JSON schema of `method`'s spec as the service takes it."""
    schema = method.spec_type.model_json_schema()
    refused = refused_fields(method)
    names = set(schema.get("properties", {}))
    properties = {}
    for name, prop in schema.get("properties", {}).items():
        if name in refused:
            continue
        prop = {key: value for key, value in prop.items() if key != "cli"}
        if "description" in prop:
            prop["description"] = _plain(prop["description"], names)
        properties[name] = prop
    schema["properties"] = properties
    schema["required"] = [n for n in schema.get("required", []) if n in properties]
    if "description" in schema:
        schema["description"] = _plain(schema["description"], names)
    return schema


def kind_view(method: Method) -> dict[str, Any]:
    return {
        "kind": method.kind,
        "summary": method.summary,
        "needs_data": method.needs_data,
        "schema": spec_schema(method),
    }


@router.get("", summary="The analysis kinds and the JSON schema of each one's spec")
def list_kinds(
    kind: str | None = Query(None, max_length=40, description="Only this kind."),
    who: Principal = Depends(Require(ANALYSIS_RUN)),
) -> dict[str, Any]:
    try:
        chosen = [get_method(kind)] if kind else list(methods().values())
    except UserInputError as err:  # an unknown kind: the sentence names the known ones
        raise ApiError(422, "invalid", str(err), "kind") from None
    return {"items": [kind_view(method) for method in chosen]}

"""The Python face of a registered kind, generated from its spec.

`python_face(SpecType, runner, name=…)` returns a function ``name(data=None, *, field=default,
…) -> Result`` whose keyword parameters are the spec's fields – same names, defaults and types
– so that `help()`, IDE completion and `inspect.signature` show every option, and whose
docstring lists each parameter with the field's description. A call builds the spec from the
keywords it was given (the spec fills in the rest), so the default lives in one place.
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Callable
from os import PathLike
from typing import Any, Literal

from pydantic_core import PydanticUndefined

from cerebro.core.output import write_artefacts
from cerebro.core.results import Result
from cerebro.core.spec import SpecBase, render_help, spec_from_options

DATA_ANNOTATION = "pandas.DataFrame | str | os.PathLike | None"


def _type_words(annotation: Any) -> str:
    """A numpydoc type for an annotation, None left out: "{'a', 'b'}", "list of float"."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_words(a) for a in args if a is not type(None))
    if origin is Literal:
        return "{" + ", ".join(repr(a) for a in args) + "}"
    if origin in (list, tuple, set, frozenset):
        return f"list of {_type_words(args[0]) if args else 'object'}"
    if origin is dict:
        return f"dict of {_type_words(args[0])} to {_type_words(args[1])}"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> Any:
    if field.default_factory is not None:
        return field.default_factory()
    return inspect.Parameter.empty if field.default is PydanticUndefined else field.default


def _aliases(spec_type: type[SpecBase]) -> set[str]:
    """Names a spec also validates a field by (`validation_alias`, `alias`), its own excepted."""
    names: set[str] = set()
    for name, field in spec_type.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", [alias]) if alias is not None else []
        names.update(c for c in [*choices, field.alias] if isinstance(c, str) and c != name)
    return names


def face_signature(spec_type: type[SpecBase]) -> inspect.Signature:
    """``(data=None, *, field=default, …) -> Result``; `data` only when the spec has it."""
    fields = {n: f for n, f in spec_type.model_fields.items() if n != "kind"}
    parameters = []
    if "data" in fields:
        parameters.append(
            inspect.Parameter(
                "data",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=None,
                annotation=DATA_ANNOTATION,
            )
        )
    for name, field in fields.items():
        if name == "data":
            continue
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=_default(field),
                annotation=field.annotation,
            )
        )
    return inspect.Signature(parameters, return_annotation=Result)


def face_docstring(spec_type: type[SpecBase], summary: str, example: str | None = None) -> str:
    """numpydoc text: the summary, the spec's own docstring, one entry per field."""
    fields = {n: f for n, f in spec_type.model_fields.items() if n != "kind"}

    def refer(name: str) -> str | None:
        return f"`{name}`" if name in fields else None

    lines = [summary.strip(), ""]
    if spec_type.__doc__:
        lines += [inspect.cleandoc(spec_type.__doc__), ""]
    lines += ["Parameters", "----------"]
    for name, field in fields.items():
        words = _type_words(field.annotation)
        description = render_help(field.description or "", refer)
        if name == "data":
            words, description = (
                "DataFrame or path, optional",
                f"{description} A DataFrame, or the path of a CSV, Parquet or JSON file.".strip(),
            )
        else:
            default = _default(field)
            if default is inspect.Parameter.empty:
                words += ", required"
            elif default is None:
                words += ", optional"
            else:
                words += f", default {default!r}"
        lines += [f"{name} : {words}", f"    {description}" if description else "    (no help)"]
    lines += [
        "",
        "Returns",
        "-------",
        "Result",
        "    Estimates with intervals, findings, tables; ``.to_dict()`` is the JSON contract.",
        "",
        "Raises",
        "------",
        "UserInputError",
        f"    A bad value or combination, in one sentence naming the `{spec_type.__name__}` field.",
    ]
    if example:
        lines += ["", "Examples", "--------", inspect.cleandoc(example)]
    return "\n".join(lines) + "\n"


def python_face(
    spec_type: type[SpecBase],
    run: Callable[[Any, Any], Result],
    *,
    name: str,
    summary: str,
    module: str | None = None,
    example: str | None = None,
    build: Callable[[dict[str, Any]], SpecBase] | None = None,
) -> Callable[..., Result]:
    """A keyword function for `spec_type` that validates the spec, calls `run(spec, data)` and
    writes the files the spec asked for (`Result.artefacts`).

    `build` replaces the generic validation (`spec_from_options`) where a kind has its own;
    a path given as `data` becomes the spec's `data` field.
    """
    signature = face_signature(spec_type)
    known = [p for p in signature.parameters if p != "data"]
    takes_data = "data" in signature.parameters
    aliases = _aliases(spec_type)

    def face(*args: Any, **kwargs: Any) -> Result:
        # the spec's other names for a field (treatment_column=…) are accepted, not advertised
        renamed = {k: kwargs.pop(k) for k in list(kwargs) if k in aliases}
        unknown = [k for k in kwargs if k not in signature.parameters]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            raise TypeError(
                f"{name}() got an unexpected keyword argument {unknown[0]!r}{hint} "
                f"Its options are the fields of {spec_type.__name__}: {', '.join(known)}."
            )
        given = {**renamed, **signature.bind_partial(*args, **kwargs).arguments}
        data = given.pop("data", None)
        if takes_data and isinstance(data, str | PathLike):
            given["data"], data = str(data), None
        spec = build(given) if build is not None else spec_from_options(spec_type, given)
        result = run(spec, data)
        write_artefacts(result)  # the files the spec asked for (a method writes none)
        return result

    face.__signature__ = signature  # type: ignore[attr-defined]
    face.__doc__ = face_docstring(spec_type, summary, example)
    face.__name__ = face.__qualname__ = name
    face.__module__ = module or run.__module__
    face.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()} | {
        "return": Result
    }
    return face

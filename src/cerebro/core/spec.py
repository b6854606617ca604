"""Spec base class, the field types and face hints the specs share, and `parse_spec`.

Specs are data only: they validate names, ranges and combinations and explain a bad value in
one sentence. `parse_spec` turns a dict (from YAML, JSON, the CLI or HTTP) into the right spec
class by its ``kind``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo

from cerebro.core.errors import UserInputError


class SpecBase(BaseModel):
    """Base of every analysis spec: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


SpecT = TypeVar("SpecT", bound=SpecBase)


def _alpha(value: float) -> float:
    if not 0 < value < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {value:g} (e.g. 0.05)")
    return value


def _jobs(value: int) -> int:
    if value == 0 or value < -1:
        raise ValueError(f"jobs is a number of workers ≥ 1, or −1 for every core; got {value}")
    return value


# Field types shared by the specs: a significance level, and a worker count (−1: every core).
Alpha = Annotated[float, AfterValidator(_alpha)]
Jobs = Annotated[int, AfterValidator(_jobs)]


def worker_count(jobs: int) -> int:
    """Workers for a `jobs` setting, read as joblib does: itself when positive, every core for
    −1 (all but one for −2, …), never fewer than one."""
    import os

    return jobs if jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + jobs)


def split_list(value: Any) -> Any:
    """Accept ``"a,b,c"`` as well as ``["a", "b", "c"]`` for list-valued spec fields; commas
    inside parentheses do not split (``"spline(age, 4),sex"`` is two terms)."""
    if not isinstance(value, str):
        return value
    parts, depth, current = [], 0, []
    for char in value:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def cli(
    *,
    flag: str | None = None,
    aliases: tuple[str, ...] = (),
    short: str | None = None,
    argument: bool = False,
    required: bool = False,
    help: str | None = None,
    keep_empty: bool = False,
    parse: str | None = None,
    raw: bool = False,
    output: bool = False,
    skip: bool = False,
) -> dict[str, Any]:
    """A spec field's command-line hints, kept as data in the field: write
    ``Field(0.05, description=…, json_schema_extra=cli(short="-a"))``.

    `cerebro.cli.spec_options` reads them to build the option; every other part of the option
    (name ``--field-name``, default, type, help, choices) comes from the field itself.

    - `flag`: the option's name when it is not ``--field-name``; for a bool, ``"--x"`` makes a
      lone on-switch and ``"--x/--no-y"`` names both switches (the default is ``--x/--no-x``).
    - `aliases`, `short`: more names (``("--test-type",)``, ``"-t"``).
    - `argument`: a positional argument (``DATA``) instead of an option; `required`: the
      command line must give it although the spec's default is None (a Python caller may pass
      a DataFrame instead).
    - `help`: the CLI's help when it must differ from the field's description.
    - `keep_empty`: for a list, an empty value means the empty list, not "use the default".
    - `parse`: ``"module:function"`` turning the option's text into the field's value (e.g.
      ``"A=1,B=2"`` into a mapping), imported only when the option is given.
    - `raw`: the option's text goes to the spec unchanged, for a field whose own validator
      reads a syntax of its own (``--markets 2-5``, ``--treatment-geos "a,b;c,d"``).
    - `output`: the field names a file the run produces (`Result.artefacts`): a path option,
      checked before the run with the command's other output files and written with them.
    - `skip`: not on the command line at all.
    """
    hints: dict[str, Any] = {
        "flag": flag,
        "aliases": list(aliases),
        "short": short,
        "argument": argument,
        "required": required,
        "help": help,
        "keep_empty": keep_empty,
        "parse": parse,
        "raw": raw,
        "output": output,
        "skip": skip,
    }
    return {"cli": {k: v for k, v in hints.items() if v not in (None, False, [])}}


def data_file(description: str, help: str | None = None, required: bool = True) -> Any:
    """The `data` field every analysis spec has: a path, the command line's first argument
    (required there unless `required` is False: a spec that can read a database table), None
    when a Python caller passes a DataFrame instead. `description` says what one row is;
    `help` is the CLI's text when it must differ."""
    return Field(
        None,
        description=description,
        json_schema_extra=cli(argument=True, required=required, help=help),
    )


def face_hints(field: FieldInfo, face: str) -> dict[str, Any]:
    """The hints one face (``"cli"``) has for a field; an empty dict when it has none."""
    extra = field.json_schema_extra
    hints = extra.get(face) if isinstance(extra, dict) else None
    return dict(hints) if isinstance(hints, dict) else {}


_REFERENCE = re.compile(r"`([a-z_][a-z0-9_]*)`")


def render_help(text: str, refer: Callable[[str], str | None]) -> str:
    """A field description for one face: each `` `name` `` naming a field becomes what
    `refer(name)` returns (``--name`` on the command line, ``name`` in Python); other
    backquoted words lose their quotes."""
    return _REFERENCE.sub(lambda m: refer(m.group(1)) or m.group(1), text)


class EffectSpec(SpecBase):
    """What every effect estimate names: the data, the treatment, the outcome, the covariates
    and the significance level. `CausalSpec` (adjustment) and each design's spec (`DiDSpec`,
    `RDDSpec`, `IVSpec`, `SyntheticControlSpec`) build on it and add their own options."""

    data: str | None = Field(None, description="Path of the data file (CSV, Parquet or JSON).")
    treatment: str | None = Field(None, description="Treatment column.")
    outcome: str
    confounders: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("confounders", "covariates"),
        description="Columns to adjust for; 'age^2' adds a square, 'C(x)' makes x categorical.",
    )
    alpha: Alpha = 0.05

    @field_validator("confounders", mode="before")
    @classmethod
    def _split_confounders(cls, value: object) -> object:
        return split_list(value)


def explain_validation_error(err: ValidationError) -> str:
    """One readable sentence per problem in a pydantic validation error."""
    parts = []
    for e in err.errors():
        path = list(e["loc"])
        loc = ".".join(str(p) for p in path if not isinstance(p, int) or len(path) == 1)
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_spec(data: dict[str, Any]) -> SpecBase:
    """Validate a spec dict of any registered kind (chosen by its ``kind`` key); only that
    kind's module is imported."""
    from cerebro.core.registry import get_method, kinds

    if not isinstance(data, dict):
        raise UserInputError("a spec must be a mapping with a 'kind' key, e.g. 'kind: abtest'.")
    if "kind" not in data:
        raise UserInputError(
            f"the spec has no 'kind'; add one of: {', '.join(kinds())} (e.g. 'kind: abtest')."
        )
    method = get_method(str(data["kind"]))  # a clear error for an unknown kind
    if method.build is not None:
        return method.build({k: v for k, v in data.items() if k != "kind"})
    try:
        return method.spec_type.model_validate(data)
    except ValidationError as err:
        reason = explain_validation_error(err)
        raise UserInputError(f"invalid {data['kind']} spec – {reason}.") from None


def spec_from_options(spec_type: type[SpecT], options: dict[str, Any]) -> SpecT:
    """Build a spec from a Python face's keyword options; a bad value is one `UserInputError`."""
    try:
        return spec_type(**options)
    except ValidationError as err:
        kind = spec_type.model_fields["kind"].default
        raise UserInputError(f"invalid {kind} options – {explain_validation_error(err)}.") from None

"""Command-line options derived from a spec's fields.

A spec field already holds its name, type, default and description; `spec_command` turns each
field into a typer option (``--field-name``, the same default, the description as help, a
Literal's choices listed) so that no command restates them. What the command line needs beyond
that – another flag name, an alias, a short flag, a positional DATA argument – is a small hint
in the field (`cerebro.core.spec.cli`). A command module keeps only what is truly its own:
its help text, the output options and, where it has one, its own way of writing results.

Value conventions: a list field takes comma-separated text (``--strata region,tier``; commas
inside parentheses do not split), an empty text meaning "the default" unless the field says
`keep_empty`; a bool is ``--x/--no-x`` unless the hint names its flag; a None default stays
None, so the spec decides what "not given" means.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import typer
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from rich.markup import escape

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    REPORT_HELP,
    emit,
    run_fields,
    user_errors,
)
from cerebro.core.results import Result
from cerebro.core.spec import SpecBase, face_hints, render_help, split_list

#: Options every spec command may add; a spec field of the same name would be shadowed.
RESERVED = ("as_json", "output", "plot", "report", "help")


@dataclass(frozen=True)
class FieldOption:
    """How one spec field appears on the command line."""

    name: str  # the spec field (and the Python parameter of the command)
    decls: tuple[str, ...]  # ("--balance-covariates",), ("--binding/--non-binding",), …
    cli_type: type  # what typer parses: bool, int, float or str (lists are comma text)
    default: Any  # the command line's default: the spec default (a list as comma text)
    help: str
    argument: bool = False
    is_list: bool = False
    item_type: type = str
    keep_empty: bool = False
    parse: str | None = None
    raw: bool = False  # the text goes to the spec as given (its validator parses it)

    @property
    def flag(self) -> str:
        """The option's main name, as help texts refer to it (``--sd``, ``DATA``)."""
        return self.name.upper() if self.argument else self.decls[0].split("/")[0]

    def to_spec(self, value: Any) -> Any:
        """The command-line value as the spec field's value."""
        if self.parse is not None and value is not None:
            module, _, function = self.parse.partition(":")
            return getattr(__import__(module, fromlist=[function]), function)(value)
        if isinstance(value, Path):
            return str(value)
        if self.raw:
            return value
        if self.is_list and isinstance(value, str):
            items = split_list(value)
            return items if items or self.keep_empty or self.default is not None else None
        return value


def _shape(annotation: Any) -> tuple[type, tuple[Any, ...] | None, type | None]:
    """(base type, Literal choices, list item type) of a field annotation, None removed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _shape(members[0])
        return str, None, None  # a union of several types: the spec parses the text
    if origin is Literal:
        choices = typing.get_args(annotation)
        return type(choices[0]), choices, None
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(annotation)
        item = args[0] if args else str
        return str, None, item if isinstance(item, type) else str
    if annotation in (bool, int, float, str):
        return annotation, None, None
    return str, None, None


def _mentions(text: str, word: Any) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(str(word))}(?![\w-])", text) is not None


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return None if field.default is PydanticUndefined else field.default


def field_options(spec_type: type[SpecBase]) -> list[FieldOption]:
    """Every spec field the command line offers, in the spec's order (`kind` and fields
    hinted `skip` left out)."""
    fields = {n: f for n, f in spec_type.model_fields.items() if n != "kind"}
    hints = {n: face_hints(f, "cli") for n, f in fields.items()}
    names = {
        n: h.get("flag") or ("--" + n.replace("_", "-"))
        for n, h in hints.items()
        if not h.get("skip")
    }

    def refer(name: str) -> str | None:
        if name not in names:
            return None
        return name.upper() if hints[name].get("argument") else names[name].split("/")[0]

    options = []
    for name in names:
        field, hint = fields[name], hints[name]
        if name in RESERVED:
            raise TypeError(f"{spec_type.__name__}.{name} clashes with a command-line option")
        base, choices, item = _shape(field.annotation)
        if (hint.get("argument") or hint.get("output")) and base is str:
            base = Path  # the data file, or a file the run produces
        default = _default(field)
        if field.is_required() or hint.get("required"):
            default = ...
        elif isinstance(default, list | tuple):
            default = ",".join(str(v) for v in default)
        decls: tuple[str, ...] = (names[name],)
        if base is bool and "/" not in names[name] and not hint.get("flag"):
            decls = (f"{names[name]}/--no-{names[name][2:]}",)
        decls += tuple(hint.get("aliases", ())) + ((hint["short"],) if hint.get("short") else ())
        text = hint.get("help") or field.description or ""
        help_text = render_help(text, refer)
        if choices is not None and not all(_mentions(help_text, c) for c in choices):
            listed = ", ".join(str(c) for c in choices)
            help_text = f"{help_text} One of: {listed}.".strip()
        options.append(
            FieldOption(
                name=name,
                decls=decls,
                cli_type=base,
                default=default,
                help=help_text,
                argument=bool(hint.get("argument")),
                is_list=item is not None,
                item_type=item or str,
                keep_empty=bool(hint.get("keep_empty")),
                parse=hint.get("parse"),
                raw=bool(hint.get("raw")),
            )
        )
    return options


def _parameter(option: FieldOption) -> inspect.Parameter:
    annotation: Any = option.cli_type
    if option.default is None:
        annotation = annotation | None
    # typer renders help as rich markup: a description's "[clip, 1 − clip]" would vanish as a tag
    help_text = escape(option.help)
    if option.argument:
        info = typer.Argument(option.default, help=help_text, show_default=False)
    else:
        info = typer.Option(option.default, *option.decls, help=help_text)
    return inspect.Parameter(
        option.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=info, annotation=annotation
    )


def output_options(figures: str = "") -> Callable[..., None]:
    """The usual ending of a spec command: run it, show the result as the user asked and write
    its files; `figures` tells, in the help of ``--plot``, what the figure shows."""

    def body(
        fields: dict[str, Any],
        run: Callable[[dict[str, Any]], Result],
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(None, "--plot", help=PLOT_HELP + figures),
        report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
    ) -> None:
        emit(run(fields), as_json, output, plot, report)

    return body


def spec_command(
    app: typer.Typer,
    name: str,
    spec_type: type[SpecBase],
    *,
    help: str,
    message: str | Callable[[dict[str, Any]], str] = "working …",
    run: Callable[[dict[str, Any]], Result] | None = None,
    body: Callable[..., None] | None = None,
    figures: str = "",
) -> Callable[..., None]:
    """Register command `name`: one option per field of `spec_type`, then `body`'s own options.

    The command gathers the spec options into ``{"kind": …, **fields}`` and calls
    ``body(fields, run, **its_options)``; `run` turns those fields into a `Result` (by default
    `run_fields`: validate the spec, run its registered runner under a spinner showing
    `message`, a text or a function of the fields). `body` declares the command's own options
    as typer parameters after its first two; the default (`output_options(figures)`) adds
    ``--json``, ``--output``/``-o``, ``--plot`` and ``--report`` and emits the result.
    """
    body = body or output_options(figures)
    options = field_options(spec_type)
    kind = spec_type.model_fields["kind"].default

    def runner(fields: dict[str, Any]) -> Result:
        if run is not None:
            return run(fields)
        return run_fields(fields, message(fields) if callable(message) else message)

    own = list(inspect.signature(body, eval_str=True).parameters.values())[2:]
    clash = {o.name for o in options} & {p.name for p in own}
    if clash:
        raise TypeError(f"{name}: {', '.join(sorted(clash))} both a spec field and an own option")
    parameters = [_parameter(o) for o in options] + own

    def command(**values: Any) -> None:
        fields = {"kind": kind, **{o.name: o.to_spec(values.pop(o.name)) for o in options}}
        body(fields, runner, **values)

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = help
    command.__name__ = command.__qualname__ = name.replace("-", "_") + "_command"
    app.command(name)(user_errors(command))
    return command

"""The sections of a generated pipeline, shared by the script and the notebook.

Each section is a heading, a paragraph saying what it does and why, and its code. The code is
written already formatted as `ruff format` would write it (`literals`), so the script and the
notebook are the same text cut at the same places.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cerebro.codegen.literals import LINE_LENGTH, literal
from cerebro.core.spec import SpecBase, render_help

# The Python function of each kind whose name is not the kind's own (`cerebro.<name>`).
FACE_NAMES = {"power": "power_analysis"}

# Spec fields that name the file(s) an analysis reads, hashed in the header.
INPUT_FIELDS = ("data", "model", "plan", "calibration")


@dataclass(frozen=True)
class Section:
    """One part of a pipeline: a heading, a paragraph of why, and code."""

    title: str
    prose: str
    code: str
    imports: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Pipeline:
    """A generated pipeline: the header (module docstring) and its sections."""

    header: str
    sections: list[Section]

    def imports(self) -> list[str]:
        """The import lines the sections use, standard library first, each once."""
        lines = dict.fromkeys(line for s in self.sections for line in s.imports)

        def order(line: str) -> tuple[bool, str]:  # isort's: `import x` before `from x …`
            return line.startswith("from "), line.split()[1]

        stdlib = sorted((line for line in lines if "cerebro" not in line), key=order)
        ours = sorted((line for line in lines if "cerebro" in line), key=order)
        return stdlib + ([""] if stdlib and ours else []) + ours


def face_name(kind: str) -> str:
    """The name of the kind's Python function in the `cerebro` package."""
    return FACE_NAMES.get(kind, kind)


def sha256(path: str | Path) -> str:
    """The file's SHA-256, in hex, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(values: dict[str, Any]) -> dict[str, str]:
    """The spec's input files that exist, by field name."""
    return {
        name: values[name]
        for name in INPUT_FIELDS
        if isinstance(values.get(name), str) and Path(values[name]).is_file()
    }


def comment_lines(text: str, indent: int) -> list[str]:
    """`text` as `#` comment lines within the line length."""
    width = max(LINE_LENGTH - indent - 2, 30)
    return [" " * indent + "# " + line for line in textwrap.wrap(text, width)]


def field_reason(spec_type: type[SpecBase], name: str, value: Any, reasons: dict[str, str]) -> str:
    """Why a field has its value: the advisor's reason, else the field's description, marked
    as the default when the value is the spec's default."""
    if name in reasons:
        return reasons[name][:1].upper() + reasons[name][1:]
    info = spec_type.model_fields[name]
    fields = spec_type.model_fields
    text = render_help(
        info.description or name.replace("_", " "), lambda n: n if n in fields else None
    )
    text = first_sentence(text.strip())
    if not text.endswith((".", ")", "?")):
        text += "."
    default = info.get_default(call_default_factory=True)
    if _plain(default) == value:
        text += " (default)"
    return text


_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z`'])")


def first_sentence(text: str) -> str:
    """The first sentence of a description: a comment says why in one line."""
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def _plain(value: Any) -> Any:
    """A default as JSON would hold it (tuples as lists), to compare it with a dumped value."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def call_code(spec: SpecBase, reasons: dict[str, str], data_name: str | None) -> str:
    """``result = cerebro.<kind>(field=value, …)``, one commented keyword per field."""
    spec_type = type(spec)
    values = spec.model_dump(mode="json")
    lines = [f"result = cerebro.{face_name(spec.kind)}("]
    for name, value in values.items():
        if name == "kind":
            continue
        lines += comment_lines(field_reason(spec_type, name, value, reasons), 4)
        if name == "data" and data_name is not None:
            lines.append(f"    data={data_name},")
        else:
            lines.append(literal(value, 4, f"{name}=", ","))
    lines.append(")")
    return "\n".join(lines)


def spec_of(spec: dict[str, Any] | SpecBase) -> SpecBase:
    from cerebro.core.spec import parse_spec

    return spec if isinstance(spec, SpecBase) else parse_spec(dict(spec))


def columns_named(values: dict[str, Any], header: list[str]) -> list[str]:
    """The data columns the spec's fields name, in field order."""
    found: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, str):
            # a ratio 'num/den' and terms such as 'C(region)', 'age^2', 'a:b' name columns too
            for part in [value, *re.findall(r"[^\s/()^:*+,]+", value)]:
                if part in header and part not in found:
                    found.append(part)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item)

    for name, value in values.items():
        if name not in ("kind", *INPUT_FIELDS):
            visit(value)
    return found


def string_list(values: list[str], indent: int, prefix: str) -> str:
    """A list of names as a literal, exploded when it is long."""
    return literal(list(values), indent, prefix)

"""Run any registered analysis from a spec (object, dict, or YAML/JSON file)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cerebro.core.errors import UserInputError
from cerebro.core.output import write_artefacts
from cerebro.core.registry import get_method

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.results import Result
    from cerebro.core.spec import SpecBase


def read_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON spec file into a dict; relative `data` (and `dag`) paths resolve against it."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise UserInputError(f"spec file {str(path)!r} does not exist; check the path.")
    if path.is_dir():
        raise UserInputError(f"spec file {str(path)!r} is a folder; give a YAML or JSON file.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UserInputError(
            f"spec file {path.name!r} is not UTF-8 (byte 0x{raw[err.start]:02x} on line {line}); "
            "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8) and run again."
        ) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0]
        raise UserInputError(f"cannot parse spec file {path.name!r}: {first}") from None
    if not isinstance(data, dict):
        raise UserInputError(f"spec file {path.name!r} must hold a mapping with a 'kind' key.")
    for key in ("data", "dag"):  # dag: a causal graph file, or the graph's text itself
        value = data.get(key)
        if isinstance(value, str) and "\n" not in value and not Path(value).is_absolute():
            candidate = path.parent / value
            with contextlib.suppress(OSError):  # text too long to be a file name
                if candidate.exists():
                    data[key] = str(candidate)
    return data


def run_spec(spec: SpecBase | dict[str, Any], data: pd.DataFrame | None = None) -> Result:
    """Validate `spec` if needed and run it with its registered runner; the files it asks for
    stay in `Result.artefacts` for the caller (a face) to write."""
    from cerebro.core.spec import SpecBase, parse_spec  # pydantic: not on `import cerebro`

    if not isinstance(spec, SpecBase):
        spec = parse_spec(spec)
    method = get_method(spec.kind)
    return method.run(spec, data)


def run(
    spec_or_path: SpecBase | dict[str, Any] | str | Path, data: pd.DataFrame | None = None
) -> Result:
    """Run an analysis from a spec object, a dict, or the path of a YAML/JSON spec file, and
    write the files the spec asks for (e.g. uplift's `predictions` and `save`)."""
    if isinstance(spec_or_path, (str, Path)):
        spec_or_path = read_spec_file(spec_or_path)
    result = run_spec(spec_or_path, data)
    write_artefacts(result)
    return result

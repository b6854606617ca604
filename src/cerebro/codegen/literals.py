"""Python literals written the way `ruff format` writes them, so a generated file is formatted.

The rules are the formatter's: double quotes, a collection on one line when it fits, else one
element per line with a trailing comma (which keeps it exploded: ruff's "magic trailing comma").
"""

from __future__ import annotations

import json
import math
from typing import Any

LINE_LENGTH = 88  # ruff's default: a generated file is checked without the project's settings


def string(value: str) -> str:
    """A double-quoted string literal (JSON's escapes are Python's)."""
    return json.dumps(value, ensure_ascii=False)


def scalar(value: Any) -> str | None:
    """A number, bool, None or string as source; None for a collection."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return string(value)
    return None


def _items(value: Any) -> tuple[str, str, list[tuple[str | None, Any]]]:
    if isinstance(value, dict):
        return "{", "}", [(string(str(k)), v) for k, v in value.items()]
    if isinstance(value, tuple):
        return "(", ")", [(None, v) for v in value]
    return "[", "]", [(None, v) for v in value]


def flat(value: Any) -> str:
    """The literal on one line."""
    text = scalar(value)
    if text is not None:
        return text
    opening, closing, items = _items(value)
    parts = [f"{key}: {flat(v)}" if key else flat(v) for key, v in items]
    if opening == "(" and len(parts) == 1:
        parts[0] += ","
    return opening + ", ".join(parts) + closing


def literal(value: Any, indent: int, prefix: str = "", suffix: str = "") -> str:
    """`prefix` + the literal + `suffix` starting at column `indent`: one line if it fits in
    the line length, else exploded one element per line (recursively)."""
    pad = " " * indent
    one = f"{pad}{prefix}{flat(value)}{suffix}"
    if len(one) <= LINE_LENGTH or scalar(value) is not None:
        return one
    opening, closing, items = _items(value)
    if not items:
        return one
    lines = [f"{pad}{prefix}{opening}"]
    for key, item in items:
        lines.append(literal(item, indent + 4, f"{key}: " if key else "", ","))
    lines.append(f"{pad}{closing}{suffix}")
    return "\n".join(lines)

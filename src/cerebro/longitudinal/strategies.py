"""Treatment strategies over periods: "always", "never" and "treat when COLUMN OP VALUE".

A strategy g assigns A_k = g(L_k, V) in every period k from the confounders measured before
treatment in that period (and the baseline covariates): static strategies ignore them, dynamic
ones ("treat when engagement < 0.3": re-engage customers whose engagement has dropped) read one
column. Parsed once in the spec, so a typo is refused before any data are read.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_RULE = re.compile(
    r"^\s*treat\s+when\s+([A-Za-z_][\w.]*)\s*(<=|>=|<|>)\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*$"
)
_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


@dataclass(frozen=True)
class Strategy:
    """One strategy: its text, and for a dynamic one the column, comparison and threshold."""

    text: str
    static: int | None = None  # 1 always, 0 never
    column: str | None = None
    op: str = "<"
    threshold: float = 0.0

    def assign(self, values: dict[str, np.ndarray], size: int) -> np.ndarray:
        """A_k for `size` units given the current values of the columns (time-varying
        confounders at k and baseline covariates)."""
        if self.static is not None:
            return np.full(size, float(self.static))
        return _OPS[self.op](values[self.column], self.threshold).astype(float)

    @property
    def key(self) -> str:
        return re.sub(r"[^0-9a-z]+", "_", self.text.lower()).strip("_")


def parse_strategy(text: str) -> Strategy:
    """'always', 'never' or 'treat when COLUMN < VALUE' (also <=, >, >=); ValueError otherwise."""
    words = " ".join(text.split())
    if words.lower() in ("always", "always treat"):
        return Strategy("always", static=1)
    if words.lower() in ("never", "never treat"):
        return Strategy("never", static=0)
    match = _RULE.match(words)
    if not match:
        raise ValueError(
            f"strategy {text!r} is not understood; write 'always', 'never' or 'treat when "
            "COLUMN < VALUE' (also <=, >, >=)"
        )
    column, op, value = match.groups()
    return Strategy(f"treat when {column} {op} {value}", column=column, op=op,
                    threshold=float(value))  # fmt: skip

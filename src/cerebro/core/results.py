"""The shared result vocabulary: `Estimate`, `Finding` and `Result`.

Every method returns a `Result`; every face renders one. `Result.to_dict()` is the versioned
JSON contract (`schema_version`, `kind`, `method`, `spec`, `estimates`, `findings`, `tables`)
used by `--json`, `--output` and the service. Fields may be added; these never go away.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

SCHEMA_VERSION = "1.0"

Level = Literal["info", "warning", "error"]


def _json_number(x: Any) -> Any:
    """Plain Python numbers for JSON; NaN and infinities become None."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


@dataclass
class Estimate:
    """One estimated quantity with its uncertainty.

    `value` is the point estimate; `se`, `ci_low`/`ci_high` (at the result's confidence level)
    and `p_value` are None where they do not apply. `extra` holds method-specific columns
    (test statistic, degrees of freedom, adjusted p-values, group means …) that are flattened
    into the JSON record.
    """

    label: str
    value: float
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        core = {k: _json_number(v) for k, v in asdict(self).items() if k != "extra"}
        core.update({k: _json_number(v) for k, v in self.extra.items()})
        return core

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        names = ("label", "value", "se", "ci_low", "ci_high", "p_value")
        return cls(
            **{k: d.get(k) for k in names}, extra={k: v for k, v in d.items() if k not in names}
        )


@dataclass
class Finding:
    """A diagnostic, warning or note attached to a result.

    `code` is a stable machine-readable identifier (e.g. ``srm``, ``dropped_missing``);
    `message` is one plain sentence for a person.
    """

    level: Level
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "code": self.code, "message": self.message}


def table_to_dict(df: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as JSON-safe columns + rows (the index is kept as ordinary columns)."""
    flat = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
    return {
        "columns": [str(c) for c in flat.columns],
        "rows": [[_json_number(v) for v in row] for row in flat.itertuples(index=False)],
    }


def table_from_dict(d: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(d["rows"], columns=d["columns"])


@dataclass
class Result:
    """What every analysis returns, independent of how it will be shown."""

    kind: str
    method: str
    spec: Any
    estimates: list[Estimate] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from cerebro import __version__

        spec = self.spec.model_dump(mode="json") if hasattr(self.spec, "model_dump") else self.spec
        return {
            "schema_version": SCHEMA_VERSION,
            "cerebro_version": __version__,
            "kind": self.kind,
            "method": self.method,
            "spec": spec,
            "estimates": [e.to_dict() for e in self.estimates],
            "findings": [f.to_dict() for f in self.findings],
            "tables": {name: table_to_dict(t) for name, t in self.tables.items()},
            "summary": {k: _json_number(v) for k, v in self.summary.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        from cerebro.core.spec import parse_spec

        return cls(
            kind=d["kind"],
            method=d["method"],
            spec=parse_spec(d["spec"]),
            estimates=[Estimate.from_dict(e) for e in d["estimates"]],
            findings=[Finding(**f) for f in d["findings"]],
            tables={k: table_from_dict(v) for k, v in d.get("tables", {}).items()},
            summary=dict(d.get("summary", {})),
        )

    def estimates_frame(self) -> pd.DataFrame:
        """All estimates as one DataFrame, one row per estimate."""
        return pd.DataFrame([e.to_dict() for e in self.estimates])

    def estimate(self, label: str) -> Estimate:
        """The estimate with this exact label (KeyError naming the available labels otherwise)."""
        for e in self.estimates:
            if e.label == label:
                return e
        raise KeyError(f"no estimate labelled {label!r}; have {[e.label for e in self.estimates]}")

    def plot(self):
        """A figure of the result (forest plot of lifts, power curve …)."""
        from cerebro.report.plots import plot_result

        return plot_result(self)

    def narrative(self) -> str:
        """The result in plain words (empty where a method writes none)."""
        return str(self.summary.get("narrative", ""))

    def __str__(self) -> str:
        from cerebro.report.text import render_text

        return render_text(self)

    def _repr_html_(self) -> str:
        from cerebro.report.text import render_html

        return render_html(self)

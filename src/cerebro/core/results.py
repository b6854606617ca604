"""The shared result vocabulary: `Estimate`, `Finding` and `Result`.

Every method returns a `Result`; every face renders one. `Result.to_dict()` is the versioned
JSON contract (`schema_version`, `kind`, `method`, `spec`, `estimates`, `findings`, `tables`)
used by `--json`, `--output` and the service. Fields may be added; these never go away.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
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


Columns = dict[str, list[Any]]


def _plain(x: Any) -> Any:
    """numpy scalars as the Python numbers they hold."""
    return x.item() if isinstance(x, np.generic) else x


def _columns_of(table: Any) -> Columns:
    """Plain columns of a DataFrame (index kept as ordinary columns) or of a column mapping."""
    if isinstance(table, Mapping):
        values = {
            str(k): v.tolist() if isinstance(v, np.ndarray) else [_plain(x) for x in v]
            for k, v in table.items()
        }
        if len({len(v) for v in values.values()}) > 1:
            raise ValueError(
                f"table columns differ in length: { {k: len(v) for k, v in values.items()} }"
            )
        return values
    import pandas as pd

    flat = table.reset_index() if not isinstance(table.index, pd.RangeIndex) else table
    return {str(c): flat[c].tolist() for c in flat.columns}


class Tables(MutableMapping[str, "pd.DataFrame"]):
    """A result's named tables.

    A method may store a DataFrame or plain columns (a mapping of column name to equal-length
    lists or arrays). Reading an item gives a DataFrame, built on first access; `columns(name)`
    gives the plain columns. The faces (terminal, JSON) use the latter, so a run that never
    needs pandas never imports it – that import is ~0.4 s, a sixth of a whole CLI run on a
    1.5M-row file (measured with ``python -X importtime``).
    """

    def __init__(self, tables: Mapping[str, Any] | None = None) -> None:
        self._stored: dict[str, Any] = {}
        self._frames: dict[str, pd.DataFrame] = {}
        for name, table in (tables or {}).items():
            self[name] = table

    def __setitem__(self, name: str, table: Any) -> None:
        self._frames.pop(name, None)
        self._stored[name] = table if not isinstance(table, Mapping) else _columns_of(table)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            stored = self._stored[name]
            if isinstance(stored, dict):
                import pandas as pd

                stored = pd.DataFrame(stored)
            self._frames[name] = stored
        return self._frames[name]

    def __delitem__(self, name: str) -> None:
        del self._stored[name]
        self._frames.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __contains__(self, name: object) -> bool:  # Mapping's default would build the frame
        return name in self._stored

    def __len__(self) -> int:
        return len(self._stored)

    def columns(self, name: str) -> Columns:
        """The table as plain columns, without building a DataFrame."""
        return _columns_of(self._stored[name])

    def __repr__(self) -> str:
        return f"Tables({list(self._stored)})"


def table_to_dict(table: Any) -> dict[str, Any]:
    """A table (DataFrame or columns) as JSON-safe columns + rows."""
    columns = _columns_of(table)
    return {
        "columns": list(columns),
        "rows": [[_json_number(v) for v in row] for row in zip(*columns.values(), strict=True)],
    }


def table_from_dict(d: dict[str, Any]) -> Columns:
    return {c: [row[i] for row in d["rows"]] for i, c in enumerate(d["columns"])}


@dataclass
class Result:
    """What every analysis returns, independent of how it will be shown."""

    kind: str
    method: str
    spec: Any
    estimates: list[Estimate] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tables: Tables = field(default_factory=Tables)
    summary: dict[str, Any] = field(default_factory=dict)
    # Row-level output (e.g. a randomisation's assignment): returned to Python callers and
    # written by the CLI's --output, but never part of the JSON contract.
    data: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tables, Tables):
            self.tables = Tables(self.tables)

    def to_dict(self) -> dict[str, Any]:
        from cerebro.core.version import __version__

        spec = self.spec.model_dump(mode="json") if hasattr(self.spec, "model_dump") else self.spec
        return {
            "schema_version": SCHEMA_VERSION,
            "cerebro_version": __version__,
            "kind": self.kind,
            "method": self.method,
            "spec": spec,
            "estimates": [e.to_dict() for e in self.estimates],
            "findings": [f.to_dict() for f in self.findings],
            "tables": {name: table_to_dict(self.tables.columns(name)) for name in self.tables},
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
            tables=Tables({k: table_from_dict(v) for k, v in d.get("tables", {}).items()}),
            summary=dict(d.get("summary", {})),
        )

    def estimates_frame(self) -> pd.DataFrame:
        """All estimates as one DataFrame, one row per estimate."""
        import pandas as pd

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


def effect_result(
    spec: Any,
    method: str,
    estimates: list[Estimate],
    findings: list[Finding],
    tables: dict[str, Any],
    *,
    title: str,
    narrative: str,
    units: int,
    **summary: Any,
) -> Result:
    """A `kind: causal` result of `method` (an adjustment estimator or a design) whose headline
    table is `effects`: one constructor so each estimator says only what differs (its tables,
    title, narrative and extra summary fields). `spec` is the spec that ran (a `CausalSpec`, or
    the design's own spec), so `Result.from_dict` restores it by its own kind."""
    return Result(
        kind="causal",
        method=method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "headline_table": "effects",
            "title": title,
            "narrative": narrative,
            "units": units,
            "alpha": spec.alpha,
            **summary,
        },
    )

"""The shared result vocabulary: `Estimate`, `Finding` and `Result`.

Every method returns a `Result`; every face renders one. `Result.to_dict()` is the versioned
JSON contract (`schema_version`, `kind`, `method`, `spec`, `estimates`, `findings`, `tables`)
used by `--json`, `--output` and the service. Fields may be added; these never go away.

A result may also carry its `Fit` in memory – per-unit influence functions of its estimates and
residual variances – so that post-estimation (sensitivity bounds, joint intervals, combining
effects) can work from a result; the fit is never part of the JSON unless asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.core.output import Artefact

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
    into the JSON record. `key` is a stable machine name for the estimate (by default the
    label in lower case with every run of other characters as one ``_``: "revenue: B - A" →
    "revenue_b_a"); a method may set a shorter one.
    """

    label: str
    value: float
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = estimate_key(self.label)

    def to_dict(self) -> dict[str, Any]:
        core = {k: _json_number(v) for k, v in asdict(self).items() if k != "extra"}
        core.update({k: _json_number(v) for k, v in self.extra.items()})
        return core

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        names = ("label", "value", "se", "ci_low", "ci_high", "p_value", "key")
        return cls(
            **{k: d.get(k) for k in names if k != "key"},
            key=d.get("key") or "",
            extra={k: v for k, v in d.items() if k not in names},
        )


def estimate_key(label: str) -> str:
    """A stable identifier for a label: lower case, runs of non-alphanumerics as one ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_")


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
class Fit:
    """What post-estimation needs from a fitted model, kept in memory only.

    `influence` maps an estimate's key to its per-unit influence function ψᵢ, scaled so that
    the estimate's variance is Σψᵢ²/n² (its SE is √(Σψᵢ²)/n); estimates computed on the same
    units can then be combined or given joint intervals from the covariance Σψᵢψⱼ/n². `residual_variance`
    maps a model (e.g. an outcome) to the variance of its residuals; `units` identifies the rows
    the influence functions are indexed by (positions in the analysed data, or unit ids).
    An AIPW/DML fit of the ATE also holds ``sigma2`` (the outcome model's residual variance
    E[(Y − g)²]) and ``nu2`` (the Riesz representer's E[α²]) in `residual_variance` with their
    influence functions under the same keys in `influence`: the omitted-variable bounds of
    Chernozhukov et al. (2022) need nothing more (`cerebro.stats.sensitivity`).
    """

    influence: dict[str, np.ndarray] = field(default_factory=dict)
    residual_variance: dict[str, float] = field(default_factory=dict)
    units: Any = None
    # Outcome differences within the matched pairs of a matching estimator (treated minus its
    # matched control), for Rosenbaum bounds.
    pairs: np.ndarray | None = None
    # Outcomes of the matched sets of 1:k matching, one row per set, the treated unit first and
    # NaN in unused slots (outcomes negated for the ATC, whose sets have one control), for
    # Rosenbaum bounds of matched sets.
    sets: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "influence": {k: [_json_number(x) for x in v] for k, v in self.influence.items()},
            "residual_variance": {k: _json_number(v) for k, v in self.residual_variance.items()},
        }
        if self.pairs is not None:
            out["pairs"] = [_json_number(x) for x in self.pairs]
        if self.sets is not None:
            out["sets"] = [[_json_number(x) for x in row] for row in self.sets]
        return out

    def covariance(self, keys: list[str]) -> np.ndarray:
        """Covariance matrix of the estimates named by `keys` from their influence functions."""
        missing = [k for k in keys if k not in self.influence]
        if missing:
            raise KeyError(f"no influence function for {missing}; have {list(self.influence)}")
        psi = np.column_stack([self.influence[k] for k in keys])
        return psi.T @ psi / len(psi) ** 2


@dataclass(frozen=True)
class Meta:
    """The typed view of a result's `summary`: the keys every face reads."""

    title: str = ""
    narrative: str = ""
    headline_table: str | None = None
    alpha: float | None = None
    units: int | None = None

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> Meta:
        alpha, units = summary.get("alpha"), summary.get("units")
        return cls(
            title=str(summary.get("title") or ""),
            narrative=str(summary.get("narrative") or ""),
            headline_table=summary.get("headline_table"),
            alpha=None if alpha is None else float(alpha),
            units=None if units is None else int(units),
        )


class Summary(dict):
    """A result's summary mapping that, called, gives the estimates' table (`fit_view`)."""

    def __init__(self, mapping: Mapping[str, Any] | None, result: Result) -> None:
        super().__init__(mapping or {})
        self._result = result

    def __call__(self) -> pd.DataFrame:
        """coef, std err, p and the interval of every estimate, one row each."""
        from cerebro.core.fit_view import summary

        return summary(self._result.estimates, self._result.meta.alpha)


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
    # In-memory fit for post-estimation (influence functions, residual variances); see `Fit`.
    fit: Fit | None = field(default=None, repr=False)
    # Files the spec asked for, in memory, for the face to write (`cerebro.core.output`).
    artefacts: list[Artefact] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tables, Tables):
            self.tables = Tables(self.tables)

    def __setattr__(self, name: str, value: Any) -> None:
        # `summary` stays the mapping faces read (title, narrative, alpha …) and is also
        # callable, as statsmodels users expect: `result.summary()` is the estimates' table.
        if name == "summary":
            value = Summary(value, self)
        super().__setattr__(name, value)

    @property
    def meta(self) -> Meta:
        """Title, narrative, headline table, alpha and units as typed fields."""
        return Meta.from_summary(self.summary)

    def to_dict(self, include_fit: bool = False) -> dict[str, Any]:
        """The versioned JSON contract; `include_fit` adds the in-memory fit under ``fit``."""
        from cerebro.core.version import __version__

        spec = self.spec.model_dump(mode="json") if hasattr(self.spec, "model_dump") else self.spec
        out = {
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
        if include_fit and self.fit is not None:
            out["fit"] = self.fit.to_dict()
        return out

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

    def estimate(self, label_or_key: str) -> Estimate:
        """The estimate with this label (typographic or ASCII: "y: B - A" for "y: B − A") or
        key (KeyError naming the labels otherwise)."""
        from cerebro.core.fit_view import ascii_label

        for e in self.estimates:
            if label_or_key in (e.label, e.key, ascii_label(e.label)):
                return e
        raise KeyError(
            f"no estimate labelled or keyed {label_or_key!r}; have {[e.label for e in self.estimates]}"
        )

    # The statsmodels habit (`core/fit_view.py`): pandas objects indexed by label.
    @property
    def params(self) -> pd.Series:
        """Point estimates."""
        from cerebro.core.fit_view import series

        return series(self.estimates, "value")

    @property
    def bse(self) -> pd.Series:
        """Standard errors (NaN where an estimate has none)."""
        from cerebro.core.fit_view import series

        return series(self.estimates, "se")

    @property
    def pvalues(self) -> pd.Series:
        """p-values (NaN where an estimate has none)."""
        from cerebro.core.fit_view import series

        return series(self.estimates, "p_value")

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Interval limits at 1 − alpha (default: the result's level) as `lower`, `upper`."""
        from cerebro.core.fit_view import conf_int

        return conf_int(self.estimates, self.meta.alpha, alpha)

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

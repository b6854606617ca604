"""Turning a user's table into what the A/B tests need: arms, metrics, moments, counts.

Everything a user can get wrong about the data is caught here, with one sentence that names the
column or value and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.load import label_text
from cerebro.data.validate import require_discrete_treatment, require_finite
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.moments import Moments, grouped_moments, with_unit_denominator

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Metric:
    """An outcome as the user named it: a column, or ``numerator/denominator`` for a ratio."""

    name: str
    numerator: str
    denominator: str | None = None

    @classmethod
    def parse(cls, text: str, columns: list[str] | None = None) -> Metric:
        if "/" in text and (columns is None or text not in columns):
            num, den = (part.strip() for part in text.split("/", 1))
            if not num or not den:
                raise UserInputError(
                    f"ratio metric {text!r} needs both parts, e.g. 'revenue/sessions'."
                )
            return cls(text, num, den)
        return cls(text, text)

    @property
    def columns(self) -> list[str]:
        return [self.numerator] + ([self.denominator] if self.denominator else [])


def needed_columns(spec: ABTestSpec, available: list[str] | None = None) -> list[str]:
    cols = [spec.treatment]
    for text in spec.outcome:
        cols += Metric.parse(text, available).columns
    cols += spec.covariates + spec.strata + ([spec.cluster] if spec.cluster else [])
    cols += [spec.time_column] if spec.time_column else []
    cols += spec.by
    return list(dict.fromkeys(cols))


def _codes(values: Any, sort: bool = False) -> tuple[np.ndarray, list[object]]:
    """Integer codes of `values` (−1 for missing) and the distinct values they index.

    A pandas column goes to `pandas.factorize`; the few-row arrays of groups that DuckDB
    returns (None for missing) are coded here, so the file path never imports pandas.
    """
    if not isinstance(values, (np.ndarray, list)):
        import pandas as pd

        codes, uniques = pd.factorize(values, sort=sort)
        return codes.astype(np.int64), list(uniques)
    missing = [v is None or v != v for v in values]  # v != v: NaN
    uniques = list(dict.fromkeys(v for v, gone in zip(values, missing, strict=True) if not gone))
    if sort:
        uniques.sort()
    index = {v: i for i, v in enumerate(uniques)}
    codes = [-1 if gone else index[v] for v, gone in zip(values, missing, strict=True)]
    return np.asarray(codes, dtype=np.int64), uniques


@dataclass
class Design:
    """The columns that describe the experiment, encoded once for every outcome.

    `codes` index `arms` (control first); −1 marks a missing value, as do −1 entries of
    `strata` and `cluster`.
    """

    arms: list[str]
    control_choice: str
    codes: np.ndarray
    strata: np.ndarray | None = None
    stratum_labels: list[str] = field(default_factory=list)
    cluster: np.ndarray | None = None
    _numeric: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def numeric(self, frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
        """A numeric column as float64, converted once and shared by every outcome."""
        if column not in self._numeric:
            self._numeric[column] = _numeric(frame, column, role)
        return self._numeric[column]

    @property
    def control(self) -> str:
        return self.arms[0]

    def units_per_arm(self) -> dict[str, float]:
        """Rows per arm, or distinct clusters per arm when a cluster column is given."""
        valid = self.codes >= 0
        if self.cluster is None:
            counts = np.bincount(self.codes[valid], minlength=len(self.arms))
        else:
            valid &= self.cluster >= 0
            pairs = np.unique(self.cluster[valid] * len(self.arms) + self.codes[valid])
            counts = np.bincount(pairs % len(self.arms), minlength=len(self.arms))
        return {arm: float(c) for arm, c in zip(self.arms, counts, strict=True)}


# What to do with a numeric treatment of more than `MAX_ARMS` values in an A/B test.
ARMS_FIX = (
    "an A/B test compares a few arms – check that --treatment names the arm column, or band the "
    "dose into at most {max_arms} arms (or a 0/1 indicator) and run `cerebro abtest` on those"
)


def encode_design(frame: Any, spec: ABTestSpec, rows: Callable[[], Any] | None = None) -> Design:
    """Encode treatment, strata and cluster columns; resolve the control arm.

    `frame` is a DataFrame or a mapping of column name to array (DuckDB's group tables). A
    numeric treatment of rows with more than `MAX_ARMS` values is a dose, not arms, and ±inf
    is no arm: both refused before each such value becomes an arm of a row or two. `rows`
    reads the treatment's rows when `frame` holds groups, to name the row of an inf."""
    raw, uniques = _codes(frame[spec.treatment])
    if not spec.from_summary:  # a summary's rows are arms by construction
        if any(isinstance(u, float | np.floating) and np.isinf(u) for u in uniques):
            require_finite((rows or (lambda: frame[spec.treatment]))(), spec.treatment, "treatment")
        require_discrete_treatment(uniques, spec.treatment, fix=ARMS_FIX)
    labels = [label_text(u) for u in uniques]
    control, variants, how = resolve_arms(sorted(set(labels)), spec, spec.treatment)
    arms = [control, *variants]
    remap = np.array([arms.index(label) for label in labels] + [-1], dtype=np.int64)
    design = Design(arms=arms, control_choice=how, codes=remap[raw])
    if spec.strata:
        # One integer key per combination of strata values (mixed radix), then compacted.
        key = np.zeros(len(raw), dtype=np.int64)
        parts = []
        for column in spec.strata:
            codes, values = _codes(frame[column], sort=True)
            key = np.where((key < 0) | (codes < 0), -1, key * (len(values) + 1) + codes)
            parts.append((codes, values))
        _, first_rows, inverse = np.unique(key, return_index=True, return_inverse=True)
        offset = int((key < 0).any())  # the missing key −1 sorts first
        design.strata = inverse.astype(np.int64) - offset
        design.stratum_labels = [
            " | ".join(label_text(values[codes[row]]) for codes, values in parts)
            for row in first_rows[offset:]
        ]
    if spec.cluster:
        design.cluster = _codes(frame[spec.cluster])[0]
    return design


def resolve_arms(levels: list[str], spec: ABTestSpec, column: str) -> tuple[str, list[str], str]:
    """(control, variants, how the control was chosen)."""
    if len(levels) < 2:
        only = f" ({levels[0]!r})" if levels else ""
        raise UserInputError(
            f"treatment column {column!r} has {len(levels)} level{only}; an A/B test needs at "
            "least two arms – check the column name or the filter that produced the data."
        )
    if spec.control is not None:
        if spec.control not in levels:
            raise UserInputError(
                f"control {spec.control!r} is not a level of {column!r}; levels are: "
                f"{', '.join(levels)}."
            )
        control, how = spec.control, "as given"
    else:
        named = [lv for lv in levels if "control" in lv.lower()]
        if len(named) == 1:
            control, how = named[0], "its name says control; use --control to choose another"
        else:
            control, how = levels[0], "first level in sorted order; use --control to choose another"
    return control, [lv for lv in levels if lv != control], how


@dataclass
class OutcomeData:
    """The rows of one metric with complete data, ready for any test."""

    metric: Metric
    arms: list[str]
    codes: np.ndarray  # arm index per row
    numerator: np.ndarray
    denominator: np.ndarray | None
    covariates: np.ndarray  # (n, k)
    strata: np.ndarray | None  # stratum index per row
    stratum_labels: list[str]
    cluster: np.ndarray | None  # cluster index per row
    findings: list[Finding] = field(default_factory=list)
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def _cached(self, name: str, compute):
        """Moments are computed once per outcome and shared by every variant's comparison."""
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    @property
    def is_binary(self) -> bool:
        if self.denominator is not None:
            return False
        return bool(np.isin(self.numerator, (0.0, 1.0)).all())

    def rows_of(self, arm: int) -> np.ndarray:
        return self.numerator[self.codes == arm]

    def counts(self, arm: int, stratum: int | None = None) -> tuple[int, int]:
        """(successes, trials) of a binary metric in an arm (and stratum)."""
        mask = self.codes == arm
        if stratum is not None and self.strata is not None:
            mask &= self.strata == stratum
        y = self.numerator[mask]
        return int(y.sum()), len(y)

    def matrix(self) -> np.ndarray:
        """Columns [numerator, denominator (1 for means), covariates…]."""
        den = self.denominator if self.denominator is not None else np.ones_like(self.numerator)
        return np.column_stack([self.numerator, den, self.covariates])

    def moments(self) -> list[Moments]:
        """Per-arm moments of the unit rows."""
        return self._cached("arms", lambda: self._grouped(self.codes, len(self.arms)))

    def _grouped(self, codes: np.ndarray, groups: int) -> list[Moments]:
        if self.denominator is not None:
            return grouped_moments(self.matrix(), codes, groups)
        # A plain mean's denominator is the constant 1: insert it rather than summing it.
        x = (
            np.column_stack([self.numerator, self.covariates])
            if self.covariates.size
            else self.numerator
        )
        return [with_unit_denominator(m) for m in grouped_moments(x, codes, groups)]

    def cell_moments(self) -> dict[tuple[int, int], Moments]:
        """Per (arm, stratum) moments for post-stratification."""
        return self._cached("cells", self._cell_moments)

    def _cell_moments(self) -> dict[tuple[int, int], Moments]:
        assert self.strata is not None
        n_strata = len(self.stratum_labels)
        cells = self.codes * n_strata + self.strata
        parts = self._grouped(cells, len(self.arms) * n_strata)
        return {
            (a, s): parts[a * n_strata + s] for a in range(len(self.arms)) for s in range(n_strata)
        }

    def cluster_moments(self) -> tuple[list[Moments], list[float]]:
        """Per-arm moments of cluster totals [Σ numerator, Σ denominator (rows), Σ covariates].

        Returns the moments and the number of rows in each arm (for the CR1 factor).
        """
        return self._cached("clusters", self._cluster_moments)

    def _cluster_moments(self) -> tuple[list[Moments], list[float]]:
        assert self.cluster is not None
        n_clusters = int(self.cluster.max()) + 1
        size = np.bincount(self.cluster, minlength=n_clusters)
        columns = [self.numerator, self.denominator, *self.covariates.T]

        def total(x: np.ndarray | None) -> np.ndarray:
            if x is None:  # a plain mean: the denominator of a cluster is its row count
                return size.astype(float)
            return np.bincount(self.cluster, weights=x, minlength=n_clusters)

        totals = np.column_stack([total(x) for x in columns])
        arm_of = np.full(n_clusters, -1)
        arm_of[self.cluster] = self.codes
        mixed = np.bincount(
            self.cluster, weights=(self.codes != arm_of[self.cluster]), minlength=n_clusters
        )
        present = size > 0
        if (mixed[present] > 0).any():
            raise UserInputError(
                "some clusters contain rows from more than one arm, so treatment was not assigned "
                "by cluster; check --cluster (it must be the unit of randomisation)."
            )
        arm_of, totals = arm_of[present], totals[present]
        moments = grouped_moments(totals, arm_of, len(self.arms))
        rows = [
            float(np.bincount(self.codes, minlength=len(self.arms))[a])
            for a in range(len(self.arms))
        ]
        return moments, rows


def _numeric(frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
    import pandas as pd  # only the in-memory path reads a DataFrame's columns

    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float).to_numpy()
    if not pd.api.types.is_numeric_dtype(series):
        example = series.dropna().astype(str).head(1).tolist()
        shown = f" (e.g. {example[0]!r})" if example else ""
        raise UserInputError(
            f"{role} column {column!r} is not numeric{shown}; recode it as numbers "
            "(e.g. 0/1 for conversions) or pick a numeric column."
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    check_finite(column, int(np.isinf(values).sum()))
    require_finite(values, column, role)  # magnitudes whose squares overflow
    return values


def check_finite(column: str, infinite: int, counted: bool = True) -> None:
    """Refuse a column with ±inf values (`infinite` rows of them, or any when not `counted`):
    every mean and variance would be inf or NaN."""
    if infinite:
        rows = "" if not counted else " (a row)" if infinite == 1 else f" ({infinite:,} rows)"
        raise UserInputError(
            f"infinite values in {column!r}{rows}; remove them, cap them or mark them "
            "missing before testing."
        )


def dropped_rows_finding(name: str, dropped: int, total: int, columns: list[str]) -> Finding:
    return Finding(
        "warning",
        "dropped_missing",
        f"{name}: dropped {dropped:,} of {total:,} rows with missing values in {', '.join(columns)}.",
    )


def prepare_outcome(
    frame: pd.DataFrame, design: Design, metric: Metric, spec: ABTestSpec
) -> OutcomeData:
    """Select the complete rows for `metric`; arms, strata and clusters come encoded in `design`."""
    numerator = design.numeric(frame, metric.numerator, "outcome")
    denominator = (
        design.numeric(frame, metric.denominator, "denominator") if metric.denominator else None
    )
    covariates = (
        np.column_stack([design.numeric(frame, c, "covariate") for c in spec.covariates])
        if spec.covariates
        else np.empty((len(frame), 0))
    )
    keep = ~np.isnan(numerator) & (design.codes >= 0)
    if denominator is not None:
        keep &= ~np.isnan(denominator)
    if spec.covariates:
        keep &= ~np.isnan(covariates).any(axis=1)
    for codes in (design.strata, design.cluster):
        if codes is not None:
            keep &= codes >= 0
    findings = []
    if not keep.any():
        raise UserInputError(
            f"outcome {metric.name!r} has no rows with complete data (every row misses the "
            "outcome, treatment or a covariate); check the column."
        )
    dropped = int((~keep).sum())
    if dropped:
        used = needed_columns(spec.model_copy(update={"outcome": [metric.name]}))
        findings.append(dropped_rows_finding(metric.name, dropped, len(keep), used))
    everything = keep.all()
    codes = design.codes if everything else design.codes[keep]
    counts = np.bincount(codes, minlength=len(design.arms))
    empty = [design.arms[i] for i in range(len(design.arms)) if counts[i] == 0]
    if empty:
        raise UserInputError(
            f"arm {empty[0]!r} has no rows with a value of {metric.name!r}; every arm needs data "
            "– check the outcome column or remove the arm."
        )

    def subset(x: np.ndarray | None) -> np.ndarray | None:
        return x if x is None or everything else x[keep]

    return OutcomeData(
        metric=metric,
        arms=design.arms,
        codes=codes,
        numerator=subset(numerator),
        denominator=subset(denominator),
        covariates=subset(covariates),
        strata=subset(design.strata),
        stratum_labels=design.stratum_labels,
        cluster=subset(design.cluster),
        findings=findings,
    )

"""A/B analysis from per-arm summary statistics instead of raw rows (`--from-summary`).

The table has one row per arm (or per arm × stratum, or several rows per arm – e.g. one per day
– which are merged with Chan's update). Columns, for a metric or covariate ``v``:

- ``n`` – units in the row (required);
- either raw sums ``v_sum`` and ``v_sum_sq`` (as a warehouse computes them), or centred
  ``v_mean`` with ``v_var`` (ddof 1) or ``v_sd``;
- for CUPED and ratio metrics the cross-products of each pair: ``a_x_b_sum`` (Σ a·b) or
  ``a_x_b_cov`` (ddof 1), in either order.

A single metric may use the bare names ``sum``/``sum_sq`` (or ``mean``/``var``/``sd``); then
``--outcome`` only names it in the output. Raw sums lose precision when the variance is tiny
relative to the mean; a finding says so when more than half the digits are gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.experiments.abtest.data import Design, Metric
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.moments import Moments, merge_all, with_unit_denominator


def _name(variable: str | None, stat: str) -> str:
    return stat if variable is None else f"{variable}_{stat}"


def as_columns(table: Any) -> Mapping[str, np.ndarray]:
    """A DataFrame or a mapping of columns as a mapping of column name to numpy array."""
    if isinstance(table, Mapping):
        return {str(c): np.asarray(v) for c, v in table.items()}
    return {str(c): table[c].to_numpy() for c in table.columns}


class _Row:
    """Row `i` of a column mapping, read like a dict."""

    def __init__(self, columns: Mapping[str, np.ndarray], i: int) -> None:
        self.columns, self.i = columns, i

    def __getitem__(self, name: str) -> float:
        return float(self.columns[name][self.i])


def check_row(
    row: _Row, variables: list[str | None], columns: set[str], arm: str, counts: bool
) -> None:
    """Refuse statistics no data can give, naming the arm and the column: a negative or
    non-finite n, a variance below zero, Σv² < (Σv)²/n, and – for the tests of counts
    (`counts`: fisher, chi-square) – successes below 0 or above n."""
    n = row["n"]
    if not (np.isfinite(n) and n >= 0):
        raise UserInputError(
            f"arm {arm!r}: n = {n:g} is not a number of units; n must be 0 or more."
        )
    for k, v in enumerate(variables):
        label = v or "the metric"
        for stat in ("sum", "sum_sq", "mean", "var", "sd"):
            name = _name(v, stat)
            if name in columns and not np.isfinite(row[name]):
                raise UserInputError(
                    f"arm {arm!r}: {name} is {row[name]:g}; summary statistics must be finite."
                )
        for stat in ("var", "sd"):
            name = _name(v, stat)
            if name in columns and row[name] < 0:
                raise UserInputError(
                    f"arm {arm!r}: {name} = {row[name]:g} is negative, which no data can give; "
                    "check the column."
                )
        s, ss = _name(v, "sum"), _name(v, "sum_sq")
        centred = _name(v, "mean") in columns
        if not centred and s in columns and ss in columns and n > 0:
            total, squares = row[s], row[ss]
            floor = total * total / n
            if squares < floor - 1e-9 * max(abs(floor), 1.0):
                raise UserInputError(
                    f"arm {arm!r}: {ss} = {squares:g} is below {s}²/n = {floor:g}, which no "
                    f"data can give; check that {ss} is the sum of squares of {label}."
                )
        if counts and k == 0:  # the metric itself, not a covariate
            column = _name(v, "mean") if centred else s
            successes = row[column] * n if centred else row[s] if s in columns else 0.0
            if successes < 0 or successes > n:
                what = "negative" if successes < 0 else f"more than n = {n:g}"
                raise UserInputError(
                    f"arm {arm!r}: {column} gives {successes:g} successes of {label}, {what}; "
                    "a binary outcome counts between 0 and n successes per arm."
                )


def _row_moments(row: _Row, variables: list[str | None], columns: set[str]) -> Moments:
    n = row["n"]
    p = len(variables)
    mean, second = np.zeros(p), np.full((p, p), np.nan)
    centred = np.zeros(p, dtype=bool)
    for i, v in enumerate(variables):
        if _name(v, "mean") in columns:
            mean[i] = row[_name(v, "mean")]
            centred[i] = True
            if _name(v, "var") in columns:
                second[i, i] = row[_name(v, "var")] * (n - 1)
            elif _name(v, "sd") in columns:
                second[i, i] = row[_name(v, "sd")] ** 2 * (n - 1)
        elif _name(v, "sum") in columns and _name(v, "sum_sq") in columns:
            mean[i] = row[_name(v, "sum")] / n
            second[i, i] = row[_name(v, "sum_sq")] - n * mean[i] ** 2
        else:
            label = v or "the metric"
            raise UserInputError(
                f"the summary table lacks statistics for {label}: give "
                f"{_name(v, 'sum')!r} and {_name(v, 'sum_sq')!r} (or {_name(v, 'mean')!r} and "
                f"{_name(v, 'var')!r}) per arm."
            )
    for i in range(p):
        for j in range(i + 1, p):
            a, b = variables[i], variables[j]
            for x, y in ((a, b), (b, a)):
                if f"{x}_x_{y}_cov" in columns:
                    second[i, j] = row[f"{x}_x_{y}_cov"] * (n - 1)
                    break
                if f"{x}_x_{y}_sum" in columns:
                    second[i, j] = row[f"{x}_x_{y}_sum"] - n * mean[i] * mean[j]
                    break
            else:
                raise UserInputError(
                    f"the summary table lacks the cross-product of {a!r} and {b!r}, which CUPED "
                    f"and ratio metrics need: add '{a}_x_{b}_sum' (Σ {a}·{b}) or '{a}_x_{b}_cov'."
                )
            second[j, i] = second[i, j]
    return Moments(n, mean, second)


@dataclass
class SummaryOutcome:
    """One metric's per-arm (and per-stratum) moments read from a summary table."""

    metric: Metric
    arms: list[str]
    arm_moments: list[Moments]
    cells: dict[tuple[int, int], Moments] | None
    stratum_labels: list[str]
    findings: list[Finding] = field(default_factory=list)
    strata: np.ndarray | None = None
    cluster: None = None

    has_rows = False

    @property
    def is_binary(self) -> bool:
        if self.metric.denominator is not None:
            return False
        for m in self.arm_moments:
            p = m.mean[0]
            if not (0 <= p <= 1) or not np.isclose(
                m.comoment[0, 0], m.n * p * (1 - p), rtol=1e-9, atol=1e-9
            ):
                return False
        return True

    def moments(self) -> list[Moments]:
        return self.arm_moments

    def cell_moments(self) -> dict[tuple[int, int], Moments]:
        assert self.cells is not None
        return self.cells

    def counts(self, arm: int, stratum: int | None = None) -> tuple[int, int]:
        m = self.arm_moments[arm] if stratum is None else self.cell_moments()[(arm, stratum)]
        return round(m.mean[0] * m.n), round(m.n)


def read_summary(table: Any, spec: ABTestSpec, design: Design) -> list[SummaryOutcome]:
    """Build a `SummaryOutcome` for each metric named in the spec (or the bare metric).

    `table` is a DataFrame or a mapping of column name to array, one entry per row.
    """
    table = as_columns(table)
    columns = set(table)
    arms, codes = design.arms, design.codes
    if "n" not in columns:
        raise UserInputError(
            "a summary table needs a column 'n' with the number of units in each row."
        )
    if spec.cluster:
        raise UserInputError(
            "--cluster needs the raw rows (cluster totals come from them); drop --from-summary "
            "or summarise to one row per cluster and analyse those rows instead."
        )
    texts = spec.outcome or ["metric"]
    bare = not spec.outcome or (
        len(texts) == 1
        and _name(texts[0], "sum") not in columns
        and _name(texts[0], "mean") not in columns
        and "/" not in texts[0]
    )
    outcomes = []
    for text in texts:
        metric = Metric.parse(text)
        variables: list[str | None]
        variables = [None, *spec.covariates] if bare else [*metric.columns, *spec.covariates]
        counts = spec.test_type in ("fisher", "chi_square")
        for i, code in enumerate(codes):
            if code >= 0:
                check_row(_Row(table, i), variables, columns, arms[code], counts)
        rows = [_row_moments(_Row(table, i), variables, columns) for i in range(len(codes))]
        if metric.denominator is None:
            rows = [with_unit_denominator(m) for m in rows]
        findings = _precision_findings(table, variables, columns, metric.name)
        arm_moments = []
        for a, arm in enumerate(arms):
            parts = [rows[i] for i in np.flatnonzero(codes == a) if rows[i].n > 0]
            if not parts:
                raise UserInputError(
                    f"arm {arm!r} has no rows with a value of {metric.name!r}; every arm needs "
                    "data – check the outcome column or remove the arm."
                )
            arm_moments.append(merge_all(parts))
        cells, labels = None, design.stratum_labels
        if spec.strata:
            assert design.strata is not None
            s_codes = design.strata
            cells = {}
            for a in range(len(arms)):
                for s in range(len(labels)):
                    cell = np.flatnonzero((codes == a) & (s_codes == s))
                    parts = [rows[i] for i in cell if rows[i].n > 0]
                    if not parts:
                        raise UserInputError(
                            f"the summary table has no row for arm {arms[a]!r} in stratum {labels[s]!r}."
                        )
                    cells[(a, s)] = merge_all(parts)
        outcomes.append(SummaryOutcome(metric, arms, arm_moments, cells, labels, findings))
    return outcomes


def _precision_findings(
    table: Mapping[str, np.ndarray], variables: list[str | None], columns: set[str], name: str
) -> list[Finding]:
    findings = []
    for v in variables:
        s, ss = _name(v, "sum"), _name(v, "sum_sq")
        if s in columns and ss in columns and _name(v, "mean") not in columns:
            n = table["n"].astype(float)
            raw = table[ss].astype(float)
            centred = raw - table[s].astype(float) ** 2 / n
            with np.errstate(divide="ignore", invalid="ignore"):
                lost = np.nanmax(np.log10(np.abs(raw) / np.abs(centred)))
            if lost > 8:
                findings.append(
                    Finding(
                        "warning",
                        "summary_precision",
                        f"{name}: sum_sq of {v or 'the metric'} is about 10^{lost:.0f} times its "
                        "centred value, so about that many digits of the variance are lost; "
                        "supply mean and var columns instead of raw sums.",
                    )
                )
    return findings


@dataclass
class ClusterTotals:
    """One metric's per-arm moments of cluster totals, computed where the data lives.

    Columns of the moments: [Σ numerator, Σ denominator (rows for a plain mean), Σ covariates]
    over each cluster's complete rows; `rows` counts those rows per arm (for the CR1 factor).
    """

    metric: Metric
    arms: list[str]
    totals: list[Moments]
    rows: list[float]
    binary: bool
    findings: list[Finding] = field(default_factory=list)
    strata: None = None
    cluster: bool = True

    has_rows = False

    @property
    def is_binary(self) -> bool:
        return self.binary

    def cluster_moments(self) -> tuple[list[Moments], list[float]]:
        for arm, m in zip(self.arms, self.totals, strict=True):
            if m.n == 0:
                raise UserInputError(
                    f"arm {arm!r} has no rows with a value of {self.metric.name!r}; every arm "
                    "needs data – check the outcome column or remove the arm."
                )
        return self.totals, self.rows

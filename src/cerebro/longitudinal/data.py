"""The panel a strategy analysis runs on: every unit followed for the same K periods.

From long rows (one per unit and period, checked by `cerebro.data.person_time.panel_order`: no
gaps, no time going backwards or repeating) to arrays: time-varying confounders L (n × K × m),
treatment A (n × K, 0/1), baseline covariates V (n × b, the first row), outcome Y (n, the last
row). Drop-out (censoring) is not modelled yet, so every unit must cover the same periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import note_dropped, numeric_column
from cerebro.data.load import label_text
from cerebro.data.person_time import panel_order, whole_periods
from cerebro.data.validate import require_varying

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.longitudinal.spec import LongitudinalSpec


@dataclass
class Panel:
    L: np.ndarray
    A: np.ndarray
    V: np.ndarray
    Y: np.ndarray
    confounders: list[str]
    baseline: list[str]
    binary_outcome: bool
    binary_confounders: list[bool]
    periods: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.Y)

    @property
    def K(self) -> int:
        return self.A.shape[1]

    def take(self, rows: np.ndarray) -> Panel:
        return Panel(self.L[rows], self.A[rows], self.V[rows], self.Y[rows], self.confounders,
                     self.baseline, self.binary_outcome, self.binary_confounders, self.periods)  # fmt: skip


def _is_binary(values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    return bool(present.size) and bool(np.all((present == 0) | (present == 1)))


def _balanced(units: np.ndarray, periods: np.ndarray, spec: LongitudinalSpec) -> int:
    """K, after refusing units that do not all cover the same periods."""
    start = np.r_[True, units[1:] != units[:-1]]
    first = np.flatnonzero(start)
    lengths = np.diff(np.r_[first, len(units)])
    K = int(np.bincount(lengths).argmax())
    for f, length in zip(first, lengths, strict=True):
        if length != K or periods[f] != periods[first[0]]:
            raise UserInputError(
                f"unit {label_text(units[f])!r} covers periods {periods[f]}–"
                f"{periods[f + length - 1]} of {spec.time!r}, others "
                f"{periods[first[0]]}–{periods[first[0]] + K - 1}; every unit must be followed "
                "for the same periods (drop-out is not modelled yet)."
            )
    return K


def prepare(frame: pd.DataFrame, spec: LongitudinalSpec) -> Panel:
    periods = whole_periods(numeric_column(frame[spec.time], spec.time, "time"), spec.time)
    order = panel_order(frame[spec.unit].to_numpy(), periods, spec.unit, spec.time)
    rows = frame.iloc[order].reset_index(drop=True)
    units, periods = rows[spec.unit].to_numpy(), periods[order]
    K = _balanced(units, periods, spec)
    n = len(rows) // K
    A = numeric_column(rows[spec.treatment], spec.treatment, "treatment").reshape(n, K)
    if not _is_binary(A):
        raise UserInputError(
            f"treatment column {spec.treatment!r} must be 1 (treated) or 0 in every period."
        )
    L = np.stack([numeric_column(rows[c], c, "confounder").reshape(n, K) for c in spec.confounders],
                 axis=2) if spec.confounders else np.empty((n, K, 0))  # fmt: skip
    V = np.column_stack([numeric_column(rows[c], c, "baseline").reshape(n, K)[:, 0]
                         for c in spec.baseline]) if spec.baseline else np.empty((n, 0))  # fmt: skip
    Y = numeric_column(rows[spec.outcome], spec.outcome, "outcome").reshape(n, K)[:, -1]
    keep = ~(np.isnan(A).any(1) | np.isnan(L).any((1, 2)) | np.isnan(V).any(1) | np.isnan(Y))
    findings: list[Finding] = []
    note_dropped(findings, keep, "treatment, confounder, baseline or final outcome value",
                 "missingness is unrelated to the outcome given the history")  # fmt: skip
    if keep.sum() < 10:
        raise UserInputError(f"only {int(keep.sum())} complete units; strategies need more.")
    Y = Y[keep]
    require_varying(Y, spec.outcome, "outcome", rows="complete units")
    for k in range(K):
        if np.unique(A[keep][:, k]).size < 2:
            raise UserInputError(
                f"in period {int(periods[0]) + k} of {spec.time!r} every unit has "
                f"{spec.treatment!r} = {A[keep][0, k]:g}, so what treatment does in that period "
                "cannot be learnt from these data (positivity); drop the period or add units."
            )
    for j, name in enumerate(spec.confounders):
        require_varying(L[keep][:, :, j].ravel(), name, "confounder", rows="complete unit-periods")
    for j, name in enumerate(spec.baseline):
        require_varying(V[keep][:, j], name, "baseline", rows="complete units")
    binary_l = [_is_binary(L[keep][:, :, j]) for j in range(L.shape[2])]
    return Panel(L[keep], A[keep], V[keep], Y, list(spec.confounders), list(spec.baseline),
                 _is_binary(Y), binary_l, list(range(int(periods[0]), int(periods[0]) + K)),
                 findings)  # fmt: skip

"""The bounds part of a `counterfactual` run: Manski, MTR, MTS and Lee bounds on the average
effect with bootstrap SEs and Imbens–Manski intervals (see `bounds`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.counterfactual import bounds as bd
from cerebro.counterfactual import data as cfdata
from cerebro.data.columns import note_dropped, numeric_column
from cerebro.data.validate import require_units_per_arm

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.counterfactual.analysis import Parts
    from cerebro.counterfactual.spec import CounterfactualSpec

NAMES = {
    "manski": "no assumption (Manski)",
    "mtr": "monotone treatment response",
    "mts": "monotone treatment selection",
    "mtr_mts": "monotone response and selection",
    "lee": "Lee bounds (always-selected)",
}


def outcome_range(y: np.ndarray, spec: CounterfactualSpec) -> tuple[float, float]:
    """[lo, hi] from --outcome-bounds, or [0, 1] for a 0/1 outcome; values outside refused."""
    if spec.outcome_bounds:
        lo, hi = spec.outcome_bounds
    elif cfdata.is_binary(y):
        lo, hi = 0.0, 1.0
    else:
        raise UserInputError(
            f"--bounds {','.join(k for k in spec.bounds if k != 'lee')} needs the range the "
            f"outcome {spec.outcome!r} can take: add --outcome-bounds lo,hi (e.g. 0,100)."
        )
    present = y[~np.isnan(y)]
    outside = present[(present < lo) | (present > hi)]
    if outside.size:
        raise UserInputError(
            f"outcome {spec.outcome!r} has values outside --outcome-bounds {lo:g},{hi:g} (e.g. "
            f"{outside[0]:g}); widen the bounds to the outcome's real range."
        )
    return lo, hi


def _selection(frame: pd.DataFrame, spec: CounterfactualSpec, y: np.ndarray) -> np.ndarray:
    """1 where the outcome is observed: the --selected column, or a non-missing outcome."""
    if spec.selected is None:
        return (~np.isnan(y)).astype(float)
    s = numeric_column(frame[spec.selected], spec.selected, "selection")
    if not cfdata.is_binary(s):
        raise UserInputError(f"--selected {spec.selected!r} must be 0/1 (1 = outcome observed).")
    gaps = int(np.sum((s == 1) & np.isnan(y)))
    if gaps:
        raise UserInputError(
            f"outcome {spec.outcome!r} is missing in {gaps} rows where {spec.selected!r} is 1; "
            "a selected row needs its outcome (or mark it 0)."
        )
    return s


def bounds_part(frame: pd.DataFrame, spec: CounterfactualSpec, parts: Parts) -> None:
    """Each asked bound with its bootstrap SEs and Imbens–Manski interval."""
    d, arms = cfdata.binary_treatment(frame, spec, "--bounds", parts.findings)
    y = cfdata.outcome(frame, spec)
    compute: dict[str, Any] = {}
    points: dict[str, np.ndarray] = {}
    monotone = [k for k in spec.bounds if k != "lee"]
    if monotone:
        keep = ~(np.isnan(d) | np.isnan(y))
        note_dropped(parts.findings, keep, "treatment or outcome", "outcomes are missing at random")
        dm, ym = d[keep], y[keep]
        require_units_per_arm(dm, arms, spec.treatment)
        lo, hi = outcome_range(ym, spec)
        parts.summary["outcome_bounds"] = f"{lo:g},{hi:g}"
        for kind in monotone:
            points[kind] = bd.monotone_bounds(kind, ym, dm, lo, hi, spec.monotone)[4:]
            compute[kind] = _monotone(kind, ym, dm, lo, hi, spec.monotone)
        reps = bd.bootstrap_bounds(compute, len(dm), spec.bootstrap, spec.seed + 2, dm)
        _report(points, reps, spec, parts, float(ym[dm == 1].mean() - ym[dm == 0].mean()))
    if "lee" in spec.bounds:
        _lee(frame, spec, parts, d, y)


def _monotone(kind: str, y: np.ndarray, d: np.ndarray, lo: float, hi: float, direction: str) -> Any:
    return lambda rows: bd.monotone_bounds(kind, y[rows], d[rows], lo, hi, direction)[4:]


def _lee(
    frame: pd.DataFrame, spec: CounterfactualSpec, parts: Parts, d: np.ndarray, y: np.ndarray
) -> None:
    s = _selection(frame, spec, y)
    keep = ~(np.isnan(d) | np.isnan(s))
    d, s, y = d[keep], s[keep], np.where(s[keep] == 1, y[keep], 0.0)
    for arm, label in ((1, "treated"), (0, "control")):
        if np.sum((d == arm) & (s == 1)) < 2:
            raise UserInputError(
                f"Lee bounds need observed outcomes in both arms; the {label} arm of "
                f"{spec.treatment!r} has fewer than 2 selected rows."
            )
    point = bd.lee_bounds(y, d, s)

    def compute(rows: np.ndarray) -> np.ndarray:
        if min(np.sum((d[rows] == a) & (s[rows] == 1)) for a in (0, 1)) < 1:
            return np.array([np.nan, np.nan])
        return bd.lee_bounds(y[rows], d[rows], s[rows])[:2]

    reps = bd.bootstrap_bounds({"lee": compute}, len(d), spec.bootstrap, spec.seed + 3, d)
    naive = float(y[(d == 1) & (s == 1)].mean() - y[(d == 0) & (s == 1)].mean())
    _report({"lee": point[:2]}, reps, spec, parts, naive)
    p, q1, q0 = point[2:]
    trimmed = "treated" if q1 >= q0 else "control"
    parts.summary |= {"lee_trim_share": float(p), "selection_treated": float(q1),
                      "selection_control": float(q0)}  # fmt: skip
    parts.findings.append(
        Finding(
            "info",
            "lee_trimming",
            f"Lee bounds: outcomes observed for {q1:.1%} of treated and {q0:.1%} of control "
            f"rows, so the {trimmed} group's observed outcomes are trimmed by {p:.1%}; the "
            "bounds are for the units whose outcome would be observed under either arm, and "
            "assume random assignment and that treatment moves selection in one direction only.",
        )
    )


def _report(
    points: dict[str, np.ndarray],
    reps: dict[str, np.ndarray],
    spec: CounterfactualSpec,
    parts: Parts,
    naive: float,
) -> None:
    """Estimates, the `bounds` table rows and a finding per assumption."""
    from cerebro.counterfactual.analysis import bound_estimate

    table = parts.tables.setdefault(
        "bounds",
        {k: [] for k in ("assumption", "lower", "upper", "lower_se", "upper_se",
                         "ate_ci_low", "ate_ci_high", "naive_difference")},
    )  # fmt: skip
    for kind, (low, high) in points.items():
        name = NAMES[kind]
        lower = bound_estimate(f"ATE lower bound, {name}", f"{kind}_lower", float(low),
                               reps[kind][:, 0], spec.alpha)  # fmt: skip
        upper = bound_estimate(f"ATE upper bound, {name}", f"{kind}_upper", float(high),
                               reps[kind][:, 1], spec.alpha)  # fmt: skip
        ci = bd.imbens_manski(lower.value, upper.value, lower.se, upper.se, spec.alpha)
        for e in (lower, upper):
            e.extra |= {"ate_ci_low": float(ci[0]), "ate_ci_high": float(ci[1])}
            parts.add("bounds", e)
        for column, value in zip(
            table,
            (name, float(low), float(high), lower.se, upper.se, float(ci[0]), float(ci[1]), naive),
            strict=True,
        ):
            table[column].append(value)
        _bound_finding(kind, name, float(low), float(high), ci, spec, parts)


def _bound_finding(
    kind: str, name: str, low: float, high: float, ci: tuple[float, float],
    spec: CounterfactualSpec, parts: Parts,
) -> None:  # fmt: skip
    level = f"{1 - spec.alpha:.0%}"
    if low > high:
        parts.findings.append(
            Finding(
                "warning",
                f"{kind}_contradicted",
                f"{name}: the lower bound {low:.4g} exceeds the upper bound {high:.4g}, so the "
                "data contradict this assumption.",
            )
        )
        return
    sign = "excludes" if ci[0] > 0 or ci[1] < 0 else "includes"
    who = " on the always-selected" if kind == "lee" else ""
    parts.findings.append(
        Finding(
            "info",
            f"{kind}_bounds",
            f"{name}: the average effect{who} lies in [{low:.4g}, {high:.4g}]; the {level} "
            f"Imbens–Manski interval [{ci[0]:.4g}, {ci[1]:.4g}] {sign} zero.",
        )
    )
    parts.narrative.append(f"Under {name}, the effect is between {low:.4g} and {high:.4g}.")

"""`cerebro abtest --by plan,region`: the same test within each segment, and what looking at
many segments implies.

Each segment (a value, or a combination of values, of the `by` columns) is analysed as its own
A/B test with the spec's test. Looking at S segments × V comparisons multiplies the chances of a
false positive, so every segment p-value is also given adjusted over all of them – Holm
(family-wise) and Benjamini–Hochberg (false discovery rate). Whether the lift differs between
segments is one question, answered per comparison by Cochran's Q test of homogeneity
Q = Σ_s w_s (θ_s − θ̄)², w_s = 1/SE_s², θ̄ the inverse-variance mean, against χ²(S − 1)
(Cochran 1954; the standard test of heterogeneity in meta-analysis) – not by counting which
segments happen to be significant. Segments are exploratory unless they were planned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.stats.multiplicity import benjamini_hochberg, holm

MAX_SEGMENTS = 200  # more segments than anyone reads; the multiplicity makes each useless


def segment_rows(
    frame: Any, by: list[str], run: Callable[[Any], Result]
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The absolute comparisons of every segment of `frame`, one row each; a segment the test
    cannot analyse (an arm missing, too few rows) is skipped with a finding."""
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise UserInputError(
            f"--by column {missing[0]!r} is not in the data; available: "
            f"{', '.join(map(str, frame.columns))}."
        )
    groups = frame.groupby(by, dropna=True, sort=True, observed=True)
    if groups.ngroups > MAX_SEGMENTS:
        raise UserInputError(
            f"--by {','.join(by)} makes {groups.ngroups} segments (more than {MAX_SEGMENTS}); "
            "choose coarser columns."
        )
    rows, findings = [], []
    for key, sub in groups:
        values = key if isinstance(key, tuple) else (key,)
        name = ", ".join(f"{c}={v}" for c, v in zip(by, values, strict=True))
        try:
            result = run(sub)
        except UserInputError as err:
            findings.append(
                Finding("warning", "segment_skipped", f"segment {name}: not analysed – {err}")
            )
            continue
        for e in result.estimates:
            if e.extra.get("measure") == "relative lift" or e.p_value is None:
                continue
            rows.append(
                {
                    "segment": name,
                    "outcome": e.extra.get("outcome"),
                    "variant": e.extra.get("variant"),
                    "control": e.extra.get("control"),
                    "n_control": e.extra.get("n_control"),
                    "n_variant": e.extra.get("n_variant"),
                    "lift": e.value,
                    "se": e.se,
                    "lift_ci_low": e.ci_low,
                    "lift_ci_high": e.ci_high,
                    "p_value": e.p_value,
                }
            )
    if not rows:
        raise UserInputError(
            f"no segment of --by {','.join(by)} could be analysed; check that every segment "
            "holds rows of the control and a variant."
        )
    return rows, findings


def adjust(rows: list[dict[str, Any]]) -> None:
    """Holm and BH over every segment comparison, in place."""
    p = np.array([r["p_value"] for r in rows], dtype=float)
    for row, h, b in zip(rows, holm(p), benjamini_hochberg(p), strict=True):
        row["p_holm_segments"], row["p_bh_segments"] = float(h), float(b)


def heterogeneity(rows: list[dict[str, Any]], alpha: float) -> list[Finding]:
    """Cochran's Q per (outcome, variant, control): does the lift differ between segments?"""
    findings = []
    pairs = dict.fromkeys((r["outcome"], r["variant"], r["control"]) for r in rows)
    for outcome, variant, control in pairs:
        group = [
            r for r in rows
            if (r["outcome"], r["variant"], r["control"]) == (outcome, variant, control)
            and r["se"] and r["se"] > 0
        ]  # fmt: skip
        if len(group) < 2:
            continue
        theta = np.array([r["lift"] for r in group])
        w = 1 / np.array([r["se"] for r in group]) ** 2
        mean = float(np.sum(w * theta) / np.sum(w))
        q = float(np.sum(w * (theta - mean) ** 2))
        df = len(group) - 1
        p = float(stats.chi2.sf(q, df))
        verdict = (
            "the lift differs between segments"
            if p < alpha
            else "no evidence that the lift differs between segments"
        )
        findings.append(
            Finding(
                "warning" if p < alpha else "info",
                "segment_heterogeneity",
                f"{outcome}, {variant} vs {control}: {verdict} (Cochran's Q = {q:.3g}, "
                f"df {df}, p = {p:.3g}; inverse-variance mean lift {mean:.4g}).",
            )
        )
    return findings


def segment_estimates(rows: list[dict[str, Any]]) -> list[Estimate]:
    """One estimate per segment comparison, labelled by its segment."""
    keep = ("segment", "outcome", "variant", "control", "p_holm_segments", "p_bh_segments")
    return [
        Estimate(
            f"{r['outcome']}: {r['variant']} − {r['control']} [{r['segment']}]",
            r["lift"],
            r["se"],
            r["lift_ci_low"],
            r["lift_ci_high"],
            r["p_value"],
            {k: r[k] for k in keep} | {"measure": "segment lift"},
        )
        for r in rows
    ]

"""`cerebro abtest --type sequential --time day`: always-valid analysis of a continuously monitored test.

Every distinct value of the time column is a look; each look analyses all rows up to and
including it. For every variant against the control and every outcome, the mixture SPRT of
`sequential.py` gives the always-valid p-value and confidence sequence at each look, so the
test may be watched daily and stopped as soon as p < alpha without inflating the error rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.experiments.abtest.data import Design, Metric, _codes, _numeric
from cerebro.experiments.abtest.result import comparison_result
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.sequential.msprt import always_valid_p, confidence_sequence

DEFAULT_MIXING_SD = 0.1  # in pooled standard deviations of the first look


@dataclass
class LookMoments:
    """Cumulative per-arm counts, means and variances at each look (arrays: looks × arms)."""

    metric: Metric
    arms: list[str]
    times: list[Any]
    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    findings: list[Finding] = field(default_factory=list)
    binary: bool = False


def summary_looks(outcome: Any) -> LookMoments:
    """A summary table's per-arm moments as one look (the sequence's value at that sample)."""
    ms = outcome.moments()
    n = np.array([[m.n for m in ms]], dtype=float)
    mean = np.array([[m.mean[0] for m in ms]], dtype=float)
    var = np.array([[m.comoment[0, 0] / (m.n - 1) if m.n > 1 else np.nan for m in ms]])
    return LookMoments(
        outcome.metric, list(outcome.arms), ["summary"], n, mean, var, list(outcome.findings),
        outcome.is_binary,
    )  # fmt: skip


def look_moments(frame: Any, design: Design, metric: Metric, spec: ABTestSpec) -> LookMoments:
    """Cumulative moments of `metric` by look (distinct values of the time column, sorted)."""
    assert spec.time_column is not None
    y = _numeric(frame, metric.numerator, "outcome")
    look, times = _codes(frame[spec.time_column], sort=True)
    keep = (design.codes >= 0) & ~np.isnan(y) & (look >= 0)
    dropped = int((design.codes >= 0).sum() - keep.sum())
    k, arms = len(times), len(design.arms)
    cell = look[keep] * arms + design.codes[keep]
    values = y[keep]
    shift = values.mean() if values.size else 0.0  # centring keeps the sums of squares exact
    centred = values - shift

    def cumulative(weights: np.ndarray | None) -> np.ndarray:
        sums = np.bincount(cell, weights=weights, minlength=k * arms).reshape(k, arms)
        return np.cumsum(sums, axis=0)

    n, s1, s2 = cumulative(None), cumulative(centred), cumulative(centred**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = (s2 - n * mean**2) / (n - 1)
    findings = []
    if dropped:
        findings.append(
            Finding(
                "warning",
                "dropped_missing",
                f"{metric.name}: dropped {dropped:,} rows with a missing outcome or {spec.time_column!r}.",
            )
        )
    shown = [t.item() if isinstance(t, np.generic) else t for t in times]
    shown = [t if isinstance(t, (int, float, str)) else str(t) for t in shown]  # dates print
    binary = bool(values.size) and bool(np.isin(values, (0.0, 1.0)).all())
    return LookMoments(metric, list(design.arms), shown, n, mean + shift, var, findings, binary)


def _first_usable(m: LookMoments, a: int) -> int:
    """First look at which control and arm `a` both have two or more rows and variation."""
    ok = (m.n[:, 0] >= 2) & (m.n[:, a] >= 2) & (m.var[:, 0] + m.var[:, a] > 0)
    if not ok.any():
        raise UserInputError(
            f"{m.metric.name}: arm {m.arms[a]!r} and the control never both have two rows with "
            "varying values; there is nothing to test yet."
        )
    return int(np.argmax(ok))


def _group_sequential(
    spec: ABTestSpec,
    n_c: np.ndarray,
    n_v: np.ndarray,
    d: np.ndarray,
    v: np.ndarray,
    times: list[Any],
) -> dict[str, Any] | None:
    """Lan–DeMets boundaries at the observed information fractions, and the decision."""
    if not spec.planned_n:
        return None
    from cerebro.experiments.sequential import boundaries as gs

    # A test that ran past its plan is renormalised to the largest sample seen (Spotify's
    # convention): the last look is then the final one, and every look's boundary is recomputed.
    t = (n_c + n_v) / max(2 * spec.planned_n, float((n_c + n_v).max()))
    z = d / np.sqrt(v)
    bounds = np.full(len(t), np.nan)
    # A look adds information only if the fraction grew; boundaries exist for those looks.
    new = np.r_[True, np.diff(t) > 0]
    bounds[new] = gs.boundaries(t[new], spec.alpha, 2, spec.spending, spec.rho)
    futility = np.full(len(t), np.nan)
    signed = z * np.sign(spec.mde or 1.0)  # z in the direction of the hoped-for effect
    if spec.futility:
        assert spec.mde  # check_model_limits insists
        # Planned drift θ₁ = mde·√I_max, with I_max = 1/Var(lift) at the planned sample,
        # estimated from the latest look: Var scales as 1/units, so Var_max = v_last · t_last.
        drift = abs(spec.mde) / np.sqrt(v[-1] * t[-1])
        # Binding: the upper efficacy bound spends alpha/2 among paths futility has not stopped
        # (the lower one, for harm, keeps its two-sided value).
        bounds[new], futility[new] = gs.futility_at_looks(
            t[new],
            bounds[new],
            1 - spec.power,
            drift,
            spec.futility,
            spec.binding,
            spec.alpha / 2,
            spec.spending,
            spec.rho,
        )
    wins = new & (np.abs(z) >= bounds)
    losses = new & ~wins & (signed <= futility)
    first = np.flatnonzero(wins | losses)
    if first.size and wins[first[0]]:
        k = int(first[0])
        decision = (
            f"stop for efficacy at look {k + 1} ({times[k]}): |z| {abs(z[k]):.2f} ≥ {bounds[k]:.2f}"
        )
    elif first.size:
        k = int(first[0])
        decision = (
            f"stop for futility at look {k + 1} ({times[k]}): z {signed[k]:.2f} ≤ futility bound "
            f"{futility[k]:.2f} – the planned effect {spec.mde:g} is unlikely to be shown"
        )
    elif t[-1] >= 1:
        decision = "final look reached without crossing: no significant effect"
    else:
        decision = f"continue ({t[-1]:.0%} of planned information)"
    return {
        "info_fraction": t.tolist(),
        "past_plan": bool((n_c + n_v).max() > 2 * spec.planned_n),
        "z": z.tolist(),
        "z_boundary": [None if np.isnan(b) else float(b) for b in bounds],
        **(
            {"z_futility": [None if np.isnan(a) else float(a) for a in futility]}
            if spec.futility
            else {}
        ),
        "decision": decision,
    }


def sequential_analysis(
    spec: ABTestSpec,
    arms: list[str],
    outcomes: list[LookMoments],
    findings: list[Finding],
    title: str,
) -> Result:
    alpha, control = spec.alpha, arms[0]
    estimates: list[Estimate] = []
    rows: list[dict[str, Any]] = []
    look_rows: list[dict[str, Any]] = []
    tuned = spec.sequential_tuning is not None
    for m in outcomes:
        m = m if isinstance(m, LookMoments) else summary_looks(m)
        findings.extend(m.findings)
        for a in range(1, len(arms)):
            over_looks = _tuned_over_looks if tuned else _variant_over_looks
            row, looks, estimate = over_looks(spec, m, arms, a)
            rows.append(row)
            look_rows += looks
            estimates.append(estimate)
        findings.append(Finding("info", "test_choice", _test_choice(spec, m)))
    shown = ("outcome", "variant", "looks", "n_control", "n_variant", "lift", "lift_ci_low",
             "lift_ci_high", "rel_lift", "p_value", "decision", "gs_decision")  # fmt: skip
    if tuned:
        shown = ("outcome", "variant", "looks", "n_control", "n_variant", "rel_lift",
                 "rel_lift_ci_low", "rel_lift_ci_high", "p_value", "decision")  # fmt: skip
    if spec.planned_n:
        findings.append(_group_sequential_finding(spec))
        past = sorted({r["variant"] for r in rows if r.get("past_plan")})
        if past:
            findings.append(
                Finding(
                    "warning",
                    "past_plan",
                    f"{', '.join(map(repr, past))}: the test ran past its plan of "
                    f"{spec.planned_n:,} units per arm; the information fractions are "
                    "renormalised to the largest sample seen (Spotify's convention), so the "
                    "last look is the final analysis and every boundary was recomputed – "
                    "raise --planned-n if more data are still to come.",
                )
            )
    what, low, high = (
        ("relative lift", "rel_lift_ci_low", "rel_lift_ci_high")
        if tuned
        else ("lift", "lift_ci_low", "lift_ci_high")
    )
    narrative = [
        f"{r['variant']} vs {control} on {r['outcome']} after {r['looks']} looks: {what} "
        f"{r[what.replace('relative lift', 'rel_lift')]:+.4g} ({1 - alpha:.0%} confidence "
        f"sequence {r[low]:+.4g} to {r[high]:+.4g}), always-valid p = {r['p_value']:.3g}: "
        f"{r['decision']}."
        for r in rows
    ]
    return comparison_result(
        spec,
        "sequential",
        title + " · sequential (always valid)",
        estimates,
        findings,
        rows,
        shown,
        narrative,
        extra_tables={"looks": look_rows},
        control=control,
        alpha=alpha,
        arms=len(arms),
    )


def _test_choice(spec: ABTestSpec, m: LookMoments) -> str:
    """The sentence naming the sequential test and its tuning."""
    looks = f"{len(m.times)} looks of {spec.time_column!r}" if spec.time_column else "one look"
    level = f"{1 - spec.alpha:.0%}"
    if spec.sequential_tuning is not None:
        return (
            f"{m.metric.name}: asymptotic confidence sequence of the relative lift (Waudby-Smith "
            f"et al. 2023; GrowthBook's tuning N* = {spec.sequential_tuning:g}) over {looks}; "
            f"always-valid p-values and {level} sequences may be checked at every look."
        )
    chosen = (
        "set by --mixing-sd" if spec.mixing_sd is not None else "0.1 pooled SD at the first look"
    )
    return (
        f"{m.metric.name}: mixture SPRT (normal mixing, τ {chosen}) over {looks}; always-valid "
        f"p-values and {level} confidence sequences may be checked at every look without "
        "inflating the error rate."
    )


def _tuned_over_looks(
    spec: ABTestSpec, m: LookMoments, arms: list[str], a: int
) -> tuple[dict[str, Any], list[dict[str, Any]], Estimate]:
    """Variant `a` against the control with GrowthBook's asymptotic confidence sequence of the
    relative lift at every look (running intersection and running minimum p over looks)."""
    from cerebro.experiments.sequential import asymptotic

    assert spec.sequential_tuning is not None
    start = _first_usable(m, a)
    n_c, n_v = m.n[start:, 0], m.n[start:, a]
    mean_c, mean_v = m.mean[start:, 0], m.mean[start:, a]
    # GrowthBook's variance of a rate is p(1 − p); of a mean, the sample variance
    shrink = (lambda n: (n - 1) / n) if m.binary else (lambda n: 1.0)
    var_c, var_v = m.var[start:, 0] * shrink(n_c), m.var[start:, a] * shrink(n_v)
    if np.any(mean_c == 0):
        raise UserInputError(
            f"{m.metric.name}: the control's mean is 0 at a look, so the relative lift is "
            "undefined; drop --sequential-tuning (the mSPRT tests the difference)."
        )
    rel = mean_v / mean_c - 1
    se = np.sqrt(var_v / (mean_c**2 * n_v) + mean_v**2 * var_c / (mean_c**4 * n_c))
    tuning, n = spec.sequential_tuning, n_c + n_v
    half = asymptotic.half_width(se, n, spec.alpha, tuning)
    low, high = np.maximum.accumulate(rel - half), np.minimum.accumulate(rel + half)
    p = np.minimum.accumulate(asymptotic.always_valid_p(rel, se, n, spec.alpha, tuning))
    stop = np.flatnonzero(p < spec.alpha)
    decision = (
        f"stop: significant since look {start + stop[0] + 1} ({m.times[start + stop[0]]})"
        if stop.size
        else "continue"
    )
    looks = [
        {"outcome": m.metric.name, "variant": arms[a], "look": start + i + 1,
         "time": m.times[start + i], "n_control": float(n_c[i]), "n_variant": float(n_v[i]),
         "rel_lift": float(rel[i]), "cs_low": float(low[i]), "cs_high": float(high[i]),
         "p_always_valid": float(p[i])}
        for i in range(len(rel))
    ]  # fmt: skip
    row = {
        "outcome": m.metric.name, "variant": arms[a], "control": arms[0], "looks": len(rel),
        "n_control": float(n_c[-1]), "n_variant": float(n_v[-1]),
        "mean_control": float(mean_c[-1]), "mean_variant": float(mean_v[-1]),
        "lift": float(mean_v[-1] - mean_c[-1]), "rel_lift": float(rel[-1]),
        "rel_lift_ci_low": float(low[-1]), "rel_lift_ci_high": float(high[-1]),
        "p_value": float(p[-1]), "decision": decision, "sequential_tuning": float(tuning),
    }  # fmt: skip
    estimate = Estimate(
        f"{m.metric.name}: {arms[a]} vs {arms[0]} (relative)",
        row["rel_lift"],
        float(se[-1]),
        row["rel_lift_ci_low"],
        row["rel_lift_ci_high"],
        row["p_value"],
        {k: row[k] for k in ("outcome", "variant", "control", "looks", "decision")}
        | {"measure": "relative lift", "interval": "confidence sequence", "tuning": tuning},
    )
    return row, looks, estimate


def _variant_over_looks(
    spec: ABTestSpec, m: LookMoments, arms: list[str], a: int
) -> tuple[dict[str, Any], list[dict[str, Any]], Estimate]:
    """Variant `a` against the control on one outcome at every look from the first usable one:
    mixture-SPRT always-valid p-values and confidence sequences (and the group-sequential
    boundaries when planned), as the comparison row and the estimate at the last look, and a
    row per look."""
    alpha, control = spec.alpha, arms[0]
    look_rows: list[dict[str, Any]] = []
    start = _first_usable(m, a)
    n_c, n_v = m.n[start:, 0], m.n[start:, a]
    d = m.mean[start:, a] - m.mean[start:, 0]
    v = m.var[start:, 0] / n_c + m.var[start:, a] / n_v
    pooled_sd = np.sqrt((m.var[start, 0] + m.var[start, a]) / 2)
    tau = spec.mixing_sd if spec.mixing_sd is not None else DEFAULT_MIXING_SD * pooled_sd
    p = always_valid_p(d, v, tau**2)
    low, high = confidence_sequence(d, v, tau**2, alpha)
    plan = _group_sequential(spec, n_c, n_v, d, v, [m.times[start + i] for i in range(len(d))])
    stop = np.flatnonzero(p < alpha)
    decision = (
        f"stop: significant since look {start + stop[0] + 1} ({m.times[start + stop[0]]})"
        if stop.size
        else "continue"
    )
    for i in range(len(d)):
        look_rows.append(
            {
                "outcome": m.metric.name,
                "variant": arms[a],
                "look": start + i + 1,
                "time": m.times[start + i],
                "n_control": float(n_c[i]),
                "n_variant": float(n_v[i]),
                "lift": float(d[i]),
                "cs_low": float(low[i]),
                "cs_high": float(high[i]),
                "p_always_valid": float(p[i]),
                **(
                    {
                        k: plan[k][i]
                        for k in ("info_fraction", "z", "z_boundary", "z_futility")
                        if k in plan
                    }
                    if plan
                    else {}
                ),
            }
        )
    mean_c = float(m.mean[-1, 0])
    row = {
        "outcome": m.metric.name,
        "variant": arms[a],
        "control": control,
        "looks": len(d),
        "n_control": float(n_c[-1]),
        "n_variant": float(n_v[-1]),
        "mean_control": mean_c,
        "mean_variant": float(m.mean[-1, a]),
        "lift": float(d[-1]),
        "lift_ci_low": float(low[-1]),
        "lift_ci_high": float(high[-1]),
        "rel_lift": float(d[-1] / mean_c) if mean_c else None,
        "p_value": float(p[-1]),
        "decision": decision,
        "mixing_sd": float(tau),
        **({"gs_decision": plan["decision"], "past_plan": plan["past_plan"]} if plan else {}),
    }
    estimate = Estimate(
        f"{m.metric.name}: {arms[a]} − {control}",
        row["lift"],
        float(np.sqrt(v[-1])),
        row["lift_ci_low"],
        row["lift_ci_high"],
        row["p_value"],
        {k: row[k] for k in ("outcome", "variant", "control", "looks", "decision", "mixing_sd")}
        | {"measure": "difference in means", "interval": "confidence sequence"},
    )
    return row, look_rows, estimate


def _group_sequential_finding(spec: ABTestSpec) -> Finding:
    """How the planned group-sequential analysis reads the looks: information fractions,
    spending, and the futility rule when one is set."""
    return Finding(
        "info",
        "group_sequential",
        f"group-sequential analysis: information fraction = units so far / {spec.planned_n:,} "
        f"planned per arm; {spec.spending} alpha spending (Lan–DeMets) recomputed for the "
        "fractions observed; stop for efficacy at the first look whose |z| reaches its boundary"
        + (
            f"; {'binding' if spec.binding else 'non-binding'} futility bounds spend "
            f"β = {1 - spec.power:.2g} "
            f"({spec.futility}-type) under the planned effect {spec.mde:g} (--mde): stop "
            "for futility when z, signed towards that effect, falls to its bound."
            if spec.futility
            else "."
        ),
    )

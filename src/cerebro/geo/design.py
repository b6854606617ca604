"""Geo experiment design (kind ``geo_design``): market selection, power curves, MDE, investment.

`run_geo_design(spec, data)` is the runner every face calls (`cerebro geo-design`, `cerebro
run` with ``kind: geo_design``, `geo_design(...)` in Python). It reads the long pre-test panel,
builds GeoLift-style candidate treated sets (`cerebro.geo.selection`), simulates each set's
power for every duration by injecting lifts and testing them conformally
(`cerebro.geo.power`), and ranks the designs that reach 80% power within the budget.

Estimand of the design: for a treated set and duration, the smallest relative lift e on the
grid that the conformal test of "no effect" on the synthetic control of the treated average
detects with probability ≥ 0.8, the probability taken over the test window's position in the
history (the permutation distribution of the test) and the lookbacks. Assumptions: the
treated geos' untreated outcome is a weighted average of the donors' plus a level (GeoLift's
SCM with unit fixed effects), residuals exchangeable over time blocks, and a multiplicative
effect on every treated geo. References: Abadie, Diamond & Hainmueller (2010);
Chernozhukov, Wüthrich & Zhu (2021); Ben-Michael, Feller & Rothstein (2021); GeoLift (Meta,
``GeoLiftMarketSelection``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.geo.design_spec import GeoDesignSpec
from cerebro.geo.power import TARGET_POWER

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from cerebro.geo.selection import Design


def _names(geos: list[str], cells: tuple[tuple[int, ...], ...]) -> list[str]:
    return [", ".join(geos[g] for g in cell) for cell in cells]


def run_geo_design(spec: GeoDesignSpec, frame: pd.DataFrame | None = None) -> Result:
    """Search, simulate and rank geo designs as `spec` describes (see the module docstring)."""
    from cerebro.data.load import load_table
    from cerebro.geo import selection
    from cerebro.geo.panel import geo_panel

    columns = [spec.geo_column, spec.date_column, spec.outcome]
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        frame = load_table(spec.data, columns)
    findings: list[Finding] = []
    panel = geo_panel(frame, spec.geo_column, spec.date_column, spec.outcome, findings=findings)
    Y = panel.Y
    n_geos, T = Y.shape
    include = panel.index(spec.include, "--include") if spec.include else np.array([], int)
    exclude = panel.index(spec.exclude, "--exclude") if spec.exclude else np.array([], int)
    selection.check_sizes(n_geos, spec.markets, spec.cells, len(exclude))
    longest = max(spec.durations)
    if T - (spec.lookbacks - 1) < 2 * longest + 2:
        raise UserInputError(
            f"the data has {T} dates, too few for a {longest}-period test with "
            f"{spec.lookbacks} lookback(s) (the pre-period must be at least as long as the "
            "test); shorten --durations or --lookbacks."
        )
    if 4 * longest > T:
        findings.append(
            Finding(
                "warning",
                "short_history",
                f"the history ({T} periods) is under 4× the longest test ({longest}); power "
                "rests on few independent windows.",
            )
        )
    effects = np.array(spec.effects, float)
    settings = {
        "lookbacks": spec.lookbacks,
        "alpha": spec.alpha,
        "alternative": spec.alternative,
        "fixed_effects": spec.fixed_effects,
        "cpic": spec.cpic,
    }
    singles: list[tuple[tuple[int, ...], ...]] = []
    for size in spec.markets:
        singles += [(c,) for c in selection.candidate_sets(Y, size, include, exclude)]
    if not singles:
        raise UserInputError("no candidate treated set fits --markets, --include and --exclude.")

    from cerebro.core.context import progress

    def simulate_and_rank(candidates: list, what: str) -> list:
        designs = selection.evaluate(
            Y,
            candidates,
            spec.durations,
            effects,
            settings,
            jobs=spec.jobs,
            progress=progress(f"simulating {len(candidates)} {what}", len(candidates)),
        )
        return selection.rank(designs, spec.budget)

    ranked = simulate_and_rank(singles, "candidate sets")
    if spec.cells > 1:
        joint = selection.multi_cell_candidates(ranked, spec.cells)
        if not joint:
            raise UserInputError(
                f"no {spec.cells} disjoint treated sets reach 80% power; lower --cells or "
                "widen --effects."
            )
        ranked = simulate_and_rank(joint, "joint designs")
    return _result(spec, panel.geos, ranked, findings, len(singles), T)


def _result(
    spec: GeoDesignSpec,
    geos: list[str],
    ranked: list,
    findings: list[Finding],
    n_candidates: int,
    T: int,
) -> Result:
    """The ranked designs as a result: the `designs` and `power_curves` tables, the best
    eligible design's estimates and narrative, the search's findings and the `top_designs`
    headline."""
    rows, curves = _design_tables(spec, geos, ranked)
    eligible = [d for d in ranked if d.extra.get("rank") is not None]
    estimates: list[Estimate] = []
    if eligible:
        estimates, narrative = _best_design(spec, geos, eligible[0])
    else:
        over = " within the budget" if spec.budget is not None else ""
        narrative = (
            f"No design reaches 80% power{over} on the effect grid (largest "
            f"{max(spec.effects):g}); widen --effects, lengthen --durations or raise --budget."
        )
        findings.append(Finding("warning", "no_design", narrative))
    _search_findings(spec, ranked, rows, n_candidates, T, findings)
    tables = {"top_designs": _top_designs(spec, rows), "designs": rows, "power_curves": curves}
    return Result(
        kind="geo_design",
        method="synthetic_control",
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "headline_table": "top_designs",
            "narrative": narrative,
            "candidates": n_candidates,
            "designs": len(ranked),
            "eligible": len(eligible),
        },
    )


def _design_tables(
    spec: GeoDesignSpec, geos: list[str], ranked: list
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """`designs` (one row per design and cell, numbered in ranked order) and `power_curves`
    (its power, detected lift and investment at every effect of the grid)."""
    rows: dict[str, list[Any]] = {
        k: []
        for k in [
            "id",
            "rank",
            "cell",
            "geos",
            "n_geos",
            "duration",
            "mde",
            "power",
            "investment",
            "detected_lift",
            "abs_lift_gap",
            "att",
            "scaled_imbalance",
            "pre_rmse",
            "correlation",
            "share_of_outcome",
            "false_positive_rate",
            "simulations",
        ]
    }
    curves: dict[str, list[Any]] = {
        k: []
        for k in [
            "id",
            "cell",
            "geos",
            "duration",
            "effect",
            "power",
            "detected_lift",
            "investment",
        ]
    }
    zero = np.flatnonzero(np.array(spec.effects) == 0)
    for number, d in enumerate(ranked, start=1):
        for c, name in enumerate(_names(geos, d.cells)):
            p = d.powers[c]
            i = p.mde_index()
            rows["id"].append(number)
            rows["rank"].append(d.extra.get("rank"))
            rows["cell"].append(c + 1)
            rows["geos"].append(name)
            rows["n_geos"].append(len(d.cells[c]))
            rows["duration"].append(d.duration)
            rows["mde"].append(d.mde(c))
            rows["power"].append(d.power_at_mde(c))
            rows["investment"].append(d.investment(c))
            rows["detected_lift"].append(d.detected(c))
            rows["abs_lift_gap"].append(
                abs(d.detected(c) - d.mde(c)) if i is not None else math.nan
            )
            rows["att"].append(float(p.att[i]) if i is not None else math.nan)
            rows["scaled_imbalance"].append(p.scaled_imbalance)
            rows["pre_rmse"].append(p.pre_rmse)
            rows["correlation"].append(d.correlations[c])
            rows["share_of_outcome"].append(d.shares[c])
            rows["false_positive_rate"].append(float(p.power[zero[0]]) if len(zero) else math.nan)
            rows["simulations"].append(p.simulations)
            for j, effect in enumerate(p.effects):
                curves["id"].append(number)
                curves["cell"].append(c + 1)
                curves["geos"].append(name)
                curves["duration"].append(d.duration)
                curves["effect"].append(float(effect))
                curves["power"].append(float(p.power[j]))
                curves["detected_lift"].append(float(p.detected_lift[j]))
                curves["investment"].append(float(effect * p.baseline * spec.cpic))
    return rows, curves


def _best_design(spec: GeoDesignSpec, geos: list[str], best: Design) -> tuple[list[Estimate], str]:
    """The best eligible design's estimates per cell (MDE, power there, investment, detected
    lift, ATT, imbalance, correlation) and the sentence that recommends it."""
    estimates: list[Estimate] = []
    names = _names(geos, best.cells)
    for c, name in enumerate(names):
        label = "" if len(names) == 1 else f" (cell {c + 1})"
        p = best.powers[c]
        i = p.mde_index()
        assert i is not None
        common = {"geos": name, "duration": best.duration}
        estimates += [
            Estimate(f"mde{label}", best.mde(c), extra=common),
            Estimate(f"power at mde{label}", best.power_at_mde(c), extra={"target": TARGET_POWER}),
            Estimate(f"investment{label}", best.investment(c), extra={"cpic": spec.cpic}),
            Estimate(f"detected lift at mde{label}", best.detected(c)),
            Estimate(f"att at mde{label}", float(p.att[i])),
            Estimate(f"scaled imbalance{label}", p.scaled_imbalance),
            Estimate(f"correlation{label}", best.correlations[c]),
        ]
    where = " and ".join(f"{{{n}}}" for n in names)
    cost = f"{best.total_investment:,.2f}"
    narrative = (
        f"Best design: treat {where} for {best.duration} periods. The smallest lift it "
        f"detects with at least 80% power is {best.worst_mde:.1%} (alpha {spec.alpha:g}, "
        f"{spec.alternative}), which needs an investment of {cost} at a cost of "
        f"{spec.cpic:g} per incremental unit."
    )
    return estimates, narrative


def _search_findings(
    spec: GeoDesignSpec,
    ranked: list,
    rows: dict[str, list[Any]],
    n_candidates: int,
    T: int,
    findings: list[Finding],
) -> None:
    """How power was simulated, its level at zero effect (the test's own false-positive rate)
    and how many designs the budget ruled out."""
    zero = np.flatnonzero(np.array(spec.effects) == 0)
    findings.append(
        Finding(
            "info",
            "method",
            f"{n_candidates} candidate set(s) (each geo with its most correlated partners), "
            f"{len(spec.durations)} duration(s); power = share of {T}·{spec.lookbacks} simulated "
            "tests (every window position, each lookback) whose conformal p-value is ≤ alpha, "
            "after multiplying the treated geos by 1 + effect in the window and refitting the "
            "synthetic control (unit fixed effects) on all periods.",
        )
    )
    if len(zero):
        worst = max((r for r in rows["false_positive_rate"] if np.isfinite(r)), default=0.0)
        findings.append(
            Finding(
                "info",
                "zero_effect",
                f"power at zero effect is at most {worst:.3f} for every design (≤ alpha "
                f"{spec.alpha:g} by construction: the permutation test's own level).",
            )
        )
    if spec.budget is not None:
        dropped = sum(1 for d in ranked if d.extra.get("rank") is None and np.isfinite(d.worst_mde))
        if dropped:
            findings.append(
                Finding(
                    "info",
                    "over_budget",
                    f"{dropped} design(s) reach 80% power but need more than the budget of "
                    f"{spec.budget:,.2f}.",
                )
            )


def _top_designs(spec: GeoDesignSpec, rows: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The headline: the `spec.top` best eligible designs with the columns a reader compares."""
    shown_ids = [i for i, r in zip(rows["id"], rows["rank"], strict=True) if r is not None]
    shown_ids = list(dict.fromkeys(shown_ids))[: spec.top]
    keep = [k for k, i in enumerate(rows["id"]) if i in set(shown_ids)]
    brief = [
        "rank",
        "geos",
        "duration",
        "mde",
        "power",
        "investment",
        "detected_lift",
        "scaled_imbalance",
        "correlation",
        "false_positive_rate",
    ]
    if spec.cells > 1:
        brief.insert(1, "cell")
    top = {k: [rows[k][j] for j in keep] for k in brief}
    # whole currency units for people; the designs table keeps the exact amounts
    top["investment"] = [round(v) if np.isfinite(v) else None for v in top["investment"]]
    return top


geo_design = python_face(
    GeoDesignSpec,
    run_geo_design,
    name="geo_design",
    summary="Choose treatment markets and a test length for a geo experiment: power by "
    "simulation over every window, minimum detectable effect, investment.",
    example="""
    >>> res = geo_design("pretest.csv", geo_column="location", outcome="Y", date_column="date",
    ...                  markets="2-5", durations=[10, 15], cpic=7.5, budget=100000)
    """,
)


def plot(result: Result) -> Figure:
    """Power curves (power against lift) of the top designs, with the 80% line."""
    from cerebro.core.figure import new_figure

    curves = result.tables["power_curves"]
    designs = result.tables["designs"]
    ranked = designs[designs["rank"].notna()]
    ids = list(dict.fromkeys(ranked["id"]))[:6] or list(dict.fromkeys(designs["id"]))[:6]
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i in ids:
        for cell, part in curves[curves["id"] == i].groupby("cell"):
            label = f"{part['geos'].iloc[0]} · {int(part['duration'].iloc[0])}d"
            if part["cell"].nunique() > 1 or cell > 1:
                label += f" (cell {cell})"
            ax.plot(part["effect"], part["power"], marker="o", ms=3, label=label)
    alpha = float(result.spec.alpha) if hasattr(result.spec, "alpha") else 0.1
    ax.axhline(TARGET_POWER, color="grey", ls="--", lw=0.8)
    ax.axhline(alpha, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("injected lift")
    ax.set_ylabel("power")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Simulated power of the top designs")
    ax.legend(fontsize=7, loc="lower right")
    return fig


register(
    Method(
        kind="geo_design",
        spec_type=GeoDesignSpec,
        run=run_geo_design,
        summary="Geo experiment design: market selection, simulated power, MDE and investment.",
        plot="cerebro.geo.design:plot",
        example="cerebro.geo.examples:geo_design",
    )
)

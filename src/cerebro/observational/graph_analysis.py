"""`kind: graph` (`cerebro graph`): what a causal DAG identifies and whether the data contradict it.

No effect is estimated. For a treatment and outcome: the smallest back-door adjustment set, the
front-door set and the instruments, all of observed variables (`cerebro.graph.identify`). With
data: every conditional independence the graph implies among observed columns, tested by
partial correlation with Holm's adjustment (`cerebro.graph.implications`); the estimates are
those partial correlations. A failed test shows the graph misses an edge or a common cause; a
passed one does not prove the graph (the test is linear, and many graphs imply the same).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.load import load_table, require_columns
from cerebro.graph.draw import graph_figure, graph_tables
from cerebro.graph.identify import Identification, identify
from cerebro.graph.implications import ImplicationTest, implication_tests, implications
from cerebro.graph.read import CausalGraph, read_dag
from cerebro.observational.graph_adjust import latent_finding
from cerebro.observational.graph_spec import GraphSpec

if TYPE_CHECKING:
    import pandas as pd


def _read(spec: GraphSpec, frame: pd.DataFrame | None) -> tuple[CausalGraph, Any]:
    """The graph with its latent nodes (those not in the data) and the data's graph columns."""
    graph = read_dag(spec.dag)
    if frame is None and spec.data is None:
        return graph, None
    wanted = [spec.treatment, spec.outcome] if spec.treatment else []

    def columns(available: list[str]) -> list[str]:
        seen = graph.with_columns(available)
        for name, role in zip(wanted, ("treatment", "outcome"), strict=False):
            seen.require_node(str(name), role)  # the graph's words first: latent, not a node
        require_columns(available, [str(c) for c in wanted], "the data")
        return [n for n in graph.nodes if n in available]

    if frame is None:
        frame = load_table(str(spec.data), columns)
    else:
        frame = frame[columns([str(c) for c in frame.columns])]
    return graph.with_columns([str(c) for c in frame.columns]), frame


def _identification_rows(ident: Identification) -> dict[str, list[Any]]:
    backdoor = ident.backdoor
    rows = {
        "strategy": ["back-door adjustment", "front-door adjustment"],
        "variables": [
            "none possible" if backdoor is None else ", ".join(backdoor) or "(empty set)",
            ", ".join(ident.frontdoor) if ident.frontdoor else "none possible",
        ],
        "use": [
            "—"
            if backdoor is None
            else f"cerebro causal DATA --dag … --treatment "
            f"{ident.treatment} --outcome {ident.outcome}",
            "… --method frontdoor" if ident.frontdoor else "—",
        ],
    }
    for z, given in ident.instruments.items():
        rows["strategy"].append("instrument" + (" (conditional)" if given else ""))
        rows["variables"].append(z + (f" | {', '.join(given)}" if given else ""))
        rows["use"].append(f"… --method iv --instrument {z}" if not given else "… --method iv "
                           f"--instrument {z} --confounders {','.join(given)}")  # fmt: skip
    return rows


def _identification_findings(ident: Identification) -> list[Finding]:
    t, y = ident.treatment, ident.outcome
    findings = []
    if not ident.causal_path:
        findings.append(Finding("warning", "no_path", f"the graph has no directed path {t} -> "
                                f"{y}: it says the effect is zero."))  # fmt: skip
    if ident.backdoor is None:
        findings.append(Finding("warning", "backdoor",
            f"no set of observed variables blocks every back-door path {t} <- … -> {y}; "
            "adjustment cannot identify the effect."))  # fmt: skip
    else:
        kind = "smallest" if ident.backdoor_smallest else "a minimal"
        findings.append(Finding("info", "backdoor",
            f"{kind} back-door adjustment set: {', '.join(ident.backdoor) or 'the empty set'} "
            "(no descendant of the treatment; observed only)."))  # fmt: skip
    if ident.frontdoor:
        findings.append(Finding("info", "frontdoor",
            f"front-door set: {', '.join(ident.frontdoor)} (--method frontdoor)."))  # fmt: skip
    if ident.instruments:
        findings.append(Finding("info", "instruments",
            "instruments: " + "; ".join(z + (f" given {', '.join(w)}" if w else "")
                                        for z, w in ident.instruments.items()) + "."))  # fmt: skip
    return findings


def _implication_rows(tests: list[ImplicationTest], alpha: float) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {k: [] for k in ("independence", "n", "partial_r", "ci_low",
                                  "ci_high", "p_value", "p_holm", "verdict")}  # fmt: skip
    for t in tests:
        verdict = t.note or ("contradicted" if t.p_holm < alpha else "consistent")
        values = [t.implication.text, t.n, t.partial_r, t.ci_low, t.ci_high, t.p_value, t.p_holm,
                  verdict]  # fmt: skip
        for key, value in zip(rows, values, strict=True):
            rows[key].append(None if isinstance(value, float) and value != value else value)
    return rows


def _implication_findings(tests: list[ImplicationTest], alpha: float) -> list[Finding]:
    tested = [t for t in tests if not t.note]
    if not tests:
        return [Finding("info", "implications", "the graph implies no conditional independence "
                        "among observed variables that the data could contradict.")]  # fmt: skip
    failed = [t for t in tested if t.p_holm < alpha]
    if failed:
        shown = "; ".join(f"{t.implication.text} (partial r {t.partial_r:+.3f}, Holm p "
                          f"{t.p_holm:.2g})" for t in failed[:5])  # fmt: skip
        return [Finding("warning", "implications",
            f"the data contradict {len(failed)} of {len(tested)} independences the graph "
            f"implies: {shown}; the graph misses an edge or a common cause of these.")]  # fmt: skip
    return [Finding("info", "implications",
        f"all {len(tested)} tested independences the graph implies are consistent with the data "
        f"(partial-correlation tests, Holm-adjusted at {alpha:g}); this cannot prove the graph: "
        "other graphs imply the same, and the tests see only linear dependence.")]  # fmt: skip


def run_graph(spec: GraphSpec, frame: pd.DataFrame | None = None) -> Result:
    """Read the graph, identify the effect, list and test the implications (the runner)."""
    graph, frame = _read(spec, frame)
    findings = [f for f in [latent_finding(graph)] if f is not None]
    tables: dict[str, Any] = {}
    roles = {n: "latent" if n in graph.latent else "observed" for n in graph.nodes}
    if spec.treatment is not None and spec.outcome is not None:
        ident = identify(graph, spec.treatment, spec.outcome)
        findings += _identification_findings(ident)
        tables["identification"] = _identification_rows(ident)
        for name in ident.backdoor or []:
            roles[name] = "adjust"
        for name in ident.frontdoor or []:
            roles[name] = "mediator"
        for name in ident.instruments:
            roles.setdefault(name, "instrument")
            roles[name] = "instrument" if roles[name] == "observed" else roles[name]
        roles[spec.treatment], roles[spec.outcome] = "treatment", "outcome"
    implied = implications(graph)
    estimates = []
    if frame is not None:
        tests = implication_tests(frame, implied, spec.alpha)
        findings += _implication_findings(tests, spec.alpha)
        tables["implications"] = _implication_rows(tests, spec.alpha)
        estimates = [
            Estimate(
                f"partial r: {t.implication.text}",
                t.partial_r,
                None,
                t.ci_low,
                t.ci_high,
                t.p_value,
                {"p_holm": t.p_holm, "n": t.n},
            )
            for t in tests
            if not t.note
        ]
    else:
        tables["implications"] = {"independence": [i.text for i in implied]}
    tables.update(graph_tables(list(graph.edges), roles))
    headline = "identification" if "identification" in tables else "implications"
    what = f" for {spec.treatment} -> {spec.outcome}" if spec.treatment else ""
    return Result(
        kind="graph",
        method="dag",
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "headline_table": headline,
            "title": f"Causal graph{what}: {len(graph.nodes)} nodes ({len(graph.latent)} "
            f"latent), {len(graph.edges)} edges, {len(implied)} testable implications",
            "narrative": _narrative(findings),
            "alpha": spec.alpha,
        },
    )


def _narrative(findings: list[Finding]) -> str:
    return " ".join(f.message[0].upper() + f.message[1:] for f in findings
                    if f.code in ("backdoor", "implications"))  # fmt: skip


def graph_plot(result: Result) -> Any:
    """The DAG: latent nodes dashed, the treatment, outcome and identifying sets coloured."""
    return graph_figure(result)


causal_graph = python_face(
    GraphSpec,
    run_graph,
    name="causal_graph",
    summary="Inspect a causal graph: adjustment sets, front-door set, instruments, and the "
    "independences it implies tested against the data.",
    example="""
    >>> res = causal_graph(df, dag="graph.dot", treatment="t", outcome="y")
    """,
)


register(
    Method(
        kind="graph",
        spec_type=GraphSpec,
        run=run_graph,
        summary="Causal graphs: back-door and front-door sets, instruments, testable "
        "implications tested on data.",
        plot="cerebro.observational.graph_analysis:graph_plot",
        example="cerebro.observational.examples:graph",
    )
)

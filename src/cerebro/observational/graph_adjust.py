"""`--dag` on `cerebro causal`: the graph decides (or checks) what to adjust for.

With no `confounders`, the adjustment methods adjust for the graph's smallest back-door set of
observed columns, and `frontdoor` uses its front-door set unless `mediator` names one. Named
confounders are checked against the graph: a descendant of the treatment (a mediator, or a
collider's descendant) is a warning, and so is a set that leaves a back-door path open. Every
node that is not a column of the data is latent, which the findings say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.core.results import Finding
from cerebro.data.columns import source_columns
from cerebro.graph.identify import (
    Identification,
    descendants_among,
    identify,
    is_backdoor_set,
    is_frontdoor_set,
)
from cerebro.graph.implications import implications
from cerebro.graph.read import CausalGraph, read_dag
from cerebro.observational.spec import CausalSpec


@dataclass
class GraphPlan:
    """What the graph made of a spec: the spec to run, the mediators, findings and roles."""

    spec: CausalSpec
    mediators: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)


def _names(items: list[str]) -> str:
    return ", ".join(items) if items else "nothing"


def latent_finding(graph: CausalGraph) -> Finding | None:
    """Which nodes are latent and why: not in the data, or declared unobserved."""
    if not graph.latent:
        return None
    missing = [n for n in graph.nodes if n in graph.latent and n not in graph.declared_latent]
    declared = [n for n in graph.nodes if n in graph.declared_latent]
    parts = []
    if declared:
        parts.append(f"marked unobserved: {', '.join(declared)}")
    if missing:
        parts.append(f"not columns of the data: {', '.join(missing)}")
    return Finding(
        "info",
        "latent",
        f"latent nodes of the graph ({'; '.join(parts)}); identification uses observed "
        "variables only.",
    )


def _no_backdoor(ident: Identification, graph: CausalGraph) -> UserInputError:
    other = []
    if ident.frontdoor:
        other.append(f"--method frontdoor (front-door set: {', '.join(ident.frontdoor)})")
    if ident.instruments:
        other.append(f"--method iv (instrument: {next(iter(ident.instruments))})")
    return UserInputError(
        f"no set of observed variables in {graph.source} blocks every back-door path from "
        f"{ident.treatment} to {ident.outcome} (a latent common cause is open); "
        + (f"use {' or '.join(other)}." if other else "measure a confounder or revise the graph.")
    )


def _check_confounders(
    spec: CausalSpec, graph: CausalGraph, ident: Identification
) -> list[Finding]:
    """Named confounders against the graph: descendants of the treatment, the back-door test."""
    columns = list(dict.fromkeys(c for t in spec.confounders for c in source_columns(t)))
    findings = []
    below = descendants_among(graph, str(spec.treatment), columns)
    if below:
        findings.append(Finding(
            "warning", "post_treatment",
            f"{', '.join(below)} {'is a descendant' if len(below) == 1 else 'are descendants'} "
            f"of {spec.treatment} in the graph (a mediator or a collider's descendant): adjusting "
            "for it biases the total effect; drop it from --confounders.",
        ))  # fmt: skip
    outside = [c for c in columns if c not in graph.nodes]
    if outside:
        findings.append(Finding(
            "info", "graph",
            f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in the graph; its "
            "role is unknown to it and the back-door check below ignores it.",
        ))  # fmt: skip
    inside = {c for c in columns if c in graph.nodes}
    if is_backdoor_set(graph.dag, str(spec.treatment), spec.outcome, inside):
        findings.append(Finding("info", "backdoor",
            f"the confounders satisfy the back-door criterion in the graph (its smallest set: "
            f"{_names(ident.backdoor or [])})."))  # fmt: skip
    elif not below:
        smallest = (
            f"its smallest back-door set is {_names(ident.backdoor)}"
            if ident.backdoor is not None
            else "it has no back-door set of observed variables"
        )
        findings.append(Finding("warning", "backdoor",
            f"the confounders leave a back-door path from {spec.treatment} to {spec.outcome} "
            f"open in the graph; {smallest}."))  # fmt: skip
    return findings


def _check_mediators(
    mediators: list[str], graph: CausalGraph, spec: CausalSpec, ident: Identification
) -> Finding:
    """Named mediators against the graph's front-door criterion."""
    outside = [m for m in mediators if m not in graph.nodes]
    if outside:
        return Finding("info", "frontdoor",
            f"{', '.join(outside)} not in the graph: the front-door criterion is not checked.")  # fmt: skip
    if is_frontdoor_set(graph.dag, str(spec.treatment), spec.outcome, set(mediators)):
        return Finding("info", "frontdoor",
            f"{', '.join(mediators)} satisfy the front-door criterion in the graph.")  # fmt: skip
    return Finding("warning", "frontdoor",
        f"{', '.join(mediators)} do not satisfy the front-door criterion in the graph (its "
        f"front-door set: {_names(ident.frontdoor or [])}).")  # fmt: skip


def _roles(graph: CausalGraph, spec: CausalSpec, adjusted: list[str], mediators: list[str]) -> dict:
    roles = {n: "latent" if n in graph.latent else "observed" for n in graph.nodes}
    for name in adjusted:
        if name in roles:
            roles[name] = "adjust"
    for name in mediators:
        if name in roles:
            roles[name] = "mediator"
    roles[str(spec.treatment)], roles[spec.outcome] = "treatment", "outcome"
    return roles


def plan(spec: CausalSpec, columns: list[str]) -> GraphPlan:
    """Read `spec.dag` against the data's `columns` and decide what the run adjusts for."""
    graph = read_dag(str(spec.dag)).with_columns(columns)
    ident = identify(graph, str(spec.treatment), spec.outcome)
    findings = [f for f in [latent_finding(graph)] if f is not None]
    mediators: list[str] = []
    if spec.method == "frontdoor":
        mediators = list(spec.mediator) or list(ident.frontdoor or [])
        if not mediators:
            raise UserInputError(
                f"{graph.source} has no front-door set of observed variables for "
                f"{spec.treatment} -> {spec.outcome}; name the mediators with --mediator."
            )
        if spec.mediator:
            findings.append(_check_mediators(mediators, graph, spec, ident))
        else:
            findings.append(Finding("info", "frontdoor",
                f"mediators from the graph's front-door set: {', '.join(mediators)}."))  # fmt: skip
            spec = spec.model_copy(update={"mediator": mediators})  # the result says what ran
    elif not spec.confounders:
        if ident.backdoor is None:
            raise _no_backdoor(ident, graph)
        if not ident.backdoor and spec.method in ("dml", "psm"):
            raise UserInputError(
                f"the graph's back-door set is empty (nothing confounds {spec.treatment} and "
                f"{spec.outcome}), so --method {spec.method} has nothing to learn or match on; "
                "use --method regression or aipw (both give the difference in means)."
            )
        spec = spec.model_copy(update={"confounders": list(ident.backdoor)})
        kind = "smallest" if ident.backdoor_smallest else "a minimal"
        findings.append(Finding("info", "backdoor",
            f"adjusting for the graph's {kind} back-door set: {_names(ident.backdoor)} "
            "(confounders from --dag)."))  # fmt: skip
    else:
        findings += _check_confounders(spec, graph, ident)
    testable = len(implications(graph))
    if testable:
        findings.append(Finding("info", "implications",
            f"the graph implies {testable} conditional independence(s) among observed variables; "
            "test them against the data with cerebro graph (the same graph, --data, "
            "--treatment, --outcome) before trusting the adjustment it chose."))  # fmt: skip
    adjusted = [c for t in spec.confounders for c in source_columns(t)]
    return GraphPlan(spec, mediators, findings, _roles(graph, spec, adjusted, mediators),
                     list(graph.edges))  # fmt: skip


def with_graph_tables(result: Any, graph_plan: GraphPlan) -> Any:
    """The result with the graph's findings first and its tables (for the plot) added."""
    from cerebro.graph.draw import graph_tables

    result.findings[:0] = graph_plan.findings
    for name, table in graph_tables(graph_plan.edges, graph_plan.roles).items():
        result.tables[name] = table
    return result

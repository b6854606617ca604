"""What a DAG identifies for the effect of a treatment on an outcome, using observed nodes only.

- Back-door criterion (Pearl 2009, Def. 3.3.1): Z, with no descendant of the treatment T,
  d-separates T and the outcome Y in the graph without T's outgoing edges. We return the
  *smallest* such set of observed nodes (searched by size; for large graphs networkx's minimal
  separator, van der Zander, Liśkiewicz & Textor 2019), or None when none exists.
- Front-door criterion (Pearl 2009, Def. 3.3.3): M intercepts every directed path T → Y, no
  back-door path from T to M is open, and T blocks every back-door path from M to Y.
- Instruments (Pearl 2009, §7.4.5; Brito & Pearl 2002): Z, not a descendant of T, d-connected to
  T and d-separated from Y in the graph without T's outgoing edges – unconditionally, or given a
  small set W of observed non-descendants of T (a conditional instrument).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from cerebro.graph.read import CausalGraph

MAX_CHECKS = 20_000  # subset checks before the search settles for a minimal (not smallest) set


@dataclass
class Identification:
    """The sets a graph gives for (treatment, outcome); None where none exists."""

    treatment: str
    outcome: str
    backdoor: list[str] | None
    backdoor_smallest: bool  # False when the search fell back to a minimal set
    frontdoor: list[str] | None
    instruments: dict[str, list[str]] = field(default_factory=dict)  # z → conditioning set
    causal_path: bool = True  # is there a directed path treatment → outcome?


def without_out_edges(dag: Any, nodes: set[str]) -> Any:
    """The graph with every edge leaving `nodes` removed (Pearl's G with `nodes` underlined)."""
    cut = dag.copy()
    cut.remove_edges_from([(a, b) for a, b in dag.edges if a in nodes])
    return cut


def is_backdoor_set(dag: Any, treatment: str, outcome: str, z: set[str]) -> bool:
    """Does `z` satisfy the back-door criterion for treatment → outcome?"""
    import networkx as nx

    if z & (nx.descendants(dag, treatment) | {treatment, outcome}):
        return False
    return nx.is_d_separator(without_out_edges(dag, {treatment}), {treatment}, {outcome}, z)


def backdoor_set(graph: CausalGraph, treatment: str, outcome: str) -> tuple[list[str] | None, bool]:
    """The smallest observed back-door set (sorted by the graph's node order) and whether it
    is the smallest (True) or a minimal one found when the search was too large (False)."""
    import networkx as nx

    dag = graph.dag
    banned = nx.descendants(dag, treatment) | {treatment, outcome}
    candidates = [n for n in graph.observed if n not in banned]
    minimal = nx.find_minimal_d_separator(
        without_out_edges(dag, {treatment}), {treatment}, {outcome}, restricted=set(candidates)
    )
    if minimal is None:
        return None, True
    order = {n: i for i, n in enumerate(graph.nodes)}
    checks = 0
    for size in range(len(minimal)):
        for subset in combinations(candidates, size):
            checks += 1
            if checks > MAX_CHECKS:
                return sorted(minimal, key=order.get), False
            if is_backdoor_set(dag, treatment, outcome, set(subset)):
                return list(subset), True
    return sorted(minimal, key=order.get), True


def is_frontdoor_set(dag: Any, treatment: str, outcome: str, m: set[str]) -> bool:
    """Pearl's three conditions for `m` (non-empty) relative to treatment → outcome."""
    import networkx as nx

    if not m or m & {treatment, outcome}:
        return False
    cut = dag.copy()
    cut.remove_nodes_from(m)
    if nx.has_path(cut, treatment, outcome):  # (i) a directed path avoids m
        return False
    if not nx.is_d_separator(without_out_edges(dag, {treatment}), {treatment}, m, set()):
        return False  # (ii) an open back-door path treatment ... m
    return nx.is_d_separator(without_out_edges(dag, m), m, {outcome}, {treatment})  # (iii)


def frontdoor_set(graph: CausalGraph, treatment: str, outcome: str) -> list[str] | None:
    """The smallest observed front-door set, or None."""
    import networkx as nx

    dag = graph.dag
    between = nx.descendants(dag, treatment) & nx.ancestors(dag, outcome)
    candidates = [n for n in graph.observed if n in between]
    checks = 0
    for size in range(1, len(candidates) + 1):
        for subset in combinations(candidates, size):
            checks += 1
            if checks > MAX_CHECKS:
                return None
            if is_frontdoor_set(dag, treatment, outcome, set(subset)):
                return list(subset)
    return None


def instruments(
    graph: CausalGraph, treatment: str, outcome: str, max_given: int = 2
) -> dict[str, list[str]]:
    """Observed instruments of treatment → outcome, each with the (smallest) set of observed
    non-descendants of the treatment it needs to be conditioned on ([] for a plain instrument)."""
    import networkx as nx

    dag = graph.dag
    cut = without_out_edges(dag, {treatment})
    banned = nx.descendants(dag, treatment) | {treatment, outcome}
    candidates = [n for n in graph.observed if n not in banned]
    found: dict[str, list[str]] = {}
    for z in candidates:
        others = [w for w in candidates if w != z]
        for size in range(max_given + 1):
            hit = next(
                (
                    list(w)
                    for w in combinations(others, size)
                    if nx.is_d_separator(cut, {z}, {outcome}, set(w))
                    and not nx.is_d_separator(dag, {z}, {treatment}, set(w))
                ),
                None,
            )
            if hit is not None:
                found[z] = hit
                break
    return found


def identify(graph: CausalGraph, treatment: str, outcome: str) -> Identification:
    """Back-door set, front-door set and instruments of treatment → outcome in `graph`."""
    import networkx as nx

    graph.require_node(treatment, "treatment")
    graph.require_node(outcome, "outcome")
    backdoor, smallest = backdoor_set(graph, treatment, outcome)
    return Identification(
        treatment,
        outcome,
        backdoor,
        smallest,
        frontdoor_set(graph, treatment, outcome),
        instruments(graph, treatment, outcome),
        nx.has_path(graph.dag, treatment, outcome),
    )


def descendants_among(graph: CausalGraph, treatment: str, names: list[str]) -> list[str]:
    """The names (in their order) that are descendants of the treatment in the graph:
    mediators, colliders' descendants – variables an adjustment must not include."""
    import networkx as nx

    below = nx.descendants(graph.dag, treatment)
    return [n for n in names if n in below]

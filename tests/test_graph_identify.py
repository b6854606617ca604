"""Identification from a DAG (`cerebro.graph.identify`) against an independent computation.

The reference below does not use d-separation from networkx: it enumerates every path of the
graph's skeleton and applies the blocking rules by hand (a non-collider in Z blocks; a collider
blocks unless it or a descendant is in Z), then searches all subsets by size. Our sets must be
valid by that reference and exactly as small as its smallest. The battery includes the M-bias
graph (adjusting for the collider opens a path: it must not be in the set) and the butterfly
graph (the collider is also a confounder: the set must hold it and one of its parents), and 40
seeded random DAGs with latent nodes.
"""

from __future__ import annotations

from itertools import combinations

import networkx as nx
import numpy as np
import pytest

from cerebro.graph.identify import (
    backdoor_set,
    frontdoor_set,
    identify,
    instruments,
    is_backdoor_set,
)
from cerebro.graph.read import CausalGraph, read_dag


def graph_of(text: str, latent: tuple[str, ...] = ()) -> CausalGraph:
    graph = read_dag(text)
    return CausalGraph(graph.edges, graph.nodes, frozenset(latent), "test", frozenset(latent))


# --- the reference: paths and blocking rules by hand ---------------------------------------


def _open(dag: nx.DiGraph, path: list[str], z: set[str]) -> bool:
    for i in range(1, len(path) - 1):
        before, node, after = path[i - 1], path[i], path[i + 1]
        collider = dag.has_edge(before, node) and dag.has_edge(after, node)
        if collider and node not in z and not (nx.descendants(dag, node) & z):
            return False
        if not collider and node in z:
            return False
    return True


def _backdoor_paths(dag: nx.DiGraph, start: str, end: str) -> list[list[str]]:
    """Paths start … end of the skeleton whose first edge points into `start`."""
    skeleton = dag.to_undirected()
    return [p for p in nx.all_simple_paths(skeleton, start, end) if dag.has_edge(p[1], start)]


def reference_backdoor_valid(dag: nx.DiGraph, t: str, y: str, z: set[str]) -> bool:
    if z & (nx.descendants(dag, t) | {t, y}):
        return False
    return not any(_open(dag, p, z) for p in _backdoor_paths(dag, t, y))


def reference_frontdoor_valid(dag: nx.DiGraph, t: str, y: str, m: set[str]) -> bool:
    if not m or m & {t, y} or not nx.has_path(dag, t, y):
        return False  # with no causal path, (i) holds vacuously: we report no front-door set
    if any(not (set(p) & m) for p in nx.all_simple_paths(dag, t, y)):
        return False  # (i) a directed path t -> y avoids m
    if any(_open(dag, p, set()) for v in m for p in _backdoor_paths(dag, t, v)):
        return False  # (ii)
    cut = dag.copy()
    cut.remove_edges_from([(a, b) for a, b in dag.edges if a in m])  # joint do(m)
    return not any(_open(cut, p, {t}) for v in m for p in _backdoor_paths(cut, v, y))  # (iii)


def reference_smallest(graph: CausalGraph, valid, t: str, y: str, start: int) -> int | None:
    candidates = [n for n in graph.observed if n not in (t, y)]
    for size in range(start, len(candidates) + 1):
        if any(valid(graph.dag, t, y, set(s)) for s in combinations(candidates, size)):
            return size
    return None


def check_against_reference(graph: CausalGraph, t: str = "t", y: str = "y") -> None:
    found, smallest = backdoor_set(graph, t, y)
    size = reference_smallest(graph, reference_backdoor_valid, t, y, 0)
    assert (found is None) == (size is None)
    if found is not None:
        assert smallest
        assert reference_backdoor_valid(graph.dag, t, y, set(found))
        assert len(found) == size
        assert not set(found) & graph.latent
    front = frontdoor_set(graph, t, y)
    size = reference_smallest(graph, reference_frontdoor_valid, t, y, 1)
    assert (front is None) == (size is None)
    if front is not None:
        assert reference_frontdoor_valid(graph.dag, t, y, set(front))
        assert len(front) == size


# --- the battery -----------------------------------------------------------------------------

M_BIAS = "u1 -> t\nu1 -> c\nu2 -> c\nu2 -> y\nt -> y"
BUTTERFLY = "u1 -> t\nu1 -> c\nu2 -> c\nu2 -> y\nc -> t\nc -> y\nt -> y"
FRONT_DOOR = "u -> t\nu -> y\nt -> m\nm -> y"


def test_m_bias_never_adjusts_for_the_collider() -> None:
    for latent in ((), ("u1", "u2"), ("u1",)):
        graph = graph_of(M_BIAS, latent)
        found, _ = backdoor_set(graph, "t", "y")
        assert found == []  # the empty set: nothing confounds t and y
        assert not is_backdoor_set(graph.dag, "t", "y", {"c"})  # c alone opens t<-u1->c<-u2->y
        check_against_reference(graph)


def test_butterfly_adjusts_for_the_collider_and_one_parent() -> None:
    graph = graph_of(BUTTERFLY)
    found, smallest = backdoor_set(graph, "t", "y")
    assert smallest and "c" in found and len(found) == 2 and set(found) & {"u1", "u2"}
    assert not is_backdoor_set(graph.dag, "t", "y", {"c"})
    check_against_reference(graph)
    # with both parents of the collider latent, no observed set is valid
    assert backdoor_set(graph_of(BUTTERFLY, ("u1", "u2")), "t", "y")[0] is None
    # with one observed, it is the set
    assert backdoor_set(graph_of(BUTTERFLY, ("u1",)), "t", "y")[0] == ["c", "u2"]


def test_front_door_graph() -> None:
    graph = graph_of(FRONT_DOOR, ("u",))
    ident = identify(graph, "t", "y")
    assert ident.backdoor is None and ident.frontdoor == ["m"] and ident.instruments == {}
    check_against_reference(graph)
    # a direct edge t -> y, or a latent confounder of m and y, breaks the front door
    assert frontdoor_set(graph_of(FRONT_DOOR + "\nt -> y", ("u",)), "t", "y") is None
    assert frontdoor_set(graph_of(FRONT_DOOR + "\nw -> m\nw -> y", ("u", "w")), "t", "y") is None
    two = graph_of("u -> t\nu -> y\nt -> m1\nt -> m2\nm1 -> y\nm2 -> y", ("u",))
    assert frontdoor_set(two, "t", "y") == ["m1", "m2"]


@pytest.mark.parametrize(
    ("text", "latent", "backdoor", "frontdoor"),
    [
        ("x -> t\nx -> y\nt -> y", (), ["x"], None),
        ("x -> t\nx -> y\nt -> m\nm -> y\nt -> y", (), ["x"], None),
        ("x -> t\nx -> y\nt -> m\nm -> y", (), ["x"], ["m"]),
        ("z -> t\nu -> t\nu -> y\nt -> y", ("u",), None, None),
        # a confounder seen only through a proxy chain: adjust for the observed link
        ("u -> a\na -> t\nu -> y\nt -> y", ("u",), ["a"], None),
        # the treatment's parents vs. a smaller set: {w} blocks both paths
        ("a -> w\nb -> w\nw -> t\nw -> y\nt -> y", (), ["w"], None),
    ],
)
def test_known_graphs(text, latent, backdoor, frontdoor) -> None:
    graph = graph_of(text, latent)
    assert backdoor_set(graph, "t", "y")[0] == backdoor
    assert frontdoor_set(graph, "t", "y") == frontdoor
    check_against_reference(graph)


def random_dag(rng: np.random.Generator, n: int = 7) -> CausalGraph:
    """A random DAG on t, y and n − 2 others (order random, t before y), some latent."""
    others = [f"v{i}" for i in range(n - 2)]
    order = list(rng.permutation(others))
    i, j = sorted(rng.choice(n, 2, replace=False))
    order.insert(i, "t")
    order.insert(j, "y")
    edges = [(a, b) for k, a in enumerate(order) for b in order[k + 1 :] if rng.random() < 0.35]
    edges = [*edges, ("t", "y")] if ("t", "y") not in edges and rng.random() < 0.5 else edges
    latent = frozenset(v for v in others if rng.random() < 0.25)
    return CausalGraph(tuple(edges), tuple(order), latent, "random", latent)


def test_random_dags_agree_with_the_reference() -> None:
    rng = np.random.default_rng(20261207)
    kinds = {"backdoor": 0, "none": 0, "frontdoor": 0}
    for _ in range(40):
        graph = random_dag(rng)
        check_against_reference(graph)
        found, _ = backdoor_set(graph, "t", "y")
        kinds["none" if found is None else "backdoor"] += 1
        kinds["frontdoor"] += frontdoor_set(graph, "t", "y") is not None
    assert min(kinds.values()) > 0, kinds  # the battery exercises every outcome


def test_instruments() -> None:
    iv = graph_of("z -> t\nu -> t\nu -> y\nt -> y", ("u",))
    assert instruments(iv, "t", "y") == {"z": []}
    # z shares a cause w with y: an instrument only given w
    conditional = graph_of("w -> z\nw -> y\nz -> t\nu -> t\nu -> y\nt -> y", ("u",))
    assert instruments(conditional, "t", "y") == {"z": ["w"]}
    # z affects y directly: no instrument (exclusion fails)
    assert instruments(graph_of("z -> t\nz -> y\nu -> t\nu -> y\nt -> y", ("u",)), "t", "y") == {}

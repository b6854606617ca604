"""Write dowhy_reference.json: DoWhy's identification on a battery of DAGs, the reference of
tests/test_graph_dowhy.py.

DoWhy pins scipy below what Cerebro uses, so it never enters the project's environment; run
this in a virtualenv of its own:

    python -m venv .cache/dowhy-venv && .cache/dowhy-venv/bin/pip install dowhy==0.14
    .cache/dowhy-venv/bin/python tests/data/graphs/dowhy_reference.py

The battery: named graphs (confounder, mediator, M-bias, butterfly, front-door, instrument,
…) and 60 random DAGs on 7 nodes with latent nodes, drawn here with a seeded numpy generator.
For each: every valid back-door set of observed variables (DoWhy's exhaustive search), DoWhy's
front-door set, and its instruments.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import dowhy
import networkx as nx
import numpy as np
from dowhy.causal_identifier.auto_identifier import (
    BackdoorAdjustment,
    identify_backdoor,
    identify_frontdoor,
)
from dowhy.graph import (
    check_valid_backdoor_set,
    check_valid_frontdoor_set,
    do_surgery,
    get_descendants,
    get_instruments,
)

logging.disable(logging.WARNING)

NAMED = {
    "confounder": ("x -> t; x -> y; t -> y", []),
    "mediator and confounder": ("x -> t; x -> y; t -> m; m -> y; t -> y", []),
    "front door with observed confounder": ("x -> t; x -> y; t -> m; m -> y", []),
    "front door": ("u -> t; u -> y; t -> m; m -> y", ["u"]),
    "two mediators": ("u -> t; u -> y; t -> m1; t -> m2; m1 -> y; m2 -> y", ["u"]),
    "confounded mediator": ("u -> t; u -> y; t -> m; m -> y; w -> m; w -> y", ["u", "w"]),
    "M-bias": ("u1 -> t; u1 -> c; u2 -> c; u2 -> y; t -> y", []),
    "M-bias, latent parents": ("u1 -> t; u1 -> c; u2 -> c; u2 -> y; t -> y", ["u1", "u2"]),
    "butterfly": ("u1 -> t; u1 -> c; u2 -> c; u2 -> y; c -> t; c -> y; t -> y", []),
    "butterfly, one latent": ("u1 -> t; u1 -> c; u2 -> c; u2 -> y; c -> t; c -> y; t -> y", ["u1"]),
    "instrument": ("z -> t; u -> t; u -> y; t -> y", ["u"]),
    "proxy chain": ("u -> a; a -> t; u -> y; t -> y", ["u"]),
    "shared parent": ("a -> w; b -> w; w -> t; w -> y; t -> y", []),
}


def parse(text: str) -> list[tuple[str, str]]:
    return [tuple(p.strip() for p in e.split("->")) for e in text.split(";")]


def random_dag(rng: np.random.Generator, n: int = 7) -> tuple[list, list, list]:
    others = [f"v{i}" for i in range(n - 2)]
    order = [str(v) for v in rng.permutation(others)]
    i, j = sorted(int(k) for k in rng.choice(n, 2, replace=False))
    order.insert(i, "t")
    order.insert(j, "y")
    edges = [(a, b) for k, a in enumerate(order) for b in order[k + 1 :] if rng.random() < 0.35]
    if ("t", "y") not in edges and rng.random() < 0.5:
        edges.append(("t", "y"))
    latent = [v for v in others if rng.random() < 0.25]
    return order, edges, latent


def smallest_frontdoor_sets(graph: nx.DiGraph, observed: list[str]) -> list[list[str]]:
    """Every valid front-door set of the smallest size, by DoWhy's own three checks (its
    `identify_frontdoor` returns one valid set, but its search goes on to larger sizes after a
    hit – its `break` leaves only the inner loop – so that set need not be the smallest)."""
    eligible = sorted(
        (get_descendants(graph, ["t"]) - {"t", "y"} - set(get_descendants(graph, ["y"])))
        & set(observed)
    )
    cut = do_surgery(graph, ["t"], remove_incoming_edges=True)
    for size in range(1, len(eligible) + 1):
        found = []
        for candidate in itertools.combinations(eligible, size):
            m = list(candidate)
            if not check_valid_frontdoor_set(graph, ["t"], ["y"], m, new_graph=cut):
                continue
            if not check_valid_backdoor_set(graph, ["t"], m, set())["is_dseparated"]:
                continue
            cut_m = do_surgery(graph, m, remove_outgoing_edges=True)
            if check_valid_backdoor_set(graph, m, ["y"], ["t"], new_graph=cut_m)["is_dseparated"]:
                found.append(m)
        if found:
            return found
    return []


def reference(nodes: list[str], edges: list, latent: list[str]) -> dict:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    observed = [n for n in nodes if n not in latent]
    sets = identify_backdoor(graph, ["t"], ["y"], observed, BackdoorAdjustment.BACKDOOR_EXHAUSTIVE)
    backdoor = sorted({tuple(sorted(s.get_adjustment_variables())) for s in sets})
    frontdoor = identify_frontdoor(graph, ["t"], ["y"], observed)
    return {
        "nodes": nodes,
        "edges": [list(e) for e in edges],
        "latent": latent,
        "backdoor_sets": [list(s) for s in backdoor],
        "frontdoor": sorted(frontdoor) if frontdoor else None,
        "frontdoor_smallest": smallest_frontdoor_sets(graph, observed),
        "instruments": sorted(str(z) for z in get_instruments(graph, ["t"], ["y"])),
    }


def main() -> None:
    battery = {}
    for name, (text, latent) in NAMED.items():
        edges = parse(text)
        nodes = list(dict.fromkeys(n for e in edges for n in e))
        battery[name] = reference(nodes, edges, latent)
    rng = np.random.default_rng(20261207)
    for k in range(60):
        battery[f"random {k}"] = reference(*random_dag(rng))
    out = Path(__file__).with_name("dowhy_reference.json")
    payload = {"dowhy": dowhy.__version__, "networkx": nx.__version__, "graphs": battery}
    lines = [f"  {json.dumps(name)}: {json.dumps(entry)}" for name, entry in battery.items()]
    head = json.dumps({k: v for k, v in payload.items() if k != "graphs"})[:-1]
    out.write_text(head + ', "graphs": {\n' + ",\n".join(lines) + "\n}}\n")


if __name__ == "__main__":
    main()

"""Causal discovery from data, as a *starting point* for a DAG the user edits: PC (Spirtes,
Glymour & Scheines 2000) or GES (Chickering 2002), both from causal-learn (Zheng et al. 2024,
JMLR 25(60)), with background knowledge for PC – tiers (time order: no edge from a later tier
to an earlier one), forbidden and required edges.

Both return an equivalence class, not one DAG: an edge the data cannot orient is written
``a -> b [dir=none]`` and one with conflicting orientations ``a -> b [dir=both]``; `read_dag`
refuses either until the user decides, so a discovered graph is never used unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError

TESTS = ("fisherz", "chisq", "gsq")


@dataclass(frozen=True)
class Discovered:
    """Edges found: (a, b, kind) with kind 'directed' (a → b), 'undirected' or 'bidirected'."""

    edges: list[tuple[str, str, str]]
    nodes: list[str]
    method: str  # how it was found, in words
    rows: int

    def to_dot(self) -> str:
        """A DOT file the user edits and passes back with --dag."""
        lines = [
            "// A STARTING POINT from causal discovery, not a validated causal graph:",
            f"// {self.method}, {self.rows:,} complete rows.",
            "// Check every edge against what you know; orient each 'dir=none' edge and resolve",
            "// each 'dir=both' edge (often a hidden common cause: add a node u [observed=\"no\"]",
            "// with edges to both) before passing this file to --dag.",
            "digraph {",
        ]
        lines += [f"  {_quote(n)};" for n in self.nodes]
        marks = {"directed": "", "undirected": " [dir=none]", "bidirected": " [dir=both]"}
        lines += [f"  {_quote(a)} -> {_quote(b)}{marks[kind]};" for a, b, kind in self.edges]
        return "\n".join([*lines, "}", ""])

    def to_yaml(self) -> str:
        """The same graph as YAML `read_dag` reads: 'a -> b' for an oriented edge, 'a <-> b'
        (read as a hidden common cause) for a conflicting one, and 'a -- b' for one the data
        could not orient, which `read_dag` refuses until the user writes its direction."""
        import yaml

        marks = {"directed": "->", "undirected": "--", "bidirected": "<->"}
        head = [
            "# A STARTING POINT from causal discovery, not a validated causal graph:",
            f"# {self.method}, {self.rows:,} complete rows.",
            "# Check every edge; rewrite each 'a -- b' as 'a -> b' or 'b -> a' before use.",
        ]
        body = {"nodes": list(self.nodes),
                "edges": [f"{a} {marks[kind]} {b}" for a, b, kind in self.edges]}  # fmt: skip
        return "\n".join(head) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _quote(name: str) -> str:
    return (
        name
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
        else '"' + name.replace('"', '\\"') + '"'
    )


def parse_edges(text: str | list[str] | None, option: str) -> list[tuple[str, str]]:
    """'a->b,c->d' (or a list of 'a->b') as pairs; one sentence for a malformed edge."""
    items = text if isinstance(text, list) else [t for t in (text or "").split(",")]
    pairs = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        parts = [p.strip() for p in item.split("->")]
        if len(parts) != 2 or not all(parts):
            raise UserInputError(f"cannot read {option} edge {item!r}; write 'a->b,c->d'.")
        pairs.append((parts[0], parts[1]))
    return pairs


def parse_tiers(text: str | None) -> list[list[str]]:
    """'x,y;z' → [['x', 'y'], ['z']]: earlier tiers come first in time."""
    return [[c.strip() for c in tier.split(",") if c.strip()] for tier in (text or "").split(";")
            if tier.strip()]  # fmt: skip


def _knowledge(names: list[str], tiers: list[list[str]], forbid: list, require: list) -> Any:
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

    named = [n for tier in tiers for n in tier] + [n for e in forbid + require for n in e]
    unknown = [n for n in named if n not in names]
    if unknown:
        raise UserInputError(
            f"background knowledge names {unknown[0]!r}, which is not among the columns "
            f"searched ({', '.join(names)})."
        )
    knowledge = BackgroundKnowledge()
    for level, tier in enumerate(tiers):
        for name in tier:
            knowledge.add_node_to_tier(GraphNode(name), level)
    for a, b in forbid:
        knowledge.add_forbidden_by_node(GraphNode(a), GraphNode(b))
    for a, b in require:
        knowledge.add_required_by_node(GraphNode(a), GraphNode(b))
    return knowledge


def _edges(graph: Any) -> list[tuple[str, str, str]]:
    from causallearn.graph.Endpoint import Endpoint

    found = []
    for edge in graph.get_graph_edges():
        a, b = edge.get_node1().get_name(), edge.get_node2().get_name()
        ends = (edge.get_endpoint1(), edge.get_endpoint2())
        if ends == (Endpoint.TAIL, Endpoint.ARROW):
            found.append((a, b, "directed"))
        elif ends == (Endpoint.ARROW, Endpoint.TAIL):
            found.append((b, a, "directed"))
        elif ends == (Endpoint.ARROW, Endpoint.ARROW):
            found.append((a, b, "bidirected"))
        else:
            found.append((a, b, "undirected"))
    return found


def discover(
    frame: Any,
    method: str = "pc",
    alpha: float = 0.05,
    test: str = "fisherz",
    tiers: list[list[str]] | None = None,
    forbid: list[tuple[str, str]] | None = None,
    require: list[tuple[str, str]] | None = None,
) -> Discovered:
    """PC or GES over every column of `frame` (numbers only; complete rows)."""
    try:
        from causallearn.search.ConstraintBased.PC import pc
        from causallearn.search.ScoreBased.GES import ges
    except ImportError:
        raise UserInputError(
            "causal discovery needs causal-learn: pip install 'cerebro[discovery]'."
        ) from None
    from cerebro.data.columns import numeric_column

    names = [str(c) for c in frame.columns]
    if len(names) < 2:
        raise UserInputError(
            "causal discovery needs at least two columns; name them with --columns."
        )
    values = np.column_stack([numeric_column(frame[c], c, "discovery") for c in names])
    values = values[~np.isnan(values).any(axis=1)]
    constant = [n for n, col in zip(names, values.T, strict=True) if np.ptp(col) == 0]
    if constant or len(values) < len(names) + 3:
        raise UserInputError(
            f"column {constant[0]!r} is constant in the complete rows; leave it out of --columns."
            if constant
            else f"only {len(values)} complete rows for {len(names)} columns; discovery needs many more."
        )
    tiers, forbid, require = tiers or [], forbid or [], require or []
    if method == "ges":
        if tiers or forbid or require:
            raise UserInputError(
                "causal-learn's GES takes no background knowledge; use --method pc with "
                "--tiers, --forbid or --require."
            )
        record = ges(values, score_func="local_score_BIC", node_names=names)
        how = "GES (causal-learn, BIC score): a completed partially directed graph"
        return Discovered(_edges(record["G"]), names, how, len(values))
    if test not in TESTS:
        raise UserInputError(f"unknown test {test!r}; use one of {', '.join(TESTS)}.")
    knowledge = _knowledge(names, tiers, forbid, require) if tiers or forbid or require else None
    graph = pc(values, alpha, test, background_knowledge=knowledge, show_progress=False,
               node_names=names).G  # fmt: skip
    how = f"PC (causal-learn, {test} test, alpha {alpha:g}"
    how += ", with background knowledge)" if knowledge is not None else ")"
    return Discovered(_edges(graph), names, how, len(values))

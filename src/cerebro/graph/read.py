"""Read a causal DAG from DOT, YAML or an edge list, and check that it is one.

Formats (by the file's suffix; text given directly is read as DOT when it starts with
``digraph``, else as an edge list):

- DOT (``.dot``, ``.gv``), parsed by pydot: ``digraph { a -> b; u [observed="no"] }``.
  ``a -> b -> c`` chains and subgraphs are read; an undirected graph or an edge marked
  ``dir=none`` (what `cerebro graph-discover` writes for an edge the data could not orient) is
  refused until the user orients it.
- YAML (``.yaml``, ``.yml``): ``edges:`` a list of ``"a -> b"`` strings, ``[a, b]`` pairs or
  ``{from: a, to: b}``; optional ``nodes:`` (names, or ``{name: u, observed: false}``) and
  ``latent:`` (names).
- Edge list (``.txt``, ``.edges`` or anything else): one ``a -> b`` (or ``a -> b -> c``) per
  line, ``#`` comments; a ``.csv`` holds two columns (``from,to``, ``source,target`` or
  ``cause,effect``; a header is optional).
- ``a <-> b`` in an edge list or a YAML string (dagitty's bidirected edge) is a hidden common
  cause: a latent node ``U[a<->b]`` with edges to both.

Every node that is not a column of the data, or that is marked unobserved, is latent
(`CausalGraph.with_columns`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError

DOT_SUFFIXES = {".dot", ".gv"}
YAML_SUFFIXES = {".yaml", ".yml"}
_HEADERS = ({"from", "to"}, {"source", "target"}, {"cause", "effect"})
_NO = {"no", "false", "0", "latent", "unobserved"}


@dataclass(frozen=True)
class CausalGraph:
    """A DAG: its edges (cause, effect) in the order read, every node, and the latent ones."""

    edges: tuple[tuple[str, str], ...]
    nodes: tuple[str, ...]
    latent: frozenset[str] = frozenset()
    source: str = "the graph"
    declared_latent: frozenset[str] = field(default=frozenset())

    @property
    def dag(self) -> Any:
        """The graph as a networkx DiGraph (nodes in the order read)."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        graph.add_edges_from(self.edges)
        return graph

    @property
    def observed(self) -> list[str]:
        return [n for n in self.nodes if n not in self.latent]

    def with_columns(self, columns: list[str]) -> CausalGraph:
        """The same graph with every node that is not one of `columns` latent (as well as those
        declared unobserved)."""
        present = set(columns)
        latent = self.declared_latent | {n for n in self.nodes if n not in present}
        return CausalGraph(self.edges, self.nodes, frozenset(latent), self.source,
                           self.declared_latent)  # fmt: skip

    def require_node(self, name: str, role: str) -> None:
        """Refuse a treatment/outcome the graph does not have, or one it marks latent."""
        if name not in self.nodes:
            raise UserInputError(
                f"{role} {name!r} is not a node of {self.source}; add it to the graph or name "
                f"one of {', '.join(self.nodes[:8])}{' …' if len(self.nodes) > 8 else ''}."
            )
        if name in self.latent:
            where = (
                "marked unobserved in the graph"
                if name in self.declared_latent
                else "not a column of the data"
            )
            raise UserInputError(
                f"{role} {name!r} is {where}; the {role} must be an observed column."
            )


def read_dag(source: str | Path) -> CausalGraph:
    """The DAG in file `source` (or, for text holding ``->``, the DAG it spells out)."""
    text, name, suffix = _text_of(source)
    if suffix in DOT_SUFFIXES or (suffix == "" and _looks_like_dot(text)):
        edges, nodes, latent = _parse_dot(text, name)
    elif suffix in YAML_SUFFIXES:
        edges, nodes, latent = _parse_yaml(text, name)
    elif suffix == ".csv":
        edges, nodes, latent = _parse_csv(text, name)
    else:
        edges, nodes, latent = _parse_edge_lines(text, name)
    if not edges:
        raise UserInputError(f"{name} has no edges; write at least one 'cause -> effect'.")
    ordered = list(dict.fromkeys([*nodes, *(n for e in edges for n in e)]))
    graph = CausalGraph(tuple(dict.fromkeys(edges)), tuple(ordered), frozenset(latent), name,
                        frozenset(latent))  # fmt: skip
    require_acyclic(graph)
    return graph


def require_acyclic(graph: CausalGraph) -> None:
    """One sentence naming a cycle, if the graph has one."""
    import networkx as nx

    try:
        cycle = nx.find_cycle(graph.dag)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([cycle[0][0], *(edge[1] for edge in cycle)])
    raise UserInputError(
        f"{graph.source} has a cycle {path}; a causal DAG has none, so remove or reverse one "
        "of these edges."
    )


def _text_of(source: str | Path) -> tuple[str, str, str]:
    """(text, the name errors use, suffix or '' for inline text)."""
    if isinstance(source, str) and "->" in source and not _is_file(source):
        return source, "the graph given", ""
    path = Path(source)
    if not path.exists():
        raise UserInputError(f"graph file {str(path)!r} does not exist; check the path.")
    if path.is_dir():
        raise UserInputError(f"{str(path)!r} is a directory; pass a .dot, .yaml or edge-list file.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"graph file {path.name!r} is not UTF-8 text.") from None
    suffix = path.suffix.lower()
    return text, f"graph file {path.name!r}", suffix if suffix else ".txt"


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # a name too long for the file system: text, not a path
        return False


def _looks_like_dot(text: str) -> bool:
    """Text (not a file) that opens, after its comments, with a DOT graph statement."""
    bare = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S).lstrip().lower()
    return bare.startswith(("digraph", "strict", "graph"))


def _clean(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1]
    return name


def _parse_dot(text: str, name: str) -> tuple[list, list, set]:
    import pydot

    message = io.StringIO()
    with contextlib.redirect_stdout(message), warnings.catch_warnings():
        # pydot prints its parse error; its parser uses pyparsing names now deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            parsed = pydot.graph_from_dot_data(text)
        except Exception:  # a malformed statement pydot does not trap itself
            parsed = None
    if not parsed:
        printed = " ".join(message.getvalue().split())
        found = re.search(r"(Expected .*?, found .*?) \(at char \d+\), \(line:(\d+), col:(\d+)\)",
                          printed)  # fmt: skip
        why = (
            f"line {found.group(2)}, column {found.group(3)}: {found.group(1)}"
            if found
            else "it is not a DOT graph"
        )
        raise UserInputError(f"cannot read {name} as DOT ({why}); write 'digraph {{ a -> b; }}'.")
    dot = parsed[0]
    if dot.get_type() != "digraph":
        raise UserInputError(
            f"{name} is an undirected graph; a causal graph is a 'digraph' with '->' edges."
        )
    edges: list[tuple[str, str]] = []
    nodes: list[str] = []
    latent: set[str] = set()
    for graph in _subgraphs(dot):
        for node in graph.get_nodes():
            label = _clean(node.get_name())
            if label in ("node", "edge", "graph"):
                continue  # default attribute statements, not nodes
            nodes.append(label)
            if _clean(str(node.get_attributes().get("observed", "yes"))).lower() in _NO:
                latent.add(label)
        for edge in graph.get_edges():
            direction = _clean(str(edge.get_attributes().get("dir", "forward"))).lower()
            pairs = [(a, b) for a in _endpoints(edge.get_source())
                     for b in _endpoints(edge.get_destination())]  # fmt: skip
            if direction in ("none", "both"):
                a, b = pairs[0]
                raise UserInputError(
                    f"edge {a} -- {b} in {name} has no direction; orient it ('{a} -> {b}' or "
                    f"'{b} -> {a}') or, for a hidden common cause, add a latent node with edges "
                    "to both."
                )
            edges += [(b, a) for a, b in pairs] if direction == "back" else pairs
    return edges, nodes, latent


def _endpoints(end: Any) -> list[str]:
    """An edge's end: a node name, or a group ``{t y}`` (pydot gives the subgraph's dict)."""
    if isinstance(end, dict):
        return [_clean(str(n)) for n in end.get("nodes", {})]
    return [_clean(str(end))]


def _subgraphs(graph: Any) -> list[Any]:
    found = [graph]
    for sub in graph.get_subgraphs():
        found += _subgraphs(sub)
    return found


def hidden_cause(a: str, b: str) -> tuple[str, list[tuple[str, str]]]:
    """`a <-> b` (dagitty's bidirected edge): a latent common cause of a and b, and its edges."""
    node = f"U[{a}<->{b}]"
    return node, [(node, a), (node, b)]


def _bidirected(text: str) -> tuple[str, str] | None:
    """('a', 'b') for the text 'a <-> b', None for anything else."""
    parts = [_clean(p) for p in text.split("<->")]
    if len(parts) == 2 and all(parts) and not any(c in p for p in parts for c in "<>"):
        return parts[0], parts[1]
    return None


def _parse_edge_lines(text: str, name: str) -> tuple[list, list, set]:
    edges, latent = [], set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip().rstrip(";")
        if not line:
            continue
        pair = _bidirected(line)
        if pair is not None:
            node, pairs = hidden_cause(*pair)
            latent.add(node)
            edges += pairs
            continue
        parts = [_clean(p) for p in line.split("->")]
        if len(parts) < 2 or any(not p or "<" in p or ">" in p for p in parts):
            raise UserInputError(
                f"cannot read line {number} of {name} ({raw.strip()!r}); write one edge per "
                "line as 'cause -> effect' (or 'a <-> b' for a hidden common cause)."
            )
        edges += list(pairwise(parts))
    return edges, [], latent


def _parse_csv(text: str, name: str) -> tuple[list, list, set]:
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if rows and {c.strip().lower() for c in rows[0]} in _HEADERS:
        rows = rows[1:]
    edges = []
    for number, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if len(cells) != 2 or not all(cells):
            raise UserInputError(
                f"cannot read row {number} of {name} ({','.join(row)!r}); an edge-list CSV has "
                "two columns, cause and effect (header 'from,to')."
            )
        edges.append((cells[0], cells[1]))
    return edges, [], set()


def _parse_yaml(text: str, name: str) -> tuple[list, list, set]:
    import yaml

    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserInputError(f"cannot read {name} as YAML{where}; check its indentation.") from None
    if not isinstance(content, dict) or "edges" not in content:
        raise UserInputError(f"{name} needs an 'edges:' list, as in edges: ['a -> b'].")
    edges, latent = [], {str(n) for n in content.get("latent") or []}
    for item in content["edges"] or []:
        pair = _bidirected(item) if isinstance(item, str) else None
        if pair is None:
            edges.append(_yaml_edge(item, name))
        else:
            node, pairs = hidden_cause(*pair)
            latent.add(node)
            edges += pairs
    nodes = []
    for item in content.get("nodes") or []:
        if isinstance(item, dict):
            label = str(item.get("name", ""))
            if str(item.get("observed", "yes")).lower() in _NO:
                latent.add(label)
        else:
            label = str(item)
        nodes.append(label)
    return edges, nodes, latent


def _yaml_edge(item: Any, name: str) -> tuple[str, str]:
    if isinstance(item, str) and item.count("->") == 1:
        a, b = (_clean(p) for p in item.split("->"))
        if a and b and not any(c in a + b for c in "<>"):
            return a, b
    if isinstance(item, list | tuple) and len(item) == 2:
        return str(item[0]), str(item[1])
    if isinstance(item, dict) and {"from", "to"} <= set(item):
        return str(item["from"]), str(item["to"])
    raise UserInputError(
        f"cannot read edge {item!r} in {name}; write 'a -> b', [a, b], {{from: a, to: b}} or "
        "'a <-> b' (a hidden common cause)."
    )

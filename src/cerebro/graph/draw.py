"""Draw a DAG on a matplotlib axis: causes left of effects (layers by topological generation),
latent nodes and their edges dashed, the treatment, outcome and the adjusted or mediating
variables coloured by their role."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

COLOURS = {
    "treatment": "#d62728",
    "outcome": "#1f77b4",
    "adjust": "#2ca02c",
    "mediator": "#9467bd",
    "instrument": "#ff7f0e",
    "latent": "white",
    "observed": "#dddddd",
}
ROLE_NAMES = {
    "treatment": "treatment",
    "outcome": "outcome",
    "adjust": "adjusted for",
    "mediator": "front-door / mediator",
    "instrument": "instrument",
    "latent": "latent (unobserved)",
    "observed": "observed",
}


def graph_tables(edges: list[tuple[str, str]], roles: dict[str, str]) -> dict[str, dict]:
    """The `graph_edges` and `graph_nodes` tables a result carries so its plot can redraw it."""
    return {
        "graph_edges": {"cause": [a for a, _ in edges], "effect": [b for _, b in edges]},
        "graph_nodes": {"node": list(roles), "role": list(roles.values())},
    }


def layout(edges: list[tuple[str, str]], nodes: list[str]) -> dict[str, tuple[float, float]]:
    """Positions: x the node's topological generation, y spread within it."""
    import networkx as nx

    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    dag.add_edges_from(edges)
    for layer, generation in enumerate(nx.topological_generations(dag)):
        for node in generation:
            dag.nodes[node]["layer"] = layer
    return nx.multipartite_layout(dag, subset_key="layer", align="vertical")


def draw_graph(
    ax: Any, edges: list[tuple[str, str]], roles: dict[str, str], title: str = ""
) -> None:
    """The DAG on `ax`; `roles` maps every node to a key of `COLOURS`."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    pos = layout(edges, list(roles))
    columns = sorted({round(x, 9) for x, _ in pos.values()})
    step = min((b - a for a, b in pairwise(columns)), default=1.0)
    middle = sum(y for _, y in pos.values()) / len(pos)
    for a, b in edges:
        dashed = roles.get(a) == "latent" or roles.get(b) == "latent"
        # an edge that skips a layer is bent away from the middle, so it does not run through
        # the nodes between (edges run left to right: a positive arc bends down)
        skips = abs(pos[b][0] - pos[a][0]) > 1.5 * step
        above = (pos[a][1] + pos[b][1]) / 2 > middle
        ax.add_patch(
            FancyArrowPatch(
                pos[a], pos[b], arrowstyle="-|>", mutation_scale=14, lw=1.1, color="0.3",
                linestyle="--" if dashed else "-", shrinkA=14, shrinkB=14,
                connectionstyle=f"arc3,rad={(-0.25 if above else 0.25) if skips else 0.0}",
            )
        )  # fmt: skip
    for node, role in roles.items():
        x, y = pos[node]
        ax.scatter([x], [y], s=900, color=COLOURS[role], edgecolors="0.2", zorder=3,
                   linestyle="--" if role == "latent" else "-", linewidths=1.2)  # fmt: skip
        ax.annotate(node, (x, y), ha="center", va="center", fontsize=8, zorder=4)
    used = dict.fromkeys(roles.values())
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markersize=9,
            markerfacecolor=COLOURS[r],
            markeredgecolor="0.2",
            label=ROLE_NAMES[r],
        )
        for r in COLOURS
        if r in used
    ]
    ax.legend(handles=handles, fontsize=7, loc="best", frameon=False)
    ax.set_axis_off()
    ax.margins(0.15)
    if title:
        ax.set_title(title, fontsize=9)


def graph_figure(result: Any, title: str = "") -> Any:
    """A figure of the graph a result carries in its `graph_edges`/`graph_nodes` tables."""
    from cerebro.core.figure import new_figure

    edges_table = result.tables.columns("graph_edges")
    nodes_table = result.tables.columns("graph_nodes")
    edges = list(zip(edges_table["cause"], edges_table["effect"], strict=True))
    roles = dict(zip(nodes_table["node"], nodes_table["role"], strict=True))
    fig = new_figure(7.0, 4.5)
    draw_graph(fig.add_subplot(), edges, roles, title or result.summary.get("title", ""))
    return fig

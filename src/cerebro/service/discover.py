"""`POST /api/v1/causal/discover`: causal discovery on an uploaded dataset (PC or GES from
`cerebro.graph.discover`, as `cerebro graph-discover` runs it), answered as an editable graph –
nodes, edges, DOT and YAML – labelled as the starting point it is, never a validated DAG."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cerebro.service.config import Settings
from cerebro.service.deps import Require, audit, get_session, get_settings
from cerebro.service.designer import sync_dataset
from cerebro.service.security import ANALYSIS_RUN, Principal

router = APIRouter(prefix="/api/v1/causal", tags=["intelligence"])
LABEL = (
    "a starting point from causal discovery, not a validated causal graph: check every edge "
    "against what you know, orient the undirected ones and resolve the conflicting ones "
    "before using it as a DAG."
)


class DiscoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    dataset_id: str
    columns: list[str] | None = Field(
        None, min_length=2, max_length=30, description="Columns to search (default: all, ≤ 30)."
    )
    method: Literal["pc", "ges"] = "pc"
    alpha: float = Field(0.05, gt=0, lt=1, description="PC: level of each independence test.")
    test: Literal["fisherz", "chisq", "gsq"] = "fisherz"
    tiers: list[list[str]] = Field(
        default_factory=list, description="PC: time order, earliest tier first."
    )
    forbid: list[str] = Field(
        default_factory=list, description="PC: edges 'a->b' that must not be."
    )
    require: list[str] = Field(default_factory=list, description="PC: edges 'a->b' that must be.")


@router.post("/discover", summary="Causal discovery: an editable starting-point graph")
def discover_graph(
    body: DiscoverIn,
    who: Principal = Depends(Require(ANALYSIS_RUN)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    from cerebro.core.errors import UserInputError
    from cerebro.data.load import load_table
    from cerebro.graph.discover import discover, parse_edges

    dataset, path = sync_dataset(session, who, settings, body.dataset_id)
    if body.columns is None and len(dataset.columns) > 30:
        raise UserInputError(
            f"the dataset has {len(dataset.columns)} columns; name at most 30 in columns."
        )
    frame = load_table(path, body.columns)
    found = discover(
        frame,
        body.method,
        body.alpha,
        body.test,
        body.tiers,
        parse_edges(body.forbid, "forbid"),
        parse_edges(body.require, "require"),
    )
    audit(session, who, "graph.discover", "dataset", dataset.id, method=body.method)
    session.commit()
    return {
        "nodes": found.nodes,
        "edges": [
            {"from": a, "to": b, "directed": kind == "directed", "kind": kind}
            for a, b, kind in found.edges
        ],
        "dot": found.to_dot(),
        "yaml": found.to_yaml(),
        "method": found.method,
        "rows": found.rows,
        "label": LABEL,
    }

"""Causal discovery (`cerebro graph-discover`, causal-learn's PC and GES) as a starting point.

On linear-Gaussian data from a known DAG: PC recovers the v-structure and orients the rest by
Meek's rules; a chain, whose direction data cannot tell, stays unoriented until tiers (time
order) orient it; a forbidden edge is absent. The DOT file written reads back with --dag once
every edge is oriented, and is refused, in one sentence, while one is not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.graph.discover import discover
from cerebro.graph.read import read_dag

pytest.importorskip("causallearn")


def collider_data(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """x -> t <- z, t -> y."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=(2, n))
    t = 0.8 * x + 0.8 * z + rng.normal(size=n)
    y = 0.9 * t + rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": z, "t": t, "y": y})


def chain_data(n: int = 2_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = a + rng.normal(size=n)
    c = b + rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c})


def test_pc_recovers_a_v_structure_and_orients_by_meek() -> None:
    found = discover(collider_data())
    assert set(found.edges) == {
        ("x", "t", "directed"),
        ("z", "t", "directed"),
        ("t", "y", "directed"),
    }
    assert set(read_dag(found.to_dot()).edges) == {("x", "t"), ("z", "t"), ("t", "y")}


def test_tiers_orient_what_data_cannot_and_forbidden_edges_stay_out() -> None:
    plain = discover(chain_data())
    assert {kind for *_, kind in plain.edges} == {"undirected"}
    with pytest.raises(UserInputError, match="has no direction"):
        read_dag(plain.to_dot())
    ordered = discover(chain_data(), tiers=[["a"], ["b"], ["c"]])
    assert set(ordered.edges) == {("a", "b", "directed"), ("b", "c", "directed")}
    forbidden = discover(chain_data(), forbid=[("a", "b"), ("b", "a")])
    assert not any({a, b} == {"a", "b"} for a, b, _ in forbidden.edges)


def test_ges_runs_and_refuses_background_knowledge() -> None:
    found = discover(collider_data(), method="ges")
    skeleton = {frozenset((a, b)) for a, b, _ in found.edges}
    assert skeleton == {frozenset(e) for e in (("x", "t"), ("z", "t"), ("t", "y"))}
    with pytest.raises(UserInputError, match="GES takes no background knowledge"):
        discover(collider_data(), method="ges", tiers=[["x"], ["t"]])


runner = CliRunner()


def test_cli_writes_an_editable_dot_file(tmp_path: Path) -> None:
    collider_data().to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "g.dot"
    result = runner.invoke(
        app, ["graph-discover", str(tmp_path / "d.csv"), "-o", str(out), "--tiers", "x,z;t;y"]
    )
    assert result.exit_code == 0, result.output
    assert "starting point" in result.output.lower()
    assert out.read_text().startswith("// A STARTING POINT")
    back = runner.invoke(
        app,
        [
            "graph",
            str(out),
            "--data",
            str(tmp_path / "d.csv"),
            "--treatment",
            "t",
            "--outcome",
            "y",
        ],
    )
    assert back.exit_code == 0, back.output
    bad = runner.invoke(
        app, ["graph-discover", str(tmp_path / "d.csv"), "-o", str(out), "--tiers", "x;q"]
    )
    assert bad.exit_code == 2 and "'q', which is not among the columns" in bad.output

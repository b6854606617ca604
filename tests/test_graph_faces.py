"""The faces of causal graphs: `cerebro graph` (table, implications, --json, --plot), `cerebro
run` with `dag:` relative to the spec file and `method: backdoor`, and `cerebro.causal_graph`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.observational.examples import GRAPH_EXAMPLE, graph_data

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    graph_data(1_000).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "g.dot").write_text(GRAPH_EXAMPLE)
    return tmp_path


def test_graph_command_prints_identification_and_tests(folder: Path) -> None:
    args = [
        "graph",
        str(folder / "g.dot"),
        "--data",
        str(folder / "d.csv"),
        "--treatment",
        "t",
        "--outcome",
        "y",
        "--plot",
        str(folder / "g.png"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "front-door adjustment m" in text and "instrument z" in text
    assert "x ⊥ m | t" in text and "marked unobserved: u" in text
    assert (folder / "g.png").stat().st_size > 10_000
    payload = json.loads(runner.invoke(app, [*args[:-2], "--json"]).output)
    assert payload["kind"] == "graph"
    rows = payload["tables"]["identification"]["rows"]
    assert [row[1] for row in rows] == ["none possible", "m", "z"]
    assert len(payload["estimates"]) == 3  # one partial correlation per implication


def test_graph_without_data_lists_the_implications(folder: Path) -> None:
    result = runner.invoke(app, ["graph", str(folder / "g.dot")])
    assert result.exit_code == 0, result.output
    assert "z ⊥ y" not in result.output and "x ⊥ z" in result.output


def test_run_resolves_the_dag_beside_the_spec_and_backdoor_runs_aipw(folder: Path) -> None:
    (folder / "g2.txt").write_text("x -> t\nx -> y\nt -> m\nm -> y\nz -> t\n")
    spec = folder / "spec.yaml"
    spec.write_text(
        "kind: causal\ndata: d.csv\ntreatment: t\noutcome: y\nmethod: backdoor\ndag: g2.txt\n"
    )
    result = runner.invoke(app, ["run", str(spec), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["method"] == "aipw" and payload["spec"]["confounders"] == ["x"]
    assert any("back-door set: x" in f["message"] for f in payload["findings"])
    graph_spec = folder / "graph.yaml"
    graph_spec.write_text("kind: graph\ndag: g.dot\ndata: d.csv\ntreatment: t\noutcome: y\n")
    result = runner.invoke(app, ["run", str(graph_spec), "--json"])
    assert result.exit_code == 0, result.output


def test_python_face() -> None:
    result = cerebro.causal_graph(graph_data(800), dag=GRAPH_EXAMPLE, treatment="t", outcome="y")
    assert result.kind == "graph"
    assert result.tables.columns("identification")["variables"][1] == "m"
    effect = cerebro.causal(
        graph_data(800),
        treatment="t",
        outcome="y",
        method="frontdoor",
        dag=GRAPH_EXAMPLE,
        bootstrap=99,
    )
    assert (
        effect.method == "frontdoor"
        and effect.estimates[0].ci_low < 0.7 < effect.estimates[0].ci_high
    )

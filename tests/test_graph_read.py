"""Reading DAGs (`cerebro.graph.read`) and testing their implications on data
(`cerebro.graph.implications`), and the bad inputs of `--dag` and `cerebro graph`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.graph.implications import implication_tests, implications
from cerebro.graph.read import read_dag
from cerebro.observational.examples import GRAPH_EXAMPLE, graph_data

EDGES = {("x", "t"), ("x", "y"), ("t", "m"), ("m", "y"), ("u", "t"), ("u", "y"), ("z", "t")}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("g.dot", GRAPH_EXAMPLE),
        (
            "g.gv",
            'digraph G {\n  node [shape=box];\n  "u" [observed="no"];\n  x -> t -> m -> y;\n'
            "  x -> y; u -> {t y}; z -> t;\n}\n",
        ),
        (
            "g.yaml",
            "edges: ['x -> t', [x, y], {from: t, to: m}, 'm -> y', 'u -> t', 'u -> y',"
            " 'z -> t']\nnodes: [{name: u, observed: false}]\n",
        ),
        ("g.txt", "# the example\nx -> t -> m -> y\nx -> y\nu -> t\nu -> y\nz -> t\n"),
        ("g.csv", "from,to\nx,t\nx,y\nt,m\nm,y\nu,t\nu,y\nz,t\n"),
    ],
)
def test_every_format_reads_the_same_graph(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    graph = read_dag(path)
    assert set(graph.edges) == EDGES
    with_data = graph.with_columns(["x", "z", "t", "m", "y"])
    assert with_data.latent == {"u"}
    # a node marked unobserved stays latent even when the data have such a column
    if name.endswith((".dot", ".yaml")):
        assert graph.with_columns(["x", "z", "t", "m", "y", "u"]).latent == {"u"}


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("c.txt", "a -> b\nb -> c\nc -> a\n", "has a cycle a -> b -> c -> a"),
        ("s.dot", "digraph { a -> a }", "has a cycle a -> a"),
        ("bad.dot", "digraph { a -> ; }", "cannot read graph file 'bad.dot' as DOT"),
        ("u.dot", "graph { a -- b }", "undirected graph"),
        ("n.dot", "digraph { a -> b [dir=none] }", "has no direction"),
        ("l.txt", "a -> b\nthis line is no edge\n", "cannot read line 2"),
        ("y.yaml", "edges: [a -> b\n", "cannot read graph file 'y.yaml' as YAML"),
        ("e.yaml", "nodes: [a, b]\n", "needs an 'edges:' list"),
        ("e.txt", "# nothing\n", "has no edges"),
        ("x.csv", "from,to\na,b,c\n", "cannot read row 1"),
    ],
)
def test_bad_graph_files_are_one_sentence(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserInputError) as err:
        read_dag(path)
    message = str(err.value)
    assert says in message and message.count(". ") == 0 and "\n" not in message


def linear_data(n: int = 3_000, seed: int = 1) -> pd.DataFrame:
    """x -> t, x -> y, z -> t, t -> y, linear Gaussian."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=(2, n))
    t = 0.8 * x + 0.8 * z + rng.normal(size=n)
    y = 0.5 * t + 0.6 * x + rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": z, "t": t, "y": y})


def test_a_consistent_dag_passes_and_a_wrong_one_fails() -> None:
    frame = linear_data()
    right = read_dag("x -> t\nx -> y\nz -> t\nt -> y").with_columns(list(frame))
    found = implications(right)
    assert {i.text for i in found} == {"x ⊥ z", "z ⊥ y | x, t"}
    tests = implication_tests(frame, found, 0.05)
    assert all(t.p_holm > 0.05 for t in tests)
    for t in tests:  # the partial correlations are 0 within their intervals
        assert t.ci_low < 0 < t.ci_high
    # forgetting x -> y implies x ⊥ y | t, which these data contradict
    wrong = read_dag("x -> t\nz -> t\nt -> y").with_columns(list(frame))
    tests = implication_tests(frame, implications(wrong), 0.05)
    failed = [t.implication.text for t in tests if t.p_holm < 0.05]
    # and z ⊥ y | t too: t is a collider of z -> t <- x -> y, which the wrong graph lacks
    assert failed == ["x ⊥ y | t", "z ⊥ y | t"]


def test_partial_correlation_equals_statsmodels_residual_correlation() -> None:
    import statsmodels.api as sm

    frame = linear_data(500, 2)
    graph = read_dag("x -> t\nx -> y\nz -> t\nt -> y")
    test = next(t for t in implication_tests(frame, implications(graph), 0.05)
                if t.implication.given)  # fmt: skip
    given = sm.add_constant(frame[["x", "t"]])
    r = np.corrcoef(sm.OLS(frame["z"], given).fit().resid, sm.OLS(frame["y"], given).fit().resid)
    assert test.partial_r == pytest.approx(r[0, 1], abs=1e-12)
    # Fisher's z with n − |S| − 3 degrees of freedom
    from scipy import stats

    z = np.arctanh(r[0, 1]) * np.sqrt(500 - 2 - 3)
    assert test.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)


def test_latent_nodes_imply_only_what_observed_variables_can_show() -> None:
    graph = read_dag(GRAPH_EXAMPLE).with_columns(["x", "z", "t", "m", "y"])
    texts = {i.text for i in implications(graph)}
    assert texts == {"x ⊥ z", "x ⊥ m | t", "z ⊥ m | t"}  # z, y: only u could separate them


runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    graph_data(400).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "g.dot").write_text(GRAPH_EXAMPLE)
    (tmp_path / "cycle.dot").write_text("digraph { t -> m -> y -> t }")
    (tmp_path / "bad.dot").write_text("digraph { t -> }")
    (tmp_path / "g2.txt").write_text("x -> t\nx -> y\nt -> y\nt -> sales")
    graph_data(400).assign(m=1.0).to_csv(tmp_path / "const.csv", index=False)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--dag", "{p}/cycle.dot"],
         "has a cycle t -> m -> y -> t"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--dag", "{p}/bad.dot"],
         "as DOT"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--dag", "{p}/none.dot"],
         "does not exist"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "sales", "--dag", "{p}/g2.txt"],
         "outcome 'sales' is not a column of the data"),
        (["causal", "{d}", "--treatment", "w", "--outcome", "y", "--dag", "{p}/g.dot"],
         "treatment 'w' is not a node of graph file 'g.dot'"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--dag", "{p}/g.dot"],
         "no set of observed variables"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--method", "frontdoor"],
         "needs the mediator"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--method", "frontdoor",
          "--mediator", "t"], "mediator 't' is also the treatment"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--method", "frontdoor",
          "--mediator", "m", "--confounders", "x"], "drop --confounders"),
        (["causal", "{d}", "--treatment", "t", "--outcome", "y", "--method", "ipw",
          "--mediator", "m", "--confounders", "x"], "--mediator is not for --method ipw"),
        (["causal", "{p}/const.csv", "--treatment", "t", "--outcome", "y", "--method",
          "frontdoor", "--mediator", "m"], "mediator 'm' takes one value only"),
        (["graph", "{p}/cycle.dot", "--data", "{d}"], "has a cycle"),
        (["graph", "{p}/g.dot", "--data", "{d}", "--treatment", "t"], "add --outcome"),
        (["graph", "{p}/g.dot", "--data", "{d}", "--treatment", "u", "--outcome", "y"],
         "treatment 'u' is marked unobserved"),
    ],
)  # fmt: skip
def test_bad_inputs_exit_2_with_one_sentence(files: Path, args: list[str], says: str) -> None:
    args = [a.format(d=files / "d.csv", p=files) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_text_columns_two_categories_are_coded_and_others_not_tested() -> None:
    frame = linear_data(800, 3)
    graph = read_dag("x -> t\nx -> y\nz -> t\nt -> y")
    numeric = implication_tests(
        frame.assign(z=(frame.z > 0).astype(float)), implications(graph), 0.05
    )
    text = implication_tests(
        frame.assign(z=np.where(frame.z > 0, "yes", "no")), implications(graph), 0.05
    )
    assert [t.partial_r for t in text] == pytest.approx([t.partial_r for t in numeric], abs=1e-12)
    three = frame.assign(z=np.array(["a", "b", "c"])[np.arange(800) % 3])
    noted = implication_tests(three, implications(graph), 0.05)
    assert all("has 3 text categories" in t.note for t in noted if "z" in t.implication.text)
    assert all(np.isnan(t.p_value) for t in noted if "z" in t.implication.text)


@pytest.mark.parametrize(
    ("name", "text"),
    [("b.txt", "t -> m -> y\nt <-> y\n"), ("b.yaml", "edges: ['t -> m', 'm -> y', 't <-> y']\n")],
)
def test_a_bidirected_edge_is_a_hidden_common_cause(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    graph = read_dag(path)
    assert graph.latent == {"U[t<->y]"}
    assert {("U[t<->y]", "t"), ("U[t<->y]", "y")} <= set(graph.edges)
    from cerebro.graph.identify import identify

    ident = identify(graph.with_columns(["t", "m", "y"]), "t", "y")
    assert ident.backdoor is None and ident.frontdoor == ["m"]


@pytest.mark.parametrize("line", ["a <- b", "a -> b <-> c", "a >- b", "a <-> "])
def test_malformed_arrows_are_refused(line: str) -> None:
    with pytest.raises(UserInputError, match="cannot read line 1"):
        read_dag(f"{line}\nx -> y")

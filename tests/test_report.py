"""The HTML report (`cerebro report`, `--report`, `cerebro.report.document.render_report`).

- its structure, read with the standard library's HTML parser: one section per result with the
  summary, decision, estimates table, assumptions, findings (errors and warnings first), an
  embedded figure, method, references and the reproducibility block; nothing loaded from the
  network; text escaped;
- every registered kind renders from its result and from the result restored from JSON;
- the truth table marks whether each interval covers its true value;
- the CLI: `cerebro report a.json b.json` (one report), `--report` on an analysis command
  written with its other outputs, a bad name refused before the run with nothing written.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.registry import methods
from cerebro.core.results import Estimate, Finding, Result
from cerebro.core.spec import parse_spec
from cerebro.report.document import render_report

SLOW_KINDS = {"mmm", "mmm_predict", "mmm_optimize"}  # an MCMC fit each (~15 s)


class Page(HTMLParser):
    """Tags, attributes and the text inside each element id'd or classed, for assertions."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(v in a.get(k, "").split() for k, v in attrs.items())
        ]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def example_result(kind: str) -> Result:
    method = methods()[kind]
    module, function = method.example.split(":")
    fields, data = getattr(import_module(module), function)()
    return method.run(parse_spec({"kind": kind, **fields}), data)


@pytest.fixture(scope="module")
def abtest_result() -> Result:
    return example_result("abtest")


def test_the_page_has_every_part_and_loads_nothing(abtest_result: Result) -> None:
    page = Page(render_report([abtest_result], title="Checkout test"))
    assert page.all("title") and "Checkout test" in page.words
    for heading in (
        "Executive summary",
        "Summary",
        "Decision",
        "Estimates",
        "Assumptions and how they were checked",
        "Findings",
        "Method and references",
        "Reproducibility",
    ):
        assert heading in page.words, heading
    assert len(page.all("section", **{"class": "result"})) == 1
    rows = abtest_result.tables.columns("comparisons")["outcome"]
    assert len(page.all("table", **{"class": "estimates"})) == 1
    assert len(page.all("tr")) >= len(rows) + 1
    images = page.all("img")
    assert images and all(i["src"].startswith("data:image/png;base64,") for i in images)
    # self-contained: no script, no stylesheet link, no URL to fetch
    assert not page.all("script") and not page.all("link")
    assert not [a for _, a in page.tags if any(v.startswith("http") for v in a.values())]
    assert "CUPED" in page.words and "Kohavi" in page.words
    assert "kind: abtest" in page.words  # the spec as YAML


def test_warnings_come_first_and_text_is_escaped(abtest_result: Result) -> None:
    result = Result(
        kind=abtest_result.kind,
        method=abtest_result.method,
        spec=abtest_result.spec,
        estimates=abtest_result.estimates,
        findings=[
            Finding("info", "note", "an info <b>note</b>"),
            Finding("warning", "srm", "sample ratio mismatch"),
            Finding("error", "bad", "a broken thing"),
        ],
        tables=abtest_result.tables,
        summary=abtest_result.summary,
    )
    text = render_report([result])
    items = Page(text).all("li")
    levels = [a["class"] for a in items if a.get("class", "").startswith("level-")]
    assert levels == ["level-error", "level-warning", "level-info"]
    assert "an info &lt;b&gt;note&lt;/b&gt;" in text and "<b>note</b>" not in text
    # the warning on srm is the randomisation assumption's concern
    assert 'status-concern">concern' in text


def test_several_results_make_one_report(abtest_result: Result) -> None:
    causal = example_result("causal")
    page = Page(render_report([abtest_result, causal]))
    sections = page.all("section", **{"class": "result"})
    assert [s["data-kind"] for s in sections] == ["abtest", "causal"]
    links = [a["href"] for a in page.all("a")]
    assert links == ["#result-1", "#result-2"]
    assert "Hernán" in page.words


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=pytest.mark.slow) if k in SLOW_KINDS else k for k in methods()],
)
def test_every_kind_renders_live_and_from_json(kind: str) -> None:
    result = example_result(kind)
    restored = Result.from_dict(json.loads(json.dumps(result.to_dict())))
    for each in (result, restored):
        page = Page(render_report([each]))
        assert page.all("table", **{"class": "estimates"}), kind
        assert "Reproducibility" in page.words
        assert "could not be drawn" not in page.words, kind
    assert page.all("img"), f"{kind}: no figure"


def test_the_truth_table_says_which_intervals_cover(abtest_result: Result) -> None:
    outside, inside = abtest_result.estimates[:2]
    truth = {outside.key: outside.ci_high + 1.0, inside.key: inside.value}
    page = Page(render_report([abtest_result], truth=truth))
    table = page.all("table", **{"class": "recovered-vs-truth"})
    assert table and "Recovered vs truth" in page.words
    text = render_report([abtest_result], truth=truth)
    part = text[text.index("recovered-vs-truth") :]
    part = part[: part.index("</table>")]
    assert part.count(">no<") == 1
    assert part.count(">yes<") == 1


def test_a_result_without_intervals_still_decides_nothing_in_words() -> None:
    result = Result(
        kind="abtest",
        method="welch",
        spec=example_result("abtest").spec,
        estimates=[Estimate("x", 1.0)],
    )
    page = Page(render_report([result]))
    assert "makes no decision by itself" in page.words


def write_result(tmp_path: Path, result: Result, name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(result.to_dict()))
    return path


def test_cli_report_of_several_files(tmp_path: Path, abtest_result: Result) -> None:
    a = write_result(tmp_path, abtest_result, "a.json")
    b = write_result(tmp_path, example_result("power"), "b.json")
    out = tmp_path / "r" / "report.html"
    run = CliRunner().invoke(app, ["report", str(a), str(b), "-o", str(out), "--title", "Q3"])
    assert run.exit_code == 0, run.output
    page = Page(out.read_text())
    assert [s["data-kind"] for s in page.all("section", **{"class": "result"})] == [
        "abtest",
        "power",
    ]
    assert "Q3" in page.words and "a.json" in page.words


def test_cli_report_refuses_what_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    out = tmp_path / "report.html"
    run = CliRunner().invoke(app, ["report", str(bad), "-o", str(out)])
    assert run.exit_code == 2 and "is not a Cerebro result" in run.output
    assert not out.exists()


def test_report_option_on_an_analysis_command(tmp_path: Path) -> None:
    from cerebro.data.synthetic import saas_experiment

    frame, _ = saas_experiment(n_users=600, n_days=2, seed=1)
    data = tmp_path / "saas.csv"
    frame.to_csv(data, index=False)
    report, output = tmp_path / "ab.html", tmp_path / "ab.json"
    args = ["abtest", str(data), "-t", "cohort", "-y", "revenue", "--cluster", "user_id"]
    run = CliRunner().invoke(app, [*args, "--report", str(report), "-o", str(output)])
    assert run.exit_code == 0, run.output
    page = Page(report.read_text())
    assert page.all("table", **{"class": "estimates"})
    # the data file's hash is in the reproducibility block
    import hashlib

    assert hashlib.sha256(data.read_bytes()).hexdigest() in page.words
    # a bad report name is refused before the run: nothing written, not even the JSON
    other = tmp_path / "other.json"
    run = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "r.txt"), "-o", str(other)])
    assert run.exit_code == 2 and ".html" in run.output
    assert not other.exists()


def test_a_failed_run_writes_no_report(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("arm,y\nA,1\nB,2\nA,3\nB,4\n")
    report = tmp_path / "r.html"
    args = ["abtest", str(data), "-t", "arm", "-y", "missing", "--report", str(report)]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 2 and "missing" in run.output
    assert not report.exists() and [p.name for p in tmp_path.iterdir()] == ["d.csv"]

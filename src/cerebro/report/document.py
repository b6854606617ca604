"""One self-contained HTML report of one or several results.

`render_report(results)` reads each `Result` only through its vocabulary – summary, estimates,
findings, tables, spec – so every registered kind renders the same way, live or restored with
`Result.from_dict`. The page is a Jinja2 template (``templates/report.html.j2``, package data)
with its style inline and its figures embedded as base64 PNG: it opens with no network.

Each result gets: an executive summary in plain words, the decision or recommendation, the
estimates table (and, given the truth, the estimates beside it), the assumptions and how they
were checked (`cerebro.report.assumptions`), the findings (errors and warnings first), the
figure, the other tables, the method and its references, and the reproducibility block (the
spec as YAML, the data file's SHA-256 when the file is there, the Cerebro version).
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Result
from cerebro.core.version import __version__
from cerebro.report.assumptions import assumption_rows
from cerebro.report.references import references_of
from cerebro.report.text import format_number, formatted_columns, headline_columns, title_of

#: Rows of a secondary table shown in the report (the JSON result has them all).
MAX_TABLE_ROWS = 40
_LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}
#: Per kind, the findings whose message is the analysis's own recommendation (a bandit's
#: `policy` finding describes its method, an uplift's is its targeting plan).
DECISION_CODES = {
    "abtest": ("best_arm",),
    "bandit": ("best_arm", "best_policy"),
    "power": ("answer",),
    "uplift": ("policy", "best_treatment"),
}


@dataclass
class Source:
    """Where a result came from, for the reproducibility block: the JSON file it was read
    from (and that file's SHA-256) and the Cerebro version that wrote it."""

    path: str | None = None
    sha256: str | None = None
    cerebro_version: str | None = None


@dataclass
class Table:
    """A table ready for the template: headers, formatted rows, which columns are numbers."""

    name: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    hidden_rows: int = 0

    @classmethod
    def of(cls, name: str, columns: Mapping[str, list[Any]]) -> Table:
        total = len(next(iter(columns.values()), []))
        cut = {c: list(v)[:MAX_TABLE_ROWS] for c, v in columns.items()}
        shown, text_headers = formatted_columns(cut)
        rows = [list(r) for r in zip(*shown.values(), strict=True)]
        numeric = [h not in text_headers for h in shown]
        return cls(name, list(shown), rows, numeric, max(0, total - MAX_TABLE_ROWS))


@dataclass
class Section:
    """Everything the template shows for one result."""

    anchor: str
    title: str
    kind: str
    method: str
    summary: list[str]
    decision: list[str]
    headline: Table
    truth: Table | None
    assumptions: list[dict[str, str]]
    findings: list[dict[str, str]]
    figures: list[dict[str, str]]
    tables: list[Table]
    method_text: str
    references: list[str]
    spec_yaml: str
    data: dict[str, str] | None
    source: Source = field(default_factory=Source)


def render_report(
    results: Sequence[Result],
    *,
    title: str | None = None,
    truth: Mapping[str, float] | None = None,
    truth_notes: Sequence[str] = (),
    sources: Sequence[Source | None] | None = None,
) -> str:
    """The self-contained HTML report of `results` (one section each, an overview first).

    `truth` maps estimate keys (or labels) to known true values – a simulation's truth file –
    shown beside the estimates with whether each interval covers its truth; `truth_notes` are
    that truth in sentences (a truth file's ``story``), shown after the summary. `sources`
    gives, per result, the file it was read from and the version that wrote it.
    """
    if not results:
        raise UserInputError("a report needs at least one result; give one or more JSON files.")
    sources = list(sources or [None] * len(results))
    sections = [
        build_section(r, i, truth or {}, s or Source())
        for i, (r, s) in enumerate(zip(results, sources, strict=True))
    ]
    page_title = title or (sections[0].title if len(sections) == 1 else "Cerebro report")
    return _template().render(
        title=page_title, sections=sections, version=__version__, truth_notes=list(truth_notes)
    )


def _template():
    """The report template, from the package's data (Jinja2 imported on use)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("cerebro.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2")


def build_section(
    result: Result, index: int, truth: Mapping[str, float], source: Source
) -> Section:
    """The template's view of one result."""
    spec = _spec_dict(result)
    return Section(
        anchor=f"result-{index + 1}",
        title=title_of(result),
        kind=result.kind,
        method=result.method,
        summary=summary_paragraphs(result),
        decision=decision_lines(result),
        headline=Table.of("estimates", headline_columns(result)),
        truth=truth_table(result.estimates, truth),
        assumptions=assumption_rows(result),
        findings=sorted(
            (f.to_dict() for f in result.findings), key=lambda f: _LEVEL_ORDER.get(f["level"], 3)
        ),
        figures=figures_of(result),
        tables=[
            Table.of(name, result.tables.columns(name))
            for name in result.tables
            if name != result.summary.get("headline_table")
        ],
        method_text=method_text(result),
        references=references_of(result),
        spec_yaml=_yaml(spec),
        data=data_provenance(spec.get("data")),
        source=source,
    )


def _spec_dict(result: Result) -> dict[str, Any]:
    spec = result.spec
    return spec.model_dump(mode="json") if hasattr(spec, "model_dump") else dict(spec or {})


def _yaml(spec: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).strip()


def summary_paragraphs(result: Result) -> list[str]:
    """The result in plain words: its narrative, else a sentence per headline estimate."""
    narrative = result.narrative().strip()
    if narrative:
        return [line for line in narrative.splitlines() if line.strip()]
    lines = [_estimate_sentence(e, result.summary.get("alpha")) for e in result.estimates[:6]]
    more = len(result.estimates) - 6
    if more > 0:
        lines.append(f"… and {more} more estimates in the table below.")
    return lines or ["This analysis reported no estimates; see its tables and findings."]


def _estimate_sentence(estimate: Estimate, alpha: float | None) -> str:
    text = f"{estimate.label}: {format_number(estimate.value)}"
    if _finite(estimate.ci_low) and _finite(estimate.ci_high):
        level = f"{1 - alpha:.0%} " if alpha else ""
        text += (
            f" ({level}interval {format_number(estimate.ci_low)} to "
            f"{format_number(estimate.ci_high)})"
        )
    if _finite(estimate.p_value):
        text += f", {p_text(estimate.p_value)}"
    return text + "."


def p_text(p: float) -> str:
    """A p-value for a sentence: ``p < 0.0001`` below that, else three significant digits."""
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.3g}"


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def decision_lines(result: Result) -> list[str]:
    """The decision in plain words: the analysis's own recommendation where it makes one (a
    decision column, a policy or answer finding), else which effects are clearly non-zero."""
    lines = []
    name = result.summary.get("headline_table")
    if name in result.tables and "decision" in result.tables.columns(name):
        columns = result.tables.columns(name)
        labels = [c for c in ("outcome", "variant", "arm") if c in columns]
        for i, decision in enumerate(columns["decision"]):
            who = ": ".join(str(columns[c][i]) for c in labels)
            lines.append(f"{who} – {decision}" if who else str(decision))
    elif name in result.tables:
        lines += best_variants(result.tables.columns(name), result.summary.get("alpha") or 0.05)
    codes = DECISION_CODES.get(result.kind, ())
    lines += [f.message for f in result.findings if f.code in codes]
    return lines or _effect_verdicts(result)


def best_variants(columns: Mapping[str, list[Any]], alpha: float) -> list[str]:
    """Per outcome of a comparisons table (outcome, variant, lift, p_value), the variant with
    the largest lift among those significantly above the control, or that none is."""
    lift = "rel_lift" if "rel_lift" in columns else "lift"
    if not {"outcome", "variant", "p_value", lift} <= set(columns):
        return []
    lines = []
    for outcome in dict.fromkeys(columns["outcome"]):
        rows = [i for i, o in enumerate(columns["outcome"]) if o == outcome]
        winners = [
            i
            for i in rows
            if _finite(columns[lift][i])
            and columns[lift][i] > 0
            and _finite(columns["p_value"][i])
            and columns["p_value"][i] < alpha
        ]
        if not winners:
            lines.append(f"{outcome}: no variant beats the control significantly.")
            continue
        best = max(winners, key=lambda i: columns[lift][i])
        size = (
            f"{100 * columns[lift][best]:+.1f}%"
            if lift == "rel_lift"
            else format_number(columns[lift][best])
        )
        others = len(winners) - 1
        lines.append(
            f"{outcome}: {columns['variant'][best]} is best ({size}, "
            f"{p_text(columns['p_value'][best])})"
            + (f"; {others} other variant(s) also beat the control." if others else ".")
        )
    return lines


def _effect_verdicts(result: Result) -> list[str]:
    """Which estimates' intervals exclude zero, which do not (estimates with intervals)."""
    clear_up, clear_down, unclear = [], [], []
    for e in result.estimates:
        if not (_finite(e.ci_low) and _finite(e.ci_high)) or e.p_value is None:
            continue
        group = clear_up if e.ci_low > 0 else clear_down if e.ci_high < 0 else unclear
        group.append(e.label)
    out = []
    if clear_up:
        out.append("Clearly positive (interval above zero): " + "; ".join(clear_up) + ".")
    if clear_down:
        out.append("Clearly negative (interval below zero): " + "; ".join(clear_down) + ".")
    if unclear:
        out.append("Not distinguishable from zero: " + "; ".join(unclear) + ".")
    return out or ["This analysis makes no decision by itself; read the estimates below."]


def truth_table(estimates: list[Estimate], truth: Mapping[str, float]) -> Table | None:
    """Estimates with a known true value beside them and whether the interval covers it."""
    rows: dict[str, list[Any]] = {
        "estimate": [], "value": [], "ci_low": [], "ci_high": [], "truth": [], "covers_truth": []
    }  # fmt: skip
    for e in estimates:
        true = truth.get(e.key, truth.get(e.label))
        if true is None:
            continue
        covered = _finite(e.ci_low) and _finite(e.ci_high) and e.ci_low <= true <= e.ci_high
        for column, value in zip(
            rows, (e.label, e.value, e.ci_low, e.ci_high, float(true), covered), strict=True
        ):
            rows[column].append(value)
    return Table.of("recovered vs truth", rows) if rows["estimate"] else None


def figures_of(result: Result) -> list[dict[str, str]]:
    """The kind's figure as an embedded PNG; a kind without a plot has none, and a figure
    that cannot be drawn is named, not hidden."""
    from cerebro.report.plots import plot_result

    try:
        figure = plot_result(result)
    except UserInputError:
        return []
    except Exception as err:  # a report still renders; the failure is shown in its place
        return [{"caption": f"The figure could not be drawn: {err}", "src": ""}]
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return [{"caption": title_of(result), "src": f"data:image/png;base64,{encoded}"}]


def method_text(result: Result) -> str:
    """What the kind does (its registered summary) and the method that ran."""
    from cerebro.core.registry import get_method, kinds

    kind = result.method if result.method in kinds() else result.kind
    try:
        summary = get_method(kind).summary
    except UserInputError:
        summary = ""
    return f"{summary} Method: {result.method}.".strip()


def data_provenance(path: Any) -> dict[str, str] | None:
    """The data file named by the spec, with its SHA-256 and size when it is readable here."""
    if not isinstance(path, str) or not path:
        return None
    file = Path(path)
    if not file.is_file():
        return {"path": path, "sha256": "unknown (the file is not on this machine)", "size": ""}
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": path, "sha256": digest.hexdigest(), "size": f"{file.stat().st_size:,} bytes"}

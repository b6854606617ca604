"""Plain-language insights across one or several results – by tested templates, not a language
model.

Every sentence is built from a result's own parts, phrased as `cerebro report` phrases them:
its narrative or a sentence per headline estimate (`document.summary_paragraphs`), its decision
(`document.decision_lines`), its assumptions and how the findings speak to them
(`assumptions.assumption_rows`), and its warning findings. Nothing is computed that the result
does not hold: a number in the text is one of the result's numbers at its displayed rounding (or
1 − alpha as a percentage), so the text can be checked against the result
(`tests/test_service_intel.py` parses every number back). What to do next follows fixed rules
on those parts – a concern among the checks, an effect that cannot be told from zero, an
assumption no data can test, the kind of analysis – listed in `next_steps`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from cerebro.core.results import Estimate, Result
from cerebro.report.assumptions import assumption_rows
from cerebro.report.document import decision_lines, p_text, summary_paragraphs
from cerebro.report.text import format_number, title_of

GENERATOR = "templates"
# What a kind's result leads to next, beyond the rules every result shares.
KIND_NEXT = {
    "power": "Register the experiment with this sample size and randomise it with the design "
    "kind before any data are collected.",
    "design": "Check the balance table before launch, then analyse the test with the abtest "
    "kind on the assignment written here.",
    "geo_design": "Run the geo test on the selected markets for the chosen duration, then read it "
    "with the geotest kind.",
    "mmm": "Validate the model's ROIs against a lift test where one exists, then split the budget "
    "with the budget optimiser.",
    "uplift": "Target by the recommended policy with the treatment recommendations route, and "
    "confirm it on a fresh randomised holdout.",
    "causal": "Probe the estimate against unmeasured confounding with a sensitivity analysis "
    "(kind sensitivity).",
}
# how `document.decision_lines` says a result makes no decision of its own
NO_DECISION = "This analysis makes no decision by itself"
_OBSERVATIONAL = {"causal", "did", "rdd", "iv", "synthetic_control", "counterfactual"}


@dataclass(frozen=True)
class Insights:
    """The five parts of an insights answer, each a list of sentences but the summary."""

    executive_summary: str
    learned: list[str]
    confidence: list[str]
    next_steps: list[str]
    caveats: list[str]

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "generator": GENERATOR}


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _interval_sentence(e: Estimate, alpha: float | None) -> str | None:
    """'label: 1.2 (95% interval 0.3 to 2.1, p = 0.01) – clearly above zero.' The verdict
    against zero only for a tested estimate (one with a p-value): a level such as a mean
    outcome is not an effect, and its distance from zero says nothing."""
    if not (_finite(e.value) and _finite(e.ci_low) and _finite(e.ci_high)):
        return None
    level = f"{1 - alpha:.0%} " if alpha else ""
    text = f"{e.label}: {format_number(e.value)} ({level}interval {format_number(e.ci_low)} to "
    if not _finite(e.p_value):
        return text + f"{format_number(e.ci_high)})."
    verdict = (
        "clearly above zero"
        if e.ci_low > 0
        else "clearly below zero"
        if e.ci_high < 0
        else "not distinguishable from zero"
    )
    return text + f"{format_number(e.ci_high)}, {p_text(e.p_value)}) – {verdict}."


def _headline(result: Result) -> list[Estimate]:
    """The estimates a reader sees first: those with an interval, at most four."""
    return [e for e in result.estimates if _finite(e.ci_low) and _finite(e.ci_high)][:4]


def _effects(result: Result) -> list[Estimate]:
    """The headline estimates that were tested against zero (they carry a p-value)."""
    return [e for e in _headline(result) if _finite(e.p_value)]


def _confidence(result: Result, title: str) -> list[str]:
    """How sure we are: the headline intervals, then the assumptions by status."""
    alpha = result.summary.get("alpha")
    lines = [f"{title} – {s}" for e in _headline(result) if (s := _interval_sentence(e, alpha))]
    rows = assumption_rows(result)
    for status, words in (
        ("checked", "checked in the data and passed"),
        ("concern", "checked in the data and raised a concern"),
        ("untested", "not testable from these data, so believed by design"),
    ):
        named = [r["assumption"].rstrip(".") for r in rows if r["status"] == status]
        if named:
            lines.append(f"{title} – {words}: " + "; ".join(named) + ".")
    return lines


def _next_steps(result: Result, title: str) -> list[str]:
    """Fixed rules on the result's parts; each step names what triggered it."""
    steps = []
    for row in assumption_rows(result):
        if row["status"] == "concern":
            steps.append(
                f"{title}: resolve the concern about “{row['assumption'].rstrip('.')}” before "
                f"acting on the estimate ({row['evidence']})"
            )
    heads = _effects(result)
    if heads and all(e.ci_low <= 0 <= e.ci_high for e in heads):
        steps.append(
            f"{title}: no headline effect can be told from zero – plan a larger or longer test "
            "with the experiment designer before concluding there is no effect."
        )
    elif heads and result.kind in _OBSERVATIONAL:
        steps.append(
            f"{title}: the effect rests on untestable assumptions – confirm it with a "
            "randomised test where one is feasible."
        )
    elif heads and result.kind in ("abtest", "geotest"):
        steps.append(
            f"{title}: an effect is clear – decide on rollout by its interval's lower end, not "
            "its point estimate, and keep a holdout to watch it last."
        )
    if result.kind in KIND_NEXT:
        steps.append(f"{title}: {KIND_NEXT[result.kind]}")
    return steps


def _disagreements(results: Sequence[Result]) -> list[str]:
    """Outcomes that two analyses find clearly moving in opposite directions."""
    signs: dict[str, dict[int, list[str]]] = {}
    for result in results:
        outcome = _outcome(result)
        for e in _effects(result):
            sign = 1 if e.ci_low > 0 else -1 if e.ci_high < 0 else 0
            if outcome and sign:
                signs.setdefault(outcome, {}).setdefault(sign, []).append(title_of(result))
    return [
        f"The analyses disagree on {outcome!r}: clearly up in {', '.join(by[1])}, clearly down "
        f"in {', '.join(by[-1])} – check that they ask the same question of the same data."
        for outcome, by in signs.items()
        if 1 in by and -1 in by
    ]


def _outcome(result: Result) -> str | None:
    spec = result.spec if isinstance(result.spec, dict) else {}
    outcome = spec.get("outcome") if spec else getattr(result.spec, "outcome", None)
    if isinstance(outcome, list):
        return str(outcome[0]) if len(outcome) == 1 else None
    return str(outcome) if outcome else None


def insights(results: Sequence[Result]) -> Insights:
    """Insights across `results` (at least one): the executive summary (each result's
    decision), what was learned (its narrative or estimates), how sure we are (intervals and
    assumptions), next steps (fixed rules) and caveats (warning findings, disagreements)."""
    if not results:
        raise ValueError("insights need at least one result")
    summary, learned, confidence, steps, caveats = [], [], [], [], []
    for result in results:
        title = title_of(result)
        decision, paragraphs = decision_lines(result), summary_paragraphs(result)
        # a result that decides nothing (a design, a model) is summed up by its narrative
        headline = paragraphs[0] if decision[0].startswith(NO_DECISION) else decision[0]
        summary.append(f"{title}: {headline}" + ("" if headline.endswith(".") else "."))
        learned += [f"{title}: {line}" for line in paragraphs]
        learned += [f"{title}: {line}" for line in decision[1:]]
        confidence += _confidence(result, title)
        steps += _next_steps(result, title)
        caveats += [
            f"{title}: {f.message}" for f in result.findings if f.level in ("warning", "error")
        ]
    caveats += _disagreements(results)
    if not caveats:
        caveats.append(
            "No analysis raised a warning; the untestable assumptions above still apply."
        )
    return Insights(" ".join(summary), learned, confidence, steps, caveats)

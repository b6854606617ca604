"""`cerebro abtest --guardrails retention_7d,latency:lower`: metrics that must not get worse,
folded into one decision per variant.

A guardrail holds when the data rule out that it got worse: with `--guardrail-margin m` (a
relative change, e.g. 0.01 = 1%) by a non-inferiority test – the one-sided 1 − alpha bound of
the relative lift lies above −m (below +m for a metric where lower is better, `name:lower`);
without a margin by the weaker rule most dashboards use – it did not get significantly worse
(the two-sided interval does not lie wholly on the bad side). A variant ships when a primary
outcome improved significantly (Holm-adjusted over the variants) and every guardrail holds.
All guardrails must hold together – an intersection–union test – so each is tested at alpha
with no multiplicity correction, and the decision's error rate stays at alpha (Berger 1982,
Technometrics 24(4)). Non-inferiority margins: Schuirmann (1987); Spotify's "guardrail
metrics" (Schultzberg, Kjellin & Rydberg 2021) follow the same rule.
"""

from __future__ import annotations

from typing import Any

from cerebro.core.results import Finding
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.stats.intervals import quantile


def parse_guardrail(text: str) -> tuple[str, bool]:
    """'latency:lower' → ('latency', lower is better); 'retention' → ('retention', False)."""
    name, _, direction = text.partition(":")
    return name.strip(), direction.strip().lower() == "lower"


def _check(row: dict[str, Any], lower_better: bool, spec: ABTestSpec) -> tuple[float, bool]:
    """The bound that decides and whether the guardrail holds."""
    rel, se, df = row.get("rel_lift"), row.get("rel_lift_se"), row.get("df")
    if rel is None or se is None or se != se:
        raise ValueError("no relative lift")
    if spec.guardrail_margin is None:
        bound = row["rel_lift_ci_low"] if lower_better else row["rel_lift_ci_high"]
        worse = bound > 0 if lower_better else bound < 0
        return float(bound), not worse
    crit = quantile(1 - spec.alpha, df)
    if lower_better:
        bound = rel + crit * se
        return float(bound), bound < spec.guardrail_margin
    bound = rel - crit * se
    return float(bound), bound > -spec.guardrail_margin


def guardrail_decisions(
    rows: list[dict[str, Any]], spec: ABTestSpec
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The guardrails table and one decision per variant."""
    rails = dict(parse_guardrail(g) for g in spec.guardrails)
    table, findings = [], []
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        broken, unknown = [], []
        for row in (r for r in mine if r["outcome"] in rails):
            try:
                bound, holds = _check(row, rails[row["outcome"]], spec)
            except ValueError:
                unknown.append(row["outcome"])
                continue
            table.append(
                {"variant": variant, "guardrail": row["outcome"],
                 "direction": "lower is better" if rails[row["outcome"]] else "higher is better",
                 "rel_lift": row["rel_lift"], "bound": bound, "margin": spec.guardrail_margin,
                 "holds": holds}
            )  # fmt: skip
            if not holds:
                broken.append(row["outcome"])
        wins = [
            r["outcome"] for r in mine
            if r["outcome"] not in rails and r["lift"] > 0 and r["p_holm"] < spec.alpha
        ]  # fmt: skip
        findings.append(_decision(variant, mine[0]["control"], wins, broken, unknown, spec))
    return table, findings


def _decision(
    variant: str, control: str, wins: list[str], broken: list[str], unknown: list[str],
    spec: ABTestSpec,
) -> Finding:  # fmt: skip
    rule = (
        f"non-inferior within {spec.guardrail_margin:.2%}"
        if spec.guardrail_margin is not None
        else "not significantly worse"
    )
    if broken:
        why = (
            f"may be worse by more than the margin {spec.guardrail_margin:.2%} (one-sided "
            f"{1 - spec.alpha:.0%} bound)"
            if spec.guardrail_margin is not None
            else f"got significantly worse ({1 - spec.alpha:.0%} interval)"
        )
        return Finding(
            "warning",
            "decision",
            f"{variant} vs {control}: hold – guardrail {', '.join(broken)} {why}; do not ship "
            "on the primary result alone.",
        )
    if unknown:
        return Finding(
            "warning",
            "decision",
            f"{variant} vs {control}: no decision – guardrail {', '.join(unknown)} has no "
            "relative lift (control mean 0), so it cannot be checked.",
        )
    if wins:
        return Finding(
            "info",
            "decision",
            f"{variant} vs {control}: ship – {', '.join(wins)} improved significantly and every "
            f"guardrail is {rule}.",
        )
    return Finding(
        "info",
        "decision",
        f"{variant} vs {control}: no decision – no primary outcome improved significantly "
        f"(every guardrail is {rule}).",
    )

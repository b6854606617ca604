"""Refutations as DoWhy users know them (Sharma & Kiciman 2020, "DoWhy: an end-to-end library
for causal inference", §4): re-estimate after a change that should not – or should – move the
estimate, and say whether it held. Each is one seeded re-estimate by the same method, run as
kind ``causal`` through the registry (so this family never imports `observational`).

- placebo treatment: the treatment column permuted – the effect should vanish (0 inside the new
  interval);
- random common cause: an independent N(0, 1) column added to the confounders – the estimate
  should stay (the original inside the new interval);
- data subset: a random 80% of the rows – the estimate should stay;
- dummy outcome: the outcome replaced by normal noise with its mean and SD – the effect should
  vanish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.context import progress
from cerebro.core.registry import get_method
from cerebro.core.results import Estimate, Finding
from cerebro.core.spec import parse_spec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.sensitivity.spec import SensitivitySpec

RANDOM_COLUMN = "random_common_cause"
SUBSET = 0.8


def causal_fields(spec: SensitivitySpec, **changes: Any) -> dict[str, Any]:
    """The `kind: causal` spec of the estimate under study (psm: the ATT, 1:k matches)."""
    fields: dict[str, Any] = {
        "kind": "causal", "treatment": spec.treatment, "outcome": spec.outcome,
        "confounders": list(spec.confounders), "alpha": spec.alpha, "method": spec.method,
        "seed": spec.seed,
    }  # fmt: skip
    if spec.method == "psm":
        fields.update(estimand="att", neighbours=spec.neighbours)
    return {**fields, **changes}


def estimate(frame: pd.DataFrame, fields: dict[str, Any]) -> Any:
    """The causal result of `fields` on `frame`, run through the registry."""
    return get_method("causal").run(parse_spec(fields), frame)


def refutations(
    frame: pd.DataFrame, spec: SensitivitySpec, original: Estimate
) -> tuple[dict[str, list[Any]], list[Finding]]:
    """One row per check: what it tested, the new estimate and interval, whether it held."""
    rng = np.random.default_rng(spec.seed)
    n = len(frame)
    t, y = str(spec.treatment), str(spec.outcome)
    outcome = frame[y].astype(float)
    checks = [
        ("placebo treatment", "treatment randomly permuted: the effect should vanish", 0.0,
         frame.assign(**{t: rng.permutation(frame[t].to_numpy())}), {}),
        ("random common cause", "an independent N(0, 1) confounder added: the estimate should "
         "not move", original.value, frame.assign(**{RANDOM_COLUMN: rng.normal(size=n)}),
         {"confounders": [*spec.confounders, RANDOM_COLUMN]}),
        ("data subset", f"a random {SUBSET:.0%} of the rows: the estimate should not move",
         original.value, frame.iloc[np.sort(rng.permutation(n)[: int(SUBSET * n)])], {}),
        ("dummy outcome", "outcome replaced by independent noise: the effect should vanish", 0.0,
         frame.assign(**{y: rng.normal(outcome.mean(), outcome.std(), n)}), {}),
    ]  # fmt: skip
    rows: dict[str, list[Any]] = {
        k: [] for k in ("check", "tested", "estimate", "new_estimate", "ci_low", "ci_high",
                        "expected", "held")
    }  # fmt: skip
    advance = progress("refutations", len(checks))
    failed = []
    for name, tested, expected, changed, extra in checks:
        advance(0, name)
        new = estimate(changed, causal_fields(spec, **extra)).estimates[0]
        held = bool(new.ci_low <= expected <= new.ci_high)
        if not held:
            failed.append(name)
        values = [name, tested, original.value, new.value, new.ci_low, new.ci_high, expected, held]
        for column, v in zip(rows, values, strict=True):
            rows[column].append(v)
        advance(1)
    findings = [
        Finding(
            "warning" if failed else "info",
            "refutation",
            f"refutations failed: {', '.join(failed)} (the estimate moved where it should not)."
            if failed
            else "the estimate held under all four refutations (placebo treatment, random common "
            f"cause, data subset, dummy outcome; seed {spec.seed}).",
        )
    ]
    return rows, findings

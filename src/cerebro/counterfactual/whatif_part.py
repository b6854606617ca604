"""The what-if part of a `counterfactual` run: the expected outcome under `--set` against as
observed, overall and per `--by` group, with bootstrap intervals (see `whatif`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.results import Estimate, Finding
from cerebro.counterfactual import data as cfdata
from cerebro.counterfactual import whatif
from cerebro.data.columns import note_dropped, source_columns
from cerebro.data.validate import require_varying

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.counterfactual.analysis import Parts
    from cerebro.counterfactual.spec import CounterfactualSpec


def model_terms(spec: CounterfactualSpec) -> list[str]:
    """The outcome model's terms: the treatment, the confounders and every set column (the
    mediator is left out – it is a consequence of the treatment)."""
    terms = ([spec.treatment] if spec.treatment else []) + list(spec.confounders)
    used = {c for t in terms for c in source_columns(t)}
    terms += [i.column for i in spec.parsed_interventions() if i.column not in used]
    return list(dict.fromkeys(terms))


def what_if_part(frame: pd.DataFrame, spec: CounterfactualSpec, parts: Parts) -> None:
    """Predictions under the intervention vs as observed, by group and overall."""
    items = spec.parsed_interventions()
    y = cfdata.outcome(frame, spec)
    d = whatif.design(frame, y, model_terms(spec), items, spec.by)
    note_dropped(
        parts.findings, d.keep, "outcome, model term or group",
        "missingness is unrelated to the outcome given the other columns",
    )  # fmt: skip
    require_varying(y[d.keep], spec.outcome, "outcome")
    family = cfdata.family(spec.outcome_model, y[d.keep], spec.outcome, "outcome")
    if np.linalg.matrix_rank(d.X[d.keep]) < d.X.shape[1]:
        from cerebro.core.errors import UserInputError

        raise UserInputError(
            "the outcome model's terms are collinear or constant (" + ", ".join(d.names)
            + "); drop the redundant one from --confounders."
        )  # fmt: skip
    point = whatif.predictions(d, family)
    reps = whatif.bootstrap(d, family, spec.bootstrap, spec.seed + 1)
    labels = [*d.labels, "overall"]
    table = _table(d, y, labels, point, reps, spec.alpha)
    parts.tables["what_if"] = table
    for i, label in enumerate(labels):
        overall = label == "overall"
        if not overall and not np.isfinite(point[i, 1]):
            continue
        suffix = "" if overall else f" ({spec.by} = {label})"
        key_suffix = "" if overall else f"_{label}"
        change = Estimate(
            f"Change in mean {spec.outcome}{suffix}",
            float(point[i, 1] - point[i, 0]),
            table["change_se"][i],
            table["change_ci_low"][i],
            table["change_ci_high"][i],
            key=f"change{key_suffix}",
        )
        if overall:
            under = Estimate(
                f"Mean {spec.outcome} under the intervention",
                float(point[i, 1]),
                table["under_intervention_se"][i],
                table["under_intervention_ci_low"][i],
                table["under_intervention_ci_high"][i],
                key="under_intervention",
            )
            seen = Estimate(
                f"Mean {spec.outcome} as observed (model)",
                float(point[i, 0]),
                table["as_observed_se"][i],
                table["as_observed_ci_low"][i],
                table["as_observed_ci_high"][i],
                key="as_observed",
            )
            parts.add("what-if", under)
            parts.add("what-if", seen)
        parts.add("what-if", change)
    _findings(frame, spec, d, family, items, parts, point)
    if spec.predictions:
        from cerebro.core.output import Artefact

        table = whatif.unit_predictions(d, family)
        parts.artefacts.append(Artefact("predictions", spec.predictions, table, whatif.write_csv))
        parts.findings.append(
            Finding(
                "info",
                "predictions",
                f"wrote each row's predicted {spec.outcome} as observed and under the "
                f"intervention for {int(d.keep.sum()):,} of {len(d.keep):,} rows to "
                f"{spec.predictions} (input row order; point predictions, no intervals).",
            )
        )


def _table(
    d: Any, y: np.ndarray, labels: list[str], point: np.ndarray, reps: np.ndarray, alpha: float
) -> dict[str, list[Any]]:
    """One row per group and overall: rows, observed mean, both predictions and the change."""
    rows: dict[str, list[Any]] = {"group": labels, "rows": [], "observed_mean": []}
    keep = np.flatnonzero(d.keep)
    for i in range(len(labels)):
        mask = keep if i == len(labels) - 1 else keep[d.groups[keep] == i]
        rows["rows"].append(len(mask))
        rows["observed_mean"].append(float(y[mask].mean()) if len(mask) else None)
    changes = reps[:, :, 1] - reps[:, :, 0]
    for name, values, draws in (
        ("as_observed", point[:, 0], reps[:, :, 0]),
        ("under_intervention", point[:, 1], reps[:, :, 1]),
        ("change", point[:, 1] - point[:, 0], changes),
    ):
        # a group absent from a bootstrap sample is NaN there
        low, high = np.nanquantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
        rows[name] = [float(v) for v in values]
        rows[f"{name}_ci_low"] = [float(min(lo, v)) for lo, v in zip(low, values, strict=True)]
        rows[f"{name}_ci_high"] = [float(max(hi, v)) for hi, v in zip(high, values, strict=True)]
        rows[f"{name}_se"] = [float(s) for s in np.nanstd(draws, axis=0, ddof=1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["change_pct"] = [float(v) for v in 100 * (point[:, 1] / point[:, 0] - 1)]
    return rows


def _findings(
    frame: pd.DataFrame,
    spec: CounterfactualSpec,
    d: Any,
    family: str,
    items: list[Any],
    parts: Parts,
    point: np.ndarray,
) -> None:
    """What the intervention means, its assumption, and extrapolation beyond the data."""
    changed = whatif.intervene(frame, items)
    for item in items:
        if item.how == "category":
            continue
        old = frame[item.column].to_numpy(float)[d.keep]
        new = changed[item.column].to_numpy(float)[d.keep]
        outside = float(np.mean((new < old.min()) | (new > old.max())))
        if outside > 0.05:
            parts.findings.append(
                Finding(
                    "warning",
                    "extrapolation",
                    f"{outside:.0%} of rows get a value of {item.column} outside its observed "
                    f"range [{old.min():.4g}, {old.max():.4g}]: the prediction there rests on "
                    "the model's form, not on data.",
                )
            )
    what = "; ".join(i.describe() for i in items)
    model = family
    parts.findings.append(
        Finding(
            "info",
            "what_if_assumptions",
            f"what-if: {what}; the expected {spec.outcome} comes from a {model} outcome model "
            f"on {', '.join(d.names)} averaged over the rows (g-formula). It is causal only if "
            "nothing unmeasured drives both the set column(s) and the outcome, and the model's "
            "form is right.",
        )
    )
    parts.narrative.append(
        f"If {what}, the mean {spec.outcome} would be {point[-1, 1]:.4g} instead of "
        f"{point[-1, 0]:.4g} ({point[-1, 1] - point[-1, 0]:+.4g})."
    )
    parts.summary["what_if"] = what

"""`counterfactual`: the runner – mediation, what-if predictions and bounds, each when the spec
asks for it – and the result (estimates, one tidy headline table, findings).

The numerics live in `mediation`, `whatif` and `bounds`; this module checks the rows each part
runs on, turns numbers into estimates and tables, and says in findings what the numbers rest on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.results import Estimate, Finding, Fit, Result
from cerebro.counterfactual import data as cfdata
from cerebro.data.columns import note_dropped, numeric_column
from cerebro.data.validate import require_units_per_arm, require_varying
from cerebro.stats.intervals import interval_from, normal_interval

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.counterfactual.spec import CounterfactualSpec

LABELS = {
    "nde": "Natural direct effect (NDE)",
    "nie": "Natural indirect effect (NIE)",
    "total_effect": "Total effect",
    "proportion_mediated": "Proportion mediated",
    "nie_control": "NIE with treatment at control (pure NIE)",
    "nde_treated": "NDE with mediator at treatment (total NDE)",
}


@dataclass
class Parts:
    """What the parts of one run add up to."""

    estimates: list[Estimate] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    headline: list[tuple[str, Estimate]] = field(default_factory=list)
    influence: dict[str, np.ndarray] = field(default_factory=dict)
    units: np.ndarray | None = None  # rows (positions) the influence functions are indexed by
    artefacts: list[Any] = field(default_factory=list)  # files the spec asked for
    narrative: list[str] = field(default_factory=list)

    def add(self, question: str, estimate: Estimate) -> None:
        self.estimates.append(estimate)
        self.headline.append((question, estimate))


def run(frame: pd.DataFrame, spec: CounterfactualSpec) -> Result:
    """Answer each question the spec asks (mediation, what-if, bounds) on `frame`."""
    parts = Parts()
    asked = []
    if spec.mediator is not None:
        mediation_part(frame, spec, parts)
        asked.append("mediation")
    if spec.interventions:
        from cerebro.counterfactual.whatif_part import what_if_part

        what_if_part(frame, spec, parts)
        asked.append("what_if")
    if spec.bounds:
        from cerebro.counterfactual.bounds_part import bounds_part

        bounds_part(frame, spec, parts)
        asked.append("bounds")
    parts.tables["effects"] = _headline(parts.headline)
    titles = {"mediation": "Mediation", "what_if": "What-if", "bounds": "Bounds"}
    return Result(
        kind="counterfactual",
        method="+".join(asked),
        spec=spec,
        estimates=parts.estimates,
        findings=parts.findings,
        tables=parts.tables,
        summary={
            "headline_table": "effects",
            "title": f"{' + '.join(titles[a] for a in asked)}: {spec.outcome}",
            "narrative": " ".join(parts.narrative),
            "alpha": spec.alpha,
            "treatment": spec.treatment,
            "outcome": spec.outcome,
            **parts.summary,
        },
        fit=Fit(influence=parts.influence, units=parts.units) if parts.influence else None,
        artefacts=parts.artefacts,
    )


def _headline(rows: list[tuple[str, Estimate]]) -> dict[str, list[Any]]:
    return {
        "question": [q for q, _ in rows],
        "effect": [e.label for _, e in rows],
        "estimate": [e.value for _, e in rows],
        "se": [e.se for _, e in rows],
        "estimate_ci_low": [e.ci_low for _, e in rows],
        "estimate_ci_high": [e.ci_high for _, e in rows],
        "p_value": [e.p_value for _, e in rows],
    }


def mediation_rows(frame: pd.DataFrame, spec: CounterfactualSpec, findings: list[Finding]) -> Any:
    """The mediation data: complete rows, checked, with each model's family."""
    from cerebro.counterfactual.mediation import MediationData

    t, arms = cfdata.binary_treatment(frame, spec, "mediation (--mediator)", findings)
    m = numeric_column(frame[spec.mediator], spec.mediator, "mediator")
    y = cfdata.outcome(frame, spec)
    C, names = cfdata.covariates(frame, spec)
    keep = ~(np.isnan(t) | np.isnan(m) | np.isnan(y) | np.isnan(C).any(axis=1))
    note_dropped(
        findings, keep, "treatment, mediator, outcome or confounder",
        "missingness is unrelated to the outcome given the other columns",
    )  # fmt: skip
    t, m, y, C = t[keep], m[keep], y[keep], C[keep]
    require_units_per_arm(t, arms, spec.treatment)
    require_varying(m, spec.mediator, "mediator")
    require_varying(y, spec.outcome, "outcome")
    cfdata.check_covariates(C, names)
    return MediationData(
        t, m, y, C,
        cfdata.family(spec.mediator_model, m, spec.mediator, "mediator"),
        cfdata.family(spec.outcome_model, y, spec.outcome, "outcome"),
        spec.interaction,
    ), keep  # fmt: skip


def mediation_part(frame: pd.DataFrame, spec: CounterfactualSpec, parts: Parts) -> None:
    """NDE, NIE, total effect and proportion mediated with intervals; ρ-sensitivity."""
    from cerebro.counterfactual import mediation as med

    data, keep = mediation_rows(frame, spec, parts.findings)
    parts.units = np.flatnonzero(keep)
    fit = med.fit_models(data, influence=True)
    values, q = med.point_estimates(data, fit)
    psi = med.delta_influence(data, fit)
    reps = med.bootstrap(data, spec.bootstrap, spec.seed) if spec.inference == "bootstrap" else None
    nonlinear = spec.interaction or {data.mediator_family, data.outcome_family} != {"linear"}
    rows: dict[str, list[Any]] = {k: [] for k in ("effect", "estimate", "se")}
    rows |= {"estimate_ci_low": [], "estimate_ci_high": [], "p_value": []}
    n = len(data.t)
    for j, key in enumerate(med.EFFECTS):
        if key in ("nie_control", "nde_treated") and not nonlinear:
            continue  # equal to the NIE and NDE without interaction in linear models
        if not np.isfinite(values[j]):
            continue
        delta_se = float(np.sqrt(np.sum(psi[:, j] ** 2)) / n)
        replicates = None if reps is None else reps.effects[:, j][np.isfinite(reps.effects[:, j])]
        se, low, high, p = interval_from(float(values[j]), delta_se, spec.alpha, replicates)
        if reps is not None and not low <= values[j] <= high:  # a skewed ratio: widen to hold it
            low, high = min(low, values[j]), max(high, values[j])
        estimate = Estimate(LABELS[key], float(values[j]), se, low, high, p, key=key)
        estimate.extra["inference"] = spec.inference
        parts.add("mediation", estimate)
        parts.influence[key] = psi[:, j]
        for name, value in zip(rows, (LABELS[key], values[j], se, low, high, p), strict=True):
            rows[name].append(float(value) if name != "effect" else value)
    parts.tables["mediation"] = rows
    parts.tables["potential_outcomes"] = {
        "treatment": [0, 1, 0, 1],
        "mediator_as_under": [0, 0, 1, 1],
        "mean_outcome": [float(v) for v in q],
    }
    parts.summary |= {
        "mediator": spec.mediator,
        "mediator_model": data.mediator_family,
        "outcome_model": data.outcome_family,
        "mediation_rows": n,
        "bootstrap_failed": 0 if reps is None else reps.failed,
    }
    _sensitivity(data, fit, reps, spec, parts)
    _mediation_findings(data, values, parts, spec, reps)


def _sensitivity(data: Any, fit: Any, reps: Any, spec: CounterfactualSpec, parts: Parts) -> None:
    """NIE(ρ) table and the ρ at which the NIE vanishes (the model pairs of medsens)."""
    from cerebro.counterfactual import mediation as med

    curve = med.sensitivity_curve(data, fit)
    if curve is None:
        parts.findings.append(
            Finding(
                "info",
                "sensitivity_not_available",
                "the sensitivity of the NIE to mediator–outcome confounding (ρ) is computed for "
                "a linear mediator with a linear or probit outcome, or a probit mediator with a "
                "linear outcome (Imai, Keele & Yamamoto 2010, as medsens); this run has another "
                "pair (--outcome-model probit gives the curve for a 0/1 outcome, "
                "--mediator-model probit for a 0/1 mediator).",
            )
        )
        return
    values, rho_tilde = curve
    table: dict[str, Any] = {"rho": med.sensitivity_grid(data).tolist(), "nie": values.tolist()}
    se = low = high = None
    if reps is not None and reps.curves is not None:
        band = np.quantile(reps.curves, [spec.alpha / 2, 1 - spec.alpha / 2], axis=0)
        table |= {"nie_ci_low": band[0].tolist(), "nie_ci_high": band[1].tolist()}
        zeros = reps.rho_tilde[np.isfinite(reps.rho_tilde)]
        if np.isfinite(rho_tilde) and zeros.size > 1:
            se, low, high, _ = interval_from(rho_tilde, 0.0, spec.alpha, zeros)
            low, high = min(low, rho_tilde), max(high, rho_tilde)
    parts.tables["sensitivity"] = table
    if not np.isfinite(rho_tilde):
        parts.findings.append(
            Finding(
                "info",
                "sensitivity",
                f"the NIE keeps its sign for every error correlation |ρ| ≤ 0.95 between "
                f"{spec.mediator} and {spec.outcome}: no mediator–outcome confounding of this "
                "kind explains it away.",
            )
        )
        return
    estimate = Estimate("ρ at which the NIE is zero", rho_tilde, se, low, high, key="rho_nie_zero")
    parts.add("mediation sensitivity", estimate)
    parts.summary["rho_nie_zero"] = rho_tilde
    parts.findings.append(
        Finding(
            "info",
            "sensitivity",
            f"the NIE would be zero if the errors of the mediator and outcome models were "
            f"correlated at ρ = {rho_tilde:.3g} (an unmeasured confounder of {spec.mediator} and "
            f"{spec.outcome}); |ρ| of 0.1–0.3 is small, 0.5 and above strong (Imai, Keele & "
            "Yamamoto 2010).",
        )
    )


def _mediation_findings(
    data: Any, values: np.ndarray, parts: Parts, spec: CounterfactualSpec, reps: Any
) -> None:
    """The assumptions, an unstable proportion mediated, dropped bootstrap samples."""
    te = parts.estimates[[e.key for e in parts.estimates].index("total_effect")]
    nie = parts.estimates[[e.key for e in parts.estimates].index("nie")]
    if te.ci_low is not None and te.ci_low <= 0 <= te.ci_high:
        parts.findings.append(
            Finding(
                "warning",
                "unstable_proportion",
                f"the total effect's CI [{te.ci_low:.3g}, {te.ci_high:.3g}] includes zero, so the "
                "proportion mediated (NIE / total) is unstable and can exceed 1 or be negative; "
                "read the NDE and NIE instead.",
            )
        )
    if reps is not None and reps.failed:
        parts.findings.append(
            Finding(
                "warning",
                "bootstrap_failed",
                f"{reps.failed} of {spec.bootstrap} bootstrap samples could not be fitted "
                "(separation or a constant mediator) and were left out.",
            )
        )
    scale = "risk differences" if data.outcome_family != "linear" else f"{spec.outcome} units"
    parts.findings.append(
        Finding(
            "info",
            "mediation_assumptions",
            f"effects are on the mean scale ({scale}), identified under sequential ignorability: "
            f"no unmeasured confounding of {spec.treatment}–{spec.mediator}, "
            f"{spec.treatment}–{spec.outcome} and {spec.mediator}–{spec.outcome} given the "
            "confounders, and no mediator–outcome confounder caused by the treatment.",
        )
    )
    share = f", {values[3]:.0%} of the total effect" if np.isfinite(values[3]) and te.value else ""
    parts.narrative.append(
        f"Of the total effect of {spec.treatment} on {spec.outcome} ({te.value:.4g}), "
        f"{nie.value:.4g} goes through {spec.mediator}{share} (NIE, CI [{nie.ci_low:.3g}, "
        f"{nie.ci_high:.3g}])."
    )


def bound_estimate(
    label: str, key: str, value: float, replicates: np.ndarray, alpha: float
) -> Estimate:
    """A bound with its bootstrap SE and the normal interval around it."""
    finite = replicates[np.isfinite(replicates)]
    se = float(np.std(finite, ddof=1)) if finite.size > 1 else 0.0
    low, high, _ = normal_interval(value, se, alpha)
    return Estimate(label, value, se, low, high, None, key=key)

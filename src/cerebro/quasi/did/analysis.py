"""`cerebro causal --method did`: difference-in-differences (2×2, TWFE, event study, staggered).

Estimand: the average effect of the treatment on the treated (ATT) – in the 2×2 design the
coefficient of treated × post, in a panel the effect on treated unit-periods. Identification:
parallel trends (absent treatment, treated and comparison units' outcomes would have moved in
parallel, conditional on the covariates), no anticipation, and a stable composition of the
groups; staggered designs also need an absorbing treatment. Designs (``--did-model``):

- 2×2 (``--post``): OLS y ~ treated + post + treated:post + X, cluster-robust (CR1) SEs.
- ``twfe``: y_it = α_i + λ_t + β·D_it + X'δ, fixed effects absorbed (`did.ols`), with an event
  study for the pre-trend test and the plot.
- ``event_study``: leads and lags of adoption (`did_event`); headline = mean of the lags.
- ``callaway_santanna``: group-time ATT(g, t) and their aggregations (`callaway_santanna`).
- ``auto``: 2×2 with a post flag, TWFE with one adoption date, Callaway–Sant'Anna with
  staggered adoption – then the TWFE estimate is reported too, with its negative weights.

References: Angrist & Pischke (2009), Mostly Harmless Econometrics, ch. 5; Callaway & Sant'Anna
(2021), J. Econometrics 225(2); Goodman-Bacon (2021), J. Econometrics 225(2); de Chaisemartin &
D'Haultfœuille (2020), AER 110(9); Roth, Sant'Anna, Bilinski & Poe (2023), J. Econometrics 235(2).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.validate import require_finite_result, require_units_per_arm
from cerebro.quasi.design import design_result
from cerebro.quasi.did import callaway_santanna as cs
from cerebro.quasi.did.data import DidData, adoption, prepare_did
from cerebro.quasi.did.event_study import EventStudy, event_study
from cerebro.quasi.did.ols import TwoWayDemeaner, treatment_weights, twfe
from cerebro.stats.intervals import normal_interval
from cerebro.stats.ols import LinearFit, ols

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.quasi.did.spec import DiDSpec

MODEL_NAMES = {
    "2x2": "canonical 2×2 difference-in-differences (OLS)",
    "twfe": "two-way fixed effects",
    "event_study": "event study (two-way fixed effects with leads and lags)",
    "callaway_santanna": "Callaway–Sant'Anna group-time ATTs",
}
FEW_CLUSTERS = 30  # below this, cluster-robust SEs are unreliable (Cameron & Miller 2015)


def run(frame: pd.DataFrame, spec: DiDSpec) -> Result:
    """Difference-in-differences for the design `spec` describes (see the module docstring)."""
    data = prepare_did(frame, spec)
    findings = data.findings
    model, why = _choose(spec, data)
    findings.append(Finding("info", "design", f"{MODEL_NAMES[model]}: {why}."))
    cluster, cluster_note = _cluster(spec, data, findings)
    if model != "2x2":
        _require_panel_groups(data, spec, model, cluster)
    if model == "2x2":
        estimates, tables = _two_by_two(data, spec, cluster, cluster_note, findings)
    elif model == "callaway_santanna":
        estimates, tables = _callaway_santanna(data, spec, cluster, cluster_note, findings)
    else:
        estimates, tables = _fixed_effects(data, spec, model, cluster, cluster_note, findings)
    head = estimates[0]
    units = int(data.unit.max() + 1) if data.unit is not None else len(data.y)
    level = 1 - spec.alpha
    narrative = (
        f"Estimated effect of {spec.treatment} on {spec.outcome} for the treated "
        f"({MODEL_NAMES[model]}): {head.value:+.4g} ({level:.0%} CI {head.ci_low:+.4g} to "
        f"{head.ci_high:+.4g}). This is causal only if, without the treatment, treated and "
        "comparison units would have followed parallel trends"
        + (" given the covariates" if data.names else "")
        + " and nobody changed behaviour in anticipation."
    )
    title = (
        f"Difference-in-differences: {spec.treatment} on {spec.outcome} — "
        f"{MODEL_NAMES[model]}, {len(data.y):,} rows, {units:,} units"
    )
    return design_result(
        spec,
        estimates,
        findings,
        tables,
        title=title,
        narrative=narrative,
        units=units,
        model=model,
    )


def _least_squares(spec: DiDSpec, data: DidData) -> str:
    return "OLS" if data.weights is None else f"WLS (weights {spec.weights!r})"


def _choose(spec: DiDSpec, data: DidData) -> tuple[str, str]:
    if spec.did_model != "auto":
        if not data.panel:
            raise UserInputError(
                f"--did-model {spec.did_model} needs a panel: name --unit and --time (or use "
                "--did-model auto for the 2×2 design with --post)."
            )
        return spec.did_model, "chosen with --did-model"
    if spec.post is not None:
        return "2x2", "--post marks the post-treatment periods"
    first, _ = adoption(data)
    dates = np.unique(first[first > 0])
    if len(dates) > 1:
        return "callaway_santanna", f"treatment starts in {len(dates)} different periods"
    return "twfe", "every treated unit starts treatment in the same period"


def _cluster(
    spec: DiDSpec, data: DidData, findings: list[Finding]
) -> tuple[np.ndarray | None, str]:
    if data.cluster is not None:
        cluster, name = data.cluster, f"clustered by {data.cluster_name}"
    elif data.unit is not None:
        cluster, name = data.unit, f"clustered by {spec.unit}"
    else:
        findings.append(
            Finding(
                "warning",
                "no_clusters",
                "no --unit or --cluster: SEs are heteroskedasticity-robust (HC1) and assume "
                "independent rows; repeated observations of a unit are correlated, so name "
                "--unit (or --cluster) when the data hold them.",
            )
        )
        return None, "HC1 robust"
    groups = int(cluster.max() + 1)
    if groups < FEW_CLUSTERS:
        findings.append(
            Finding(
                "warning",
                "few_clusters",
                f"only {groups} clusters: cluster-robust SEs understate uncertainty with fewer "
                f"than about {FEW_CLUSTERS}; read the intervals as optimistic (a wild cluster "
                "bootstrap would be safer).",
            )
        )
    return cluster, name


def _coef_rows(fit: LinearFit, names: list[str], alpha: float) -> dict[str, list[Any]]:
    low, high, p = fit.interval(alpha)
    return {
        "term": names,
        "estimate": fit.coef.tolist(),
        "se": fit.se.tolist(),
        "ci_low": low.tolist(),
        "ci_high": high.tolist(),
        "p_value": p.tolist(),
    }


def _estimate(label: str, fit: LinearFit, index: int, alpha: float, **extra: Any) -> Estimate:
    low, high, p = fit.interval(alpha)
    return Estimate(
        label, float(fit.coef[index]), float(fit.se[index]), float(low[index]),
        float(high[index]), float(p[index]), extra,
    )  # fmt: skip


def _effects_table(estimates: list[Estimate]) -> dict[str, list[Any]]:
    return {
        "effect": [e.label for e in estimates],
        "estimate": [e.value for e in estimates],
        "se": [e.se for e in estimates],
        "ci_low": [e.ci_low for e in estimates],
        "ci_high": [e.ci_high for e in estimates],
        "p_value": [e.p_value for e in estimates],
    }


# --- degenerate designs ---------------------------------------------------------------------------


def _require_clusters_per_group(
    group: np.ndarray, cluster: np.ndarray, data: DidData, spec: DiDSpec
) -> None:
    """At least 2 clusters in each group: one cluster gives a zero cluster-robust variance."""
    name = data.cluster_name or spec.unit
    labels = ["control", "treated"]
    for g in (0, 1):
        count = len(np.unique(cluster[group == g]))
        if count < 2:
            raise UserInputError(
                f"the {labels[g]} group ({spec.treatment!r} = {data.arms[g]}) lies in only "
                f"{count} cluster of {name!r}; cluster-robust standard errors need at least 2 "
                "clusters (units) per group – give more units, or cluster by a finer column."
            )


def _require_panel_groups(
    data: DidData, spec: DiDSpec, model: str, cluster: np.ndarray | None
) -> None:
    """Refuse panels whose effect or standard error is not identified: one period, no treated
    unit with a pre-period, fewer than 2 treated or comparison units (or clusters)."""
    if len(data.periods) < 2:
        raise UserInputError(
            f"time column {spec.time!r} has one period ({data.periods[0]}) in the complete rows; "
            "difference-in-differences needs periods before and after treatment starts."
        )
    first, _ = adoption(data)
    if (first >= 0).any() and not (first > 0).any():
        raise UserInputError(
            f"every treated unit is treated from the first period ({data.periods[0]}) of "
            f"{spec.time!r}; with no period before treatment there is nothing to difference "
            "against – give the pre-treatment periods."
        )
    adopters = first > 0
    never = first < 0
    n_dates = len(np.unique(first[adopters]))
    needs_never = n_dates == 1 or (model == "callaway_santanna" and spec.control_group == "never")
    if needs_never and not never.any():
        raise UserInputError(
            f"every unit of {spec.unit!r} is treated by period {data.periods[first[adopters][0]]}"
            + ("" if n_dates == 1 else " or later")
            + "; there are no comparison units that stay untreated, so the effect is not "
            "separable from the time effects – give never-treated units"
            + (" (or use --control-group notyet)." if n_dates > 1 else ".")
        )
    unit_group = np.where(adopters, 1, np.where(never, 0, np.nan))
    groups = ["never-treated", "treated"]
    if not needs_never:  # staggered, not-yet-treated comparisons: only the adopters are counted
        unit_group, groups = np.where(adopters, 0, np.nan), ["treated"]
    require_units_per_arm(
        unit_group, groups, spec.treatment, rows="units", arm_noun="group",
        fix="one unit gives no standard error; give more units",
    )  # fmt: skip
    if cluster is not None and data.cluster is not None:
        per_row = unit_group[data.unit]
        for g, label in enumerate(groups):
            count = len(np.unique(cluster[per_row == g]))
            if count < 2:
                raise UserInputError(
                    f"the {label} units lie in only {count} cluster of {data.cluster_name!r}; "
                    "cluster-robust standard errors need at least 2 clusters per group – give "
                    "more clusters, or cluster by the unit."
                )


def _time_varying(
    data: DidData, dm: TwoWayDemeaner, spec: DiDSpec, findings: list[Finding]
) -> tuple[np.ndarray, list[str]]:
    """The covariates the unit and period fixed effects do not absorb; the absorbed ones (e.g.
    constant within each unit) are dropped with a finding – their effect is in the unit effects."""
    if not data.names:
        return data.X, data.names
    within = dm(data.X)
    centred = data.X - data.X.mean(axis=0)
    absorbed = (within**2).sum(axis=0) <= 1e-10 * np.maximum((centred**2).sum(axis=0), 1e-300)
    if not absorbed.any():
        return data.X, data.names
    dropped = [n for n, a in zip(data.names, absorbed, strict=True) if a]
    if not any(f.code == "absorbed_covariates" for f in findings):
        findings.append(
            Finding(
                "info",
                "absorbed_covariates",
                f"covariate(s) {', '.join(dropped)} are constant within each unit (or each "
                f"period of {spec.time}), so the unit and period fixed effects absorb them; "
                "dropped from the two-way fixed-effects regression.",
            )
        )
    return data.X[:, ~absorbed], [n for n, a in zip(data.names, absorbed, strict=True) if not a]


# --- 2×2 --------------------------------------------------------------------------------------


def _two_by_two(
    data: DidData,
    spec: DiDSpec,
    cluster: np.ndarray | None,
    cluster_note: str,
    findings: list[Finding],
) -> tuple[list[Estimate], dict[str, Any]]:
    g, post = data.group, data.post
    assert post is not None
    cells = {(a, b): (g == a) & (post == b) for a in (0, 1) for b in (0, 1)}
    empty = [k for k, v in cells.items() if not v.any()]
    if empty:
        a, b = empty[0]
        raise UserInputError(
            f"no rows of the {'treated' if a else 'control'} group in the "
            f"{'post' if b else 'pre'} period; a 2×2 design needs all four group × period cells."
        )
    for (a, b), rows in cells.items():
        if rows.sum() < 2:
            raise UserInputError(
                f"the {'treated' if a else 'control'} group has only 1 row in the "
                f"{'post' if b else 'pre'} period; one row per group and period cannot give a "
                "standard error – give unit-level rows (at least 2 per group and period)."
            )
    if cluster is not None:
        _require_clusters_per_group(g, cluster, data, spec)
    X = np.column_stack([np.ones(len(g)), g, post, g * post, data.X])
    names = ["intercept", spec.treatment, spec.post, f"{spec.treatment}:{spec.post}", *data.names]
    if len(g) <= X.shape[1]:
        raise UserInputError(
            f"only {len(g)} complete rows for {X.shape[1]} coefficients (treated, post, their "
            "product, the covariates and an intercept); no residual is left for a standard "
            "error – give more rows or fewer --confounders."
        )
    root = np.ones(len(g)) if data.weights is None else np.sqrt(data.weights)
    fit = ols(root * data.y, root[:, None] * X, cluster)
    require_finite_result(
        fit.se[3], "the standard error of the DiD coefficient", "give more rows per group."
    )
    head = _estimate("DiD (treated × post)", fit, 3, spec.alpha, model="2x2", se_type=cluster_note)
    findings.append(
        Finding(
            "info",
            "method",
            f"{_least_squares(spec, data)} of {spec.outcome} on treated, post, treated × post"
            + (f" and {len(data.names)} covariate terms" if data.names else "")
            + (
                f"; {cluster_note} CR1 SEs (G/(G−1)·(N−1)/(N−K)), t({fit.df:.0f}) intervals."
                if cluster is not None
                else f"; HC1 SEs, t({fit.df:.0f}) intervals."
            ),
        )
    )
    means: dict[str, list[Any]] = {"group": [], "period": [], "mean": [], "rows": []}
    for (a, b), rows in cells.items():
        means["group"].append("treated" if a else "control")
        means["period"].append("post" if b else "pre")
        means["mean"].append(float(data.y[rows].mean()))
        means["rows"].append(int(rows.sum()))
    estimates = [head]
    return estimates, {
        "effects": _effects_table(estimates),
        "coefficients": _coef_rows(fit, names, spec.alpha),
        "means": means,
    }


# --- panels: TWFE and event study ---------------------------------------------------------------


def _event_rows(es: EventStudy, alpha: float) -> dict[str, list[Any]]:
    k = len(es.event_times)
    low, high, p = es.fit.interval(alpha)
    rows: dict[str, list[Any]] = {
        "event_time": [*es.event_times.tolist(), -1],
        "estimate": [*es.fit.coef[:k].tolist(), 0.0],
        "se": [*es.fit.se[:k].tolist(), None],
        "ci_low": [*low[:k].tolist(), None],
        "ci_high": [*high[:k].tolist(), None],
        "p_value": [*p[:k].tolist(), None],
    }
    order = np.argsort(rows["event_time"], kind="stable")
    return {key: [v[i] for i in order] for key, v in rows.items()}


def _pretrend_finding(stat: float, q: int, p: float, what: str, alpha: float) -> Finding:
    if p < alpha:
        return Finding(
            "warning",
            "pretrend",
            f"pre-trends: the {q} {what} are jointly different from zero ({stat}, p = {p:.3g}): "
            "treated and comparison units were already diverging before treatment, so parallel "
            "trends is doubtful.",
        )
    return Finding(
        "info",
        "pretrend",
        f"pre-trends: the {q} {what} are jointly not distinguishable from zero ({stat}, "
        f"p = {p:.3g}); this does not prove parallel trends (a test with little power passes "
        "easily).",
    )


def _relative_time(data: DidData, first: np.ndarray) -> np.ndarray:
    g = first[data.unit]
    return np.where(g >= 0, data.time - g, np.nan).astype(float)


def _fixed_effects(
    data: DidData,
    spec: DiDSpec,
    model: str,
    cluster: np.ndarray | None,
    cluster_note: str,
    findings: list[Finding],
) -> tuple[list[Estimate], dict[str, Any]]:
    assert data.d is not None
    first, switchers = adoption(data)
    _adoption_findings(data, first, switchers, findings)
    dm = TwoWayDemeaner(data.unit, data.time, data.weights, spec.small_sample)
    X, names = _time_varying(data, dm, spec, findings)
    fit = twfe(data.y, np.column_stack([data.d, X]), data.unit, data.time, cluster, dm)
    static = _estimate("ATT (TWFE)", fit, 0, spec.alpha, model="twfe", se_type=cluster_note)
    tables: dict[str, Any] = {"coefficients": _coef_rows(fit, [spec.treatment, *names], spec.alpha)}
    estimates = [static]
    relative = _relative_time(data, first)
    es = None
    if np.isfinite(relative).any():
        es = event_study(
            data.y, relative, data.unit, data.time, X, cluster, spec.leads, spec.lags, dm
        )
        tables["event_study"] = _event_rows(es, spec.alpha)
        if len(es.lead_index):
            stat, q, df2, p = es.fit.wald(es.lead_index)
            findings.append(
                _pretrend_finding(
                    f"F({q}, {df2:.0f}) = {stat:.3g}",
                    q,
                    p,
                    "pre-period event-study coefficients",
                    spec.alpha,
                )
            )
        else:
            findings.append(
                Finding(
                    "info",
                    "pretrend",
                    "no pre-period besides the reference one: pre-trends cannot be tested.",
                )
            )
        if es.dropped_extra is not None:
            findings.append(
                Finding(
                    "info",
                    "event_reference",
                    f"no never-treated units: event time {es.dropped_extra} is a second "
                    "reference period (event time and calendar time are otherwise collinear).",
                )
            )
    if model == "event_study":
        if es is None or not len(es.lag_index):
            raise UserInputError(
                "no treated periods to estimate an event study from; check the treatment column."
            )
        weights = np.zeros(len(es.fit.coef))
        weights[es.lag_index] = 1 / len(es.lag_index)
        value, se, low, high, p = es.fit.combination(weights, spec.alpha)
        estimates.insert(
            0,
            Estimate(
                "ATT (event study, mean of event times 0…"
                f"{es.event_times[es.lag_index].max()})",
                value, se, low, high, p, {"model": "event_study", "se_type": cluster_note},
            ),
        )  # fmt: skip
    n_dates = len(np.unique(first[first > 0]))
    if n_dates > 1:
        findings.append(_bias_finding(data, dm, first, None))
    findings.append(
        Finding(
            "info",
            "method",
            "unit and time fixed effects absorbed (within transformation"
            + (f", weighted by {spec.weights!r}" if data.weights is not None else "")
            + f"); {cluster_note} CR1 SEs with K = "
            + (
                "regressors + every unit and time dummy (statsmodels convention), "
                if spec.small_sample == "statsmodels"
                else "regressors + non-nested fixed effects (fixest/pyfixest convention), "
            )
            + f"t({fit.df:.0f}) intervals.",
        )
    )
    tables = {"effects": _effects_table(estimates), **tables}
    return estimates, tables


def _adoption_findings(
    data: DidData, first: np.ndarray, switchers: int, findings: list[Finding]
) -> None:
    if not (first >= 0).any():
        raise UserInputError(
            "no unit is ever treated: the treatment column is 0 in every complete row."
        )
    if switchers:
        findings.append(
            Finding(
                "warning",
                "not_absorbing",
                f"{switchers:,} units stop being treated after they start; the designs here "
                "assume treatment, once started, stays on (adoption = a unit's first treated "
                "period).",
            )
        )
    # Adoption is only known to the period if the period before the first treated one is seen.
    seen = set((data.unit.astype(np.int64) * len(data.periods) + data.time).tolist())
    gap = [u for u in np.flatnonzero(first > 0) if u * len(data.periods) + first[u] - 1 not in seen]
    if gap:
        findings.append(
            Finding(
                "warning",
                "uncertain_adoption",
                f"{len(gap):,} treated units miss the period just before their first treated "
                "one, so they may have adopted earlier than it; their adoption is taken as the "
                "first period observed treated.",
            )
        )
    never = int((first < 0).sum())
    findings.append(
        Finding(
            "info",
            "adoption",
            f"{int((first >= 0).sum()):,} treated units adopting in "
            f"{len(np.unique(first[first >= 0]))} period(s); {never:,} never-treated units.",
        )
    )


def _bias_finding(
    data: DidData, dm: TwoWayDemeaner, first: np.ndarray, cs_value: float | None
) -> Finding:
    """de Chaisemartin–D'Haultfœuille weights of the static TWFE coefficient."""
    assert data.d is not None
    w = treatment_weights(data.d, dm)
    treated = data.d == 1
    negative = treated & (w < 0)
    share, mass = float(negative.sum() / treated.sum()), float(-w[negative].sum())
    if negative.any():
        return Finding(
            "warning",
            "twfe_bias",
            f"staggered adoption: the TWFE coefficient weights {share:.0%} of treated unit-"
            f"periods negatively (total negative weight {mass:.3f}, de Chaisemartin & "
            "D'Haultfœuille 2020) – it compares late adopters with already-treated units, so "
            "it is biased when effects change over time or differ by cohort"
            + (
                f"; prefer the Callaway–Sant'Anna estimate {cs_value:+.4g}"
                if cs_value is not None
                else "; use --did-model callaway_santanna"
            )
            + ".",
        )
    return Finding(
        "info",
        "twfe_bias",
        "staggered adoption, but every treated unit-period has a positive TWFE weight (de "
        "Chaisemartin & D'Haultfœuille 2020).",
    )


# --- Callaway–Sant'Anna ----------------------------------------------------------------------


def _callaway_santanna(
    data: DidData,
    spec: DiDSpec,
    cluster: np.ndarray | None,
    cluster_note: str,
    findings: list[Finding],
) -> tuple[list[Estimate], dict[str, Any]]:
    assert data.unit is not None and data.time is not None and data.d is not None
    first, switchers = adoption(data)
    _adoption_findings(data, first, switchers, findings)
    Y, X, cohort, unit_cluster, unit_weight = _balanced_adopters(data, spec, first, findings)
    gt = cs.group_time_att(Y, cohort, spec.control_group, X, unit_weight)
    if gt.skipped:
        findings.append(
            Finding(
                "warning",
                "no_comparison",
                f"{len(gt.skipped)} group-time cells have no comparison units (no unit is "
                "untreated by then) and are not estimated.",
            )
        )
    if X is not None:
        # Outcome regression: the comparison group's trend predicted from base-period covariates.
        findings.append(
            Finding(
                "info",
                "covariates",
                f"covariates {', '.join(data.names)} enter by outcome regression at each "
                "cell's base period (R did's est_method = 'reg').",
            )
        )
    periods = data.periods
    se_gt = cs.standard_errors(gt.psi, unit_cluster)
    low, high, p = normal_interval(gt.att, se_gt, spec.alpha)
    group_time = {
        "group": [periods[g] for g in gt.group],
        "time": [periods[t] for t in gt.time],
        "event_time": (gt.time - gt.group).tolist(),
        "att": gt.att.tolist(),
        "se": se_gt.tolist(),
        "ci_low": low.tolist(),
        "ci_high": high.tolist(),
        "p_value": p.tolist(),
        "n_treated": gt.n_treated.tolist(),
        "n_control": gt.n_control.tolist(),
    }
    event_rows, dyn_overall, reps, crit = _event_study(gt, spec, unit_cluster)
    by_group, grp_overall = _by_group(gt, periods, spec, unit_cluster)
    overall = {
        "simple": cs.aggregate(gt, "simple")[1],
        "dynamic": dyn_overall,
        "group": grp_overall,
    }
    control = "never-treated" if spec.control_group == "never" else "not-yet-treated"
    estimates = []
    for how in (spec.aggregation, *[h for h in overall if h != spec.aggregation]):
        value, psi = overall[how]
        se = float(cs.standard_errors(psi[:, None], unit_cluster)[0])
        lo, hi, pv = normal_interval(np.array(value), np.array(se), spec.alpha)
        estimates.append(
            Estimate(
                f"ATT (Callaway–Sant'Anna, {how})", value, se, float(lo), float(hi), float(pv),
                {"model": "callaway_santanna", "aggregation": how, "control_group": control},
            )
        )  # fmt: skip
    pretrend = _group_time_pretrend(gt, spec, unit_cluster)
    if pretrend is not None:
        findings.append(pretrend)
    # The static TWFE estimate on the same rows, to show what it would have said.
    dm = TwoWayDemeaner(data.unit, data.time, data.weights, spec.small_sample)
    X_tw, _ = _time_varying(data, dm, spec, findings)
    tw = twfe(data.y, np.column_stack([data.d, X_tw]), data.unit, data.time, cluster, dm)
    estimates.append(
        _estimate(
            "ATT (TWFE, for comparison)", tw, 0, spec.alpha, model="twfe", se_type=cluster_note
        )
    )
    if len(np.unique(first[first > 0])) > 1:
        findings.append(_bias_finding(data, dm, first, estimates[0].value))
    findings.append(
        Finding(
            "info",
            "method",
            f"ATT(g, t) by 2×2 comparisons with {control} units (varying base period: g − 1 "
            "after adoption, t − 1 before); SEs from influence functions"
            + (f", summed within {data.cluster_name}" if data.cluster is not None else "")
            + f"; the event-time band is uniform over event times ({reps} multiplier-bootstrap "
            f"draws, seed {spec.seed}, critical value {crit:.3f}).",
        )
    )
    return estimates, {
        "effects": _effects_table(estimates),
        "event_study": event_rows,
        "by_group": by_group,
        "group_time": group_time,
    }


def _balanced_adopters(
    data: DidData, spec: DiDSpec, first: np.ndarray, findings: list[Finding]
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The unit × period outcome matrix (and covariates) Callaway–Sant'Anna compares, with each
    unit's cohort, cluster and sampling weight: units observed in every period and not treated
    from the first one (nothing identifies their effect), each exclusion said in a finding.
    Refuses a panel with no comparison or no adopter left, and clusters or weights that change
    within a unit."""
    assert data.unit is not None and data.time is not None
    n_units, T = int(data.unit.max() + 1), len(data.periods)
    complete = np.bincount(data.unit, minlength=n_units) == T
    if not complete.all():
        findings.append(
            Finding(
                "warning",
                "balanced_subset",
                f"Callaway–Sant'Anna uses the {int(complete.sum()):,} units observed in every "
                f"period; {int((~complete).sum()):,} units with missing periods are left out.",
            )
        )
    always = first == 0
    if always.any():
        findings.append(
            Finding(
                "warning",
                "always_treated",
                f"{int(always.sum()):,} units are treated from the first period; nothing "
                "identifies their effect, so they are left out.",
            )
        )
    use = complete & ~always
    rows = use[data.unit]
    new_id = np.cumsum(use) - 1
    Y = np.full((int(use.sum()), T), np.nan)
    Y[new_id[data.unit[rows]], data.time[rows]] = data.y[rows]
    X = None
    if data.names:
        X = np.full((int(use.sum()), T, len(data.names)), np.nan)
        X[new_id[data.unit[rows]], data.time[rows]] = data.X[rows]
    cohort = np.where(first[use] < 0, cs.NEVER, first[use]).astype(np.int64)
    if not (cohort == cs.NEVER).any() and spec.control_group == "never":
        raise UserInputError(
            "no never-treated units to compare with; use --control-group notyet (units not "
            "yet treated serve as the comparison)."
        )
    if len(Y) == 0 or not (cohort != cs.NEVER).any():
        raise UserInputError(
            "no treated units observed in every period; Callaway–Sant'Anna needs a balanced "
            "panel of adopters (use --did-model twfe)."
        )
    unit_cluster = None
    if data.cluster is not None:
        per_unit = np.full(n_units, -1)
        per_unit[data.unit] = data.cluster
        mixed = np.zeros(n_units, bool)
        np.logical_or.at(mixed, data.unit, per_unit[data.unit] != data.cluster)
        if mixed.any():
            raise UserInputError(
                f"--cluster {spec.cluster!r} changes within a unit; Callaway–Sant'Anna needs "
                "clusters that contain whole units (e.g. a region, not a period)."
            )
        unit_cluster = per_unit[use]
    unit_weight = None
    if data.weights is not None:
        per_unit_w = _per_unit(data.weights, data.unit, n_units)
        if per_unit_w is None:
            raise UserInputError(
                f"--weights {spec.weights!r} changes within a unit; Callaway–Sant'Anna weighs "
                "units (sampling weights, as R did's weightsname) – give each unit one weight "
                "in every period."
            )
        unit_weight = per_unit_w[use]
    return Y, X, cohort, unit_cluster, unit_weight


def _per_unit(values: np.ndarray, unit: np.ndarray, n_units: int) -> np.ndarray | None:
    """Each unit's value when it is the same in all the unit's rows (to 1e-12 relative), else
    None."""
    first = np.full(n_units, np.nan)
    first[unit[::-1]] = values[::-1]  # the first row's value of each unit
    if not np.allclose(values, first[unit], rtol=1e-12, atol=0):
        return None
    return first


def _event_study(
    gt: cs.GroupTime, spec: DiDSpec, unit_cluster: np.ndarray | None
) -> tuple[dict[str, Any], Any, int, float]:
    """The `event_study` table: ATT by event time in the `--leads`/`--lags` window, pointwise
    intervals and a uniform band over event times (multiplier bootstrap, so the band covers the
    whole path at once); also the dynamic overall ATT, the draws and the band's critical value."""
    # Event-time window (--leads/--lags) applies to the dynamic aggregation, as R's min_e/max_e.
    event = gt.time - gt.group
    window = np.ones(len(event), bool)
    if spec.leads is not None:
        window &= event >= -spec.leads
    if spec.lags is not None:
        window &= event <= spec.lags
    dyn_gt = _subset(gt, window)
    dyn, dyn_overall = cs.aggregate(dyn_gt, "dynamic")
    dyn_se = cs.standard_errors(dyn.psi, unit_cluster)
    reps = spec.bootstrap or 999
    crit = cs.uniform_band(dyn.psi, spec.alpha, spec.seed, reps, unit_cluster)
    d_low, d_high, d_p = normal_interval(dyn.att, dyn_se, spec.alpha)
    b_low, b_high, _ = normal_interval(dyn.att, dyn_se, spec.alpha, crit)
    event_rows = {
        "event_time": dyn.key.tolist(),
        "estimate": dyn.att.tolist(),
        "se": dyn_se.tolist(),
        "ci_low": d_low.tolist(),
        "ci_high": d_high.tolist(),
        "p_value": d_p.tolist(),
        "band_low": b_low.tolist(),
        "band_high": b_high.tolist(),
    }
    return event_rows, dyn_overall, reps, crit


def _by_group(
    gt: cs.GroupTime, periods: Any, spec: DiDSpec, unit_cluster: np.ndarray | None
) -> tuple[dict[str, Any], Any]:
    """The `by_group` table (ATT of each adoption cohort over its post periods) and the
    group-aggregated overall ATT."""
    grp, grp_overall = cs.aggregate(gt, "group")
    grp_se = cs.standard_errors(grp.psi, unit_cluster)
    g_low, g_high, g_p = normal_interval(grp.att, grp_se, spec.alpha)
    by_group = {
        "group": [periods[g] for g in grp.key],
        "estimate": grp.att.tolist(),
        "se": grp_se.tolist(),
        "ci_low": g_low.tolist(),
        "ci_high": g_high.tolist(),
        "p_value": g_p.tolist(),
    }
    return by_group, grp_overall


def _group_time_pretrend(
    gt: cs.GroupTime, spec: DiDSpec, unit_cluster: np.ndarray | None
) -> Finding | None:
    """Joint Wald test of the pre-period ATT(g, t) (placebos) from their influence functions;
    None when there is no pre-period cell."""
    pre = ~gt.post
    if not pre.any():
        return None
    psi_pre = gt.psi[:, pre]
    if unit_cluster is not None:
        sums = np.zeros((unit_cluster.max() + 1, psi_pre.shape[1]))
        np.add.at(sums, unit_cluster, psi_pre)
        psi_pre = sums
    V = psi_pre.T @ psi_pre / gt.n**2
    b = gt.att[pre]
    W = float(b @ np.linalg.lstsq(V, b, rcond=None)[0])
    q = int(pre.sum())
    return _pretrend_finding(
        f"χ²({q}) = {W:.3g}", q, float(stats.chi2.sf(W, q)), "pre-period ATT(g, t)", spec.alpha
    )


def _subset(gt: cs.GroupTime, keep: np.ndarray) -> cs.GroupTime:
    return replace(
        gt, group=gt.group[keep], time=gt.time[keep], att=gt.att[keep], psi=gt.psi[:, keep],
        n_treated=gt.n_treated[keep], n_control=gt.n_control[keep], weight=gt.weight[keep],
    )  # fmt: skip


# --- plot -------------------------------------------------------------------------------------


def plot(result: Result) -> Any:
    """Event-study coefficients with CIs (and the uniform band for Callaway–Sant'Anna); for a
    2×2 design, the four group × period means with the parallel-trends counterfactual."""
    from cerebro.core.figure import new_figure

    fig = new_figure(7, 4.2)
    ax = fig.add_subplot()
    title = result.summary.get("title", "Difference-in-differences")
    if "event_study" in result.tables:
        t = result.tables.columns("event_study")
        e = np.asarray(t["event_time"], float)
        est = np.asarray(t["estimate"], float)
        low = np.array([np.nan if v is None else v for v in t["ci_low"]], float)
        high = np.array([np.nan if v is None else v for v in t["ci_high"]], float)
        if "band_low" in t:
            ax.fill_between(
                e, np.asarray(t["band_low"], float), np.asarray(t["band_high"], float),
                color="tab:blue", alpha=0.15, step="mid", label="uniform band",
            )  # fmt: skip
        pre = e < 0
        for mask, colour, label in ((pre, "tab:gray", "before"), (~pre, "tab:blue", "after")):
            ax.errorbar(
                e[mask], est[mask],
                yerr=[np.nan_to_num(est[mask] - low[mask]), np.nan_to_num(high[mask] - est[mask])],
                fmt="o", color=colour, capsize=3, label=label,
            )  # fmt: skip
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axvline(-0.5, color="gray", linestyle="--", linewidth=0.8)
        ax.set_xlabel("periods since adoption")
        ax.set_ylabel("effect")
        ax.legend(loc="best", fontsize=8)
    else:
        t = result.tables.columns("means")
        means = {(g, p): m for g, p, m in zip(t["group"], t["period"], t["mean"], strict=True)}
        x = [0, 1]
        for group, colour in (("control", "tab:gray"), ("treated", "tab:blue")):
            ax.plot(x, [means[(group, "pre")], means[(group, "post")]], marker="o",
                    color=colour, label=group)  # fmt: skip
        counterfactual = (
            means[("treated", "pre")] + means[("control", "post")] - means[("control", "pre")]
        )
        ax.plot(x, [means[("treated", "pre")], counterfactual], linestyle="--", color="tab:blue",
                alpha=0.6, label="treated without treatment (parallel trends)")  # fmt: skip
        ax.set_xticks(x, ["pre", "post"])
        ax.set_ylabel("mean outcome")
        ax.legend(loc="best", fontsize=8)
    import textwrap

    ax.set_title(textwrap.fill(title, 80), loc="left", fontsize=9)
    return fig

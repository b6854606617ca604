"""`cerebro causal`: the effect of a binary treatment on an outcome from observational data.

Runner of `kind: causal`: load → complete cases → (trim) → propensity model → the chosen
estimator → effects with SEs (influence functions, or a seeded bootstrap) → balance and overlap
checks as tables and findings. Identification rests on no unmeasured confounding given the named
confounders, positivity (every unit could have received either arm) and consistency; the
findings flag what the data can show against the second, nothing can show the first.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, get_method, register
from cerebro.core.results import Estimate, Finding, Fit, Result, effect_result
from cerebro.data.load import load_table, require_columns
from cerebro.data.validate import require_finite_result
from cerebro.observational import dml
from cerebro.observational import estimators as est
from cerebro.observational.balance import balance_finding, balance_table, love_axes, love_plot
from cerebro.observational.bootstrap import bootstrap
from cerebro.observational.checks import require_finite_estimates
from cerebro.observational.data import CausalData, needed_columns, prepare, trim_units
from cerebro.observational.matching import MatchResult, matching_estimate
from cerebro.observational.models import GLMFit
from cerebro.observational.spec import LEGACY_IPW_WEIGHTS, QUASI, STRUCTURAL, CausalSpec
from cerebro.stats.intervals import interval_from

if TYPE_CHECKING:
    import pandas as pd

EXTREME = 0.05  # propensity below this or above 1 − this counts as a positivity risk
METHOD_NAMES = {
    "regression": "outcome regression (y ~ treatment + confounders, least squares)",
    "gcomp": "standardisation (parametric g-formula)",
    "ipw": "inverse probability weighting",
    "aipw": "augmented IPW (doubly robust)",
    "stratification": "propensity-score stratification",
    "psm": "propensity-score matching",
    "dml": "double machine learning",
    "msm": "IP-weighted marginal structural model",
    "gestimation": "g-estimation of a structural nested mean model",
}


def _propensity(data: CausalData, spec: CausalSpec) -> GLMFit | est.CrossFittedScores:
    return est.propensity(data, spec.propensity, spec.seed, spec.folds, spec.clip, spec.jobs)


def _arm_means(data: CausalData, spec: CausalSpec, ps: GLMFit) -> est.ArmMeans:
    if spec.method == "dml":
        means, clipped = dml.dml_irm(
            data, spec.learner, spec.folds, spec.seed, spec.estimand, spec.clip, spec.jobs
        )
        if clipped:
            means.notes.append(dml.clipping_note(clipped, spec.clip))
        return means
    if spec.method == "gcomp":
        return est.gcomp(data, spec.estimand, spec.interactions)
    if spec.method == "ipw":
        return est.ipw(data, ps, spec.estimand, spec.ipw_normalisation, spec.truncate)
    if spec.method == "aipw":
        return est.aipw(data, ps, spec.estimand)
    return est.stratified(data, ps, spec.estimand, spec.strata)


def _point(data: CausalData, spec: CausalSpec) -> np.ndarray:
    """[difference, log risk ratio (NaN unless binary)] of one fit, for the bootstrap."""
    if spec.method == "regression":
        return np.array([est.regression(data, spec.se)[0], np.nan])
    means = _arm_means(data, spec, _propensity(data, spec))
    ratio = np.nan
    if data.binary_outcome and means.mu.min() > 0:
        ratio = float(np.log(means.mu[1] / means.mu[0]))
    return np.array([means.mu[1] - means.mu[0], ratio])


def _trim(data: CausalData, spec: CausalSpec, findings: list[Finding]) -> CausalData:
    if spec.trim is None:
        return data
    e = _propensity(data, spec).mean(data.design)
    require_finite_result(
        e, "the propensity score", "the propensity model diverged – rescale or drop extreme "
        "confounders, or use fewer confounder terms.",
    )  # fmt: skip
    bound = est.crump_bound(e) if spec.trim == "crump" else float(spec.trim)
    keep = (e >= bound) & (e <= 1 - bound)
    rule = "Crump et al. (2009) rule" if spec.trim == "crump" else "--trim"
    kept = f"{rule}: kept units with propensity in [{bound:.3f}, {1 - bound:.3f}]"
    return trim_units(data, keep, kept, findings)


def _overlap(data: CausalData, e: np.ndarray, findings: list[Finding]) -> dict[str, list[Any]]:
    """Propensity distribution by arm; a warning when scores pile up near 0 or 1."""
    rows: dict[str, list[Any]] = {
        k: [] for k in ("arm", "units", "min", "q05", "median", "q95", "max", "share_extreme")
    }
    for arm, label in ((1, data.treated), (0, data.control)):
        x = e[data.a == arm]
        q = np.quantile(x, [0, 0.05, 0.5, 0.95, 1])
        extreme = float(np.mean((x < EXTREME) | (x > 1 - EXTREME)))
        for key, value in zip(
            rows, [label, len(x), *q.tolist(), extreme], strict=True
        ):  # fmt: skip
            rows[key].append(value)
    extreme_all = float(np.mean((e < EXTREME) | (e > 1 - EXTREME)))
    if extreme_all > 0.01:
        findings.append(
            Finding(
                "warning",
                "positivity",
                f"{extreme_all:.1%} of units have a propensity below {EXTREME} or above "
                f"{1 - EXTREME}: some units almost never receive one arm, so weights are "
                "extreme and estimates lean on the model; consider --trim crump.",
            )
        )
    else:
        findings.append(
            Finding(
                "info",
                "positivity",
                f"propensity scores lie in [{e.min():.3f}, {e.max():.3f}]; "
                f"{extreme_all:.1%} are below {EXTREME} or above {1 - EXTREME}.",
            )
        )
    return rows


def _effects(
    data: CausalData,
    spec: CausalSpec,
    ps: GLMFit,
    findings: list[Finding],
    matched: MatchResult | None,
) -> tuple[list[Estimate], dict[str, list[Any]], dict[str, list[Any]] | None, Fit | None]:
    """The effect estimates and their table rows, the potential-outcome means, and – for the
    estimators with influence functions (ipw, gcomp, aipw, stratification, dml irm) – the
    per-unit influence function of the difference, kept in memory for post-estimation."""
    label = spec.estimand.upper()
    rows: dict[str, list[Any]] = {
        k: [] for k in ("estimand", "measure", "estimate", "se", "ci_low", "ci_high", "p_value")
    }
    estimates: list[Estimate] = []
    potential = None
    influence = None
    riesz: dict[str, tuple[float, np.ndarray]] = {}
    if matched is not None:
        diff, se, ratio = matched.effect, matched.se, None
        for note in matched.notes:
            findings.append(Finding("warning", "caliper", note))
        potential = {
            "arm": [data.control, data.treated],
            "mean": matched.mu.tolist(),
            "se": [None, None],
        }
    elif spec.method == "regression" or (spec.method == "dml" and spec.dml_model == "plr"):
        plr = spec.method == "dml"
        diff, se = (
            dml.dml_plr(data, spec.learner, spec.folds, spec.seed, spec.jobs)
            if plr
            else est.regression(data, spec.se)
        )
        ratio = None
        findings.append(
            Finding(
                "info",
                "estimand",
                f"{'the partially linear model' if plr else 'outcome regression'} "
                "estimates one treatment coefficient: the average effect only if the effect does "
                "not vary with the confounders (use aipw or --dml-model irm otherwise).",
            )
        )
    else:
        means = _arm_means(data, spec, ps)
        for note in means.notes:
            findings.append(
                Finding("warning", "strata" if spec.method != "dml" else "clipping", note)
            )
        cov = means.cov
        influence = means.influence[:, 1] - means.influence[:, 0]
        riesz = means.riesz
        diff = float(means.mu[1] - means.mu[0])
        se = float(np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))
        ratio = None
        if data.binary_outcome and means.mu.min() > 0:
            mu0, mu1 = means.mu
            log_var = cov[1, 1] / mu1**2 + cov[0, 0] / mu0**2 - 2 * cov[0, 1] / (mu0 * mu1)
            ratio = (float(np.log(mu1 / mu0)), float(np.sqrt(log_var)))
        potential = {
            "arm": [data.control, data.treated],
            "mean": means.mu.tolist(),
            "se": np.sqrt(np.diag(cov)).tolist(),
        }
    boot = None
    if spec.bootstrap:
        statistic = partial(_point, spec=spec)
        boot = bootstrap(data, statistic, spec.bootstrap, spec.seed, spec.jobs)
    measure = "risk difference" if data.binary_outcome else "difference in means"
    candidates = [(measure, diff, se, 0, False)]
    if ratio is not None:
        candidates.append(("risk ratio", ratio[0], ratio[1], 1, True))
    for name, value, analytic_se, column, on_log in candidates:
        reps = None if boot is None else boot[:, column]
        se_used, low, high, p = interval_from(value, analytic_se, spec.alpha, reps)
        shown = (np.exp(value), np.exp(low), np.exp(high)) if on_log else (value, low, high)
        for key, v in zip(
            rows,
            [label, name, shown[0], None if on_log else se_used, shown[1], shown[2], p],
            strict=True,
        ):
            rows[key].append(v)
        estimates.append(
            Estimate(
                f"{label} ({name})",
                float(shown[0]),
                None if on_log else se_used,
                float(shown[1]),
                float(shown[2]),
                p,
                {"estimand": spec.estimand, "measure": name, "method": spec.method},
            )
        )
    if spec.method == "ipw" and isinstance(ps, GLMFit):
        _weights_known_se(data, ps, spec, estimates[0], rows, findings)
    fit = None
    if influence is not None:
        # Σψ²/n² is the analytic variance of the difference (ArmMeans.cov's convention).
        fit = Fit(influence={estimates[0].key: influence})
        for name, (value, psi) in riesz.items():  # σ², ν² of the ATE: sensitivity bounds
            fit.influence[name], fit.residual_variance[name] = psi, value
    if matched is not None and spec.estimand != "ate":  # one arm matched: Rosenbaum bounds
        pairs = matched.differences if spec.neighbours == 1 else None
        fit = Fit(pairs=pairs, sets=matched.sets)
    return estimates, rows, potential, fit


def _weights_known_se(
    data: CausalData, ps: GLMFit, spec: CausalSpec, head: Estimate, rows: dict, findings: list
) -> None:
    """What If's SE of the IP-weighted difference: weighted least squares of y on treatment with
    a robust (HC0) SE treating the weights as known (GEE, Program 12.2), beside ours."""
    from cerebro.stats.ols import ols

    w = est.ipw_weights(ps.mean(data.design), data.a, spec.estimand, spec.truncate)
    root = np.sqrt(w)
    design = np.column_stack([np.ones(len(w)), data.a])
    if spec.ipw_normalisation == "hajek":
        known = float(ols(root * data.y, root[:, None] * design, cov_type="HC0").se[1])
    else:
        return
    head.extra["se_weights_known"] = known
    rows["se_weights_known"] = [known] + [None] * (len(rows["estimate"]) - 1)
    findings.append(
        Finding(
            "info",
            "se",
            f"SE treating the weights as known (WLS/GEE robust, What If's): {known:.4g}; ours, "
            f"which accounts for estimating the propensity score: {head.se:.4g}.",
        )
    )


REGRESSION_SE = {
    "hc0": "HC0 robust SE",
    "hc1": "HC1 robust SE",
    "hc2": "HC2 robust SE",
    "hc3": "HC3 robust SE",
    "classical": "classical (homoskedastic, model-based) SE",
}


def _method_finding(spec: CausalSpec, data: CausalData) -> Finding:
    how = METHOD_NAMES[spec.method]
    if spec.method == "ipw":
        how += f" ({'Hájek' if spec.ipw_normalisation == 'hajek' else 'Horvitz–Thompson'} weights"
        how += f", truncated at the {spec.truncate:g}th percentile)" if spec.truncate else ")"
    if spec.method == "gcomp":
        how += (
            ", one outcome model per arm"
            if spec.interactions is None
            else f", one outcome model with treatment × {', '.join(spec.interactions) or 'nothing'}"
        )
    if spec.method == "stratification":
        how += f", {spec.strata} propensity quantile strata"
    if spec.method == "psm":
        how += (
            f", 1:{spec.neighbours} nearest neighbours on the propensity logit "
            f"{'with' if spec.replace else 'without'} replacement"
            + (f", caliper {spec.caliper:g} SD" if spec.caliper is not None else "")
            + (f", exact on {', '.join(spec.exact)}" if spec.exact else "")
        )
    model = "logistic" if data.binary_outcome else "linear"
    if spec.method == "dml":
        how += (
            f" ({'interactive model, AIPW score' if spec.dml_model == 'irm' else 'partially linear model'}"
            f", {spec.learner} nuisances, {spec.folds}-fold cross-fitting, seed {spec.seed})"
        )
        model = f"{spec.learner} (cross-fitted); the logistic propensity is for the overlap and balance checks only"
    boosted = spec.propensity == "lightgbm"
    if spec.bootstrap:
        se = f"SEs and percentile CIs from {spec.bootstrap} bootstrap resamples (seed {spec.seed})"
    elif spec.method == "regression":
        se = REGRESSION_SE[spec.se]
        if data.weights is not None:
            how += f", weighted by {spec.weights!r} (WLS)"
    elif spec.method == "psm":
        se = "Abadie–Imbens (2006) SE (propensity treated as known)"
    elif spec.method == "dml":
        se = "SEs from the orthogonal score"
    elif spec.method == "ipw" and boosted:
        se = "SEs from influence functions treating the cross-fitted scores as known"
    else:
        se = "SEs from influence functions" + (
            ", including the propensity model's estimation" if spec.method == "ipw" else ""
        )
    score = (
        f"LightGBM cross-fitted over {spec.folds} folds (seed {spec.seed}, clipped to "
        f"[{spec.clip:g}, {1 - spec.clip:g}])"
        if boosted
        else "logistic regression"
    )
    return Finding(
        "info",
        "method",
        f"{how}; propensity by {score}, outcome models {model}; {se}; "
        f"{len(data.names)} confounder terms.",
    )


def run_causal(spec: CausalSpec, frame: pd.DataFrame | None = None) -> Result:
    """Estimate the effect `spec` describes (the runner every face calls). A design
    (``--method did|rdd|iv|synthetic_control``) runs as its own registered kind, with the spec
    built from this one's fields; its result keeps kind causal and the design as method."""
    spec, deprecated = _old_weights(spec, frame)
    result = _run(spec, frame)
    if deprecated is not None:
        result.findings.insert(0, deprecated)
    return result


def _old_weights(spec: CausalSpec, frame: pd.DataFrame | None) -> tuple[CausalSpec, Finding | None]:
    """`weights: hajek|ht`, the IPW normalisation's name before `ipw_weights`: read as that
    (ipw), or – with regression and did, where `weights` names a column – dropped when the data
    have no column so named; either way a `deprecated` warning."""
    value = spec.weights
    if value not in LEGACY_IPW_WEIGHTS:
        return spec, None
    if not spec.legacy_ipw_weights:
        if frame is None and spec.data is None:
            return spec, None
        header: list[str] = []
        if frame is None:
            load_table(spec.data, lambda names: header.extend(names) or names[:1])
        if value in (header if frame is None else [str(c) for c in frame.columns]):
            if spec.method == "regression":  # a column of observation weights so named
                try:
                    spec.plain_regression_options(old_names_pass=False)
                except ValueError as err:
                    raise UserInputError(f"{err}.") from None
            return spec, None
        spec = spec.model_copy(update={"weights": None})
    use = f"; ipw reads it as --ipw-weights {value}" if spec.method == "ipw" else ""
    return spec, Finding(
        "warning",
        "deprecated",
        f"weights: {value} is the old name of --ipw-weights {value}{use}; --weights now names "
        "a column of observation weights (regression, did).",
    )


def _run(spec: CausalSpec, frame: pd.DataFrame | None = None) -> Result:
    if spec.method in QUASI:
        return get_method(spec.method).run(spec.design_spec(), frame)
    if spec.dag is not None or spec.method == "frontdoor":
        return _run_with_graph(spec, frame)
    if spec.method == "psm" and not spec.confounders:
        spec, frame, notes = _with_inferred_covariates(spec, frame)
        result = run_causal(spec, frame)
        result.findings[:0] = notes
        return result
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        frame = load_table(spec.data, needed_columns(spec))
    else:
        require_columns([str(c) for c in frame.columns], needed_columns(spec), "the data")
    if spec.method in STRUCTURAL:
        from cerebro.observational import structural_analysis as structural
        from cerebro.observational.structural_data import prepare_structural

        rows = prepare_structural(frame, spec)
        build = structural.msm_result if spec.method == "msm" else structural.gestimation_result
        return build(rows, spec, list(rows.findings))
    data = prepare(frame, spec)
    findings = list(data.findings)
    if spec.method == "regression" and (
        spec.regress_on != "confounders" or spec.interactions or spec.all_rows
    ):
        from cerebro.observational.regression_forms import regression_form_result

        return regression_form_result(data, spec, findings)
    if len(data.arms) > 2:
        from cerebro.observational.multiarm_analysis import multiarm_result, pairwise_result

        if spec.sensitivity:
            raise UserInputError(
                f"--sensitivity needs a binary treatment; {spec.treatment!r} has "
                f"{len(data.arms)} arms (filter the data to two of them)."
            )

        if spec.estimand != "ate":
            return pairwise_result(data, spec, findings, binary_result)
        return multiarm_result(data, spec, findings)
    return binary_result(data, spec, findings)


def _with_inferred_covariates(
    spec: CausalSpec, frame: pd.DataFrame | None
) -> tuple[CausalSpec, pd.DataFrame, list[Finding]]:
    """`--method psm` with no `--confounders`: match on every column judged pre-treatment
    (`data.roles.pre_treatment_columns`: never the treatment, outcome, ids, dates, constants,
    free text or columns named like post-treatment ones), said in a warning."""
    from cerebro.data.roles import adjustment_columns

    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        frame = load_table(spec.data)
    chosen, message = adjustment_columns(frame, spec.treatment, spec.outcome, "matched on")
    note = Finding("warning", "inferred_role", message)
    return spec.model_copy(update={"confounders": chosen}), frame, [note]


def _run_with_graph(spec: CausalSpec, frame: pd.DataFrame | None) -> Result:
    """`--dag` (the graph chooses or checks the adjustment) and `--method frontdoor`: the data's
    columns decide which nodes are latent, so the graph is read against the file's header."""
    from cerebro.observational.frontdoor import frontdoor_result
    from cerebro.observational.graph_adjust import GraphPlan, plan, with_graph_tables

    chosen: list[GraphPlan] = []

    def columns(available: list[str]) -> list[str]:
        if spec.dag is None:
            chosen.append(GraphPlan(spec, list(spec.mediator)))
        else:
            chosen.append(plan(spec, available))
        return [*needed_columns(chosen[0].spec), *chosen[0].mediators]

    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        frame = load_table(spec.data, columns)
    else:
        require_columns([str(c) for c in frame.columns], columns([str(c) for c in frame.columns]),
                        "the data")  # fmt: skip
    graph_plan = chosen[0]
    if spec.method == "frontdoor":
        result = frontdoor_result(frame, graph_plan.spec, graph_plan.mediators, [])
    else:
        result = run_causal(graph_plan.spec.model_copy(update={"dag": None}), frame)
        result.spec = graph_plan.spec
    return with_graph_tables(result, graph_plan) if spec.dag is not None else result


def _fitted_propensity(data: CausalData, spec: CausalSpec) -> tuple[Any, np.ndarray]:
    """The propensity model and its scores, refused when they are not finite."""
    ps = _propensity(data, spec)
    e = ps.mean(data.design)
    require_finite_result(
        e, "the propensity score", "the propensity model diverged – rescale or drop extreme "
        "confounders, or use fewer confounder terms.",
    )  # fmt: skip
    return ps, e


def _regression_propensity(
    data: CausalData, spec: CausalSpec, findings: list[Finding]
) -> tuple[Any, np.ndarray] | None:
    """Outcome regression needs no propensity: its overlap and balance checks are diagnostics,
    skipped (with a note) when the score cannot be fitted – fixed effects of units or periods
    as confounders (a panel's two-way regression) separate the treatment perfectly."""
    if spec.method != "regression":
        return None
    try:
        return _fitted_propensity(data, spec)
    except UserInputError as err:
        findings.append(
            Finding(
                "info",
                "propensity",
                f"no overlap or balance diagnostics: the propensity model could not be fitted "
                f"({str(err).rstrip('.')}); the regression does not use it.",
            )
        )
        return None


def _add_sensitivity(
    data: CausalData, spec: CausalSpec, estimates: list[Estimate], tables: dict[str, Any],
    findings: list[Finding], fit: Fit | None,
) -> None:  # fmt: skip
    """`--sensitivity`: the estimate's sensitivity rows, tables and findings, added in place."""
    from cerebro.observational.sensitivity import sensitivity_section

    section = sensitivity_section(data, spec, estimates, fit)
    estimates += section.estimates
    tables["sensitivity"] = section.rows
    tables.update({f"sensitivity_{k}": v for k, v in section.tables.items()})
    findings += section.findings


def _regression_only(data: CausalData, spec: CausalSpec, findings: list[Finding]) -> Result:
    """The outcome regression's result without the propensity diagnostics."""
    findings.append(_method_finding(spec, data))
    estimates, rows, _, _ = _effects(data, spec, None, findings, None)
    require_finite_estimates(estimates, spec.method)
    head = estimates[0]
    tables: dict[str, Any] = {"effects": rows, "balance": balance_table(data, None)}
    if spec.sensitivity:
        _add_sensitivity(data, spec, estimates, tables, findings, None)
    return effect_result(
        spec, spec.method, estimates, findings, tables,
        title=f"Causal effect of {spec.treatment} on {spec.outcome} — regression, "
        f"{len(data.y):,} units",
        narrative=f"Estimated effect of {spec.treatment} ({data.treated!r} vs {data.control!r}) on "
        f"{spec.outcome}: {head.value:+.4g} ({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to "
        f"{head.ci_high:+.4g}), by {METHOD_NAMES[spec.method]}. This is causal only if the "
        "confounders named capture every common cause of treatment and outcome.",
        units=len(data.y),
    )  # fmt: skip


def binary_result(data: CausalData, spec: CausalSpec, findings: list[Finding]) -> Result:
    """Trim, fit the propensity, estimate, check overlap and balance: two arms."""
    data = _trim(data, spec, findings)
    diagnostic = _regression_propensity(data, spec, findings)
    if diagnostic is None and spec.method == "regression":
        return _regression_only(data, spec, findings)
    ps, e = diagnostic if diagnostic is not None else _fitted_propensity(data, spec)
    propensity_rows = _overlap(data, e, findings)
    matched = None
    if spec.method == "psm":
        matched = matching_estimate(
            data.design @ ps.beta if isinstance(ps, GLMFit) else special.logit(e), data.a, data.y, spec.estimand, spec.neighbours,
            spec.caliper, data.groups, spec.replace, spec.seed,
        )  # fmt: skip
        weights = matched.weights
        adjusted = "matching"
    else:
        weights = est.ipw_weights(e, data.a, spec.estimand, spec.truncate)
        require_finite_result(
            weights, "the inverse-probability weight", "some propensities are 0 or 1 (no "
            "overlap) – use --trim crump or drop the confounder that separates the arms.",
        )  # fmt: skip
        adjusted = f"{spec.estimand.upper()} weighting"
        kish = weights.sum() ** 2 / np.sum(weights**2)
        findings.append(
            Finding(
                "info" if kish > 0.5 * len(weights) else "warning",
                "weights",
                f"{spec.estimand.upper()} weights: largest {weights.max():.3g}, effective "
                f"sample size {kish:,.0f} of {len(weights):,} (Kish).",
            )
        )
    findings.append(_method_finding(spec, data))
    estimates, effect_rows, potential, fit = _effects(data, spec, ps, findings, matched)
    require_finite_estimates(estimates, spec.method)
    balance = balance_table(data, weights)
    findings.append(balance_finding(balance, adjusted))
    tables: dict[str, Any] = {"effects": effect_rows, "balance": balance}
    if potential is not None:
        tables["potential_outcomes"] = potential
    tables["propensity"] = propensity_rows
    if spec.sensitivity:
        _add_sensitivity(data, spec, estimates, tables, findings, fit)
    head = estimates[0]
    narrative = (
        f"Estimated {spec.estimand.upper()} of {spec.treatment} ({data.treated!r} vs "
        f"{data.control!r}) on {spec.outcome}: {head.value:+.4g} ({1 - spec.alpha:.0%} CI "
        f"{head.ci_low:+.4g} to {head.ci_high:+.4g}), by {METHOD_NAMES[spec.method]}. This is "
        "causal only if the confounders named capture every common cause of treatment and outcome."
    )
    result = effect_result(
        spec,
        spec.method,
        estimates,
        findings,
        tables,
        title=f"Causal effect of {spec.treatment} on {spec.outcome} — {spec.method}, "
        f"{spec.estimand.upper()}, {len(data.y):,} units",
        narrative=narrative,
        units=len(data.y),
    )
    result.fit = fit
    return result


def causal_plot(result: Result) -> Any:
    """Love plot for adjustment methods; a design's result is drawn by the figure its own kind
    registered (event study, RD plot, first stage, gap plot)."""
    if "graph_edges" in result.tables:
        return _graph_plot(result)
    if result.method in QUASI:
        from importlib import import_module

        module, function = str(get_method(result.method).plot).split(":")
        return getattr(import_module(module), function)(result)
    if result.method in STRUCTURAL or "balance" not in list(result.tables):
        from cerebro.observational.structural_plots import structural_plot

        return structural_plot(result)
    return love_plot(result)


def _graph_plot(result: Result) -> Any:
    """The causal graph, beside the love plot when the result has a balance table."""
    from cerebro.core.figure import new_figure
    from cerebro.graph.draw import graph_figure

    if "balance" not in result.tables or not result.tables.columns("balance")["confounder"]:
        return graph_figure(result)  # nothing adjusted for: no love plot to show
    from cerebro.graph.draw import draw_graph

    edges_table = result.tables.columns("graph_edges")
    nodes_table = result.tables.columns("graph_nodes")
    fig = new_figure(12.0, 4.8)
    graph_ax, balance_ax = fig.subplots(1, 2, width_ratios=[1.2, 1])
    draw_graph(
        graph_ax,
        list(zip(edges_table["cause"], edges_table["effect"], strict=True)),
        dict(zip(nodes_table["node"], nodes_table["role"], strict=True)),
        "causal graph",
    )
    love_axes(balance_ax, result)
    return fig


causal = python_face(
    CausalSpec,
    run_causal,
    name="causal",
    summary="Estimate a causal effect from observational data: adjust for confounders, or use a "
    "design (difference-in-differences, regression discontinuity, instruments, synthetic control).",
    example="""
    >>> res = causal(df, treatment="qsmk", outcome="wt82_71", confounders=["age", "age^2"], method="ipw")
    """,
)


register(
    Method(
        kind="causal",
        spec_type=CausalSpec,
        run=run_causal,
        summary="Causal effects: regression, g-computation, IPW, AIPW, PS stratification, PS "
        "matching, DML; difference-in-differences, regression discontinuity, IV, synthetic control.",
        plot="cerebro.observational.analysis:causal_plot",
        example="cerebro.observational.examples:causal",
    )
)

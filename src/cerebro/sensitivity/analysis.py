"""`cerebro sensitivity`: would the estimate survive a confounder nobody measured?

Runner of kind ``sensitivity``: load → complete cases → the estimate under study → how far an
unobserved confounder of a given strength could move it → refutations. The estimate is the
regression's treatment coefficient (``--method regression``: the omitted-variable-bias bounds of
Cinelli & Hazlett 2020 with the classical OLS SE, as sensemakr) or the result of
`cerebro causal --method aipw|dml|psm` run through the registry, whose `Result.fit` carries what
the bounds need: the influence functions of θ, σ² and ν² (the long-story-short bounds of
Chernozhukov et al. 2022) or the matched-pair differences (Rosenbaum's Γ). E-values
(VanderWeele & Ding 2017) of the risk ratio (0/1 outcome) or of the standardised difference.
The numerics live in the shared `cerebro.stats` (sensitivity, ovb_linear, evalue, rosenbaum),
which `cerebro causal --sensitivity` uses too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.load import load_table, require_columns
from cerebro.sensitivity.data import Arrays, needed_columns, prepare
from cerebro.sensitivity.refute import causal_fields, estimate, refutations
from cerebro.sensitivity.spec import SensitivitySpec
from cerebro.stats.evalue import evalue
from cerebro.stats.intervals import quantile
from cerebro.stats.ovb_linear import add_strengths, benchmark_r2, benchmark_strengths, linear_ovb
from cerebro.stats.sensitivity import (
    DMLBenchmark,
    RieszElements,
    dml_benchmark,
    dml_benchmark_strengths,
)
from cerebro.stats.sensitivity_report import (
    Section,
    dml_section,
    effect_evalue,
    evalue_section,
    linear_section,
    riesz_from_fit,
    rosenbaum_section,
    rosenbaum_sets_section,
)

if TYPE_CHECKING:
    import pandas as pd


def _linear(arrays: Arrays, spec: SensitivitySpec, section: Section) -> tuple[Estimate, dict]:
    """The regression's estimate (classical or HC1 SE, t(dof) interval) and its OVB section."""
    ovb = linear_ovb(arrays.y, arrays.d, arrays.X, alpha=spec.alpha, q=spec.q, robust=spec.robust)
    strengths = []
    if spec.strengths() is not None:
        r2dz, r2yz = spec.strengths()  # type: ignore[misc]
        strengths.append((f"R²_D = {r2dz:g}, R²_Y = {r2yz:g}", r2dz, r2yz))
    for name in spec.benchmark:
        columns = arrays.term_columns[str(spec.benchmark_term(name))]
        r2dxj, r2yxj = benchmark_r2(arrays.y, arrays.d, arrays.X, columns)
        ovb.benchmarks.append((name, r2dxj, r2yxj))
        try:
            strengths += benchmark_strengths(name, r2dxj, r2yxj, spec.kd, spec.ky or spec.kd)
        except ValueError as err:
            raise UserInputError(f"{err}; use a smaller --kd.") from None
    add_strengths(ovb, strengths)
    half = quantile(1 - spec.alpha / 2, ovb.dof) * ovb.se
    from scipy import special

    p = float(2 * special.stdtr(ovb.dof, -abs(ovb.estimate / ovb.se)))
    head = Estimate(
        "effect", ovb.estimate, ovb.se, ovb.estimate - half, ovb.estimate + half, p,
        {"dof": ovb.dof, "se_type": "HC1" if spec.robust else "classical"},
    )  # fmt: skip
    section.extend(linear_section(ovb, str(spec.treatment)))
    plot = {"estimate": ovb.estimate, "se_classical": ovb.se_classical, "dof": ovb.dof,
            "se_ratio": ovb.se_ratio}  # fmt: skip
    return head, plot


def _dml_benchmarks(
    frame: pd.DataFrame, spec: SensitivitySpec, el: RieszElements
) -> tuple[list[tuple[str, DMLBenchmark]], list[tuple[str, float, float]]]:
    """Each benchmark's gain statistics – the same estimator refitted without it (same seed,
    so the same folds) – and the (label, Cf_D, Cf_Y) of the `kd`/`ky` multiples."""
    benchmarks, labelled = [], []
    for name in spec.benchmark:
        term = spec.benchmark_term(name)
        rest = [t for t in spec.confounders if t != term]
        if not rest:
            raise UserInputError(
                f"benchmark {name!r} is the only confounder; the refit without it would adjust for "
                "nothing – add the other confounders to --confounders."
            )
        short = estimate(frame, causal_fields(spec, confounders=rest))
        el_short = riesz_from_fit(short.fit, short.estimates[0])
        assert el_short is not None  # the same estimator as the long fit, which had one
        bench = dml_benchmark(el, el_short)
        benchmarks.append((name, bench))
        try:
            labelled += dml_benchmark_strengths(name, bench, spec.kd, spec.ky or spec.kd)
        except ValueError as err:
            raise UserInputError(f"{err}; use a smaller --kd.") from None
    return benchmarks, labelled


def _with_inferred_confounders(
    spec: SensitivitySpec, frame: pd.DataFrame | None
) -> tuple[SensitivitySpec, pd.DataFrame, Finding]:
    """No `--confounders` (the users' `cerebro sensitivity data.csv --treatment campaign
    --outcome sales --unobserved-confounder-strength 0.3`): adjust for every column judged
    pre-treatment (`data.roles.pre_treatment_columns`), said in a warning naming the override."""
    from cerebro.data.roles import adjustment_columns

    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or give the data file.")
        frame = load_table(spec.data)
    chosen, message = adjustment_columns(frame, spec.treatment, spec.outcome, "adjusted for")
    note = Finding("warning", "inferred_role", message)
    return spec.model_copy(update={"confounders": chosen}), frame, note


def run_sensitivity(spec: SensitivitySpec, frame: pd.DataFrame | None = None) -> Result:
    """The sensitivity analysis `spec` describes (the runner every face calls)."""
    if spec.evalue_measure is not None:
        return evalue_result(spec)
    if not spec.confounders:
        spec, frame, note = _with_inferred_confounders(spec, frame)
        result = run_sensitivity(spec, frame)
        result.findings.insert(0, note)
        return result
    if frame is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or give the data file.")
        frame = load_table(spec.data, needed_columns(spec))
    else:
        require_columns([str(c) for c in frame.columns], needed_columns(spec), "the data")
        frame = frame[needed_columns(spec)]
    arrays = prepare(frame, spec)
    findings = list(arrays.findings)
    section, plot, causal = Section(), {}, None
    if spec.method == "regression":
        head, plot = _linear(arrays, spec, section)
    else:
        causal = estimate(frame, causal_fields(spec))
        head = causal.estimates[0]
        head = Estimate("effect", head.value, head.se, head.ci_low, head.ci_high, head.p_value,
                        dict(head.extra), key=head.key)  # fmt: skip
        findings += [f for f in causal.findings if f.code in ("method", "positivity", "caliper")]
        if spec.method == "psm":
            fit = causal.fit
            if fit is not None and fit.pairs is not None:
                section.extend(rosenbaum_section(fit.pairs, spec.alpha))
            elif fit is not None and fit.sets is not None:
                section.extend(
                    rosenbaum_sets_section(fit.sets, spec.alpha, spec.m_trim, spec.m_inner)
                )
            else:
                raise UserInputError("the matched estimate carries no matched pairs or sets.")
        else:
            el = riesz_from_fit(causal.fit, causal.estimates[0])
            if el is None:
                raise UserInputError(
                    "the long-story-short bounds need the ATE of --method aipw or dml with the "
                    "interactive model; this estimate carries no Riesz representer."
                )
            strengths = [spec.strengths()] if spec.strengths() else []
            benchmarks, labelled = _dml_benchmarks(frame, spec, el)
            section.extend(dml_section(el, strengths, spec.alpha, spec.q, benchmarks, labelled))  # type: ignore[arg-type]
            plot = {"estimate": el.theta, "sigma_nu": float(np.sqrt(el.sigma2 * el.nu2))}
    ratio = None if causal is None else next(
        (e for e in causal.estimates if e.extra.get("measure") == "risk ratio"), None
    )  # fmt: skip
    section.extend(effect_evalue(arrays.y, arrays.d, head, ratio))
    effect = f"effect of {spec.treatment} ({spec.method})"
    meaning = (
        f"the estimate under study, {1 - spec.alpha:.0%} CI {head.ci_low:.4g} to {head.ci_high:.4g}"
    )
    for column, v in zip(section.rows, [effect, head.value, meaning], strict=True):
        section.rows[column].insert(0, v)
    tables: dict[str, Any] = {"sensitivity": section.rows, **section.tables}
    if spec.refute:
        tables["refutations"], more = refutations(frame, spec, head)
        findings += more
    findings += section.findings
    return _result(spec, [head, *section.estimates], findings, tables, len(arrays.y), plot)


def _result(spec: SensitivitySpec, estimates: list[Estimate], findings: list[Finding],
            tables: dict[str, Any], units: int, plot: dict[str, Any]) -> Result:  # fmt: skip
    head = estimates[0]
    rv = next((e.value for e in estimates if e.key == "rv_q"), None)
    gamma = next((e.value for e in estimates if e.key == "gamma"), None)
    level = f"{1 - spec.alpha:.0%}"
    narrative = (
        f"Effect of {spec.treatment} on {spec.outcome} ({spec.method}): {head.value:+.4g} "
        f"({level} CI {head.ci_low:+.4g} to {head.ci_high:+.4g})."
        + (f" A confounder explaining {rv:.1%} of the residual variance of both treatment and "
           "outcome would explain it away." if rv is not None else "")
        + (f" The matched test stays significant until hidden bias reaches Γ = {gamma:.3g}."
           if gamma is not None else "")
    )  # fmt: skip
    return Result(
        kind="sensitivity",
        method=spec.method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        summary={
            "title": f"Sensitivity of the effect of {spec.treatment} on {spec.outcome} to "
            f"unobserved confounding — {spec.method}, {units:,} units",
            "narrative": narrative,
            "headline_table": "sensitivity",
            "alpha": spec.alpha,
            "units": units,
            **{f"plot_{k}": v for k, v in plot.items()},
        },
    )


def evalue_result(spec: SensitivitySpec) -> Result:
    """The E-value of a published estimate: no data."""
    measure, value = spec.evalue_measure  # type: ignore[misc]
    ci = tuple(spec.evalue_ci) if spec.evalue_ci else None
    s = evalue_section(evalue(value, measure, ci, spec.common_outcome))  # type: ignore[arg-type]
    return Result(
        kind="sensitivity",
        method="evalue",
        spec=spec,
        estimates=s.estimates,
        findings=s.findings,
        tables={"sensitivity": s.rows, **s.tables},
        summary={
            "title": f"E-value of a {measure.upper()} of {value:g}",
            "narrative": f"{measure.upper()} {value:g}: E-value "
            f"{s.estimates[0].value:.3g}"
            + (f", {s.estimates[1].value:.3g} for its confidence limit." if ci else "."),
            "headline_table": "sensitivity",
            "alpha": spec.alpha,
        },
    )


sensitivity = python_face(
    SensitivitySpec,
    run_sensitivity,
    name="sensitivity",
    summary="How strong an unobserved confounder would have to be to change an observational "
    "estimate: robustness values, bias-adjusted estimates, E-values, Rosenbaum bounds and "
    "refutations.",
    example="""
    >>> res = sensitivity(df, treatment="campaign", outcome="sales", confounders=["age", "income"],
    ...                   unobserved_confounder_strength=[0.3])
    >>> sensitivity(evalue_rr=3.9, evalue_ci=[1.8, 8.7]).estimate("evalue").value
    """,
)


register(
    Method(
        kind="sensitivity",
        spec_type=SensitivitySpec,
        run=run_sensitivity,
        summary="Sensitivity to unobserved confounding: Cinelli–Hazlett robustness values and "
        "bounds, long-story-short bounds of AIPW/DML, E-values, Rosenbaum bounds, refutations.",
        plot="cerebro.sensitivity.plots:sensitivity_plot",
        example="cerebro.sensitivity.examples:sensitivity",
    )
)

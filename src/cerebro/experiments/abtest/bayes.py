"""`cerebro abtest --type bayesian`: the conjugate analysis of `bayes.py` on an A/B/n test's arms.

Binary outcomes get the Beta–Binomial model, continuous ones the Normal model with the
reference prior (or the Normal–Inverse-Gamma prior the user gives). Only per-arm counts or
moments are needed, so files are summarised in DuckDB exactly as for the frequentist tests.
"""

from __future__ import annotations

from typing import Any

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.experiments.abtest.result import comparison_result
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.bayes import (
    REFERENCE_PRIOR,
    BayesReport,
    Posterior,
    beta_posterior,
    compare_posteriors,
    t_posterior,
)


def check_model_limits(spec: ABTestSpec) -> None:
    """Refuse, with the fix, what the Bayesian and sequential analyses do not cover."""
    # An option of another test type, --binding without --futility and the like are refused by
    # the spec itself (`ABTestSpec`, its `OPTIONS` table).
    kind = spec.test_type
    if spec.bayes_model == "hurdle_lognormal" and spec.from_summary:
        raise UserInputError(
            f"--model {spec.bayes_model} needs one row per unit, not --from-summary; give the "
            "unit-level data or use the conjugate model."
        )
    if spec.planned_n is not None and spec.planned_n < 2:
        raise UserInputError(f"--planned-n must be at least 2 units per arm, got {spec.planned_n}.")
    if kind not in ("bayesian", "sequential"):
        return
    one_look = spec.from_summary and spec.sequential_tuning is not None
    if kind == "sequential" and not spec.time_column and not one_look:
        raise UserInputError(
            "--type sequential needs --time: the column whose values are the looks (e.g. day)."
        )
    if kind == "sequential" and spec.mixing_sd is not None and not spec.mixing_sd > 0:
        raise UserInputError(f"--mixing-sd must be positive, got {spec.mixing_sd}.")
    unsupported = [
        flag
        for flag, used in (
            ("--covariates", spec.covariates),
            ("--strata", spec.strata),
            ("--cluster", spec.cluster),
            ("--alternative", spec.alternative != "two-sided"),
            ("--from-summary", spec.from_summary and kind == "sequential" and not one_look),
        )
        if used
    ]
    if unsupported:
        raise UserInputError(
            f"--type {kind} does not support {', '.join(unsupported)} yet; drop "
            f"{'it' if len(unsupported) == 1 else 'them'} or use --type welch."
        )
    ratios = [o for o in spec.outcome if "/" in o]
    if ratios:
        raise UserInputError(
            f"--type {kind} has no model for the ratio metric {ratios[0]!r} yet; analyse it "
            "with --type welch (delta method)."
        )


def _posteriors(outcome: Any, spec: ABTestSpec) -> tuple[list[Posterior], str]:
    arms = range(len(outcome.arms))
    prior = tuple(spec.prior) if spec.prior else None
    if outcome.is_binary:
        if prior is not None and len(prior) != 2:
            raise UserInputError(
                f"{outcome.metric.name} is binary: --prior takes the Beta prior as two numbers "
                f"a,b (e.g. 1,1), got {len(prior)}."
            )
        beta = prior or (1.0, 1.0)
        posteriors = [beta_posterior(*outcome.counts(a), beta) for a in arms]
        return posteriors, f"Beta–Binomial, prior Beta({beta[0]:g}, {beta[1]:g})"
    if prior is not None and len(prior) != 4:
        raise UserInputError(
            f"{outcome.metric.name} is continuous: --prior takes the Normal–Inverse-Gamma prior "
            f"as four numbers mu0,kappa0,alpha0,beta0 (e.g. 0,1,1,1), got {len(prior)}."
        )
    nig = prior or REFERENCE_PRIOR
    posteriors = []
    for m in outcome.moments():
        var = float(m.comoment[0, 0] / (m.n - 1)) if m.n > 1 else 0.0
        posteriors.append(t_posterior(m.n, float(m.mean[0]), var, nig))
    name = "reference prior p(μ, σ²) ∝ 1/σ²" if prior is None else f"NIG{tuple(nig)}"
    return posteriors, f"Normal model (Student-t posterior of the mean), {name}"


def _rows(
    name: str, arms: list[str], report: BayesReport, estimates: list[Estimate]
) -> list[dict[str, Any]]:
    control, rows = arms[0], []
    for c in report.comparisons:
        variant = arms[c.variant]
        post_c, post_v = report.posteriors[0], report.posteriors[c.variant]
        row: dict[str, Any] = {
            "outcome": name,
            "variant": variant,
            "control": control,
            "mean_control": post_c.mean,
            "mean_variant": post_v.mean,
            "lift": c.lift.mean,
            "lift_ci_low": c.lift.low,
            "lift_ci_high": c.lift.high,
            "rel_lift": c.rel_lift.mean if c.rel_lift else None,
            "rel_lift_ci_low": c.rel_lift.low if c.rel_lift else None,
            "rel_lift_ci_high": c.rel_lift.high if c.rel_lift else None,
            "p_beat": c.p_beat,
            "p_best": float(report.p_best[c.variant]),
            "loss_ship": c.loss_ship,
            "loss_keep": c.loss_keep,
            **(
                {"risk_keep_rel": c.rel_risk[0], "risk_ship_rel": c.rel_risk[1]}
                if c.rel_risk
                else {}
            ),
            "decision": c.decision,
            "reason": c.reason,
            "lift_ci_mc_se": c.lift.mc_se,
            "rel_lift_ci_mc_se": c.rel_lift.mc_se if c.rel_lift else None,
        }
        rows.append(row)
        extra = {k: v for k, v in row.items() if not k.startswith("lift")}
        estimates.append(
            Estimate(
                f"{name}: {variant} − {control}",
                c.lift.mean,
                None,
                c.lift.low,
                c.lift.high,
                None,
                {**extra, "measure": "posterior lift", "interval": "credible"},
            )
        )
    return rows


def _arm_rows(name: str, arms: list[str], report: BayesReport) -> list[dict[str, Any]]:
    return [
        {
            "outcome": name,
            "arm": arm,
            "posterior_mean": interval.mean,
            "posterior_ci_low": interval.low,
            "posterior_ci_high": interval.high,
            "p_best": float(report.p_best[i]),
            "loss_choose": float(report.loss_choose[i]),
        }
        for i, (arm, interval) in enumerate(zip(arms, report.arm_intervals, strict=True))
    ]


def _sentence(row: dict[str, Any], cred: float) -> str:
    rel = (
        f" ({100 * row['rel_lift']:+.1f}%, {cred:.0%} credible interval "
        f"{100 * row['rel_lift_ci_low']:+.1f}% to {100 * row['rel_lift_ci_high']:+.1f}%)"
        if row["rel_lift"] is not None
        else ""
    )
    return (
        f"{row['variant']} vs {row['control']} on {row['outcome']}: lift {row['lift']:+.4g}{rel}; "
        f"P(beats control) = {row['p_beat']:.1%}. Decision: {row['decision']} – {row['reason']}."
    )


def decision_rule(report: BayesReport, spec: ABTestSpec) -> str:
    """The rule behind the decisions, as a phrase."""
    if report.rope:
        return f"ROPE [{report.rope[0]:g}, {report.rope[1]:g}] on the lift"
    default = " (default: 0.1% of the control's mean)" if spec.loss_threshold is None else ""
    return f"expected-loss threshold {report.threshold:.3g}{default}"


def _gaussian_report(outcome: Any, spec: ABTestSpec) -> tuple[BayesReport, str]:
    """GrowthBook's Gaussian model of the relative lift (`bayes_gaussian.py`)."""
    from cerebro.experiments.bayes_gaussian import ArmSummary, gaussian_report

    if spec.prior is not None and len(spec.prior) != 2:
        raise UserInputError(
            f"--model gaussian takes --prior as the relative lift's normal prior mean,sd "
            f"(e.g. 0,0.3), got {len(spec.prior)} numbers."
        )
    if outcome.is_binary:
        rates = [outcome.counts(a) for a in range(len(outcome.arms))]
        arms = [ArmSummary(n, k / n, k / n * (1 - k / n)) for k, n in rates]
    else:
        arms = [
            ArmSummary(m.n, float(m.mean[0]), float(m.comoment[0, 0] / (m.n - 1)))
            for m in outcome.moments()
        ]
    prior = (float(spec.prior[0]), float(spec.prior[1])) if spec.prior else None
    rope = (float(spec.rope[0]), float(spec.rope[1])) if spec.rope else None
    report = gaussian_report(arms, 1 - spec.alpha, spec.loss_threshold, rope, prior)
    what = "flat prior" if prior is None else f"prior N({prior[0]:g}, {prior[1]:g}²)"
    return report, f"Gaussian model of the relative lift (GrowthBook's), {what}"


def _conjugate_report(outcome: Any, spec: ABTestSpec, findings: list[Finding]) -> BayesReport:
    """The closed-form analysis of one outcome, with findings naming the model and rule."""
    if spec.bayes_model == "gaussian":
        report, model = _gaussian_report(outcome, spec)
    else:
        posteriors, model = _posteriors(outcome, spec)
        report = compare_posteriors(
            posteriors,
            cred=1 - spec.alpha,
            threshold=spec.loss_threshold,
            rope=tuple(spec.rope) if spec.rope else None,
            draws=spec.draws,
            seed=spec.seed,
        )
    name = outcome.metric.name
    findings.append(Finding("info", "test_choice", f"{name}: Bayesian {model}."))
    rule = decision_rule(report, spec)
    worst_se = max(
        (r for r in (c.lift.mc_se for c in report.comparisons) if r is not None), default=0.0
    )
    how = (
        "P(beat), the risks and the lift intervals are closed form (normal posteriors), "
        "P(best) exact (quadrature)"
        if report.draws == 0
        else "P(beat), P(best), expected losses and arm intervals are exact (quadrature); lift "
        f"intervals come from {report.draws:,} seeded draws (seed {spec.seed}), Monte Carlo "
        f"error of their ends ≤ {worst_se:.2g}"
    )
    findings.append(Finding("info", "bayes_method", f"{name}: decisions use the {rule}; {how}."))
    return report


def bayesian_analysis(
    spec: ABTestSpec, arms: list[str], outcomes: list[Any], findings: list[Finding], title: str
) -> Result:
    """The Bayesian result of every outcome, arms[0] the control."""
    cred = 1 - spec.alpha
    estimates: list[Estimate] = []
    rows: list[dict[str, Any]] = []
    arm_rows: list[dict[str, Any]] = []
    parameter_rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        findings.extend(outcome.findings)
        name = outcome.metric.name
        if spec.bayes_model == "hurdle_lognormal":
            from cerebro.experiments.abtest.hurdle import hurdle_report

            report, model, rows_of_fit = hurdle_report(outcome, arms, spec, findings)
            parameter_rows.extend(rows_of_fit)
            findings.append(Finding("info", "test_choice", f"{name}: Bayesian {model}."))
            findings.append(
                Finding(
                    "info",
                    "bayes_method",
                    f"{name}: decisions use the {decision_rule(report, spec)}.",
                )
            )
        else:
            report = _conjugate_report(outcome, spec, findings)
        best = int(report.p_best.argmax())
        findings.append(
            Finding(
                "info",
                "best_arm",
                f"{name}: {arms[best]!r} is the most likely best arm (P(best) = "
                f"{report.p_best[best]:.1%}); choosing it risks an expected loss of "
                f"{report.loss_choose[best]:.3g} against the truly best arm.",
            )
        )
        rows.extend(_rows(name, arms, report, estimates))
        arm_rows.extend(_arm_rows(name, arms, report))
    shown = (
        "outcome", "variant", "mean_control", "mean_variant", "lift", "lift_ci_low",
        "lift_ci_high", "rel_lift", "rel_lift_ci_low", "rel_lift_ci_high", "p_beat", "p_best",
        "loss_ship", "decision",
    )  # fmt: skip
    return comparison_result(
        spec,
        "bayesian",
        title + " · Bayesian",
        estimates,
        findings,
        rows,
        shown,
        [_sentence(r, cred) for r in rows],
        extra_tables={
            "arms": arm_rows,
            **({"parameters": parameter_rows} if parameter_rows else {}),
        },
        control=arms[0],
        credible_level=cred,
        arms=len(arms),
    )

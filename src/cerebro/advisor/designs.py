"""Designs for one row per unit (or per unit and day): a randomised A/B/n test, uplift when
heterogeneity is the question, observational adjustment, and a regression discontinuity when a
threshold on a score decides the treatment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cerebro.advisor import checks
from cerebro.advisor.advice import (
    Advice,
    Roles,
    Trap,
    choose_outcomes,
    is_experiment_arm,
    names,
)
from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.advisor.profile import Profile

MAX_AIPW_CONFOUNDERS = 10  # beyond this, flexible learners (DML) rather than parametric models


def candidate_covariates(profile: Profile, exclude: set[str]) -> list[str]:
    """Columns that could describe a unit before treatment: usable, not an id, a date, a
    post-period flag or a post-treatment measurement."""
    bad = {"date", "unit id", "geo", "post flag", "post-treatment", "arm", "spend", "impressions"}
    return [
        n
        for n, c in profile.columns.items()
        if n not in exclude
        and c.kind not in ("constant", "identifier", "date")
        and not (set(c.roles) & bad)
        and (c.numeric or c.kind == "categorical")
    ]


def cross_section(
    frame: pd.DataFrame, profile: Profile, roles: Roles, treatment: str, data: str
) -> Advice:
    """A/B/n test, uplift or observational adjustment, from the arm's balance."""
    levels = frame[treatment].dropna().unique()
    if len(levels) < 2:
        raise UserInputError(
            f"treatment column {treatment!r} has one value only ({levels[0]!r}); a causal "
            "comparison needs treated and untreated units."
            if len(levels)
            else f"treatment column {treatment!r} is empty."
        )
    taken = {treatment, *(c for c in (profile.date, profile.unit) if c)}
    outcomes = choose_outcomes(profile, roles, taken)
    traps: list[Trap] = []
    post = [n for n in profile.with_role("post-treatment") if n not in outcomes]
    covariates = candidate_covariates(profile, {treatment, *outcomes, *taken})
    numeric = [c for c in covariates if profile.columns[c].numeric]
    leaks = checks.leaking(frame, outcomes[0], [*outcomes[1:], *numeric])
    outcomes = [o for o in outcomes if o not in leaks]
    if leaks:
        traps.append(
            Trap(
                "leak",
                f"{names(leaks)} {'is' if len(leaks) == 1 else 'are'} nearly the outcome itself "
                "(correlation ≥ 0.98): a copy or a consequence of it, left out of the analysis.",
            )
        )
        for column in leaks:
            profile.columns[column].roles.append("leak")
        covariates = [c for c in covariates if c not in leaks]
        numeric = [c for c in numeric if c not in leaks]
    imbalanced = checks.imbalances(frame, treatment, numeric)
    experiment = is_experiment_arm(treatment, [str(x) for x in levels])
    if imbalanced and experiment and roles.design not in ("causal",):
        moved = [i.column for i in imbalanced if not profile.columns[i.column].has("pre-period")]
        post += [c for c in moved if c not in post]
        covariates = [c for c in covariates if c not in moved]
        imbalanced = [i for i in imbalanced if i.column not in moved]
    if post:
        traps.append(
            Trap(
                "post_treatment",
                f"{names(post)} look{'s' if len(post) == 1 else ''} measured after the treatment "
                "(by name, or because it differs between arms as no pre-treatment variable of a "
                "randomised test can): adjusting for it would remove part of the effect, so it "
                "is left out (if it is a metric of the test, name it with --kpi).",
            )
        )
        covariates = [c for c in covariates if c not in post]
    repeated = unit_repeats(frame, profile, treatment)
    if repeated:
        traps.append(repeated)
    randomised = not imbalanced and roles.design != "causal"
    forced_ab = roles.design in ("abtest", "bayesian", "sequential")
    if imbalanced and (forced_ab or roles.design == "uplift"):
        traps.append(not_randomised(treatment, imbalanced, asked=True))
    if roles.design == "uplift" or (randomised and roles.question == "heterogeneity"):
        return uplift_advice(profile, treatment, outcomes[0], covariates, data, traps, randomised)
    if randomised or forced_ab:
        return abtest_advice(frame, profile, roles, treatment, outcomes, covariates, data, traps)
    return causal_advice(profile, treatment, outcomes[0], covariates, imbalanced, data, traps)


def unit_repeats(frame: pd.DataFrame, profile: Profile, treatment: str) -> Trap | None:
    """A unit id with several rows per unit: rows are not independent (user × day tables)."""
    unit = profile.unit
    if not unit or unit == treatment:
        return None
    per_unit = len(frame) / max(frame[unit].nunique(), 1)
    if per_unit <= 1:
        return None
    return Trap(
        "repeated_units",
        f"units repeat: '{unit}' has {per_unit:.1f} rows per value on average, so rows are not "
        f"independent; standard errors are clustered on '{unit}' (the randomised unit).",
    )


AB_REJECTED = [
    (
        "observational adjustment (AIPW/DML)",
        "not needed: the arms are balanced on every pre-treatment column, as randomisation "
        "makes them; the plain comparison is unbiased and simpler to trust.",
    ),
    (
        "uplift model",
        "the question asked is the average effect; run with --question heterogeneity to ask "
        "who responds.",
    ),
    (
        "difference-in-differences",
        "there is no intervention date: units keep their arm throughout, so the arms are "
        "compared directly.",
    ),
]


def abtest_advice(
    frame: pd.DataFrame,
    profile: Profile,
    roles: Roles,
    treatment: str,
    outcomes: list[str],
    covariates: list[str],
    data: str,
    traps: list[Trap],
) -> Advice:
    levels = sorted(map(str, frame[treatment].dropna().unique()))
    pre = [
        c for c in covariates if profile.columns[c].has("pre-period") and profile.columns[c].numeric
    ]
    if roles.covariates is not None:
        pre = list(roles.covariates)
    spec = {"kind": "abtest", "data": data, "treatment": treatment, "outcome": outcomes}
    reasons = {
        "treatment": f"the arm column: {len(levels)} arms ({', '.join(levels)}), balanced on "
        "every pre-treatment column, as randomisation makes them.",
        "outcome": "the outcome column(s) "
        + ", ".join(f"{o} ({profile.columns[o].kind})" for o in outcomes)
        + "; the test follows each one's type.",
    }
    if pre:
        spec["covariates"] = pre
        reasons["covariates"] = (
            f"CUPED on the pre-period column(s) {', '.join(pre)}: same estimand, smaller variance."
        )
    if any(t.code == "repeated_units" for t in traps):
        spec["cluster"] = profile.unit
        reasons["cluster"] = f"rows repeat per '{profile.unit}': cluster-robust errors on it."
    design = "randomised A/B" + ("/n" if len(levels) > 2 else "") + " test"
    if roles.design == "bayesian":
        spec["test_type"] = "bayesian"
        reasons["test_type"] = "asked for (--design bayesian): posterior of the lift."
        design = "Bayesian " + design
    elif roles.design == "sequential":
        if not profile.date:
            raise UserInputError(
                "a sequential test needs a date or day column whose values are the looks; "
                "name it with --date-column."
            )
        spec.update(test_type="sequential", time_column=profile.date)
        reasons["test_type"] = "asked for (--design sequential): always-valid inference."
        reasons["time_column"] = f"'{profile.date}' marks the looks at the data."
        design = "sequential " + design
    return Advice(
        design=design,
        kind="abtest",
        spec=spec,
        why=(
            f"'{treatment}' assigns units to arms and every pre-treatment column is balanced "
            "between them (no standardised difference above 0.1 beyond chance), so this reads "
            "as a randomised experiment: compare each variant with the control"
            + (f", with CUPED on {names(pre)}" if pre else "")
            + (f", clustered on '{profile.unit}'" if "cluster" in spec else "")
            + "."
        ),
        assumptions=[
            f"units were assigned to '{treatment}' at random (the sample-ratio check tests the split).",
            "one unit's arm does not change another unit's outcome (no interference).",
            *(["the pre-period columns were measured before assignment."] if pre else []),
        ],
        rejected=AB_REJECTED,
        traps=traps,
        reasons=reasons,
    )


def uplift_advice(
    profile: Profile,
    treatment: str,
    outcome: str,
    features: list[str],
    data: str,
    traps: list[Trap],
    randomised: bool,
) -> Advice:
    if not features:
        raise UserInputError(
            "heterogeneity needs pre-treatment feature columns to describe units; the table has none."
        )
    spec = {"kind": "uplift", "data": data, "treatment": treatment, "outcome": outcome}
    spec["features"] = features
    reasons = {
        "features": f"the pre-treatment columns {', '.join(features)}: who responds is "
        "described by what was known before treatment.",
        "outcome": f"the outcome ({profile.columns[outcome].kind}).",
    }
    if any(t.code == "repeated_units" for t in traps):
        spec["unit"] = profile.unit
        reasons["unit"] = f"rows repeat per '{profile.unit}': folds keep each unit's rows together."
    return Advice(
        design="uplift (heterogeneous effects)",
        kind="uplift",
        spec=spec,
        reasons=reasons,
        why=(
            "The question is who responds: a model of the effect per unit (CATE) from "
            f"{names(features)}, with Qini/AUUC, response tiers and a targeting policy."
        ),
        assumptions=[
            "treatment was randomised (or is unconfounded given the features)"
            + (
                ""
                if randomised
                else ": the arms differ on some features, so this is a strong assumption"
            ),
            "the features were measured before treatment.",
        ],
        rejected=[
            ("A/B test", "gives the average effect only; the question here is who responds."),
        ],
        traps=traps,
    )


def not_randomised(treatment: str, imbalanced: list[checks.Imbalance], asked: bool = False) -> Trap:
    """The arms differ before treatment: the largest standardised differences, named."""
    worst = ", ".join(f"{i.column} (SMD {i.smd:+.2f})" for i in imbalanced[:3])
    return Trap(
        "not_randomised",
        f"the arms of '{treatment}' differ before treatment on {worst}: not a randomised "
        "comparison, so a plain difference in means would be confounded"
        + (" – the design you asked for assumes it is randomised." if asked else "."),
    )


def causal_advice(
    profile: Profile,
    treatment: str,
    outcome: str,
    confounders: list[str],
    imbalanced: list[checks.Imbalance],
    data: str,
    traps: list[Trap],
) -> Advice:
    if not confounders:
        raise UserInputError(
            f"'{treatment}' is not randomised and the table has no pre-treatment column to "
            "adjust for; add the common causes of treatment and outcome."
        )
    method = "dml" if len(confounders) > MAX_AIPW_CONFOUNDERS else "aipw"
    worst = ", ".join(f"{i.column} (SMD {i.smd:+.2f})" for i in imbalanced[:3])
    if imbalanced:
        traps.append(not_randomised(treatment, imbalanced))
    spec = {
        "kind": "causal",
        "data": data,
        "treatment": treatment,
        "outcome": outcome,
        "confounders": confounders,
        "method": method,
    }
    reasons = {
        "method": (
            "AIPW: doubly robust, right if either the propensity or the outcome model is."
            if method == "aipw"
            else f"DML: {len(confounders)} confounders call for flexible cross-fitted learners."
        ),
        "confounders": f"every pre-treatment column ({', '.join(confounders)}); "
        "post-treatment columns and ids are left out.",
    }
    return Advice(
        design="observational adjustment",
        kind="causal",
        spec=spec,
        reasons=reasons,
        why=(
            (
                f"'{treatment}' was not assigned at random (see the imbalance below), so the effect"
                if imbalanced
                else f"Asked for adjustment (--design causal): the effect of '{treatment}'"
            )
            + f" is estimated by adjusting for {names(confounders)} with {method.upper()}."
        ),
        assumptions=[
            f"no unmeasured confounding: every common cause of '{treatment}' and '{outcome}' "
            f"is among {names(confounders)}.",
            "overlap: every kind of unit could have been treated or not (check the propensity "
            "findings).",
        ],
        rejected=[
            (
                "A/B test",
                f"the arms are imbalanced on {worst}, which randomisation rules out."
                if imbalanced
                else "the arms are balanced, so a plain A/B comparison would do as well.",
            ),
            ("regression discontinuity", "no threshold on a score decides the treatment."),
            (
                "difference-in-differences",
                "there is no intervention date at which units switch from untreated to treated.",
            ),
        ],
        traps=traps,
    )


def rdd_advice(
    frame: pd.DataFrame,
    profile: Profile,
    roles: Roles,
    step: checks.Step,
    treatment: str | None,
    data: str,
) -> Advice:
    taken = {step.column, *([treatment] if treatment else [])}
    outcome = choose_outcomes(profile, roles, taken)[0]
    spec = {
        "kind": "rdd",
        "data": data,
        "outcome": outcome,
        "running_variable": step.column,
        "cutoff": step.cutoff,
    }
    reasons = {
        "running_variable": f"treatment switches on at {step.column} ≥ {step.cutoff:g} "
        f"({step.agreement:.1%} of rows agree).",
        "cutoff": "the threshold found in the data (or given with --cutoff).",
    }
    kind_words = "sharp"
    if treatment and not step.sharp:
        spec["treatment"] = treatment
        reasons["treatment"] = "take-up is not all-or-none at the cutoff: a fuzzy design."
        kind_words = "fuzzy"
    trap = Trap(
        "running_variable",
        f"'{treatment or 'treatment'}' is decided by a threshold on '{step.column}', so treated "
        "and untreated units differ systematically: compare them only near the cutoff.",
    )
    return Advice(
        design=f"{kind_words} regression discontinuity",
        kind="rdd",
        spec=spec,
        reasons=reasons,
        why=(
            f"Units with {step.column} ≥ {step.cutoff:g} are treated and the others are not: "
            "units just either side of the cutoff are comparable, so the jump in "
            f"'{outcome}' there is the effect (local linear fit, MSE-optimal bandwidth)."
        ),
        assumptions=[
            f"nothing else changes at {step.column} = {step.cutoff:g} (continuity of the "
            "potential outcomes).",
            f"units cannot place themselves just above the cutoff (no manipulation of {step.column}).",
            "the estimate holds for units near the cutoff, not for everyone.",
        ],
        rejected=[
            ("A/B test", "treatment follows the score, it was not randomised."),
            (
                "observational adjustment",
                "there is no overlap: at any score, units are all treated or all untreated.",
            ),
        ],
        traps=[trap],
    )

"""The assumptions behind each kind of analysis, and how a result shows they were checked.

Each assumption names the finding codes a method writes when it checks it (`Finding.code`). A
report reads a result's findings against this table: a warning or error among them means the
check raised a concern; an info finding means it was checked and passed; no finding means the
data cannot test it – an assumption the reader must believe (randomisation, no unmeasured
confounding), and the report says so instead of implying a check that did not happen.

References: Imbens & Rubin (2015), *Causal Inference for Statistics, Social, and Biomedical
Sciences*, ch. 1–3 (the assumptions of randomised and observational studies).
"""

from __future__ import annotations

from dataclasses import dataclass

from cerebro.core.results import Result


@dataclass(frozen=True)
class Assumption:
    """One assumption in plain words, and the findings that check it (empty: untestable)."""

    text: str
    codes: tuple[str, ...] = ()
    untested: str = "not testable from these data: a design assumption to believe"
    #: spec fields whose value, when set (and not 'none'), handles the assumption by design
    fields: tuple[str, ...] = ()


_RANDOMISED = Assumption(
    "Units were randomised to arms as planned (no sample ratio mismatch).", ("srm", "counts")
)
_INDEPENDENT = Assumption(
    "Units are independent, or clustered rows are analysed by their unit.",
    ("repeated_units", "units", "few_clusters", "aggregated"),
    untested="assumed: no repeating unit id was found in the data",
    fields=("cluster", "unit"),
)
_NO_INTERFERENCE = Assumption(
    "One unit's treatment does not change another's outcome (no interference, SUTVA)."
)
_UNCONFOUNDED = Assumption(
    "The features or confounders capture every common cause of treatment and outcome.",
    untested="not testable from data: it holds by design only in a randomised test",
)
_OVERLAP = Assumption(
    "Every kind of unit could receive either treatment (overlap / positivity).",
    ("positivity", "weights", "clipping", "caliper", "small_arm"),
)

ASSUMPTIONS: dict[str, tuple[Assumption, ...]] = {
    "abtest": (
        _RANDOMISED,
        _INDEPENDENT,
        Assumption(
            "The test suits the outcome (its type, zeros and sample size).",
            ("test_choice", "small_counts", "hurdle_zeros", "mcmc_convergence"),
        ),
        Assumption("Several comparisons are adjusted for multiplicity.", ("multiplicity",)),
        _NO_INTERFERENCE,
    ),
    "bandit": (
        Assumption("Rewards of each arm are stable over time.", ()),
        Assumption("Rewards have the type the model assumes.", ("reward_type",)),
    ),
    "design": (
        Assumption(
            "The covariates are balanced across arms after randomisation.", ("balance", "counts")
        ),
        Assumption("The randomisation is reproducible from its seed.", ("seed",)),
    ),
    "power": (
        Assumption("The baseline and the minimal effect are realistic.", ("answer", "formula")),
        Assumption("The test runs whole weeks (weekly cycles).", ("full_week",)),
    ),
    "sequential_design": (
        Assumption("Looks happen at the planned information fractions.", ("design", "inflation")),
    ),
    "causal": (
        _UNCONFOUNDED,
        _OVERLAP,
        Assumption(
            "After adjustment the arms are comparable on the confounders.", ("balance", "strata")
        ),
        _NO_INTERFERENCE,
    ),
    "did": (
        Assumption(
            "Treated and comparison units would have followed parallel trends.", ("pretrend",)
        ),
        Assumption(
            "No anticipation, and treatment stays on once it starts.",
            ("not_absorbing", "adoption", "uncertain_adoption"),
        ),
        Assumption(
            "The estimator is robust to staggered timing (two-way FE can be biased).",
            ("twfe_bias",),
        ),
        Assumption("Enough clusters for the standard errors.", ("few_clusters", "no_clusters")),
    ),
    "rdd": (
        Assumption(
            "Units cannot manipulate the running variable around the cutoff.", ("manipulation",)
        ),
        Assumption(
            "Only the treatment jumps at the cutoff (placebo cutoffs show no jump).",
            ("placebo_cutoffs", "mass_points"),
        ),
        Assumption("The bandwidth trades bias and variance well.", ("bandwidth", "effective_n")),
    ),
    "iv": (
        Assumption(
            "The instrument moves the treatment strongly (relevance).",
            ("weak_instruments", "anderson_rubin"),
        ),
        Assumption(
            "The instrument affects the outcome only through the treatment (exclusion).",
            ("overidentification",),
            untested="not testable with one instrument per treatment: believe it from the design",
        ),
        Assumption("The treatment is endogenous (else OLS would do).", ("endogeneity",)),
    ),
    "synthetic_control": (
        Assumption(
            "The synthetic control tracks the treated unit before treatment.",
            ("pre_fit", "poor_pre_fit", "convex_hull"),
        ),
        Assumption(
            "The effect stands out from placebo units and survives leaving a donor out.",
            ("placebo_test", "leave_one_out"),
        ),
    ),
    "geotest": (
        Assumption(
            "The control geos track the treated geos before the test.",
            ("pre_fit", "short_history", "few_donors"),
        ),
        Assumption("The dates are complete (no calendar gaps).", ("calendar_gaps",)),
        _NO_INTERFERENCE,
    ),
    "geo_design": (
        Assumption(
            "The pre-period predicts the test period (power by simulation on history).",
            ("method", "zero_effect"),
        ),
        Assumption("The design fits the budget.", ("over_budget", "no_design")),
    ),
    "uplift": (
        Assumption(
            "Treatment was randomised, or the features capture every common cause.",
            ("treatment",),
        ),
        _OVERLAP,
        Assumption(
            "Effects really differ between units (a test of heterogeneity).",
            ("heterogeneity", "no_heterogeneity"),
        ),
        Assumption(
            "Predicted uplift is calibrated against observed uplift by decile.", ("calibration",)
        ),
        _INDEPENDENT,
    ),
    "mmm": (
        Assumption("The sampler converged (R-hat, effective sample size).", ("not_converged",)),
        Assumption(
            "The model predicts weeks it did not see (holdout).", ("holdout", "divergences")
        ),
        Assumption(
            "Lift tests agree with the model's channel effects.", ("calibration_disagrees",)
        ),
        Assumption(
            "Spend is not set in response to expected sales (no reverse causation).",
            untested="not testable from the data: the classic caveat of media mix models",
        ),
    ),
    "mmm_predict": (
        Assumption("Spend outside the fitted range is extrapolated.", ("carry_over", "controls")),
    ),
    "mmm_optimize": (
        Assumption(
            "The optimum equalises marginal ROI across channels.",
            ("marginal_roi_equal", "marginal_roi_unequal", "converged"),
        ),
    ),
}

_STATUS_OF_LEVEL = {"error": "concern", "warning": "concern", "info": "checked"}


def assumption_rows(result: Result) -> list[dict[str, str]]:
    """Each assumption of the result's kind with its status (concern, checked, untested)
    and the findings that speak to it, worst first within each assumption."""
    kind = result.kind if result.kind != "causal" else _design_kind(result)
    rows = []
    for assumption in ASSUMPTIONS.get(kind, ()):
        found = [f for f in result.findings if f.code in assumption.codes]
        named = _named_fields(result, assumption.fields)
        if named and not any(f.level != "info" for f in found):
            evidence = " ".join([f"The spec names {named}.", *(f.message for f in found)])
            rows.append({"assumption": assumption.text, "status": "checked", "evidence": evidence})
            continue
        if not found:
            rows.append({"assumption": assumption.text, "status": "untested",
                         "evidence": assumption.untested})  # fmt: skip
            continue
        worst = min(found, key=lambda f: ("error", "warning", "info").index(f.level))
        rows.append(
            {
                "assumption": assumption.text,
                "status": _STATUS_OF_LEVEL.get(worst.level, "checked"),
                "evidence": " ".join(f.message for f in found),
            }
        )
    return rows


def _named_fields(result: Result, fields: tuple[str, ...]) -> str:
    """'cluster = user_id' for each of `fields` the result's spec sets (not None or 'none')."""
    spec = result.spec
    values = {
        f: getattr(spec, f, None) if not isinstance(spec, dict) else spec.get(f) for f in fields
    }
    return ", ".join(
        f"{f} = {v}" for f, v in values.items() if v and str(v).lower() not in ("none", "auto")
    )


def _design_kind(result: Result) -> str:
    """A design's result has kind causal and method did/rdd/iv/synthetic_control."""
    return result.method if result.method in ASSUMPTIONS else "causal"

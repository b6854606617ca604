"""A/B/n test analysis: every variant against the control, for each outcome.

`abtest(...)` is the Python face; `run_abtest(spec, data)` is the runner every face calls.
Test choice (when `test_type` is not given): binary outcomes get the two-proportion z-test
(Fisher's exact test is suggested when expected counts are small), continuous ones Welch's
t-test, ratio metrics the delta method, cluster-randomised tests CR1 cluster-robust errors,
stratified binary outcomes the Cochran–Mantel–Haenszel test. Each result says what it chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.core.spec import spec_from_options
from cerebro.data.load import describe_file, load_table, require_columns
from cerebro.data.units import RepeatedUnit, is_none, unit_in_file, unit_in_frame
from cerebro.experiments import proportion_tests, rank_tests
from cerebro.experiments.abtest.bayes import bayesian_analysis, check_model_limits
from cerebro.experiments.abtest.data import (
    Design,
    Metric,
    OutcomeData,
    encode_design,
    needed_columns,
    prepare_outcome,
)
from cerebro.experiments.abtest.file import (
    cluster_totals_from_file,
    engine_table,
    looks_from_table,
    moments_from_file,
    moments_in_duckdb,
)
from cerebro.experiments.abtest.result import comparison_result
from cerebro.experiments.abtest.sequential import look_moments, sequential_analysis
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.abtest.summary import ClusterTotals, SummaryOutcome, read_summary
from cerebro.experiments.comparison import Comparison
from cerebro.experiments.mean_tests import ArmEstimate, compare_means, no_variation, relative_lift
from cerebro.stats import special
from cerebro.stats.intervals import p_value_from_statistic, wald_interval
from cerebro.stats.multiplicity import benjamini_hochberg, holm

if TYPE_CHECKING:
    import pandas as pd

LINEAR_MODES = {"welch": "welch", "ttest": "student", "ztest": "normal"}


@dataclass(frozen=True)
class Plan:
    """How one outcome is tested: the engine, its variance mode, and why."""

    engine: str  # linear | poststratified | proportion_z | chi_square | fisher | mann_whitney | cmh
    mode: str  # variance mode of the linear engines
    reason: str


def choose_plan(spec: ABTestSpec, outcome: OutcomeData | SummaryOutcome) -> Plan:
    """Pick (or check) the test for one outcome; explain the choice in words."""
    name = outcome.metric.name
    binary, ratio = outcome.is_binary, outcome.metric.denominator is not None
    requested = spec.test_type
    cuped, strata, cluster = bool(spec.covariates), bool(spec.strata), bool(spec.cluster)

    def refuse(what: str, fix: str) -> UserInputError:
        return UserInputError(f"--type {requested} cannot be used with {what}; {fix}.")

    if requested in ("mann_whitney", "fisher", "chi_square"):
        if ratio:
            raise refuse("a ratio metric", "omit --type to use the delta method")
        if cuped or cluster:
            raise refuse("--covariates or --cluster", "use welch or omit --type")
        if requested != "mann_whitney" and not binary:
            raise UserInputError(
                f"--type {requested} needs a binary (0/1) outcome, but {name!r} has other values; "
                "use welch or mann_whitney for continuous outcomes."
            )
    if requested == "mann_whitney":
        if strata:
            raise refuse("--strata", "use welch (post-stratified) or drop --strata")
        if not getattr(outcome, "has_rows", True):
            raise refuse("--from-summary", "the rank test needs the raw rows")
        return Plan(
            "mann_whitney", "", "Mann–Whitney U test with Hodges–Lehmann shift (as requested)"
        )
    if requested == "fisher":
        if strata:
            raise refuse("--strata", "use chi_square (Cochran–Mantel–Haenszel) instead")
        return Plan("fisher", "", "Fisher's exact test (as requested)")
    if requested == "chi_square":
        if strata:
            return Plan(
                "cmh",
                "normal",
                "Cochran–Mantel–Haenszel test across strata (chi-square, stratified)",
            )
        return Plan("chi_square", "", "Pearson chi-square test (as requested)")
    if requested == "ttest" and ratio:
        raise refuse(
            "a ratio metric", "ratio metrics use the delta method: omit --type or use welch"
        )

    if cluster:
        if strata:
            raise UserInputError(
                "--strata and --cluster together are not supported yet; analyse per stratum or "
                "drop one of them."
            )
        return Plan("linear", "cluster", "cluster-robust (CR1) t-test on cluster totals, G−1 df")
    if ratio:
        return Plan(
            "poststratified" if strata else "linear",
            "normal",
            "delta-method z-test for a ratio metric",
        )
    if binary and requested in (None, "ztest") and not cuped:
        if strata:
            return Plan(
                "cmh", "normal", "Cochran–Mantel–Haenszel test (binary outcome, stratified)"
            )
        how = "default for a binary outcome" if requested is None else "as requested"
        return Plan("proportion_z", "", f"two-proportion z-test ({how})")
    mode = LINEAR_MODES.get(requested or "welch", "welch")
    if binary and requested is None:
        mode = "normal"
    engine = "poststratified" if strata else "linear"
    default = "default for a continuous outcome" if requested is None else "as requested"
    names = {"welch": "Welch t-test", "student": "Student t-test", "normal": "z-test"}
    what = names[mode] + (" with CUPED" if cuped else "") + (", post-stratified" if strata else "")
    return Plan(engine, mode, f"{what} ({default})")


def _proportion_arm(x: int, n: int) -> ArmEstimate:
    p = x / n
    return ArmEstimate(n, p, p, p * (1 - p) / n)


def _poststratified(
    outcome: OutcomeData | SummaryOutcome, c: int, v: int, mode: str, alpha: float, alternative: str
) -> tuple[Comparison, ArmEstimate, ArmEstimate]:
    """Post-stratified difference Σ_s w_s (m_vs − m_cs), w_s the stratum's share of both arms.

    Variance Σ_s w_s² (V_vs + V_cs), conditional on stratum sizes; normal reference.
    Reference: Miratrix, Sekhon & Yu (2013), "Adjusting treatment effect estimates by
    post-stratification in randomized experiments", JRSS-B 75(2).
    """
    cells = outcome.cell_moments()
    labels = outcome.stratum_labels
    sizes = np.array([cells[(c, s)].n + cells[(v, s)].n for s in range(len(labels))])
    weights = sizes / sizes.sum()
    parts = []
    for s, label in enumerate(labels):
        if min(cells[(c, s)].n, cells[(v, s)].n) < 2:
            raise UserInputError(
                f"stratum {label!r} has fewer than 2 units in {outcome.arms[c]!r} or "
                f"{outcome.arms[v]!r}; merge small strata or drop --strata."
            )
        _, arm_c, arm_v = compare_means(
            cells[(c, s)], cells[(v, s)], mode="normal", name=outcome.metric.name
        )
        parts.append((arm_c, arm_v))

    def combine(i: int) -> ArmEstimate:
        arms = [p[i] for p in parts]
        return ArmEstimate(
            float(sum(a.n for a in arms)),
            float(weights @ [a.value for a in arms]),
            float(weights @ [a.raw for a in arms]),
            float(weights**2 @ [a.variance for a in arms]),
        )

    arm_c, arm_v = combine(0), combine(1)
    diff = arm_v.value - arm_c.value
    se = float(np.sqrt(arm_c.variance + arm_v.variance))
    low, high = wald_interval(diff, se, alpha, alternative)
    comparison = Comparison(
        estimate=diff,
        se=se,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p_value_from_statistic(diff / se, alternative),
        statistic=diff / se,
        df=None,
        test=f"post-stratified z-test ({len(labels)} strata)",
        measure="difference",
        extra={"strata": len(labels)},
    )
    return comparison, arm_c, arm_v


def compare(
    plan: Plan,
    outcome: OutcomeData | SummaryOutcome | ClusterTotals,
    c: int,
    v: int,
    spec: ABTestSpec,
) -> tuple[Comparison, ArmEstimate | None, ArmEstimate | None]:
    """Run the planned test of arm `v` against arm `c`."""
    alpha, alternative = spec.alpha, spec.alternative
    if plan.engine == "linear" and plan.mode == "cluster":
        assert isinstance(outcome, OutcomeData | ClusterTotals)
        moments, rows = outcome.cluster_moments()
        return compare_means(
            moments[c],
            moments[v],
            mode="cluster",
            alpha=alpha,
            alternative=alternative,
            rows=(rows[c], rows[v]),
            name=outcome.metric.name,
        )
    if plan.engine == "linear":
        moments = outcome.moments()
        return compare_means(
            moments[c],
            moments[v],
            mode=plan.mode,  # type: ignore[arg-type]
            alpha=alpha,
            alternative=alternative,
            name=outcome.metric.name,
        )
    if plan.engine == "poststratified":
        return _poststratified(outcome, c, v, plan.mode, alpha, alternative)
    if plan.engine == "cmh":
        comparison, arm_c, arm_v = _poststratified(outcome, c, v, "normal", alpha, alternative)
        tables = [
            (*outcome.counts(c, s), *outcome.counts(v, s))
            for s in range(len(outcome.stratum_labels))
        ]
        cmh = proportion_tests.cmh_test(tables, alpha=alpha)
        comparison.p_value, comparison.statistic = cmh.p_value, cmh.statistic
        comparison.test = f"Cochran–Mantel–Haenszel ({len(tables)} strata)"
        comparison.extra.update(
            {
                "mh_odds_ratio": cmh.estimate,
                "mh_odds_ratio_ci_low": cmh.ci_low,
                "mh_odds_ratio_ci_high": cmh.ci_high,
                **cmh.extra,
            }
        )
        return comparison, arm_c, arm_v
    if plan.engine == "mann_whitney":
        assert isinstance(outcome, OutcomeData)
        x, y = outcome.rows_of(c), outcome.rows_of(v)
        if np.ptp(np.concatenate([x, y])) == 0:  # every rank tied: no test, a [0, 0] "CI"
            raise no_variation(outcome.metric.name)
        comparison = rank_tests.mann_whitney(x, y, alpha=alpha, alternative=alternative)
        return comparison, None, None
    x_c, n_c = outcome.counts(c)
    x_v, n_v = outcome.counts(v)
    if x_c + x_v in (0, n_c + n_v):
        raise no_variation(outcome.metric.name)
    if plan.engine == "proportion_z":
        comparison = proportion_tests.two_proportion_ztest(
            x_c, n_c, x_v, n_v, alpha=alpha, alternative=alternative
        )
    elif plan.engine == "chi_square":
        if alternative != "two-sided":
            raise UserInputError(
                "the chi-square test is two-sided only; use ztest for a one-sided test."
            )
        comparison = proportion_tests.chi_square_test(
            x_c, n_c, x_v, n_v, alpha=alpha, yates=spec.yates
        )
    else:
        comparison = proportion_tests.fisher_exact_test(
            x_c, n_c, x_v, n_v, alpha=alpha, alternative=alternative
        )
    return comparison, _proportion_arm(x_c, n_c), _proportion_arm(x_v, n_v)


def _detectable_effect(se: float, alpha: float, power: float, alternative: str) -> float:
    """Smallest true difference detected with probability `power` at this standard error."""
    z_alpha = special.ndtri(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha)
    return float((z_alpha + special.ndtri(power)) * se)


def srm_finding(units: dict[str, float], spec: ABTestSpec, unit_name: str) -> Finding:
    """Sample-ratio-mismatch check: chi-square goodness of fit against the planned allocation."""
    arms = list(units)
    if spec.expected_allocation is None:
        weights = np.ones(len(arms))
    else:
        unknown = sorted(set(spec.expected_allocation) - set(arms))
        missing = [a for a in arms if a not in spec.expected_allocation]
        if unknown or missing:
            raise UserInputError(
                f"expected_allocation must give a weight for each arm ({', '.join(arms)}); "
                + (
                    f"unknown: {', '.join(unknown)}"
                    if unknown
                    else f"missing: {', '.join(missing)}"
                )
                + "."
            )
        weights = np.array([spec.expected_allocation[a] for a in arms], dtype=float)
    observed = np.array([units[a] for a in arms], dtype=float)
    expected = observed.sum() * weights / weights.sum()
    # Pearson's goodness-of-fit statistic (as scipy.stats.chisquare, without its import cost).
    p_value = float(special.chdtrc(len(arms) - 1, ((observed - expected) ** 2 / expected).sum()))
    shares = ", ".join(f"{a} {o / observed.sum():.2%}" for a, o in zip(arms, observed, strict=True))
    planned = ", ".join(f"{w / weights.sum():.2%}" for w in weights)
    if p_value < spec.srm_alpha:
        return Finding(
            "error",
            "srm",
            f"sample ratio mismatch: {unit_name} split {shares}, planned {planned} "
            f"(chi-square p = {p_value:.2g} < {spec.srm_alpha}); the assignment or logging is "
            "probably broken, so treat every estimate below with suspicion.",
        )
    return Finding(
        "info",
        "srm",
        f"no sample ratio mismatch: {unit_name} split {shares} vs planned {planned} "
        f"(chi-square p = {p_value:.3f}).",
    )


def _load(spec: ABTestSpec, data: pd.DataFrame | None) -> pd.DataFrame:
    if data is None:
        if spec.data is None:
            raise UserInputError(
                "no data: give a data file (a DataFrame in Python), or a database table with "
                "--db URL --table NAME."
            )
        if spec.from_summary:
            return load_table(spec.data)
        return load_table(spec.data, lambda available: needed_columns(spec, available))
    import pandas as pd  # a caller who passes data has it loaded already

    if not isinstance(data, pd.DataFrame):
        raise UserInputError(
            f"data must be a pandas or Spark DataFrame, a SQLAlchemy table or select (with db=), "
            f"a DuckDB relation or a file path, not {type(data).__name__}."
        )
    return data


# Test types that cluster by a detected unit id; the others refuse repeated units.
CLUSTERING_TYPES = (None, "welch", "ttest", "ztest")


def _role_columns(spec: ABTestSpec, columns: list[str]) -> set[str]:
    """Columns with a role in the analysis: never a candidate unit id."""
    return set(needed_columns(spec, columns))


def _find_unit(
    spec: ABTestSpec, data: pd.DataFrame | None, table: Any = None
) -> RepeatedUnit | None:
    """The repeating unit id of the data, if any (rule: `cerebro.data.units`)."""
    if table is not None:
        from cerebro.data.units import unit_in_table
        from cerebro.engine.sql_moments import SOURCE

        if spec.treatment not in table.columns:
            return None
        exclude = _role_columns(spec, list(table.columns))
        return unit_in_table(table.rows, table.kinds, spec.treatment, exclude, SOURCE)
    if data is None:
        from pathlib import Path

        source, types = describe_file(Path(str(spec.data)), [spec.treatment])
        if spec.treatment not in types:
            return None  # the analysis names the missing column
        return unit_in_file(source, types, spec.treatment, _role_columns(spec, list(types)))
    columns = [str(c) for c in data.columns]
    if spec.treatment not in columns:
        return None
    import pandas as pd

    arm = pd.factorize(data[spec.treatment])[0].astype(np.int64)
    return unit_in_frame(data, arm, _role_columns(spec, columns))


def resolve_cluster(
    spec: ABTestSpec, data: pd.DataFrame | None, table: Any = None
) -> tuple[ABTestSpec, list[Finding]]:
    """The spec the analysis runs with: `--cluster none` removed, or a detected unit id used.

    Without --cluster, a repeating unit id (see `cerebro.data.units`) is clustered on by the tests
    that can (welch, ttest, ztest and the defaults), with a warning; the others refuse.
    """
    if is_none(spec.cluster):
        note = Finding(
            "info",
            "units",
            "--cluster none: every row is treated as an independent unit (no check for a "
            "repeated unit id).",
        )
        spec = spec.model_copy(update={"cluster": None})
        check_model_limits(spec)
        return spec, [note]
    check_model_limits(spec)
    if spec.cluster or spec.from_summary or (data is None and spec.data is None and table is None):
        return spec, []
    unit = _find_unit(spec, data, table)
    if unit is None:
        return spec, []
    column, kind = unit.column, spec.test_type
    why = f"rows repeat the unit id {unit.describe()}, so they are not independent"
    if kind not in CLUSTERING_TYPES or spec.bayes_model != "conjugate":
        raise UserInputError(
            f"{why} and --type {kind} would overstate the evidence; aggregate to one row per "
            f"{column} first, use --type welch (it clusters by {column}), or pass --cluster none "
            "if the rows really are independent."
        )
    if spec.strata:
        raise UserInputError(
            f"{why}, and --strata cannot be combined with clustering yet; aggregate to one row "
            f"per {column} first, drop --strata (the test then clusters by {column}), or pass "
            "--cluster none if the rows really are independent."
        )
    note = Finding(
        "warning",
        "repeated_units",
        f"{why}: every test clusters by {column!r} (cluster-robust errors on unit totals) and "
        f"the sample-ratio check counts units; pass --cluster COLUMN to name the unit yourself, "
        "or --cluster none if the rows really are independent.",
    )
    return spec.model_copy(update={"cluster": column}), [note]


def run_abtest(spec: ABTestSpec, data: pd.DataFrame | None = None) -> Result:
    """Analyse an A/B/n test as `spec` describes (the runner every face calls)."""
    requested = spec
    table = engine_table(spec, data)
    if table is not None:
        if spec.by:
            table.close()
            raise UserInputError(
                "--by analyses each segment's rows, which stay in the engine; drop --by, or run "
                "one analysis per segment with a filtered table."
            )
        try:
            result = _run_table(_with_guardrail_outcomes(spec), table)
        finally:
            table.close()
        if requested.db:  # the result's spec is shown and saved: never with a password
            from cerebro.engine.tables import redacted_url

            requested = requested.model_copy(update={"db": redacted_url(requested.db)})
        result.spec = requested
        return result
    if spec.mu is not None:
        from cerebro.experiments.abtest.one_sample import one_sample_analysis

        return one_sample_analysis(spec, data)
    if data is not None:
        data = _load(spec, data)
    spec = _with_guardrail_outcomes(spec)
    spec, notes = resolve_cluster(spec, data)
    result = _run(spec, data, notes)
    if spec.by:
        _add_segments(result, spec, data)
    if is_none(requested.cluster) or spec.outcome != requested.outcome:
        result.spec = requested  # how the user asked is how to reproduce the result
    return result


def _with_guardrail_outcomes(spec: ABTestSpec) -> ABTestSpec:
    """Guardrail metrics are analysed like the outcomes: add those not listed among them."""
    from cerebro.experiments.abtest.guardrails import parse_guardrail

    extra = [n for n, _ in map(parse_guardrail, spec.guardrails) if n not in spec.outcome]
    return spec.model_copy(update={"outcome": [*spec.outcome, *extra]}) if extra else spec


def _add_segments(result: Result, spec: ABTestSpec, data: pd.DataFrame | None) -> None:
    """`--by`: the same test within each segment (`segments.py`), its multiplicity and the
    test that the lift is the same in every segment, added to the overall result."""
    from cerebro.experiments.abtest import segments

    frame = _load(spec, data)
    within = spec.model_copy(update={"by": [], "data": None})
    rows, findings = segments.segment_rows(frame, spec.by, lambda sub: _run(within, sub, []))
    segments.adjust(rows)
    result.findings.extend(findings)
    result.findings.extend(segments.heterogeneity(rows, spec.alpha))
    result.findings.append(
        Finding(
            "info",
            "segments",
            f"{len(rows)} segment comparisons by {', '.join(spec.by)}: exploratory unless "
            "planned; p_holm_segments and p_bh_segments adjust for looking at all of them.",
        )
    )
    result.estimates.extend(segments.segment_estimates(rows))
    result.tables["segments"] = {k: [r.get(k) for r in rows] for k in rows[0]}


def _run_table(spec: ABTestSpec, table: Any) -> Result:
    """The analysis of an engine table (`cerebro.engine.tables`) from the moments it computes,
    after the repeated-unit check (its queries run on the engine too)."""
    spec, notes = resolve_cluster(spec, None, table)
    if spec.test_type == "sequential":
        design, looks, units, missing_arm = looks_from_table(spec, table)
        return _analyse(spec, design, looks, units, "rows", missing_arm, notes)
    if spec.cluster:
        design, clustered, units, missing_arm = cluster_totals_from_file(spec, table)
        unit_name = f"clusters ({spec.cluster})"
        return _analyse(spec, design, clustered, units, unit_name, missing_arm, notes)
    design, summaries, units, missing_arm = moments_from_file(spec, table)
    return _analyse(spec, design, summaries, units, "rows", missing_arm, notes)


def _run(spec: ABTestSpec, data: pd.DataFrame | None, notes: list[Finding]) -> Result:
    if data is None and moments_in_duckdb(spec):
        if spec.cluster:
            design, clustered, units, missing_arm = cluster_totals_from_file(spec)
            unit_name = f"clusters ({spec.cluster})"
            return _analyse(spec, design, clustered, units, unit_name, missing_arm, notes)
        design, summaries, units, missing_arm = moments_from_file(spec)
        return _analyse(spec, design, summaries, units, "rows", missing_arm, notes)
    frame = _load(spec, data)
    columns = [str(c) for c in frame.columns]
    if spec.from_summary:
        require_columns(columns, [spec.treatment, "n", *spec.strata], "the summary table")
    else:
        require_columns(columns, needed_columns(spec, columns), "the data")
    design = encode_design(frame, spec)
    missing_arm = int((design.codes < 0).sum())
    outcomes: list[OutcomeData | SummaryOutcome]
    if spec.from_summary:
        outcomes = list(read_summary(frame, spec, design))
        n_units = frame["n"].to_numpy(float)
        units = {a: float(n_units[design.codes == i].sum()) for i, a in enumerate(design.arms)}
        unit_name = "units"
    else:
        prepare = look_moments if spec.test_type == "sequential" else prepare_outcome
        outcomes = [prepare(frame, design, Metric.parse(t, columns), spec) for t in spec.outcome]
        units = design.units_per_arm()
        unit_name = f"clusters ({spec.cluster})" if spec.cluster else "rows"
    return _analyse(spec, design, outcomes, units, unit_name, missing_arm, notes)


def _analyse(
    spec: ABTestSpec,
    design: Design,
    outcomes: list[OutcomeData | SummaryOutcome] | list[ClusterTotals],
    units: dict[str, float],
    unit_name: str,
    missing_arm: int,
    notes: list[Finding] = (),  # type: ignore[assignment]
) -> Result:
    """Every variant against the control for every outcome, with the checks around them."""
    control, variants, arms = design.control, design.arms[1:], design.arms
    findings: list[Finding] = []
    if missing_arm:
        findings.append(
            Finding(
                "warning",
                "dropped_missing",
                f"dropped {missing_arm:,} rows with no value of {spec.treatment!r}.",
            )
        )
    findings.append(
        Finding("info", "control", f"control arm: {control!r} ({design.control_choice}).")
    )
    findings.extend(notes)

    findings.append(srm_finding(units, spec, unit_name))
    title = f"A/B test{': ' + spec.test_name if spec.test_name else ''} — {len(arms)} arms, control arm {control!r}"
    if spec.test_type == "bayesian":
        return bayesian_analysis(spec, arms, outcomes, findings, title)
    if spec.test_type == "sequential":
        return sequential_analysis(spec, arms, outcomes, findings, title)

    estimates, rows = [], []
    for outcome in outcomes:
        plan = choose_plan(spec, outcome)
        findings.extend(outcome.findings)
        kind = (
            "ratio"
            if outcome.metric.denominator
            else ("binary" if outcome.is_binary else "continuous")
        )
        findings.append(
            Finding("info", "test_choice", f"{outcome.metric.name} ({kind}): {plan.reason}.")
        )
        pairs = arm_pairs(spec, len(arms))
        first = len(estimates)
        results = [compare(plan, outcome, c, v, spec) for c, v in pairs]
        if spec.permutations:
            _randomisation_p(plan, outcome, pairs, results, spec)
        p_values = np.array([r[0].p_value for r in results])
        p_holm, p_bh = holm(p_values), benjamini_hochberg(p_values)
        outcome_rows = [
            _estimates_for(outcome, *result, arms[c], arms[v], p_holm[k], p_bh[k], spec, estimates)
            for k, ((c, v), result) in enumerate(zip(pairs, results, strict=True))
        ]
        _adjust_relative(estimates[first:])
        findings.extend(_outcome_findings(outcome, plan, pairs, outcome_rows, spec))
        rows.extend(outcome_rows)
    if spec.pairs == "all" and len(arms) > 2:
        findings.append(
            Finding(
                "info",
                "multiplicity",
                f"all {len(arms) * (len(arms) - 1) // 2} pairs of the {len(arms)} arms were "
                "compared (--pairs all); p_holm (family-wise) and p_bh (false discovery rate) "
                "adjust each outcome's p-values over every pair.",
            )
        )
    elif len(variants) > 1:
        findings.append(
            Finding(
                "info",
                "multiplicity",
                f"{len(variants)} variants were compared with the control; p_holm (family-wise) and "
                "p_bh (false discovery rate) adjust each outcome's p-values for that.",
            )
        )
    if spec.cluster:
        few = min(units.values())
        if few < 30:
            findings.append(
                Finding(
                    "warning",
                    "few_clusters",
                    f"an arm has only {few:.0f} clusters; cluster-robust errors are unreliable below ~30 per arm.",
                )
            )
    shown = (
        "outcome", "variant", "n_control", "n_variant", "mean_control", "mean_variant", "lift",
        "lift_ci_low", "lift_ci_high", "rel_lift", "rel_lift_ci_low", "rel_lift_ci_high",
        "p_value", "p_holm", *(("p_permutation",) if spec.permutations else ()),
    )  # fmt: skip
    extra_tables = {}
    if spec.guardrails:
        from cerebro.experiments.abtest.guardrails import guardrail_decisions

        extra_tables["guardrails"], decisions = guardrail_decisions(rows, spec)
        findings.extend(decisions)
    if spec.permutations:
        findings.append(_randomisation_finding(spec))
    return comparison_result(
        spec,
        spec.test_type or "auto",
        title,
        estimates,
        findings,
        rows,
        shown,
        [sentence(r, spec.alpha) for r in rows],
        extra_tables=extra_tables,
        control=control,
        alpha=spec.alpha,
        arms=len(arms),
    )


def _adjust_relative(estimates: list[Estimate]) -> None:
    """The relative lifts' p-values adjusted over the same comparisons as the absolute ones
    (Holm and Benjamini–Hochberg), in their extras."""
    relative = [
        e for e in estimates if e.extra.get("measure") == "relative lift" and e.p_value is not None
    ]
    if relative:
        p = np.array([e.p_value for e in relative], dtype=float)
        for e, h, b in zip(relative, holm(p), benjamini_hochberg(p), strict=True):
            e.extra["p_holm"], e.extra["p_bh"] = float(h), float(b)


def arm_pairs(spec: ABTestSpec, arms: int) -> list[tuple[int, int]]:
    """(reference, compared) arm indices: every variant against the control (arm 0), or with
    `--pairs all` every pair, the earlier arm as the reference."""
    if spec.pairs == "all":
        return [(c, v) for c in range(arms) for v in range(c + 1, arms)]
    return [(0, v) for v in range(1, arms)]


def _randomisation_p(
    plan: Plan, outcome: Any, pairs: list[tuple[int, int]], results: list[Any], spec: ABTestSpec
) -> None:
    """Each comparison's randomisation p-value (`permutation.py`), kept in its extras."""
    from cerebro.experiments.abtest.permutation import permutation_p

    if not isinstance(outcome, OutcomeData):
        raise UserInputError(
            "--permutations re-randomises rows, and a summary has none; give the unit-level "
            "data or drop --permutations."
        )
    assert spec.permutations is not None
    for (c, v), (comparison, *_) in zip(pairs, results, strict=True):
        comparison.extra["p_permutation"] = permutation_p(
            outcome,
            (c, v),
            comparison.p_value,
            lambda redrawn, c=c, v=v: compare(plan, redrawn, c, v, spec)[0].p_value,
            spec.permutations,
            spec.seed,
        )


def _randomisation_finding(spec: ABTestSpec) -> Finding:
    """How the randomisation p-values were computed, and their floor."""
    how = (
        "whole clusters"
        if spec.cluster
        else ("within strata" if spec.strata else "the arm sizes kept")
    )
    return Finding(
        "info",
        "randomisation_inference",
        f"p_permutation: Fisher randomisation test of no effect on any unit – the assignment "
        f"re-drawn {spec.permutations:,} times (seed {spec.seed}; {how}) and the same test "
        f"re-run; the smallest possible value is 1/{spec.permutations + 1:,} = "
        f"{1 / (spec.permutations + 1):.2g}.",
    )


def _outcome_findings(
    outcome: OutcomeData | SummaryOutcome,
    plan: Plan,
    pairs: list[tuple[int, int]],
    rows: list[dict[str, Any]],
    spec: ABTestSpec,
) -> list[Finding]:
    """Small-count warnings, the CUPED gain and the power for a planned effect."""
    name, findings = outcome.metric.name, []
    if plan.engine == "proportion_z":
        for (c, v), row in zip(pairs, rows, strict=True):
            if proportion_tests.suggest_fisher(*outcome.counts(c), *outcome.counts(v)):
                findings.append(
                    Finding(
                        "warning",
                        "small_counts",
                        f"{name}, {row['variant']}: an expected cell count is below 5, so the z-test's "
                        "normal approximation is poor; rerun with --type fisher.",
                    )
                )
    # Omnibus across all arms; not with clusters, where rows are not independent.
    if outcome.is_binary and len(outcome.arms) > 2 and not spec.cluster:
        counts = [outcome.counts(a) for a in range(len(outcome.arms))]
        statistic, df, p_value = proportion_tests.chi_square_omnibus(*zip(*counts, strict=True))
        findings.append(
            Finding(
                "info",
                "omnibus",
                f"{name}: chi-square test that all {len(outcome.arms)} arms share one rate: "
                f"chi2({df}) = {statistic:.3g}, p {_p_text(p_value)}.",
            )
        )
    reductions = [r["variance_reduction"] for r in rows if r.get("variance_reduction") is not None]
    if reductions:
        gain = float(np.mean(reductions))
        findings.append(
            Finding(
                "info",
                "cuped",
                f"{name}: CUPED with {', '.join(spec.covariates)} reduced the variance of the lift by "
                f"{gain:.1%} (as much as {1 / (1 - gain):.2f}× the sample would).",
            )
        )
    if spec.mde is not None:
        z_alpha = special.ndtri(1 - spec.alpha / 2)
        for row in rows:
            if row["se"] and np.isfinite(row["se"]):
                power = special.ndtr(abs(spec.mde) / row["se"] - z_alpha)
                findings.append(
                    Finding(
                        "warning" if power < spec.power else "info",
                        "power",
                        f"{name}, {row['variant']}: power to detect the planned lift of {spec.mde:g} "
                        f"was {power:.0%} (target {spec.power:.0%}).",
                    )
                )
    return findings


def _p_text(p: float) -> str:
    """'= 0.012', or '< 1e-300' where the p-value underflows double precision."""
    return "< 1e-300" if p < 1e-300 else f"= {p:.2g}"


def sentence(row: dict[str, Any], alpha: float) -> str:
    """One plain-language sentence about one comparison."""
    level = f"{1 - alpha:.0%}"
    verb = "raised" if row["lift"] > 0 else "lowered"
    what = f"{row['variant']} {verb} {row['outcome']} by {abs(row['lift']):.4g}"
    if row.get("rel_lift") is not None and np.isfinite(row["rel_lift"]):
        what += (
            f" ({row['rel_lift']:+.1%}, {level} CI {row['rel_lift_ci_low']:+.1%} to "
            f"{row['rel_lift_ci_high']:+.1%})"
        )
    else:
        what += f" ({level} CI {row['lift_ci_low']:.4g} to {row['lift_ci_high']:.4g})"
    p = row["p_holm"] if row.get("p_holm") is not None else row["p_value"]
    if p < alpha:
        verdict = (
            f"statistically significant (p {_p_text(row['p_value'])}, Holm-adjusted {_p_text(p)})."
        )
    else:
        verdict = (
            f"not statistically significant (p {_p_text(row['p_value'])}); the data are "
            "consistent with no effect."
        )
    return f"Versus {row['control']}, {what}: {verdict}"


def _estimates_for(
    outcome: OutcomeData | SummaryOutcome,
    comparison: Comparison,
    arm_c: ArmEstimate | None,
    arm_v: ArmEstimate | None,
    control: str,
    variant: str,
    p_holm: float,
    p_bh: float,
    spec: ABTestSpec,
    estimates: list[Estimate],
) -> dict[str, Any]:
    name = outcome.metric.name
    common = {"outcome": name, "variant": variant, "control": control, "test": comparison.test}
    row: dict[str, Any] = {
        **common,
        "n_control": arm_c.n if arm_c else comparison.extra.get("n_control"),
        "n_variant": arm_v.n if arm_v else comparison.extra.get("n_variant"),
    }
    if arm_c is not None and arm_v is not None:
        row.update(mean_control=arm_c.raw, mean_variant=arm_v.raw)
    mde = (
        _detectable_effect(comparison.se, spec.alpha, spec.power, spec.alternative)
        if comparison.se
        else None
    )
    extra = {
        **common,
        "measure": comparison.measure,
        "statistic": comparison.statistic,
        "df": comparison.df,
        "p_holm": p_holm,
        "p_bh": p_bh,
        "mde": mde,
        **comparison.extra,
    }
    estimates.append(
        Estimate(
            f"{name}: {variant} − {control}",
            comparison.estimate,
            comparison.se,
            comparison.ci_low,
            comparison.ci_high,
            comparison.p_value,
            extra,
        )
    )
    row.update(
        lift=comparison.estimate,
        lift_ci_low=comparison.ci_low,
        lift_ci_high=comparison.ci_high,
        se=comparison.se,
        p_value=comparison.p_value,
        **{k: v for k, v in comparison.extra.items() if k == "p_permutation"},
        p_holm=p_holm,
        p_bh=p_bh,
        mde=mde,
        variance_reduction=comparison.extra.get("variance_reduction"),
    )
    if arm_c is not None and arm_v is not None:
        lift, se, low, high, p_rel = relative_lift(
            arm_c, arm_v, spec.alpha, spec.alternative, comparison.df
        )
        estimates.append(
            Estimate(
                f"{name}: {variant} vs {control} (relative)",
                lift,
                se,
                low,
                high,
                p_rel,
                {
                    **common,
                    "measure": "relative lift",
                    "control_mean": arm_c.value,
                    "variant_mean": arm_v.value,
                },
            )
        )
        row.update(
            rel_lift=lift,
            rel_lift_ci_low=low,
            rel_lift_ci_high=high,
            rel_lift_p_value=p_rel,
            rel_lift_se=se,
            df=comparison.df,
        )
    return row


def _build(given: dict[str, Any]) -> ABTestSpec:
    """The Python face's spec: an `outcome` given as None means none (as with `from_summary`)."""
    for name in ("outcome", "outcome_column", "outcomes"):
        if name in given and given[name] is None:
            given[name] = []
    return spec_from_options(ABTestSpec, given)


abtest = python_face(
    ABTestSpec,
    run_abtest,
    name="abtest",
    summary="Analyse an A/B/n test: every variant against the control, for each outcome.",
    build=_build,
    example="""
    >>> res = abtest(df, treatment="cohort", outcome=["revenue"], covariates=["pre_revenue"])
    >>> abtest(df, treatment="arm", outcome="revenue", test_type="bayesian", rope=[-0.01, 0.01])
    """,
)


register(
    Method(
        kind="abtest",
        spec_type=ABTestSpec,
        run=run_abtest,
        summary="A/B/n test: t, Welch, Mann–Whitney, chi-square, z, Fisher, Bayesian, sequential; CUPED, ratio metrics, strata, clusters.",
        plot="cerebro.report.plots:forest_plot",
        example="cerebro.experiments.examples:abtest",
    )
)

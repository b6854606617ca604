"""Power analysis: sample size, minimum detectable effect (MDE), power and duration of a test.

`power_analysis(...)` is the Python face, `run_power(spec, data)` the runner every face calls
(`cerebro power-analysis`, `cerebro run` with ``kind: power``). Exactly one quantity is
solved for: with `n` and `mde` the power; with `n` alone the MDE at `power`; otherwise the
sample size per group that reaches `power` (default 0.8) for `mde`.

Estimand: the difference variant − control in conversion rate (proportions, when only
`baseline` is given) or in the mean (means, when `sd` is given), tested at level `alpha` by
the two-proportion z-test (pooled variance) or Student's t-test. With `arms` > 2 each variant
is compared with the control, at alpha/(arms − 1) under Bonferroni; power is per comparison.

Assumptions: independent units, a fixed horizon (no peeking), a common standard deviation in
both arms for means, and the normal approximation for proportions. The formulas are in
`cerebro.experiments.power.formulas`; see ``docs/power.md``. References: Chow, Shao & Wang, *Sample
Size Calculations in Clinical Research* (2008); Fleiss, Levin & Paik (2003); Cohen (1988).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Columns, Estimate, Finding, Result
from cerebro.core.spec import SpecBase, cli
from cerebro.experiments.power import formulas as numerics

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_POWER = 0.8
# One row per arm in the plan: past a thousand arms the table (and the multiplicity-corrected
# level) stops being a plan anyone can run.
MAX_ARMS = 1000
# An effect under a millionth of the outcome's standard deviation needs more than ~10^13 users
# per group, past what the sample-size solver brackets (10^15): refuse it with a sentence.
MIN_STANDARDISED_MDE = 1e-6
# An effect of more than a million standard deviations is a unit error (an mde in cents with an
# sd in dollars); the non-central t of 2 users overflows there, and the solver gets NaN.
MAX_STANDARDISED_MDE = 1e6
PROPORTION_FORMULAS = ("pooled", "unpooled", "arcsine", "evan_miller")
MEAN_FORMULAS = ("t", "normal", "delta")
FORMULA_NAMES = {
    "pooled": (
        "two-proportion z-test, normal approximation with the pooled variance under the null "
        "and the unpooled variance under the alternative (Fleiss, Levin & Paik 2003; "
        "statsmodels power_proportions_2indep)"
    ),
    "unpooled": (
        "two-proportion z-test, normal approximation with the unpooled variance "
        "(Chow, Shao & Wang 2008, §4.2)"
    ),
    "arcsine": (
        "normal approximation on Cohen's h = 2·asin√p_v − 2·asin√p_c (Cohen 1988; "
        "statsmodels NormalIndPower with proportion_effectsize)"
    ),
    "t": (
        "Student's two-sample t-test with a common standard deviation, noncentral t "
        "(statsmodels TTestIndPower)"
    ),
    "normal": "two-sample z-test with a known standard deviation (normal approximation)",
    "evan_miller": (
        "two-proportion z-test with the control's variance under the null and the unpooled "
        "variance under the alternative, one tail (Evan Miller's sample-size calculator)"
    ),
    "delta": (
        "z-test of the relative lift with its delta-method variance, evaluated at the "
        "alternative (GrowthBook's power calculator)"
    ),
}
SHORT_NAMES = {
    "pooled": "pooled z-test",
    "unpooled": "unpooled z-test",
    "arcsine": "Cohen's h",
    "t": "t-test",
    "normal": "z-test",
    "evan_miller": "Evan Miller",
    "delta": "relative-lift z-test",
}


def _fmt(x: float) -> str:
    """A number without trailing noise (0.05, 1e-06, 12.5)."""
    return f"{x:g}"


class PowerSpec(SpecBase):
    """A power analysis for an A/B/n test: sample size, MDE or power, and duration.

    Proportions when only `baseline` (a rate in (0, 1)) is given, means when `sd` is given
    (`baseline` is then the control mean, needed only for a relative `mde`). `mde` is absolute
    unless `relative` (then 0.1 means +10% of the baseline). `n` is the control group's size;
    each variant has `ratio` × n. `daily_traffic` is the total number of users per day across
    all arms.
    """

    kind: Literal["power"] = "power"
    baseline: float | None = Field(
        None,
        description="Control conversion rate in (0, 1) for proportions, or the control mean "
        "with `sd`.",
    )
    mde: float | None = Field(
        None,
        description="Effect to detect, variant − control (absolute; see `relative`). Negative "
        "for a drop.",
    )
    relative: bool = Field(
        False,
        description="Read `mde` relative to the baseline (0.1 = +10%).",
        json_schema_extra=cli(flag="--relative"),
    )
    sd: float | None = Field(
        None, description="Outcome standard deviation: plan for a mean instead of a rate."
    )
    alpha: float = Field(0.05, description="Significance level (family-wise).")
    power: float | None = Field(
        None, description="Target power (default 0.8); not with both `n` and `mde`."
    )
    n: int | None = Field(
        None,
        description="Users in the control group: with `mde` compute the power, without it the MDE.",
    )
    ratio: float = Field(
        1.0, description="Allocation ratio: each variant gets ratio × n(control) users."
    )
    arms: int = Field(2, description="Number of arms including the control.")
    alternative: Literal["two-sided", "greater", "less"] = Field(
        "two-sided", description="Direction of the test, variant − control."
    )
    correction: Literal["none", "bonferroni"] = Field(
        "bonferroni", description="Multiplicity correction over the arms − 1 comparisons."
    )
    formula: (
        Literal["pooled", "unpooled", "arcsine", "evan_miller", "t", "normal", "delta"] | None
    ) = Field(
        None,
        description="Power formula: pooled (default), unpooled, arcsine or evan_miller "
        "(Evan Miller's calculator) for rates; t (default), normal or delta (the relative "
        "lift's delta-method z-test, GrowthBook's calculator; needs --baseline) for means.",
    )
    daily_traffic: float | None = Field(
        None, description="Users per day entering the test, all arms together."
    )
    cuped_correlation: float | None = Field(
        None,
        description="Correlation of the outcome with its pre-period value (CUPED variance "
        "reduction).",
    )
    test: Literal["two-sample", "one-sample"] = Field(
        "two-sample",
        description="two-sample (variants against a control) or one-sample: one group's mean "
        "against a known value (`baseline`), with `sd`; `n` and the sample size are that "
        "group's.",
    )
    sequential_tuning: float | None = Field(
        None,
        gt=0,
        description="Plan an always-valid test read through GrowthBook's asymptotic confidence "
        "sequence tuned at N* units (e.g. 5000): z-test formulas (normal, delta) for means.",
    )

    @field_validator("alpha", "power")
    @classmethod
    def _unit_interval(cls, value: float | None, info) -> float | None:  # type: ignore[no-untyped-def]
        if value is not None and not 0 < value < 1:
            example = "0.05" if info.field_name == "alpha" else "0.8"
            raise ValueError(
                f"{info.field_name} must be strictly between 0 and 1, got {_fmt(value)} "
                f"(e.g. {example})"
            )
        return value

    @field_validator("sd")
    @classmethod
    def _positive_sd(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(
                f"sd must be positive, got {_fmt(value)}; give the outcome's standard deviation"
            )
        if value is not None and not math.isfinite(value):
            raise ValueError(
                f"sd must be finite, got {_fmt(value)}; give the outcome's standard deviation"
            )
        return value

    @field_validator("ratio")
    @classmethod
    def _positive_ratio(cls, value: float) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(
                f"ratio must be positive, got {_fmt(value)} (n_variant = ratio × n_control, e.g. 1)"
            )
        return value

    @field_validator("arms")
    @classmethod
    def _two_arms(cls, value: int) -> int:
        if value < 2:
            raise ValueError(f"arms must be at least 2 (control and one variant), got {value}")
        if value > MAX_ARMS:
            raise ValueError(
                f"arms must be at most {MAX_ARMS:,} (the plan has a row per arm), got {value:,}"
            )
        return value

    @field_validator("n")
    @classmethod
    def _enough_users(cls, value: int | None) -> int | None:
        if value is not None and value < 2:
            raise ValueError(f"n must be at least 2 users in the control group, got {value}")
        return value

    @field_validator("daily_traffic")
    @classmethod
    def _positive_traffic(cls, value: float | None) -> float | None:
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise ValueError(
                f"daily_traffic must be positive, got {_fmt(value)} (users per day, all arms)"
            )
        return value

    @field_validator("cuped_correlation")
    @classmethod
    def _correlation(cls, value: float | None) -> float | None:
        if value is not None and not -1 < value < 1:
            raise ValueError(
                f"cuped_correlation must be strictly between -1 and 1, got {_fmt(value)} (e.g. 0.5)"
            )
        return value

    @model_validator(mode="after")
    def _combinations(self) -> PowerSpec:
        means = self.sd is not None
        self._one_sample_options()
        if self.baseline is not None and not math.isfinite(self.baseline):
            raise ValueError(f"baseline must be a finite number, got {_fmt(self.baseline)}")
        if not means:
            if self.baseline is None:
                raise ValueError(
                    "give baseline (the control conversion rate, e.g. 0.05) for proportions, "
                    "or sd (the outcome's standard deviation) for means"
                )
            if not 0 < self.baseline < 1:
                raise ValueError(
                    f"baseline must be a conversion rate strictly between 0 and 1, got "
                    f"{_fmt(self.baseline)}; for a mean outcome also give sd"
                )
        if self.formula is not None:
            allowed = MEAN_FORMULAS if means else PROPORTION_FORMULAS
            if self.formula not in allowed:
                metric = "means (sd given)" if means else "proportions"
                raise ValueError(
                    f"formula {self.formula!r} does not apply to {metric}; use one of "
                    f"{', '.join(allowed)}"
                )
        if self.n is not None and self.mde is not None and self.power is not None:
            raise ValueError(
                "give at most two of n, mde and power, the third is solved for; drop power to "
                "compute the power of this n and mde"
            )
        if self.n is None and self.mde is None:
            raise ValueError(
                "give mde (the effect to detect) to solve for the sample size, or n (users per "
                "group) to solve for the minimum detectable effect"
            )
        if self.mde is not None:
            self._check_mde(means)
        if self.relative and means and (self.baseline is None or self.baseline == 0):
            raise ValueError(
                "a relative mde for means needs a non-zero baseline (the control mean); give "
                "baseline or make the mde absolute"
            )
        if self.sequential_tuning is not None and not (
            means and self.formula in ("normal", "delta") and self.test == "two-sample"
            and self.alternative == "two-sided"
        ):  # fmt: skip
            raise ValueError(
                "sequential_tuning plans GrowthBook's two-sided always-valid z-test of means: "
                "give sd with formula normal or delta (two-sample, two-sided)"
            )
        if self.formula == "delta" and (not self.baseline or self.test == "one-sample"):
            raise ValueError(
                "formula delta tests the relative lift of a two-sample comparison: give "
                "baseline (the control mean, not 0) with sd, and test two-sample"
            )
        if self.mde is not None:
            self._check_mde_size(means)
        alpha = self.comparison_alpha
        if self.power is not None and self.power <= alpha:
            raise ValueError(
                f"power {_fmt(self.power)} must exceed the per-comparison alpha {_fmt(alpha)}, "
                "since a test without any effect already rejects that often"
            )
        return self

    def _one_sample_options(self) -> None:
        """A one-sample plan is for a mean (`sd`) of one group: refuse the options of arms."""
        if self.test != "one-sample":
            return
        if self.sd is None:
            raise ValueError(
                "test one-sample plans the one-sample t test of a mean: give sd (the outcome's "
                "standard deviation)"
            )
        given = [
            name
            for name, default in (("arms", 2), ("ratio", 1.0), ("cuped_correlation", None))
            if getattr(self, name) != default
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to test "
                "one-sample (one group against a known mean); drop "
                + ("it" if len(given) == 1 else "them")
            )

    def _check_mde(self, means: bool) -> None:
        assert self.mde is not None
        if self.mde == 0 or not math.isfinite(self.mde):
            raise ValueError(
                f"mde must be a non-zero effect, got {_fmt(self.mde)} (e.g. 0.01 for +1 "
                "percentage point, or 0.1 with relative for +10%)"
            )
        if self.alternative == "greater" and self.mde < 0:
            raise ValueError(
                f"mde {_fmt(self.mde)} is a decrease but alternative is 'greater'; use "
                "alternative 'less' or a positive mde"
            )
        if self.alternative == "less" and self.mde > 0:
            raise ValueError(
                f"mde {_fmt(self.mde)} is an increase but alternative is 'less'; give the "
                f"decrease as a negative mde (e.g. {_fmt(-self.mde)})"
            )
        if not means:
            assert self.baseline is not None
            p_variant = self.baseline + self.absolute_mde
            if not 0 <= p_variant <= 1:
                what = (
                    f"a relative mde of {_fmt(self.mde)}"
                    if self.relative
                    else f"mde {_fmt(self.mde)}"
                )
                if self.relative:
                    bound = (1 - self.baseline) / self.baseline if self.mde > 0 else -1.0
                else:
                    bound = 1 - self.baseline if self.mde > 0 else -self.baseline
                word = "at most" if self.mde > 0 else "at least"
                raise ValueError(
                    f"baseline {_fmt(self.baseline)} with {what} gives a variant rate of "
                    f"{p_variant:.4g}, outside [0, 1]; use an mde of {word} {bound:.4g}"
                    + (" (relative)" if self.relative else "")
                )

    def _check_mde_size(self, means: bool) -> None:
        """Refuse an effect too small for any finite plan, or so large that it can only be a
        unit error (the solver would return NaN for either)."""
        assert self.mde is not None
        if means:
            assert self.sd is not None
            scale = self.sd
        else:
            assert self.baseline is not None
            scale = math.sqrt(self.baseline * (1 - self.baseline))
        standardised = abs(self.absolute_mde) / scale
        if not standardised >= MIN_STANDARDISED_MDE:
            per_unit = abs(self.baseline) if self.relative and self.baseline else 1.0
            smallest = 1.05 * MIN_STANDARDISED_MDE * scale / per_unit  # 2 digits, rounded up
            raise ValueError(
                f"mde {_fmt(self.mde)} is {standardised:.2g} standard deviations of the outcome, "
                "too small to plan for (it would need more than 10^13 users per group); give "
                f"an mde of at least {smallest:.2g}" + (" (relative)" if self.relative else "")
            )
        if standardised > MAX_STANDARDISED_MDE:
            raise ValueError(
                f"mde {_fmt(self.mde)} is {standardised:.2g} standard deviations of the outcome, "
                "more than any outcome moves; check that mde and sd are in the same units"
            )

    # -- derived quantities ------------------------------------------------------------------
    @property
    def metric(self) -> Literal["proportions", "means"]:
        return "means" if self.sd is not None else "proportions"

    @property
    def solve_for(self) -> Literal["sample_size", "mde", "power"]:
        if self.n is not None:
            return "power" if self.mde is not None else "mde"
        return "sample_size"

    @property
    def chosen_formula(self) -> str:
        return self.formula or ("t" if self.metric == "means" else "pooled")

    @property
    def target_power(self) -> float:
        return DEFAULT_POWER if self.power is None else self.power

    @property
    def comparisons(self) -> int:
        return self.arms - 1

    @property
    def comparison_alpha(self) -> float:
        """Level of each variant-vs-control comparison (Bonferroni divides by arms − 1)."""
        if self.correction == "bonferroni" and self.comparisons > 1:
            return self.alpha / self.comparisons
        return self.alpha

    @property
    def absolute_mde(self) -> float:
        assert self.mde is not None
        if self.relative:
            assert self.baseline is not None
            return self.mde * self.baseline
        return self.mde


# -- the calculation ---------------------------------------------------------------------------


class _Problem:
    """The power function of one variant-vs-control comparison, as a spec describes it."""

    def __init__(self, spec: PowerSpec, cuped: bool, ratio: float | None = None) -> None:
        self.spec = spec
        r = spec.cuped_correlation if cuped and spec.cuped_correlation is not None else 0.0
        self.design = numerics.Design(
            alpha=spec.comparison_alpha,
            alternative=spec.alternative,
            ratio=spec.ratio if ratio is None else ratio,
            variance_factor=1 - r**2,
            one_sample=spec.test == "one-sample",
            tuning=spec.sequential_tuning,
        )
        self.formula: Any = spec.chosen_formula

    def power(self, n_control: Any, diff: Any) -> Any:
        s = self.spec
        if s.metric == "means":
            assert s.sd is not None
            return numerics.power_means(
                n_control, diff, s.sd, self.design, self.formula, s.baseline
            )
        assert s.baseline is not None
        return numerics.power_proportions(
            n_control, s.baseline, s.baseline + np.asarray(diff), self.design, self.formula
        )

    def sample_size(self, diff: float, power: float) -> float:
        s = self.spec
        if s.metric == "means":
            assert s.sd is not None
            return numerics.sample_size_means(
                diff, s.sd, power, self.design, self.formula, s.baseline
            )
        assert s.baseline is not None
        return numerics.sample_size_proportions(
            s.baseline, s.baseline + diff, power, self.design, self.formula
        )

    def mde(self, n_control: float, power: float) -> float:
        s = self.spec
        if s.metric == "means":
            assert s.sd is not None
            return numerics.mde_means(n_control, s.sd, power, self.design, self.formula, s.baseline)
        assert s.baseline is not None
        return numerics.mde_proportions(n_control, s.baseline, power, self.design, self.formula)


def round_up(x: float) -> int:
    """Round a sample size up, ignoring floating-point dust just above an integer."""
    if not math.isfinite(x):
        raise UserInputError(
            "no finite sample size reaches the target power for this effect; give a larger mde "
            "or a smaller sd."
        )
    return math.ceil(round(x, 6))


def _effect_words(spec: PowerSpec, diff: float) -> str:
    """'an absolute lift of 1.00 pp from 5.00%' and the like."""
    up = diff > 0
    if spec.metric == "proportions":
        assert spec.baseline is not None
        p_c, p_v = spec.baseline, spec.baseline + diff
        if spec.relative:
            return (
                f"a relative {'lift' if up else 'drop'} of {abs(diff / p_c):.1%} "
                f"({p_c:.2%} → {p_v:.2%})"
            )
        return f"an absolute {'lift' if up else 'drop'} of {abs(diff) * 100:.2f} pp from {p_c:.2%}"
    assert spec.sd is not None
    if spec.relative and spec.baseline:
        return (
            f"a relative {'lift' if up else 'drop'} of {abs(diff / spec.baseline):.1%} on a "
            f"mean of {spec.baseline:.4g} (sd {spec.sd:.4g})"
        )
    return f"a {'rise' if up else 'fall'} of {abs(diff):.4g} in the mean (sd {spec.sd:.4g})"


def _test_words(spec: PowerSpec) -> str:
    sided = "two-sided" if spec.alternative == "two-sided" else f"one-sided, {spec.alternative}"
    if spec.comparison_alpha != spec.alpha:
        return (
            f"alpha {_fmt(spec.comparison_alpha)} per comparison ({_fmt(spec.alpha)} "
            f"Bonferroni-corrected, {sided})"
        )
    return f"alpha {_fmt(spec.alpha)} ({sided})"


def _groups_words(n_control: int, n_variant: int, spec: PowerSpec) -> str:
    if n_control == n_variant:
        return f"{n_control:,} users per group"
    each = "the variant" if spec.comparisons == 1 else f"each of the {spec.comparisons} variants"
    return f"{n_control:,} users in the control group and {n_variant:,} in {each}"


def _relative(spec: PowerSpec, diff: float) -> float | None:
    return diff / spec.baseline if spec.baseline else None


def _power_curve(spec: PowerSpec, problem: _Problem, n_control: float, diff: float) -> Columns:
    """~20 points of power against n (sample size / power modes) or against the mde (MDE mode)."""
    if spec.solve_for == "mde":
        if spec.metric == "proportions":
            assert spec.baseline is not None
            room = (1 - spec.baseline) if diff > 0 else spec.baseline
            top = min(2 * abs(diff), room)
        else:
            top = 2 * abs(diff)
        grid = np.linspace(top / 20, top, 20) * np.sign(diff)
        power = problem.power(n_control, grid)
        return {"mde": grid, "power": np.asarray(power, dtype=float)}
    floor = numerics.min_n_control(problem.design.ratio, problem.formula)
    grid = np.unique(np.maximum(np.ceil(np.linspace(0.1, 2.0, 20) * n_control), math.ceil(floor)))
    power = problem.power(grid, diff)
    total = grid + spec.comparisons * problem.design.ratio * grid
    return {
        "n_control": grid.astype(int),
        "power": np.asarray(power, dtype=float),
        "n_total": total,
    }


def run_power(spec: PowerSpec, data: pd.DataFrame | None = None) -> Result:
    """Solve the power analysis `spec` describes (the runner every face calls; data unused)."""
    if spec.test == "one-sample":
        from cerebro.experiments.power.one_sample import one_sample_power

        return one_sample_power(spec)
    sol = _solve(spec)
    m, solved = spec.comparisons, spec.solve_for
    total = sol.n_control + m * sol.n_variant
    days = math.ceil(total / spec.daily_traffic) if spec.daily_traffic else None
    rel = _relative(spec, sol.diff)
    estimates = _estimates(spec, sol, total, rel, days)
    findings = _findings(spec, sol, total, days)
    plan = _plan_table(
        spec, solved, sol.n_control, sol.n_variant, total, sol.diff, rel, sol.power, days,
        sol.n_plain_exact,
    )  # fmt: skip
    curve = _power_curve(spec, sol.problem, sol.n_exact, sol.diff)
    formula = spec.chosen_formula
    what = {"sample_size": "sample size", "mde": "minimum detectable effect", "power": "power"}
    title = f"Power analysis: {what[solved]} ({spec.metric}, {SHORT_NAMES[formula]})"
    return Result(
        kind="power",
        method=spec.metric,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"plan": plan, "power_curve": curve},
        summary={
            "headline_table": "plan",
            "title": title,
            "solve_for": solved,
            "formula": formula,
            "alpha": spec.alpha,
            "target_power": None if solved == "power" else spec.target_power,
            "arms": spec.arms,
        },
    )


@dataclass(frozen=True)
class _Solution:
    """The solved plan: the problem at the arms' actual ratio, the control arm's exact and whole
    size, the variant arm's, the absolute effect and the power; with CUPED, the same quantity
    without it (``*_plain``, None otherwise) so the finding can say what CUPED saves."""

    problem: _Problem
    n_exact: float
    n_control: int
    n_variant: int
    diff: float
    power: float
    n_plain_exact: float | None = None
    mde_plain: float | None = None
    power_plain: float | None = None


def _solve(spec: PowerSpec) -> _Solution:
    """Solve for `spec.solve_for`. Arms are whole users: a solved sample size is rounded up and
    its power recomputed at the rounded arms; a given n gets variant arms of ⌈ratio × n⌉, and
    the MDE or power is solved at that actual ratio."""
    problem = _Problem(spec, cuped=True)
    plain = _Problem(spec, cuped=False)
    cuped = spec.cuped_correlation is not None
    ratio, target = spec.ratio, spec.target_power
    if spec.solve_for == "sample_size":
        diff = spec.absolute_mde
        n_exact = problem.sample_size(diff, target)
        n_control, n_variant = round_up(n_exact), round_up(ratio * n_exact)
        # the power reached by the rounded arms (n_variant / n_control may differ from ratio)
        rounded = _Problem(spec, cuped=True, ratio=n_variant / n_control)
        return _Solution(
            problem, n_exact, n_control, n_variant, diff, float(rounded.power(n_control, diff)),
            n_plain_exact=plain.sample_size(diff, target) if cuped else n_exact,
        )  # fmt: skip
    assert spec.n is not None
    n_exact, n_control = float(spec.n), spec.n
    n_variant = round_up(ratio * spec.n)
    # whole users in every arm: the variant arms get ⌈ratio × n⌉
    problem = _Problem(spec, cuped=True, ratio=n_variant / n_control)
    plain = _Problem(spec, cuped=False, ratio=n_variant / n_control)
    if spec.solve_for == "mde":
        diff = problem.mde(spec.n, target)
        mde_plain = plain.mde(spec.n, target) if cuped else diff
        if not math.isfinite(diff):
            raise UserInputError(_no_mde_message(spec))
        return _Solution(problem, n_exact, n_control, n_variant, diff, target, mde_plain=mde_plain)
    diff = spec.absolute_mde
    power = float(problem.power(spec.n, diff))
    return _Solution(
        problem, n_exact, n_control, n_variant, diff, power,
        power_plain=float(plain.power(spec.n, diff)) if cuped else power,
    )  # fmt: skip


def _estimates(
    spec: PowerSpec, sol: _Solution, total: int, rel: float | None, days: int | None
) -> list[Estimate]:
    """Every quantity of the plan as an estimate, the solved one marked ``solved``."""
    m, ratio, target, solved = spec.comparisons, spec.ratio, spec.target_power, spec.solve_for
    n_control, n_variant, n_exact, diff = sol.n_control, sol.n_variant, sol.n_exact, sol.diff
    total_exact = n_exact * (1 + m * ratio)

    def mark(what: str) -> dict[str, Any]:
        return {"solved": solved == what}

    estimates = [
        Estimate(
            "sample size per group",
            n_control,
            extra={"exact": n_exact, "arm": "control", **mark("sample_size")},
        ),
        Estimate(
            "sample size per variant",
            n_variant,
            extra={"exact": ratio * n_exact, "arm": "each variant", **mark("sample_size")},
        ),
        Estimate("total sample size", total, extra={"exact": total_exact, **mark("sample_size")}),
        Estimate("mde", diff, extra={"scale": "absolute", **mark("mde")}),
    ]
    if rel is not None:
        estimates.append(Estimate("relative mde", rel, extra={"scale": "relative", **mark("mde")}))
    estimates.append(
        Estimate(
            "power",
            sol.power,
            extra={
                "target": None if solved == "power" else target,
                "note": "at the rounded sample size" if solved == "sample_size" else None,
                **mark("power"),
            },
        )
    )
    estimates.append(
        Estimate("alpha per comparison", spec.comparison_alpha, extra={"comparisons": m})
    )
    if days is not None:
        estimates.append(
            Estimate(
                "duration days",
                days,
                extra={"exact": total / spec.daily_traffic, "daily_traffic": spec.daily_traffic},
            )
        )

    return estimates


def _findings(spec: PowerSpec, sol: _Solution, total: int, days: int | None) -> list[Finding]:
    """How the plan was solved and what to watch: the answer in words, multiplicity, what CUPED
    saves, small expected counts (the normal approximation fails) and a test shorter than a
    week (weekday effects)."""
    m, solved, formula = spec.comparisons, spec.solve_for, spec.chosen_formula
    cuped = spec.cuped_correlation is not None
    n_control, n_variant, n_exact, diff = sol.n_control, sol.n_variant, sol.n_exact, sol.diff
    power = sol.power
    findings: list[Finding] = []
    how = f"Power formula: {FORMULA_NAMES[formula]}"
    if solved == "sample_size":
        how += (
            f"; the sample size solves the power equation exactly ({n_exact:,.2f} in the control "
            "group) and is rounded up"
        )
    findings.append(Finding("info", "formula", how + "."))
    findings.append(
        Finding(
            "info", "answer", _answer(spec, solved, diff, power, n_control, n_variant, total, days)
        )
    )
    if m > 1:
        if spec.correction == "bonferroni":
            findings.append(
                Finding(
                    "info",
                    "multiplicity",
                    f"{spec.arms} arms: each of the {m} variants is compared with the control at "
                    f"alpha {_fmt(spec.comparison_alpha)} (Bonferroni), so the chance of any false "
                    f"positive stays at most {_fmt(spec.alpha)}; power is per comparison.",
                )
            )
        else:
            fwer = 1 - (1 - spec.alpha) ** m
            findings.append(
                Finding(
                    "warning",
                    "multiplicity",
                    f"{m} comparisons at alpha {_fmt(spec.alpha)} each without correction: the "
                    f"chance of at least one false positive is up to {fwer:.1%}; use correction "
                    "bonferroni to control it.",
                )
            )
    if cuped:
        findings.append(
            _cuped_finding(
                spec,
                solved,
                n_exact,
                sol.n_plain_exact,
                diff,
                sol.mde_plain,
                power,
                sol.power_plain,
            )
        )
    if spec.metric == "proportions":
        assert spec.baseline is not None
        small = min(
            spec.baseline * n_control,
            (spec.baseline + diff) * n_variant,
            (1 - spec.baseline) * n_control,
            (1 - spec.baseline - diff) * n_variant,
        )
        if small < 5:
            findings.append(
                Finding(
                    "warning",
                    "small_counts",
                    f"fewer than 5 expected conversions (or non-conversions) in an arm "
                    f"({small:.1f}), so the normal approximation is poor; plan for more users "
                    "or check the design by simulation.",
                )
            )
    if days is not None and days < 7:
        findings.append(
            Finding(
                "info",
                "full_week",
                f"{days} day{'s' if days != 1 else ''} of traffic would suffice, but run the "
                "test for at least a full week so every weekday is represented.",
            )
        )

    return findings


def _no_mde_message(spec: PowerSpec) -> str:
    if spec.metric == "proportions":
        assert spec.baseline is not None
        end = "100%" if spec.alternative != "less" else "0%"
        return (
            f"with n = {spec.n:,} per group even a change from {spec.baseline:.2%} to {end} is "
            f"not detected with power {_fmt(spec.target_power)}; increase n or lower power."
        )
    return f"no effect is detectable with n = {spec.n:,} at power {_fmt(spec.target_power)}; increase n."


def _answer(
    spec: PowerSpec,
    solved: str,
    diff: float,
    power: float,
    n_control: int,
    n_variant: int,
    total: int,
    days: int | None,
) -> str:
    test = _test_words(spec)
    duration = ""
    if days is not None:
        assert spec.daily_traffic is not None
        split = ""
        if n_control != n_variant or spec.comparisons > 1:
            per_control = spec.daily_traffic * n_control / total
            per_variant = spec.daily_traffic * n_variant / total
            each = "the variant" if spec.comparisons == 1 else "each variant"
            split = f" ({per_control:,.0f} to the control, {per_variant:,.0f} to {each})"
        duration = (
            f" At {spec.daily_traffic:,.0f} users a day{split} that takes {days:,} "
            f"day{'s' if days != 1 else ''}."
        )
    if solved == "sample_size":
        return (
            f"To detect {_effect_words(spec, diff)} with {power_words(spec.target_power)} power at "
            f"{test}, you need {_groups_words(n_control, n_variant, spec)}, {total:,} in total."
            + duration
        )
    groups = _groups_words(n_control, n_variant, spec)
    if solved == "mde":
        return (
            f"With {groups} ({total:,} in total), the smallest effect detected with "
            f"{power_words(spec.target_power)} power at {test} is {_effect_words(spec, diff)}"
            f"{_mde_suffix(spec, diff)}." + duration
        )
    return (
        f"With {groups} ({total:,} in total), a test at {test} detects "
        f"{_effect_words(spec, diff)} with {power:.1%} power." + duration
    )


def power_words(power: float) -> str:
    return f"{power:.0%}" if round(power * 100, 6) == round(power * 100) else f"{power:.1%}"


def _mde_suffix(spec: PowerSpec, diff: float) -> str:
    if spec.metric == "proportions" and not spec.relative:
        assert spec.baseline is not None
        return f" to {spec.baseline + diff:.2%} ({diff / spec.baseline:+.1%} relative)"
    if spec.metric == "means" and spec.baseline and not spec.relative:
        return f" ({diff / spec.baseline:+.1%} of the baseline mean)"
    return ""


def _cuped_finding(
    spec: PowerSpec,
    solved: str,
    n_exact: float,
    n_plain_exact: float | None,
    diff: float,
    mde_plain: float | None,
    power: float,
    power_plain: float | None,
) -> Finding:
    r = spec.cuped_correlation
    assert r is not None
    head = (
        f"CUPED with pre-period correlation {_fmt(r)} multiplies the outcome variance by "
        f"{1 - r**2:.3g}"
    )
    if solved == "sample_size":
        assert n_plain_exact is not None
        with_, without = round_up(n_exact), round_up(n_plain_exact)
        return Finding(
            "info",
            "cuped",
            f"{head}: {with_:,} instead of {without:,} users in the control group "
            f"({1 - n_exact / n_plain_exact:.1%} fewer).",
        )
    if solved == "mde":
        assert mde_plain is not None
        return Finding(
            "info",
            "cuped",
            f"{head}: the detectable effect shrinks from {abs(mde_plain):.4g} to {abs(diff):.4g} "
            f"({1 - diff / mde_plain:.1%} smaller).",
        )
    assert power_plain is not None
    return Finding("info", "cuped", f"{head}: power rises from {power_plain:.1%} to {power:.1%}.")


def _plan_table(
    spec: PowerSpec,
    solved: str,
    n_control: int,
    n_variant: int,
    total: int,
    diff: float,
    rel: float | None,
    power: float,
    days: int | None,
    n_plain_exact: float | None,
) -> Columns:
    """One row per arm and a total row: n, and per variant the effect and power.

    Every arm fills at the same time when traffic is split in proportion to n, so `days` is
    the same on every row.
    """
    m = spec.comparisons
    names = ["control"] + (["variant"] if m == 1 else [f"variant {i}" for i in range(1, m + 1)])
    ns = [n_control] + [n_variant] * m
    nan = math.nan
    table: dict[str, list[Any]] = {"arm": [*names, "total"], "n": [*ns, total]}
    if spec.cuped_correlation is not None and solved == "sample_size":
        assert n_plain_exact is not None
        plain_c, plain_v = round_up(n_plain_exact), round_up(spec.ratio * n_plain_exact)
        table["n_without_cuped"] = [plain_c] + [plain_v] * m + [plain_c + m * plain_v]
    table["mde"] = [nan] + [diff] * m + [nan]
    if rel is not None:
        table["rel_mde"] = [nan] + [rel] * m + [nan]
    table["power"] = [nan] + [power] * m + [nan]
    if days is not None:
        table["days"] = [days] * (m + 2)
    return table


def build_spec(fields: dict[str, Any]) -> PowerSpec:
    """Validate `fields` as a `PowerSpec`; a bad value becomes one `UserInputError` sentence."""
    try:
        return PowerSpec.model_validate({"kind": "power", **fields})
    except ValidationError as err:
        problems = []
        for e in err.errors():
            name = ".".join(str(p) for p in e["loc"])
            message = e["msg"].removeprefix("Value error, ")
            problems.append(
                message if not name or message.startswith(name) else f"{name}: {message}"
            )
        raise UserInputError("; ".join(problems) + ".") from None


def build_given(options: dict[str, Any]) -> PowerSpec:
    """`build_spec` of the options a face was given; None means "not given"."""
    return build_spec({k: v for k, v in options.items() if v is not None})


power_analysis = python_face(
    PowerSpec,
    run_power,
    name="power_analysis",
    summary="Sample size, MDE or power of an A/B/n test, and how many days it takes.",
    build=build_given,
    example="""
    >>> power_analysis(baseline=0.05, mde=0.01).estimate("sample size per group").value
    8158
    """,
)

register(
    Method(
        kind="power",
        spec_type=PowerSpec,
        run=run_power,
        summary="Sample size, minimum detectable effect, power and duration of an A/B/n test.",
        needs_data=False,
        plot="cerebro.report.plots:power_curve_plot",
        example="cerebro.experiments.examples:power",
        build=build_given,
    )
)

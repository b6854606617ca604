"""`ABTestSpec`: what an A/B/n analysis needs to know.

Its fields are the options of every face: `cerebro abtest` (`cerebro.cli.spec_options`), the
Python function `cerebro.abtest` (`cerebro.core.python_face`) and ``kind: abtest`` spec files.
`OPTIONS` says which test type takes each option of one test type only; such an option set to
anything but its default with another test type is refused in one sentence.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from cerebro.core.errors import UserInputError
from cerebro.core.spec import SpecBase, cli, face_hints, split_list
from cerebro.experiments.sequential.spec import Rho

TestType = Literal[
    "ttest", "welch", "mann_whitney", "chi_square", "ztest", "fisher", "bayesian", "sequential"
]
TEST_TYPES: tuple[str, ...] = TestType.__args__  # type: ignore[attr-defined]

# The options of one test type and the type that takes them; every other option applies to
# every test type (tests/test_abtest_options.py holds this table to the spec's fields).
BAYESIAN = ("prior", "rope", "loss_threshold", "draws", "bayes_model", "chains", "mcmc_samples")
SEQUENTIAL = (
    "time_column", "mixing_sd", "sequential_tuning", "planned_n", "spending", "rho", "futility",
    "binding",
)  # fmt: skip
OPTIONS: dict[str, str] = {
    **dict.fromkeys(BAYESIAN, "bayesian"),
    **dict.fromkeys(SEQUENTIAL, "sequential"),
}


# A one-sample test (`mu`) takes these test types; the options below compare arms and are
# refused with it (besides every option of one test type, which those types refuse anyway).
ONE_SAMPLE_TYPES = (None, "ttest", "welch", "ztest")
ARM_OPTIONS = (
    "control", "covariates", "strata", "cluster", "expected_allocation", "from_summary", "yates",
    "mde", "permutations", "pairs", "by", "guardrails", "guardrail_margin",
)  # fmt: skip


def parse_allocation(text: str | None) -> dict[str, float] | None:
    """``"A=1,B=1,C=2"`` → {"A": 1.0, "B": 1.0, "C": 2.0}; empty text → None (equal split)."""
    if not text:
        return None
    allocation = {}
    for part in split_list(text):
        arm, sep, weight = part.partition("=")
        try:
            allocation[arm.strip()] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise UserInputError(
                f"--expected-allocation item {part!r} is not ARM=WEIGHT; write e.g. 'A=0.5,B=0.5'."
            )
    return allocation


class ABTestSpec(SpecBase):
    """An A/B/n test: every variant of `treatment` against `control`, for each outcome.

    Outcomes are column names; ``"num/den"`` names a ratio metric (e.g. revenue per session)
    analysed by the delta method. `covariates` switch on CUPED, `strata` post-stratification,
    `cluster` cluster-robust inference for cluster-randomised tests. The Bayesian options
    (`prior` … `mcmc_samples`) are for ``test_type="bayesian"`` only, the sequential ones
    (`time_column` … `binding`) for ``test_type="sequential"`` only. Without `treatment`, `mu`
    asks for a one-sample test of each outcome's mean against it (`ONE_SAMPLE_TYPES` only, none
    of `ARM_OPTIONS`).
    """

    kind: Literal["abtest"] = "abtest"
    test_name: str | None = Field(
        None,
        description="A name for this test, shown in the output.",
        json_schema_extra=cli(flag="--name"),
    )
    data: str | None = Field(
        None,
        description="One row per unit, or several rows per unit with a unit id (or per arm "
        "with `from_summary`); left out with `db` and `table`.",
        json_schema_extra=cli(
            argument=True,
            help="CSV, Parquet or JSON: one row per unit, or several rows per unit with a unit "
            "id (or per arm with `from_summary`); left out with `db` and `table`.",
        ),
    )
    treatment: str | None = Field(
        None,
        validation_alias=AliasChoices("treatment", "treatment_column"),
        description="Column with the arm of each unit (leave it out with `mu` for a one-sample "
        "test).",
        json_schema_extra=cli(short="-t"),
    )
    mu: float | None = Field(
        None,
        description="One-sample test (without `treatment`): the mean, or rate of a 0/1 outcome, "
        "each outcome is tested against.",
    )
    outcome: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("outcome", "outcome_column", "outcomes"),
        description="Outcome column(s), comma-separated; 'num/den' is a ratio metric (e.g. "
        "revenue/sessions).",
        json_schema_extra=cli(short="-y"),
    )
    control: str | None = Field(
        None,
        description="Control arm (default: the arm named *control*, else the first sorted).",
    )
    test_type: TestType | None = Field(
        None,
        validation_alias=AliasChoices("test_type", "type"),
        description="The test (default: chosen by the metric type).",
        json_schema_extra=cli(flag="--type", aliases=("--test-type",)),
    )
    alpha: float = Field(0.05, description="Significance level; CIs are 1 − alpha.")
    alternative: Literal["two-sided", "greater", "less"] = Field(
        "two-sided", description="two-sided, greater or less (variant − control)."
    )
    covariates: list[str] = Field(
        default_factory=list, description="Pre-period covariates for CUPED, comma-separated."
    )
    strata: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("strata", "stratification_vars"),
        description="Columns to post-stratify on, comma-separated.",
    )
    cluster: str | None = Field(
        None,
        description="Cluster (randomisation unit) column for cluster-robust errors. Without it a "
        "repeating unit id (e.g. user_id on user × day rows) is detected and clustered on; "
        "'none' says every row is an independent unit.",
    )
    expected_allocation: dict[str, float] | None = Field(
        None,
        description="Planned split for the SRM check, a weight per arm, e.g. {'A': 0.5, "
        "'B': 0.5} (default equal).",
        json_schema_extra=cli(
            parse="cerebro.experiments.abtest.spec:parse_allocation",
            help="Planned split for the SRM check, e.g. 'A=0.5,B=0.5' (default equal).",
        ),
    )
    from_summary: bool = Field(
        False,
        description="`data` holds per-arm n, sums and sums of squares.",
        json_schema_extra=cli(flag="--from-summary"),
    )
    yates: bool = Field(
        False,
        description="Yates continuity correction for chi-square.",
        json_schema_extra=cli(flag="--yates"),
    )
    power: float = Field(
        0.8, description="Power at which the detectable effect (mde column) is reported."
    )
    mde: float | None = Field(
        None, description="Planned absolute effect: report the power the test had for it."
    )
    srm_alpha: float = Field(
        0.001,
        description="Sample-ratio-mismatch alarm level: the split of units is flagged as broken "
        "when the SRM check's p-value is below it.",
    )
    prior: list[float] | None = Field(
        None,
        description="Bayesian prior: 'a,b' (Beta, binary outcomes; default 1,1), "
        "'mu0,kappa0,alpha0,beta0' (Normal–Inverse-Gamma; default the reference prior); with "
        "`bayes_model` gaussian 'mean,sd' of the relative lift (default flat); with "
        "hurdle_lognormal 'a,b,mu_sd,sigma_sd' (default 1,1,10,5).",
    )
    rope: list[float] | None = Field(
        None,
        description="Bayesian region of practical equivalence on the lift, 'low,high' (e.g. "
        "-0.001,0.001).",
    )
    loss_threshold: float | None = Field(
        None,
        description="Bayesian: ship when the expected loss is below this (default 0.1% of the "
        "control mean).",
    )
    draws: int = Field(200_000, description="Bayesian: Monte Carlo draws for the lift intervals.")
    bayes_model: Literal["conjugate", "gaussian", "hurdle_lognormal"] = Field(
        "conjugate",
        validation_alias=AliasChoices("bayes_model", "model"),
        description="Bayesian: conjugate (closed form), gaussian (GrowthBook's normal model of "
        "the relative lift) or hurdle_lognormal (NUTS; zero-heavy revenue).",
        json_schema_extra=cli(flag="--model"),
    )
    chains: int = Field(4, description="Bayesian `bayes_model` hurdle_lognormal: MCMC chains.")
    mcmc_samples: int = Field(
        1000, description="Bayesian `bayes_model` hurdle_lognormal: draws per chain."
    )
    guardrails: list[str] = Field(
        default_factory=list,
        description="Metrics that must not get worse, e.g. retention_7d,latency:lower (lower "
        "is better); analysed with the outcomes and folded into a ship/hold decision per "
        "variant.",
    )
    guardrail_margin: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="Guardrails: non-inferiority margin as a relative change (0.01 = 1%); "
        "default: a guardrail holds unless it got significantly worse.",
    )
    by: list[str] = Field(
        default_factory=list,
        description="Segment breakdown: the test within each value of these columns too, with "
        "Holm/BH over all segment comparisons and Cochran's Q test that the lift is the same "
        "in every segment (e.g. plan,region).",
    )
    pairs: Literal["control", "all"] = Field(
        "control",
        description="Which arms to compare: every variant against the control, or all pairs "
        "of arms (Holm and Benjamini–Hochberg over every pair).",
    )
    permutations: int | None = Field(
        None,
        ge=99,
        le=1_000_000,
        description="Randomisation inference: also a Fisher permutation p-value from this many "
        "seeded re-draws of the assignment (whole clusters, within strata), e.g. 1000.",
    )
    seed: int = Field(0, description="Seed of every random step.")
    time_column: str | None = Field(
        None,
        validation_alias=AliasChoices("time_column", "time"),
        description="Sequential: column whose distinct values are the looks (e.g. day or date).",
        json_schema_extra=cli(flag="--time"),
    )
    mixing_sd: float | None = Field(
        None,
        description="Sequential: mSPRT mixing SD τ in metric units (default 0.1 pooled SD at the "
        "first look).",
    )
    sequential_tuning: float | None = Field(
        None,
        gt=0,
        description="Sequential: GrowthBook's asymptotic confidence sequence on the relative "
        "lift, tightest near this many units (N*, e.g. 5000), instead of the mSPRT; also "
        "from a summary (one look).",
    )
    planned_n: int | None = Field(
        None,
        description="Sequential: planned units per arm; adds group-sequential boundaries per look.",
    )
    spending: Literal["obf", "pocock", "power"] = Field(
        "obf", description="Sequential with `planned_n`: obf, pocock or power spending."
    )
    rho: Rho = Field(
        3.0,
        description="Sequential with `planned_n` and power spending: the exponent ρ of alpha·t^ρ.",
    )
    futility: Literal["obf", "pocock", "power"] | None = Field(
        None,
        description="Sequential with `planned_n` and `mde`: non-binding futility bounds (obf, "
        "pocock, power).",
    )
    binding: bool = Field(
        False,
        description="Sequential `futility`: binding futility (lower efficacy bounds; obey every "
        "stop).",
        json_schema_extra=cli(flag="--binding/--non-binding"),
    )

    proportion_se: Literal["sample", "null"] = Field(
        "sample",
        description="One-sample proportion z test (`mu`, 0/1 outcome): standard error from the "
        "sample rate (statsmodels' default, Wald interval) or from the null rate `mu` (the score "
        "test, Wilson interval).",
    )

    engine: Literal["duckdb", "spark"] = Field(
        "duckdb",
        description="Where the per-arm moments of a file are computed: DuckDB in this process, "
        "or Apache Spark (`spark_master`; needs pyspark and Java 17+). Tests that need the rows "
        "(Mann–Whitney, permutations, sequential, the hurdle model) are refused on Spark.",
    )
    spark_master: str | None = Field(
        None,
        description="Spark master URL for `engine` spark, e.g. spark://host:7077 (default "
        "local[*]: every core of this machine).",
    )
    db: str | None = Field(
        None,
        description="SQLAlchemy URL of the database holding the rows, e.g. "
        "postgresql://host/db, with `table`: the database computes the per-arm moments.",
    )
    table: str | None = Field(
        None, description="Table (or schema.table) in `db` holding one row per unit."
    )

    @field_validator("control", mode="before")
    @classmethod
    def _control_text(cls, value: Any) -> Any:
        """An arm named by a number (``control=0`` from Python, ``control: 0`` in YAML) is the
        arm whose label reads so: arm labels are text."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return str(int(value)) if float(value).is_integer() else str(value)

    @field_validator("prior", "rope", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        return split_list(value)

    @field_validator("rope")
    @classmethod
    def _rope(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 2 or not value[0] < value[1]):
            raise ValueError(f"rope needs two numbers low,high with low < high, got {value}")
        return value

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() == "none":
            return "none"
        return value or None

    @field_validator("outcome", "covariates", "strata", "by", "guardrails", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("alpha", "power", "srm_alpha")
    @classmethod
    def _unit_interval(cls, value: float, info) -> float:  # type: ignore[no-untyped-def]
        if not 0 < value < 1:
            raise ValueError(
                f"{info.field_name} must be strictly between 0 and 1, got {value} "
                f"(e.g. {info.field_name} 0.05)"
                if info.field_name != "power"
                else f"power must be strictly between 0 and 1, got {value} (e.g. 0.8)"
            )
        return value

    @field_validator("expected_allocation")
    @classmethod
    def _allocation(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and (not value or any(w <= 0 for w in value.values())):
            raise ValueError("expected_allocation needs a positive weight for every arm")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> ABTestSpec:
        if not self.outcome and not self.from_summary:
            raise ValueError("name at least one outcome column (e.g. --outcome conversion)")
        if self.treatment is None and self.mu is None:
            raise ValueError(
                "name the column with each unit's arm with --treatment (e.g. --treatment arm), "
                "or give --mu for a one-sample test of the mean against a number"
            )
        if self.treatment in self.outcome:
            raise ValueError(f"{self.treatment!r} is the treatment column and cannot be an outcome")
        self._one_sample_options()
        self._options_of_test_type()
        self._options_of_options()
        return self

    def _changed(self, name: str) -> bool:
        """Whether option `name` holds anything but its default (the CLI sends every default)."""
        default = type(self).model_fields[name].get_default(call_default_factory=True)
        return getattr(self, name) != default

    def _options_of_test_type(self) -> None:
        """Refuse an option of one test type given with another, naming it and its test type."""
        given = [n for n, t in OPTIONS.items() if t != self.test_type and self._changed(n)]
        if not given:
            return
        wanted = OPTIONS[given[0]]
        named = [shown_option(self, n) for n in given if OPTIONS[n] == wanted]
        group = [flag_of(n) for n, t in OPTIONS.items() if t == wanted]
        current = (
            f"--type {self.test_type}"
            if self.test_type
            else "the test chosen by the metric type (no --type)"
        )
        raise ValueError(
            f"{_join(named)} {'applies' if len(named) == 1 else 'apply'} to --type {wanted} only, "
            f"not to {current}: add --type {wanted} or drop {'it' if len(named) == 1 else 'them'} "
            f"({_join(group)} all apply to --type {wanted} only)"
        )

    def _one_sample_options(self) -> None:
        """Refuse, with `mu`, a treatment and every option that compares arms."""
        if self.mu is None:
            if self._changed("proportion_se"):
                raise ValueError(
                    "--proportion-se applies to the one-sample proportion test only; add --mu "
                    "(the rate to test against) instead of --treatment, or drop it"
                )
            return
        if self.treatment is not None:
            raise ValueError(
                f"--mu tests one sample against a number, --treatment compares arms: drop "
                f"--mu {self.mu:g} or --treatment {self.treatment}"
            )
        arms_only = [
            n
            for n in ARM_OPTIONS
            if self._changed(n) and not (n == "cluster" and self.cluster == "none")
        ]
        if self.test_type not in ONE_SAMPLE_TYPES:
            arms_only.insert(0, "test_type")
        if arms_only:
            named = [shown_option(self, n) if n == "test_type" else flag_of(n) for n in arms_only]
            raise ValueError(
                f"{_join(named)} {'does' if len(named) == 1 else 'do'} not apply to a one-sample "
                "test (--mu), which takes --outcome, --alternative, --alpha and --type ttest or "
                "ztest; drop " + ("it" if len(named) == 1 else "them")
            )

    def _options_of_options(self) -> None:
        """Refuse an option that only means something together with another one."""
        if self.binding and not self.futility:
            raise ValueError("--binding applies to futility bounds; add --futility obf or drop it")
        if self.futility and not (self.planned_n and self.mde):
            raise ValueError(
                "--futility needs --planned-n (the planned units per arm) and --mde (the effect "
                "the test is planned to detect, in metric units), as in --planned-n 20000 --mde 0.01"
            )
        if self.guardrail_margin is not None and not self.guardrails:
            raise ValueError("--guardrail-margin needs --guardrails (the metrics it applies to)")
        if self.guardrails and self.test_type in ("bayesian", "sequential"):
            raise ValueError(
                "--guardrails folds frequentist comparisons into a decision; --type "
                f"{self.test_type} decides by its own rule: drop --guardrails"
            )
        if self.by and (self.test_type in ("bayesian", "sequential") or self.from_summary):
            raise ValueError(
                "--by breaks a frequentist test down by segment from the rows; drop --by, or "
                "use a frequentist --type on unit-level data"
            )
        if self.pairs == "all" and self.test_type in ("bayesian", "sequential"):
            raise ValueError(
                f"--pairs all compares every pair with a frequentist test; --type "
                f"{self.test_type} compares variants with the control (the Bayesian analysis "
                "also gives P(best) over all arms): drop --pairs all"
            )
        if self.permutations and self.test_type in ("bayesian", "sequential"):
            raise ValueError(
                f"--permutations re-randomises a frequentist test; --type {self.test_type} has "
                "its own inference: drop --permutations or choose a frequentist --type"
            )
        if self.db and (self.data or self.engine != "duckdb"):
            raise ValueError(
                "--db reads the rows from a database table; drop the data file and --engine"
            )
        if self.spark_master and self.engine != "spark":
            raise ValueError("--spark-master needs --engine spark")
        if self.permutations and self.from_summary:
            raise ValueError(
                "--permutations re-randomises rows, and --from-summary has none; give the "
                "unit-level data or drop --permutations"
            )
        if self.mixing_sd is not None and self.sequential_tuning is not None:
            raise ValueError(
                "--mixing-sd (mSPRT) and --sequential-tuning (GrowthBook's sequence) choose two "
                "different sequential tests; keep one"
            )
        if self.planned_n and self.sequential_tuning is not None:
            raise ValueError(
                "--planned-n adds group-sequential boundaries to the mSPRT analysis; with "
                "--sequential-tuning the confidence sequence is the whole analysis: drop one"
            )
        if self._changed("rho") and "power" not in (self.spending, self.futility):
            raise ValueError(
                f"{shown_option(self, 'rho')} is the exponent of power spending; add --spending "
                "power (or --futility power) or drop it"
            )
        if self._changed("spending") and not self.planned_n:
            raise ValueError(
                f"{shown_option(self, 'spending')} applies to group-sequential boundaries only; "
                "add --planned-n (the planned units per arm) or drop it"
            )
        mcmc = [shown_option(self, n) for n in ("chains", "mcmc_samples") if self._changed(n)]
        if mcmc and self.bayes_model != "hurdle_lognormal":
            raise ValueError(
                f"{_join(mcmc)} {'applies' if len(mcmc) == 1 else 'apply'} to --model "
                "hurdle_lognormal only (the conjugate model needs no MCMC); add --model "
                f"hurdle_lognormal or drop {'it' if len(mcmc) == 1 else 'them'}"
            )


def flag_of(name: str) -> str:
    """The command-line flag of an `ABTestSpec` field (``--time`` for `time_column`)."""
    hint = face_hints(ABTestSpec.model_fields[name], "cli").get("flag")
    return (hint or "--" + name.replace("_", "-")).split("/")[0]


def shown_option(spec: ABTestSpec, name: str) -> str:
    """An option as the user gave it: ``--planned-n 5000``, ``--binding``, ``--rope=-1,1``."""
    value: Any = getattr(spec, name)
    if isinstance(value, bool):
        return flag_of(name)
    if isinstance(value, list):
        value = ",".join(f"{v:g}" for v in value)
    elif isinstance(value, float):
        value = f"{value:g}"
    text = str(value)
    return f"{flag_of(name)}={text}" if text.startswith("-") else f"{flag_of(name)} {text}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

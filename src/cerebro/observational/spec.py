"""`CausalSpec`: what an observational effect estimate needs to know.

`kind: causal` covers the adjustment estimators (selection on observables) and, for the faces'
convenience (`cerebro causal --method did …`, YAML `kind: causal` with `method: did`), the flat
options of the four designs. `OPTIONS` says which methods take each option: an option set to
anything but its default with a method that does not take it is refused in one sentence. A
design runs as its own registered kind, with the spec `design_spec()` builds from the fields the
design takes (this family never imports the designs).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator

from cerebro.core.design_fields import (
    Aggregation,
    Bandwidth,
    Bootstrap,
    Cluster,
    Control,
    ControlGroup,
    Cutoff,
    Debiased,
    DiDModel,
    DonorWeights,
    Instrument,
    IVCov,
    IVEstimator,
    Kernel,
    Lags,
    Leads,
    Order,
    Post,
    RunningVariable,
    SCModel,
    Seed,
    SmallSample,
    Time,
    Treated,
    TreatedUnit,
    TreatStart,
    Unit,
    Weights,
)
from cerebro.core.event_source import Db, EventEngine, PanelFreq, SparkMaster, Table
from cerebro.core.spec import (
    Alpha,
    EffectSpec,
    Jobs,
    SpecBase,
    cli,
    data_file,
    explain_validation_error,
    split_list,
)

# Selection on observables: adjust for the named confounders.
ADJUSTMENT = ("regression", "gcomp", "ipw", "aipw", "stratification", "psm", "dml")
# Quasi-experiments: identification from a design (timing, a threshold, an instrument, donors).
QUASI = ("did", "rdd", "iv", "synthetic_control")
# Structural models (What If ch. 12 and 14): marginal structural models fitted by IP weighting,
# and g-estimation of a structural nested mean model.
STRUCTURAL = ("msm", "gestimation")
# Identification through a mediator that carries the whole effect (Pearl's front-door formula).
FRONTDOOR = ("frontdoor",)
AVAILABLE = ADJUSTMENT + FRONTDOOR + QUASI + STRUCTURAL
# `weights` once named the IPW normalisation (now `ipw_weights`); these values are still read
# as that, with a deprecation warning, by the methods that take no observation weights.
LEGACY_IPW_WEIGHTS = ("hajek", "ht")
# Names users' documents use for a method, and the method each runs as.
METHOD_ALIASES = {"backdoor": "aipw"}
# The fields every method takes (those of `EffectSpec`, besides `method` itself).
COMMON = ("data", "treatment", "outcome", "confounders", "alpha")
PROPENSITY_METHODS = ("ipw", "aipw", "stratification", "psm")
# Every other option and the methods that take it. Each design's spec has exactly the common
# fields and the options listed with its method (tests/test_quasi_kinds.py holds the two equal).
OPTIONS: dict[str, tuple[str, ...]] = {
    "estimand": ADJUSTMENT,
    "treated": (*ADJUSTMENT, "frontdoor", "did", "iv"),
    "control": (*ADJUSTMENT, "frontdoor", "did"),
    "trim": ADJUSTMENT,
    "propensity": PROPENSITY_METHODS,
    "ipw_weights": ("ipw",),
    "weights": ("regression", "did"),
    "se": ("regression",),
    "truncate": ("ipw",),
    "interactions": ("gcomp", "regression"),
    "strata": ("stratification", "regression"),  # the latter with --regress-on propensity_strata
    "neighbours": ("psm",),
    "caliper": ("psm",),
    "replace": ("psm",),
    "exact": ("psm",),
    "dml_model": ("dml",),
    "learner": ("dml",),
    "folds": ("dml", *PROPENSITY_METHODS),  # the latter with --propensity lightgbm only
    "clip": ("dml", *PROPENSITY_METHODS),  # the latter with --propensity lightgbm only
    "jobs": (*ADJUSTMENT, "frontdoor", *STRUCTURAL),
    "sensitivity": ADJUSTMENT,
    "bootstrap": (*ADJUSTMENT, "frontdoor", "did", *STRUCTURAL),
    "seed": (*ADJUSTMENT, "frontdoor", "did", *STRUCTURAL),
    "dag": (*ADJUSTMENT, "frontdoor"),
    "mediator": ("frontdoor",),
    "unit": ("did", "synthetic_control"),
    "time": ("did", "synthetic_control"),
    "treat_start": ("did", "synthetic_control"),
    "cluster": ("did", "rdd", "iv"),
    "post": ("did",),
    "did_model": ("did",),
    "control_group": ("did",),
    "aggregation": ("did",),
    "leads": ("did",),
    "lags": ("did",),
    "small_sample": ("did",),
    "panel_freq": ("did",),
    "engine": ("did",),
    "spark_master": ("did",),
    "db": ("did",),
    "table": ("did",),
    "running_variable": ("rdd",),
    "cutoff": ("rdd",),
    "kernel": ("rdd",),
    "order": ("rdd",),
    "bandwidth": ("rdd",),
    "instrument": ("iv",),
    "iv_estimator": ("iv",),
    "iv_cov": ("iv",),
    "debiased": ("iv",),
    "treated_unit": ("synthetic_control",),
    "sc_model": ("synthetic_control",),
    "donor_weights": ("synthetic_control",),
    "modifier": STRUCTURAL,
    "censoring": STRUCTURAL,
    "dose_response": ("msm",),
    "treatment_density": ("msm",),
    "psi_search": ("gestimation",),
    "psi_grid": ("gestimation",),
    "regress_on": ("regression",),
    "at": ("regression", "msm"),
    "all_rows": ("regression", "gcomp"),
}


def psi_grid_bounds(text: str) -> tuple[float, float, float]:
    """'start:stop:step' as three numbers (start < stop, 0 < step, at most 10,001 points)."""
    try:
        start, stop, step = (float(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(
            f"--psi-grid takes 'start:stop:step' (e.g. 2:5:0.1), got {text!r}"
        ) from None
    if not (start < stop and step > 0 and (stop - start) / step <= 10_000):
        raise ValueError(
            f"--psi-grid {text!r} needs start < stop and a positive step giving at most 10,000 "
            "steps (e.g. 2:5:0.1)"
        )
    return start, stop, step


def options_of(method: str) -> list[str]:
    """The fields `method` takes: the common ones and its options, in `OPTIONS` order."""
    return [*COMMON, *(name for name, takers in OPTIONS.items() if method in takers)]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class CausalSpec(EffectSpec):
    """The effect of a binary `treatment` on `outcome`, adjusting for `confounders`.

    Confounders are column names; ``age^2`` adds a squared term and ``C(education)`` treats a
    numeric column as categorical (text columns are categorical anyway, one-hot encoded).
    """

    kind: Literal["causal"] = "causal"
    data: str | None = data_file(
        "Data file (CSV, Parquet or JSON), one row per unit (did: raw events with `panel_freq`).",
        required=False,
    )
    treatment: str | None = Field(
        None,
        description="Treatment column: binary (or multi-valued) for adjustment; did: the treated "
        "group (with post/treat_start) or 0/1 treated-this-period; rdd: take-up (fuzzy design; "
        "omit for sharp); iv: the endogenous regressor.",
    )
    outcome: str = Field(..., description="Outcome column (numeric or 0/1).")
    confounders: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("confounders", "covariates"),
        description="Columns to adjust for; 'age^2' adds a square, 'C(x)' makes x categorical "
        "(text columns are categorical anyway). rdd/iv: exogenous controls.",
    )
    alpha: Alpha = Field(0.05, description="1 − confidence level.")
    method: str = Field(
        "aipw",
        description=f"One of {', '.join(AVAILABLE)}; backdoor: adjustment for the confounders "
        "(or the back-door set of `dag`) by aipw.",
    )
    estimand: Literal["ate", "att", "atc"] = "ate"
    treated: Treated
    control: Control
    ipw_weights: Literal["hajek", "ht"] = Field(
        "hajek", description="IPW: Hájek (normalised) or Horvitz–Thompson weights."
    )
    weights: Weights
    se: Literal["hc1", "hc0", "hc2", "hc3", "classical"] = Field(
        "hc1",
        description="regression: the coefficient's SE – heteroskedasticity-robust HC0–HC3 "
        "(statsmodels' cov_type conventions) or classical (model-based, homoskedastic: "
        "statsmodels' OLS/WLS default).",
    )
    trim: float | Literal["crump"] | None = Field(
        None,
        description="Drop units with extreme propensity: a number c (keep c ≤ e ≤ 1 − c) or "
        "'crump' (Crump et al. 2009's optimal rule).",
    )
    truncate: float | None = Field(
        None, description="IPW: cap weights at this percentile (e.g. 99) of their distribution."
    )
    interactions: list[str] | None = Field(
        None,
        description="gcomp: treatment × confounder terms of a single outcome model (default: "
        "one model per arm, i.e. every term interacts).",
        json_schema_extra=cli(keep_empty=True),
    )
    neighbours: int = Field(1, description="psm: matches per unit (1:k nearest neighbours).")
    caliper: float | None = Field(
        None,
        description="psm: largest allowed distance, in SDs of the propensity logit (e.g. 0.2).",
    )
    replace: bool = Field(True, description="psm: match with replacement (needed for the ATE).")
    exact: list[str] = Field(
        default_factory=list, description="psm: columns whose values matches must share."
    )
    dml_model: Literal["irm", "plr"] = Field(
        "irm",
        description="dml: interactive model (AIPW score, any heterogeneity) or partially linear "
        "(one constant effect).",
    )
    learner: Literal["lightgbm", "hist_gb", "random_forest", "linear"] = Field(
        "lightgbm", description="dml: learner of the nuisance functions."
    )
    propensity: Literal["logistic", "lightgbm"] = Field(
        "logistic",
        description="Propensity model: logistic regression on the confounder terms, or LightGBM "
        "cross-fitted over --folds (gradient boosting; its scores are clipped like dml's).",
    )
    folds: int = Field(5, description="dml and --propensity lightgbm: cross-fitting folds.")
    clip: float = Field(
        0.01, description="dml and --propensity lightgbm: clip propensities to [clip, 1 − clip]."
    )
    strata: int = Field(
        5, description="Stratification: number of propensity-score quantile strata."
    )
    bootstrap: Bootstrap
    jobs: Jobs = Field(
        1,
        description="Parallel workers (−1: every core) for the bootstrap (processes) and the "
        "cross-fitted learners of dml and --propensity lightgbm (threads); numbers do not "
        "depend on it.",
    )
    sensitivity: bool = Field(
        False,
        description="Add the estimate's sensitivity to unobserved confounding from its own fit: "
        "robustness values (regression; aipw and dml for the ATE), Rosenbaum's Γ (psm, 1:1), "
        "the E-value (every method).",
    )
    # --- the designs' options, passed on to the design's own spec ---------------------------
    unit: Unit
    time: Time
    post: Post
    treat_start: TreatStart
    cluster: Cluster
    small_sample: SmallSample
    did_model: DiDModel
    control_group: ControlGroup
    aggregation: Aggregation
    leads: Leads
    lags: Lags
    panel_freq: PanelFreq
    engine: EventEngine
    spark_master: SparkMaster
    db: Db
    table: Table
    running_variable: RunningVariable
    cutoff: Cutoff
    kernel: Kernel
    order: Order
    bandwidth: Bandwidth
    instrument: Instrument
    iv_estimator: IVEstimator
    iv_cov: IVCov
    debiased: Debiased
    treated_unit: TreatedUnit
    sc_model: SCModel
    donor_weights: DonorWeights
    seed: Seed
    # --- structural models and the remaining What If options (docs/msm.md, docs/gestimation.md)
    modifier: str | None = Field(
        None,
        description="msm: an effect modifier V (numeric column) – the model gains V and "
        "treatment × V, the weights' numerator conditions on V; gestimation: the second "
        "parameter of the structural nested mean model (effect ψ₁ + ψ₂·V).",
    )
    censoring: Literal["none", "ipcw"] = Field(
        "none",
        description="msm, gestimation: 'ipcw' keeps rows whose outcome is missing as censored "
        "and re-weights the others by inverse probability of censoring weights (a logistic "
        "model of censoring on treatment and confounders); 'none' drops them.",
    )
    dose_response: Literal["linear", "quadratic", "spline"] = Field(
        "linear",
        description="msm with a continuous treatment: the curve E[Y^a] – linear, quadratic, or a "
        "restricted cubic spline (5 knots at quantiles, linear beyond the outer ones).",
    )
    treatment_density: Literal["none", "normal"] = Field(
        "none",
        description="msm: the density model of a continuous treatment – 'normal' (linear "
        "regression on the confounders, normal residuals: the generalised propensity score); "
        "a continuous treatment needs it.",
    )
    psi_search: Literal["closed_form", "grid"] = Field(
        "closed_form",
        description="gestimation: solve the estimating equation in closed form (sandwich SE), or "
        "search a grid of ψ (CI = the ψ not rejected).",
    )
    psi_grid: str | None = Field(
        None,
        description="gestimation --psi-search grid: 'start:stop:step' (e.g. 2:5:0.1); default "
        "the closed-form ψ ± 6 SE in 241 steps.",
    )
    regress_on: Literal["confounders", "propensity", "propensity_strata"] = Field(
        "confounders",
        description="regression: adjust for the confounders, the propensity score as one "
        "covariate, or dummies of its `strata` quantile strata (What If §15.2–15.3).",
    )
    at: list[str] = Field(
        default_factory=list,
        description="regression with `interactions`: the effect at these values of the "
        "interaction terms ('smokeintensity=5,smokeintensity=40'; join terms of one point with "
        "'&'); msm with a continuous treatment: the doses at which E[Y^a] is reported.",
    )
    all_rows: bool = Field(
        False,
        description="gcomp: standardise over every row, including those whose outcome is "
        "missing; regression: fit the propensity score on them too (What If ch. 13 and 15).",
    )

    # --- causal graphs ------------------------------------------------------------------------
    dag: str | None = Field(
        None,
        description="Causal graph file (DOT, YAML or 'a -> b' lines; nodes not in the data are "
        "latent): with no `confounders`, adjust for its smallest back-door set; with them, check "
        "them against it; frontdoor: its front-door set unless `mediator` is given.",
    )
    mediator: list[str] = Field(
        default_factory=list,
        description="frontdoor: the mediator column(s) carrying the whole effect (default: the "
        "front-door set of `dag`).",
    )

    @field_validator("interactions", "exact", "at", "mediator", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        value = value.strip().lower()
        value = METHOD_ALIASES.get(value, value)
        if value not in AVAILABLE:
            raise ValueError(f"unknown method {value!r}; use one of {', '.join(AVAILABLE)}")
        return value

    @field_validator("trim", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        """The CLI gives text: '0.05' becomes a number, 'crump' stays the rule's name."""
        if isinstance(value, str) and value.strip().lower() != "crump":
            try:
                return float(value)
            except ValueError:
                raise ValueError(
                    f"trim must be a number in (0, 0.5) or 'crump', got {value!r}"
                ) from None
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("truncate")
    @classmethod
    def _truncate(cls, value: float | None) -> float | None:
        if value is not None and not 50 < value < 100:
            raise ValueError(f"truncate is a percentile between 50 and 100, got {value} (e.g. 99)")
        return value

    @field_validator("strata")
    @classmethod
    def _strata(cls, value: int) -> int:
        if not 2 <= value <= 50:
            raise ValueError(f"strata must be between 2 and 50, got {value} (e.g. 5)")
        return value

    @field_validator("neighbours")
    @classmethod
    def _neighbours(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"neighbours must be at least 1, got {value}")
        return value

    @field_validator("caliper")
    @classmethod
    def _caliper(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"caliper must be positive (in SDs of the logit), got {value}")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> CausalSpec:
        if self.method in QUASI:
            self.design_spec()  # the design's own checks first: what it misses, bad values
            self._options_of_method()
            return self
        if self.treatment is None:
            raise ValueError("name the treatment column (e.g. --treatment campaign)")
        if self.method == "frontdoor":
            self._options_of_method()
            self._frontdoor()
            return self
        if self.propensity != "logistic" and self.method in ("regression", "gcomp", "dml"):
            raise ValueError(
                f"--propensity applies to ipw, aipw, stratification and psm; --method "
                f"{self.method} does not weight by a propensity model"
                + (" (use --learner for dml's nuisances)" if self.method == "dml" else "")
            )
        self._options_of_method()
        cross_fitting = [
            _flag(name)
            for name in ("folds", "clip")
            if getattr(self, name) != type(self).model_fields[name].default
        ]
        if cross_fitting and self.method != "dml" and self.propensity == "logistic":
            raise ValueError(
                f"{_join(cross_fitting)} set the cross-fitting of dml and --propensity lightgbm; "
                f"--method {self.method} with the logistic propensity does not cross-fit (add "
                "--propensity lightgbm or drop them)"
            )
        if self.method == "dml" and self.bootstrap:
            raise ValueError(
                "dml reports influence-function SEs from its orthogonal score; drop --bootstrap"
            )
        if self.method == "dml" and self.dml_model == "plr" and self.estimand != "ate":
            raise ValueError(
                "the partially linear model estimates one constant effect; use --dml-model irm "
                "for the ATT or ATC"
            )
        if not 0 <= self.clip < 0.5:
            raise ValueError(f"clip must be in [0, 0.5), got {self.clip} (e.g. 0.01)")
        if self.method == "psm" and self.bootstrap:
            raise ValueError(
                "the bootstrap is not valid for matching estimators (Abadie & Imbens 2008); "
                "psm reports Abadie–Imbens SEs – drop --bootstrap"
            )
        if not self.confounders and self.dag is None and self.method != "psm":
            raise ValueError(
                "name the confounders to adjust for (e.g. --confounders age,income) or a causal "
                "graph whose back-door set to adjust for (--dag graph.dot)"
            )
        if self.treatment == self.outcome:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and the outcome")
        if self.legacy_ipw_weights and self.ipw_weights not in ("hajek", self.weights):
            raise ValueError(
                f"--weights {self.weights} is the old name of --ipw-weights {self.weights}; "
                "give --ipw-weights only"
            )
        if self.method == "regression":
            self.plain_regression_options()
        if isinstance(self.trim, float) and not 0 < self.trim < 0.5:
            raise ValueError(f"trim must be a number in (0, 0.5) or 'crump', got {self.trim!r}")
        self._structural_options()
        return self

    def _structural_options(self) -> None:
        """Combinations of the options of msm, gestimation and the What If regression forms."""
        if self.modifier is not None and self.modifier in (self.treatment, self.outcome):
            raise ValueError(f"--modifier {self.modifier!r} cannot be the treatment or outcome")
        if self.psi_grid is not None:
            if self.psi_search != "grid":
                raise ValueError("--psi-grid sets the grid of --psi-search grid; add it")
            psi_grid_bounds(self.psi_grid)
        if self.psi_search == "grid" and self.bootstrap:
            raise ValueError(
                "the grid search's CI is the set of ψ not rejected; drop --bootstrap (or use "
                "--psi-search closed_form with it)"
            )
        if self.psi_search == "grid" and self.modifier is not None:
            raise ValueError(
                "the grid search is for the one-parameter model; use --psi-search closed_form "
                "with --modifier"
            )
        if self.method == "regression":
            if self.strata != 5 and self.regress_on != "propensity_strata":
                raise ValueError("--strata applies to --regress-on propensity_strata only")
            if self.at and not self.interactions:
                raise ValueError(
                    "--at gives values of interaction terms; name them with --interactions"
                )
            if self.all_rows and self.regress_on == "confounders":
                raise ValueError(
                    "--all-rows fits the propensity model on rows without an outcome; with "
                    "--method regression add --regress-on propensity or propensity_strata"
                )
            if self.interactions and self.regress_on != "confounders":
                raise ValueError("--interactions applies to --regress-on confounders only")

    def plain_regression_options(self, old_names_pass: bool = True) -> None:
        """`weights` and `se` belong to y ~ treatment + confounders, not to What If's forms.
        `weights: hajek|ht` may be the old IPW option, dropped at run time unless the data
        have a column so named; then the run checks again with `old_names_pass=False`."""
        given = [
            _flag(n)
            for n in ("weights", "se")
            if getattr(self, n) != type(self).model_fields[n].default
            and not (n == "weights" and old_names_pass and self.weights in LEGACY_IPW_WEIGHTS)
        ]
        if not given:
            return
        if self.regress_on != "confounders" or self.interactions or self.all_rows:
            raise ValueError(
                f"{_join(given)} apply to the plain regression y ~ treatment + confounders; drop "
                "--regress-on, --interactions and --all-rows (or them)"
            )
        if "--weights" in given and self.sensitivity:
            raise ValueError(
                "--sensitivity's robustness values are for unweighted least squares; drop "
                "--weights or --sensitivity"
            )

    def _frontdoor(self) -> None:
        """The front-door formula adjusts for no confounders; it needs mediators or a graph."""
        if self.confounders:
            raise ValueError(
                "--method frontdoor adjusts for no confounders (the mediator carries the effect); "
                "drop --confounders"
            )
        if not self.mediator and self.dag is None:
            raise ValueError(
                "--method frontdoor needs the mediator (e.g. --mediator visits) or a graph whose "
                "front-door set to use (--dag graph.dot)"
            )
        roles = {self.treatment: "treatment", self.outcome: "outcome"}
        for name in self.mediator:
            if name in roles:
                raise ValueError(
                    f"mediator {name!r} is also the {roles[name]}; name another column"
                )
        if self.treatment == self.outcome:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and the outcome")

    @property
    def legacy_ipw_weights(self) -> bool:
        """`weights: hajek|ht` with a method that takes no observation weights: the old name of
        `ipw_weights` (specs written before the rename hold it, whatever their method). With
        regression and did the value is a column name unless the data have no such column
        (`observational.analysis.run_causal` decides, with the data)."""
        return self.weights in LEGACY_IPW_WEIGHTS and self.method not in OPTIONS["weights"]

    @property
    def ipw_normalisation(self) -> str:
        """Hájek or Horvitz–Thompson: `ipw_weights`, or `weights` in its old meaning."""
        return self.weights if self.legacy_ipw_weights else self.ipw_weights  # type: ignore[return-value]

    def _options_of_method(self) -> None:
        """Refuse an option set (to anything but its default) that the method does not take,
        naming it and the method(s) that do, with the options they take alike."""
        given = [
            name
            for name, takers in OPTIONS.items()
            if self.method not in takers
            and getattr(self, name)
            != type(self).model_fields[name].get_default(call_default_factory=True)
            and not (name == "weights" and self.legacy_ipw_weights)
        ]
        if not given:
            return
        takers = OPTIONS[given[0]]
        alike = [_flag(name) for name, t in OPTIONS.items() if t == takers]
        flags = _join([_flag(name) for name in given if OPTIONS[name] == takers])
        raise ValueError(
            f"{flags} {'is' if ' ' not in flags else 'are'} not for --method {self.method}: "
            f"{_join(alike)} {'applies' if len(alike) == 1 else 'apply'} to --method "
            f"{_join(list(takers))} only"
        )

    def design_fields(self) -> dict[str, Any]:
        """The fields of the design `method` names, as its own spec takes them."""
        if self.method not in QUASI:
            raise ValueError(f"--method {self.method} is not a design; it runs as kind causal")
        return {name: getattr(self, name) for name in options_of(self.method)}

    def design_spec(self) -> SpecBase:
        """The design's own spec (kind `did`, `rdd`, `iv` or `synthetic_control`), looked up in
        the registry, from the fields this spec holds."""
        from cerebro.core.registry import get_method

        spec_type = get_method(self.method).spec_type
        try:
            return spec_type(**self.design_fields())
        except ValidationError as err:
            raise ValueError(explain_validation_error(err)) from None

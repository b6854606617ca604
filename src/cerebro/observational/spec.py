"""`CausalSpec`: what an observational effect estimate needs to know."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from cerebro.core.spec import Alpha, Jobs, SpecBase, split_list

# Selection on observables: adjust for the named confounders.
ADJUSTMENT = ("regression", "gcomp", "ipw", "aipw", "stratification", "psm", "dml")
# Quasi-experiments: identification from a design (timing, a threshold, an instrument, donors).
QUASI = ("did", "rdd", "iv", "synthetic_control")
AVAILABLE = ADJUSTMENT + QUASI
# The columns each design needs, as (spec field, CLI flag, what it is).
DESIGN_NEEDS = {
    "iv": [("instrument", "--instrument", "the instrument column(s)")],
    "rdd": [("running_variable", "--running-variable", "the running (score) column")],
}


class CausalSpec(SpecBase):
    """The effect of a binary `treatment` on `outcome`, adjusting for `confounders`.

    Confounders are column names; ``age^2`` adds a squared term and ``C(education)`` treats a
    numeric column as categorical (text columns are categorical anyway, one-hot encoded).
    """

    kind: Literal["causal"] = "causal"
    data: str | None = Field(None, description="Path of the data file (CSV, Parquet or JSON).")
    treatment: str | None = Field(
        None,
        description="Treatment column: binary (or multi-valued) for adjustment; did: the treated "
        "group (with post/treat_start) or 0/1 treated-this-period; rdd: take-up (fuzzy design; "
        "omit for sharp); iv: the endogenous regressor.",
    )
    outcome: str
    confounders: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("confounders", "covariates")
    )
    method: str = Field("aipw", description=f"One of {', '.join(AVAILABLE)}.")
    estimand: Literal["ate", "att", "atc"] = "ate"
    treated: str | None = Field(
        None, description="The treated value of a two-valued treatment column (default: 1/True)."
    )
    control: str | None = Field(
        None,
        description="The control (reference) arm; with more than two arms every other arm is "
        "compared with it (default: first in sorted order).",
    )
    weights: Literal["hajek", "ht"] = Field(
        "hajek", description="IPW: Hájek (normalised) or Horvitz–Thompson weights."
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
    bootstrap: int = Field(0, description="Bootstrap replicates for SEs and CIs (0: analytic).")
    jobs: Jobs = Field(
        1,
        description="Parallel workers (−1: every core) for the bootstrap (processes) and the "
        "cross-fitted learners of dml and --propensity lightgbm (threads); numbers do not "
        "depend on it.",
    )
    # --- quasi-experimental designs -------------------------------------------------------
    unit: str | None = Field(None, description="did/synthetic_control: unit (panel id) column.")
    time: str | None = Field(None, description="did/synthetic_control: time period column.")
    post: str | None = Field(
        None, description="did (2×2): 0/1 column marking post-treatment periods."
    )
    treat_start: float | str | None = Field(
        None,
        description="did/synthetic_control: first treated period (a value of the time column).",
    )
    cluster: str | None = Field(
        None, description="Cluster column for SEs (did: the unit by default; iv: none)."
    )
    did_model: Literal["auto", "twfe", "event_study", "callaway_santanna"] = Field(
        "auto",
        description="did: auto picks 2×2 (post flag), TWFE (one adoption date) or "
        "Callaway–Sant'Anna (staggered adoption).",
    )
    control_group: Literal["never", "notyet"] = Field(
        "never", description="did (staggered): never-treated or not-yet-treated comparisons."
    )
    aggregation: Literal["simple", "dynamic", "group"] = Field(
        "simple", description="did (staggered): headline aggregation of group-time ATTs."
    )
    leads: int | None = Field(None, description="did event study: pre-periods shown (default all).")
    lags: int | None = Field(None, description="did event study: post-periods shown (default all).")
    running_variable: str | None = Field(None, description="rdd: the running (score) column.")
    cutoff: float = Field(0.0, description="rdd: treatment starts at running variable ≥ cutoff.")
    kernel: Literal["triangular", "uniform", "epanechnikov"] = Field(
        "triangular", description="rdd: kernel weighting observations near the cutoff."
    )
    order: int = Field(1, description="rdd: local polynomial order (1 linear, 2 quadratic).")
    bandwidth: float | None = Field(
        None, description="rdd: bandwidth on each side (default MSE-optimal)."
    )
    instrument: list[str] = Field(default_factory=list, description="iv: instrument column(s).")
    iv_estimator: Literal["2sls", "liml"] = Field("2sls", description="iv: 2SLS or LIML.")
    iv_cov: Literal["robust", "unadjusted", "clustered"] | None = Field(
        None,
        description="iv: SE type – robust (HC0, default), unadjusted (classical) or clustered "
        "(default with --cluster).",
    )
    debiased: bool = Field(
        False, description="iv: small-sample factor n/(n − q) with t and F reference distributions."
    )
    treated_unit: list[str] = Field(
        default_factory=list, description="synthetic_control: the treated unit(s)."
    )
    sc_model: Literal["adh", "augmented", "sdid"] = Field(
        "adh",
        description="synthetic_control: Abadie–Diamond–Hainmueller, ridge-augmented, or "
        "synthetic difference-in-differences.",
    )
    alpha: Alpha = 0.05
    seed: int = 0

    @field_validator(
        "confounders", "interactions", "exact", "instrument", "treated_unit", mode="before"
    )
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        value = value.strip().lower()
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

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap(cls, value: int) -> int:
        if value != 0 and value < 50:
            raise ValueError(f"bootstrap needs 0 (analytic) or at least 50 replicates, got {value}")
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

    @field_validator("order")
    @classmethod
    def _order(cls, value: int) -> int:
        if value not in (0, 1, 2, 3):
            raise ValueError(f"order is the local polynomial order 0–3, got {value} (e.g. 1)")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> CausalSpec:
        if self.method in QUASI:
            return self._design_columns()
        if self.treatment is None:
            raise ValueError("name the treatment column (e.g. --treatment campaign)")
        if self.propensity != "logistic" and self.method in ("regression", "gcomp", "dml"):
            raise ValueError(
                f"--propensity applies to ipw, aipw, stratification and psm; --method "
                f"{self.method} does not weight by a propensity model"
                + (" (use --learner for dml's nuisances)" if self.method == "dml" else "")
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
        if self.method != "psm" and (
            self.exact or self.caliper is not None or self.neighbours != 1
        ):
            raise ValueError("--neighbours, --caliper and --exact apply to --method psm only")
        if not self.confounders:
            raise ValueError("name the confounders to adjust for (e.g. --confounders age,income)")
        if self.treatment == self.outcome:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and the outcome")
        if isinstance(self.trim, float) and not 0 < self.trim < 0.5:
            raise ValueError(f"trim must be a number in (0, 0.5) or 'crump', got {self.trim!r}")
        return self

    def _design_columns(self) -> CausalSpec:
        """Each design names the columns it needs; say every missing one at once."""
        missing = [
            f"{flag} ({what})"
            for name, flag, what in DESIGN_NEEDS.get(self.method, [])
            if not getattr(self, name)
        ]
        if self.method == "did" and self.post is None and not (self.unit and self.time):
            missing.append(
                "--post (a 0/1 post-period column, for a 2×2 design) or --unit and --time "
                "(a panel; add --treat-start if --treatment marks the treated group)"
            )
        if self.method == "synthetic_control":
            missing += [
                f"{flag} ({what})"
                for name, flag, what in (
                    ("unit", "--unit", "the unit column"),
                    ("time", "--time", "the time column"),
                )
                if not getattr(self, name)
            ]
            if not self.treated_unit and self.treatment is None:
                missing.append("--treated-unit (or a 0/1 --treatment per unit-period)")
        if self.method in ("did", "iv") and self.treatment is None:
            missing.append("--treatment")
        if missing:
            raise ValueError(f"--method {self.method} needs " + "; ".join(missing))
        if self.method == "iv" and self.treatment in self.instrument:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and an instrument")
        if self.outcome in (self.treatment, self.running_variable):
            raise ValueError(f"{self.outcome!r} cannot be both the outcome and a design column")
        if self.bandwidth is not None and not self.bandwidth > 0:
            raise ValueError(f"bandwidth must be positive, got {self.bandwidth}")
        return self

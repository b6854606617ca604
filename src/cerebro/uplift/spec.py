"""`UpliftSpec`: what an uplift (heterogeneous treatment effect) analysis needs to know."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from cerebro.core.spec import Alpha, Jobs, SpecBase, cli, data_file, split_list

# The meta-learners of `cerebro.uplift.learners.LEARNERS` (kept here too so that validating a
# spec never imports the model code), the causal forest, and "all" to fit and compare them all.
LEARNER_MODELS = ("s_learner", "t_learner", "x_learner", "r_learner", "dr_learner")
MODELS = (*LEARNER_MODELS, "causal_forest")
MODEL_CHOICES = (*MODELS, "all")
BASE_LEARNERS = ("lightgbm", "linear", "random_forest")


class UpliftSpec(SpecBase):
    """The conditional average treatment effect (CATE) of `treatment` on `outcome` given
    `features`, its evaluation, response tiers and a targeting policy.

    `features` defaults to every other usable column of the data (numeric, or text with few
    distinct values; ID-like columns are left out), and the result says which were chosen.
    With more than two treatment values each arm is compared with `control`.
    """

    kind: Literal["uplift"] = "uplift"
    data: str | None = data_file(
        "Path of the data file (CSV, Parquet or JSON).",
        help="Data file (CSV, Parquet or JSON): one row per unit, or several with --unit.",
    )
    treatment: str = Field(
        ..., description="Treatment column: two values, or several arms compared with --control."
    )
    outcome: str = Field(..., description="Outcome column: 0/1 or numeric.")
    features: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("features", "covariates"),
        description="Feature columns (text columns are one-hot encoded); empty: every other "
        "usable column.",
    )
    model: str = Field(
        "x_learner",
        # `model_type` is the name the users' specs write (MISSION: UpliftSpec(…, model_type))
        validation_alias=AliasChoices("model", "model_type"),
        description=f"One of {', '.join(MODEL_CHOICES)} ('all' fits every model and compares "
        "them; the best by Qini coefficient is used for tiers, targeting and drivers).",
    )
    control: str | None = Field(
        None,
        description="The control (reference) arm (default: 0/False, else a value containing "
        "'control', else the first in sorted order).",
    )
    learner: Literal["lightgbm", "linear", "random_forest"] = Field(
        "lightgbm", description="Base learner of the meta-learners' nuisance and effect models."
    )
    propensity: float | None = Field(
        None,
        description="Known probability of treatment (randomised experiments); empty: "
        "estimated by cross-fitting.",
    )
    outcome_type: Literal["auto", "binary", "continuous"] = Field(
        "auto",
        description="auto: binary when the outcome is 0/1; binary refuses any other values.",
    )
    unit: str | None = Field(
        None,
        description="Unit id column when a unit has several rows (e.g. user_id on user × day "
        "rows): cross-fitting folds keep each unit's rows together and the ATE's standard "
        "error is clustered by unit. Empty: a repeating unit id is detected and used; 'none': "
        "every row is an independent unit.",
    )
    folds: int = Field(5, description="Cross-fitting folds (every row scored out of fold).")
    tiers: int = Field(5, description="Number of response tiers (quantiles of predicted uplift).")
    value_per_outcome: float = Field(
        1.0,
        description="Value of one incremental outcome unit (e.g. one conversion).",
        json_schema_extra=cli(flag="--value"),
    )
    cost_per_treatment: float = Field(
        0.0, description="Cost of treating one unit.", json_schema_extra=cli(flag="--cost")
    )
    budget: float | None = Field(
        None, description="Largest total treatment cost allowed by the targeting policy."
    )
    alpha: Alpha = Field(0.05, description="1 − confidence level.")
    seed: int = Field(0, description="Seed of the cross-fitting folds and the models.")
    jobs: Jobs = Field(
        -1,
        description="Threads for the cross-fitted models and the forest (−1: every core); the "
        "numbers do not depend on it.",
    )
    predictions: str | None = Field(
        None,
        description="Write per-row out-of-fold CATE predictions to this CSV file.",
        json_schema_extra=cli(output=True),
    )
    save: str | None = Field(
        None,
        description="Save the fitted model to this file (e.g. model.cerebro: a zip of "
        "manifest.json and .npy arrays) to score new rows with cerebro uplift-score.",
        json_schema_extra=cli(output=True),
    )

    @field_validator("features", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() == "none":
            return "none"
        return value or None

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        value = value.strip().lower().replace("-", "_").replace(" ", "_")
        if value not in MODEL_CHOICES:
            raise ValueError(f"unknown model {value!r}; use one of {', '.join(MODEL_CHOICES)}")
        return value

    @field_validator("control", mode="before")
    @classmethod
    def _control(cls, value: object) -> object:
        """YAML gives numbers for 0/1 arms; arms are compared as text."""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, int) else value

    @field_validator("propensity")
    @classmethod
    def _propensity(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value < 1:
            raise ValueError(
                f"propensity is the known probability of treatment, strictly between 0 and 1; "
                f"got {value} (e.g. 0.5)"
            )
        return value

    @field_validator("folds")
    @classmethod
    def _folds(cls, value: int) -> int:
        if not 2 <= value <= 20:
            raise ValueError(f"folds must be between 2 and 20, got {value} (e.g. 5)")
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: int) -> int:
        if not 2 <= value <= 10:
            raise ValueError(f"tiers must be between 2 and 10, got {value} (e.g. 5)")
        return value

    @field_validator("budget")
    @classmethod
    def _budget(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"budget must be a positive total cost, got {value} (e.g. 5000)")
        return value

    @field_validator("cost_per_treatment")
    @classmethod
    def _cost(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"cost per treatment cannot be negative, got {value}")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> UpliftSpec:
        if self.treatment == self.outcome:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and the outcome")
        for role, column in (("treatment", self.treatment), ("outcome", self.outcome)):
            if column in self.features:
                raise ValueError(
                    f"the {role} column {column!r} cannot also be a feature; drop it from "
                    "--features"
                )
        if self.unit in (self.treatment, self.outcome, *self.features):
            raise ValueError(
                f"the unit column {self.unit!r} cannot also be the treatment, the outcome or a "
                "feature"
            )
        if len(set(self.features)) != len(self.features):
            raise ValueError("--features names a column twice")
        if self.budget is not None and self.cost_per_treatment == 0:
            raise ValueError(
                "a budget limits the total treatment cost; give --cost per treated unit too"
            )
        if self.save and self.learner == "random_forest" and self.model != "causal_forest":
            raise ValueError(
                "random_forest base learners cannot be saved without pickle; use --learner "
                "lightgbm or linear with --save"
            )
        self._check_output_paths()
        return self

    def _check_output_paths(self) -> None:
        """--predictions and --save must not overwrite the input data or each other."""
        import os
        from pathlib import Path

        def same(a: str, b: str) -> bool:
            try:
                if Path(a).exists() and Path(b).exists():
                    return os.path.samefile(a, b)
                return Path(a).resolve() == Path(b).resolve()
            except OSError:
                return False

        named = [("--predictions", self.predictions), ("--save", self.save)]
        for flag, path in named:
            if path and isinstance(self.data, str) and same(path, self.data):
                raise ValueError(
                    f"{flag} is the input file {Path(self.data).name}; choose another path"
                )
        if self.predictions and self.save and same(self.predictions, self.save):
            raise ValueError(
                f"--predictions and --save are the same file {self.save}; give each its own path"
            )

"""`SensitivitySpec`: how robust an observational estimate is to a confounder nobody measured
(kind ``sensitivity``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import Alpha, EffectSpec, cli, split_list

METHODS = ("regression", "aipw", "dml", "psm")
EVALUE_FIELDS = {"evalue_rr": "rr", "evalue_or": "or", "evalue_hr": "hr", "evalue_smd": "smd"}


class SensitivitySpec(EffectSpec):
    """How strong an unobserved confounder would have to be to change the effect of `treatment`
    on `outcome` estimated with `confounders`: omitted-variable bias of the regression (Cinelli
    & Hazlett 2020) or of AIPW/DML (Chernozhukov et al. 2022), E-values, Rosenbaum bounds of
    matched pairs, and DoWhy-style refutations. With `evalue_rr` (or `evalue_or`, `evalue_hr`,
    `evalue_smd`) and no data: the E-value of a published estimate."""

    kind: Literal["sensitivity"] = "sensitivity"
    data: str | None = Field(
        None,
        description="Data file (CSV, Parquet or JSON), one row per unit; omit with --evalue-rr "
        "(or -or, -hr, -smd).",
        json_schema_extra=cli(argument=True),
    )
    treatment: str | None = Field(None, description="Binary treatment column.")
    outcome: str | None = Field(None, description="Outcome column (numeric or 0/1).")
    alpha: Alpha = Field(0.05, description="1 − confidence level.")
    method: Literal["regression", "aipw", "dml", "psm"] = Field(
        "regression",
        description="regression: OLS with classical SEs and the Cinelli–Hazlett bounds (as "
        "sensemakr); aipw or dml: the long-story-short bounds of the ATE from the estimate's "
        "influence functions; psm: nearest-neighbour matches of the treated (ATT, `neighbours` "
        "each) and Rosenbaum's Γ.",
    )
    unobserved_confounder_strength: list[float] = Field(
        default_factory=list,
        description="Strength of a hypothetical confounder as partial R²: one value for both "
        "sides, or two, with the treatment then with the outcome (regression: R²_D~Z|X,R²_Y~Z|D,X; "
        "aipw/dml: Cf_D,Cf_Y), each in [0, 1).",
    )
    benchmark: list[str] = Field(
        default_factory=list,
        description="Confounders whose observed strength, times `kd` and `ky`, bounds the "
        "unobserved one (e.g. female): regression, their partial R² (Cinelli & Hazlett); aipw or "
        "dml, their gains Cf_D, Cf_Y from a refit without them (Chernozhukov et al. 2022).",
    )
    kd: list[float] = Field(
        default_factory=lambda: [1.0, 2.0, 3.0],
        description="Multiples of the benchmark's partial R² with the treatment (aipw/dml: of "
        "its Cf_D).",
    )
    ky: list[float] = Field(
        default_factory=list,
        description="Multiples of the benchmark's partial R² with the outcome (aipw/dml: of its "
        "Cf_Y; default: `kd`).",
    )
    neighbours: int = Field(
        1,
        description="psm: controls matched to each treated unit; 1 gives pairs and the "
        "signed-rank test, more gives matched sets and the Huber–Maritz m-test (Rosenbaum 2007).",
    )
    m_trim: float = Field(
        2.5,
        description="psm with 2+ neighbours: where Huber's ψ of the m-test turns flat, in units of "
        "the median within-set gap (senmv's trim; a value beyond every gap, e.g. 1e9, scores the "
        "gaps untrimmed – the permutational t-test).",
    )
    m_inner: float = Field(
        0.0,
        description="psm with 2+ neighbours: gaps below this (same units) score 0 (senmv's inner "
        "trimming; 0: none).",
    )
    q: float = Field(
        1.0, description="Share of the estimate the robustness value removes (1: all of it)."
    )
    robust: bool = Field(
        False, description="regression: HC1 robust SEs instead of the classical ones."
    )
    refute: bool = Field(
        True,
        description="Refutations: placebo treatment, random common cause, data subset, dummy "
        "outcome (each one seeded re-estimate).",
    )
    seed: int = Field(0, description="Seed of the refutations and of dml's folds.")
    evalue_rr: float | None = Field(None, description="E-value of this risk ratio (no data).")
    evalue_or: float | None = Field(None, description="E-value of this odds ratio (no data).")
    evalue_hr: float | None = Field(None, description="E-value of this hazard ratio (no data).")
    evalue_smd: float | None = Field(
        None, description="E-value of this standardised mean difference (no data)."
    )
    evalue_ci: list[float] = Field(
        default_factory=list, description="The estimate's confidence limits, low,high."
    )
    common_outcome: bool = Field(
        False,
        description="The outcome is common (over 15%): odds and hazard ratios are converted to "
        "risk ratios by VanderWeele's square-root rules.",
    )

    @field_validator("unobserved_confounder_strength", "benchmark", "kd", "ky", "evalue_ci",
                     mode="before")  # fmt: skip
    @classmethod
    def _split(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("unobserved_confounder_strength")
    @classmethod
    def _strength(cls, value: list[float]) -> list[float]:
        if len(value) > 2:
            raise ValueError(
                "unobserved_confounder_strength takes one value (both sides) or two (treatment, "
                f"outcome), got {len(value)}"
            )
        for v in value:
            if not 0 <= v < 1:
                raise ValueError(f"a partial R² in [0, 1) is needed, got {v:g} (e.g. 0.1)")
        return value

    @field_validator("q")
    @classmethod
    def _q(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError(f"q is the share of the estimate to remove, in (0, 1], got {value:g}")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> SensitivitySpec:
        given = [name for name in EVALUE_FIELDS if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError("give one of --evalue-rr, --evalue-or, --evalue-hr, --evalue-smd")
        if given:
            self._evalue_only(given[0])
            return self
        if self.evalue_ci:
            raise ValueError("--evalue-ci goes with --evalue-rr, -or, -hr or -smd")
        if self.treatment is None or self.outcome is None:
            raise ValueError(
                "name the treatment and outcome columns (e.g. --treatment campaign --outcome "
                "sales), or give --evalue-rr for the E-value of a published estimate"
            )
        # no confounders named: the runner reads them off the data (`data.roles`) and says so
        if self.treatment == self.outcome:
            raise ValueError(f"{self.treatment!r} cannot be both the treatment and the outcome")
        self._benchmarks()
        return self

    def _evalue_only(self, name: str) -> None:
        value = getattr(self, name)
        if name != "evalue_smd" and not value > 0:
            raise ValueError(f"{name} is a ratio and must be positive, got {value:g}")
        if self.evalue_ci and len(self.evalue_ci) != 2:
            raise ValueError("evalue_ci takes two limits, low,high (e.g. 1.8,8.7)")
        if self.evalue_ci and not min(self.evalue_ci) <= value <= max(self.evalue_ci):
            raise ValueError(
                f"{name} {value:g} lies outside --evalue-ci {self.evalue_ci[0]:g},"
                f"{self.evalue_ci[1]:g}"
            )
        if name != "evalue_smd" and self.evalue_ci and min(self.evalue_ci) <= 0:
            raise ValueError("the confidence limits of a ratio must be positive")
        if self.data is not None:
            raise ValueError(f"--{name.replace('_', '-')} takes no data file; drop DATA")

    def _benchmarks(self) -> None:
        if self.robust and self.method != "regression":
            raise ValueError(
                f"--robust sets the regression's SEs; --method {self.method} has its own "
                "(influence functions or Abadie–Imbens) – drop --robust"
            )
        if self.benchmark and self.method == "psm":
            raise ValueError(
                "--benchmark bounds a confounder by an observed one's R² (regression) or gains "
                "(aipw, dml); Rosenbaum's Γ of --method psm has no benchmark – drop --benchmark"
            )
        for name in self.benchmark:
            if self.benchmark_term(name) is None:
                raise ValueError(
                    f"benchmark {name!r} is not one of the confounders "
                    f"({', '.join(self.confounders)}); add it to --confounders or benchmark one "
                    "of them"
                )
        if self.neighbours != 1 and self.method != "psm":
            raise ValueError(
                f"--neighbours sets the matches of --method psm; --method {self.method} does not "
                "match – drop --neighbours"
            )
        if self.neighbours < 1:
            raise ValueError(f"neighbours must be at least 1, got {self.neighbours}")
        self._m_test()
        if any(not k > 0 for k in [*self.kd, *self.ky]):
            raise ValueError("kd and ky are positive multiples of the benchmark's strength")
        if self.ky and len(self.ky) != len(self.kd):
            raise ValueError(f"ky needs one value per kd ({len(self.kd)}), got {len(self.ky)}")

    def _m_test(self) -> None:
        changed = [f"--m-{name}" for name, default in (("trim", 2.5), ("inner", 0.0))
                   if getattr(self, f"m_{name}") != default]  # fmt: skip
        if changed and (self.method != "psm" or self.neighbours < 2):
            raise ValueError(
                f"{' and '.join(changed)} {'shape' if len(changed) > 1 else 'shapes'} the m-test of matched sets (--method psm "
                "--neighbours 2 or more); pairs use the signed-rank test – drop "
                f"{' and '.join(changed)}"
            )
        if not 0 < self.m_trim < float("inf"):
            raise ValueError(
                f"m_trim must be a positive number (e.g. 2.5; 1e9 for no trimming), got "
                f"{self.m_trim:g}"
            )
        if not 0 <= self.m_inner < self.m_trim:
            raise ValueError(
                f"m_inner must be in [0, m_trim) = [0, {self.m_trim:g}), got {self.m_inner:g}"
            )

    def benchmark_term(self, name: str) -> str | None:
        """The confounder term a benchmark names: the term itself, or the one term built from
        that column alone (``village`` for ``C(village)``)."""
        if name in self.confounders:
            return name
        from cerebro.data.columns import source_columns

        terms = [t for t in self.confounders if source_columns(t) == [name]]
        return terms[0] if len(terms) == 1 else None

    @property
    def evalue_measure(self) -> tuple[str, float] | None:
        """(measure, value) of the E-value-only mode, None with data."""
        for name, measure in EVALUE_FIELDS.items():
            if getattr(self, name) is not None:
                return measure, float(getattr(self, name))
        return None

    def strengths(self) -> tuple[float, float] | None:
        """(treatment side, outcome side) of `unobserved_confounder_strength`, None if unset."""
        s = self.unobserved_confounder_strength
        if not s:
            return None
        return (s[0], s[0]) if len(s) == 1 else (s[0], s[1])

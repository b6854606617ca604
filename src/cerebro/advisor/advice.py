"""What the advisor returns (`Advice`), what the user can override (`Roles`), and the
column choices every design shares (the outcome, the treatment, the covariates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cerebro.advisor import vocabulary as v
from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.advisor.profile import Profile

# `--design` values: a kind, or an A/B test's Bayesian / sequential reading.
DESIGNS = (
    "abtest", "bayesian", "sequential", "causal", "did", "synthetic_control", "geotest",
    "rdd", "uplift", "mmm",
)  # fmt: skip
QUESTIONS = ("effect", "heterogeneity")


@dataclass
class Roles:
    """The command line's overrides: each names a column (or a value) the profile would
    otherwise guess."""

    kpi: list[str] | None = None
    treatment: str | None = None
    date_column: str | None = None
    unit: str | None = None
    geo: str | None = None
    running_variable: str | None = None
    cutoff: float | None = None
    treatment_start: str | None = None
    channels: list[str] | None = None
    covariates: list[str] | None = None
    design: str | None = None
    question: str = "effect"

    def columns(self) -> list[str]:
        """Every column the overrides name."""
        single = (self.treatment, self.date_column, self.unit, self.geo, self.running_variable)
        named = [*(self.kpi or []), *(self.channels or []), *(self.covariates or [])]
        return list(dict.fromkeys([*named, *(c for c in single if c)]))

    def check(self, frame: pd.DataFrame) -> None:
        """Every column named exists; the design and the question are known."""
        from cerebro.data.columns import numeric_column
        from cerebro.data.load import require_columns

        require_columns([str(c) for c in frame.columns], self.columns())
        numeric = {"outcome": self.kpi, "spend": self.channels, "covariate": self.covariates}
        numeric["running variable"] = [self.running_variable] if self.running_variable else []
        for role, columns in numeric.items():
            for column in columns or []:
                numeric_column(frame[column], column, role)  # text, ±inf, huge: one sentence
        if self.design is not None and self.design not in DESIGNS:
            raise UserInputError(
                f"unknown --design {self.design!r}; choose one of: {', '.join(DESIGNS)}."
            )
        if self.question not in QUESTIONS:
            raise UserInputError(
                f"--question is 'effect' or 'heterogeneity', not {self.question!r}."
            )


@dataclass(frozen=True)
class Trap:
    """A feature of the data that would mislead a naive analysis, and what was done about it."""

    code: str
    message: str


@dataclass
class Advice:
    """The chosen design: the spec to run and, in plain words, why – each rejected
    alternative, the assumptions the user must believe, and the traps found."""

    design: str
    kind: str
    spec: dict[str, Any]
    why: str
    assumptions: list[str]
    rejected: list[tuple[str, str]] = field(default_factory=list)
    traps: list[Trap] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    def explanation(self) -> str:
        """The whole explanation as text (what `cerebro auto` prints)."""
        lines = [f"Design: {self.design} (kind {self.kind}).", self.why]
        if self.traps:
            lines += ["Traps found in the data:"]
            lines += [f"  - [{t.code}] {t.message}" for t in self.traps]
        lines += ["Assumptions you must believe for the estimate to be causal:"]
        lines += [f"  - {a}" for a in self.assumptions]
        if self.rejected:
            lines += ["Alternatives considered and not chosen:"]
            lines += [f"  - {name}: {reason}" for name, reason in self.rejected]
        return "\n".join(lines)


def names(columns: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    quoted = [f"'{c}'" for c in columns]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


ARM_PRIORITY = ("variant", "arm", "treatment", "treated", "treat", "group", "assignment")


def choose_treatment(profile: Profile, roles: Roles) -> str | None:
    """The user's --treatment, else the arm column whose name says it most clearly."""
    if roles.treatment:
        return roles.treatment
    arms = profile.with_role("arm")

    def rank(name: str) -> int:
        lowered = name.lower()
        return next((i for i, w in enumerate(ARM_PRIORITY) if w in lowered), len(ARM_PRIORITY))

    return min(arms, key=rank) if arms else None


def choose_outcomes(profile: Profile, roles: Roles, taken: set[str]) -> list[str]:
    """The user's --kpi, else the numeric columns named like an outcome (revenue, converted,
    sales …); else the one numeric column left. Refuses when it cannot tell."""
    if roles.kpi:
        return list(roles.kpi)
    found = [n for n in profile.with_role("outcome") if n not in taken]
    found = [n for n in found if not profile.columns[n].has("pre-period")]
    if found:
        return found
    left = [
        n
        for n, c in profile.columns.items()
        if c.numeric and n not in taken and not (set(c.roles) - {"outcome", "spend"})
    ]
    if len(left) == 1:
        return left
    raise UserInputError(
        "cannot tell which column is the outcome"
        + (f" (candidates: {', '.join(left)})" if left else "")
        + "; name it with --kpi."
    )


def is_experiment_arm(name: str, levels: list[str] | None = None) -> bool:
    """An arm column named like an experiment's assignment (variant, arm, bucket …), or whose
    levels name a control arm – not merely 'treated', which observational tables use too."""
    if any("control" in str(level).lower() for level in levels or []):
        return True
    return v.named(
        v.words("variant", "arm", "bucket", "cell", "assignment", "assigned", "experiment"),
        name,
    ) or v.named(v.words("group", "test_group"), name)

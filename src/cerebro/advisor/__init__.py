"""The design advisor behind `cerebro auto`: profile a table, choose the design and method
that can answer a causal question from it, and explain the choice.

A face-level package (like `codegen`): it reads data and writes spec *dicts* of any family's
kinds, validated by `parse_spec` through the registry, but it imports no family – its rules
are about the data (`profile`, `checks`), not about estimators. Every rule is deterministic,
so the same table gives the same advice twice, and each choice carries its reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cerebro.advisor import checks
from cerebro.advisor import vocabulary as v
from cerebro.advisor.advice import Advice, Roles, Trap, choose_treatment
from cerebro.advisor.designs import cross_section, rdd_advice
from cerebro.advisor.panels import mmm_advice, mmm_shaped, panel_advice
from cerebro.advisor.profile import Profile, profile_frame, shape
from cerebro.core.errors import UserInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Advice", "Profile", "Roles", "Trap", "advise", "profile_frame"]

PANEL_DESIGNS = ("did", "synthetic_control", "geotest")


def apply_overrides(profile: Profile, frame: pd.DataFrame, roles: Roles) -> None:
    """Make the profile say what the command line says, then recompute the table's shape."""
    exclusive = {"date": roles.date_column, "unit id": roles.unit, "geo": roles.geo}
    for role, column in exclusive.items():
        if column:
            for c in profile.columns.values():
                if role in c.roles and c.name != column:
                    c.roles.remove(role)
            if role not in profile.columns[column].roles:
                profile.columns[column].roles.insert(0, role)
    if roles.channels is not None:
        for c in profile.columns.values():
            if "spend" in c.roles and c.name not in roles.channels:
                c.roles.remove("spend")
        for name in roles.channels:
            profile.columns[name].roles.append("spend")
    for name in roles.kpi or []:
        profile.columns[name].roles = ["outcome"]
    if roles.treatment:
        profile.columns[roles.treatment].roles = ["arm"]
    if roles.date_column:
        profile.date = None
    shape(profile, frame)


def running_step(
    frame: pd.DataFrame, profile: Profile, roles: Roles, treatment: str | None
) -> checks.Step | None:
    """The running variable and cutoff: the user's, or a column along which a 0/1 treatment
    switches on at one threshold."""
    binary = treatment is not None and set(frame[treatment].dropna().unique()) <= {0, 1}
    if roles.running_variable:
        if roles.cutoff is not None:
            agreement = 1.0
            if binary:
                on = (frame[roles.running_variable] >= roles.cutoff).astype(float)
                agreement = float((on == frame[treatment].astype(float)).mean())
            return checks.Step(roles.running_variable, roles.cutoff, agreement)
        if not binary:
            raise UserInputError(
                "give --cutoff with --running-variable (the threshold of the score)."
            )
        return checks.treatment_step(frame, treatment, roles.running_variable)
    if not binary:
        return None
    candidates = [
        n
        for n, c in profile.columns.items()
        if c.kind in ("continuous", "count")
        and c.distinct > 20
        and n != treatment
        and not set(c.roles) & {"outcome", "date", "unit id", "geo"}
        and n not in (roles.kpi or [])
    ]
    steps = [s for s in (checks.treatment_step(frame, treatment, n) for n in candidates) if s]
    return max(steps, key=lambda s: s.agreement) if steps else None


def has_timing(frame: pd.DataFrame, profile: Profile, roles: Roles, treatment: str) -> bool:
    """Whether the panel says when treatment began: the treatment switches on within units, a
    post-period flag, or --treatment-start. Without it, units with rows per day are a
    randomised test with repeated measures, not an intervention."""
    assert profile.panel
    varies = frame.groupby(profile.panel)[treatment].nunique().max() > 1
    return bool(varies or profile.with_role("post flag") or roles.treatment_start)


def stepped_treatment(frame: pd.DataFrame, profile: Profile, roles: Roles) -> str | None:
    """A 0/1 column with no other role that switches on at a threshold of a continuous
    column: the treatment of a regression discontinuity, whatever its name."""
    for name, c in profile.columns.items():
        free = c.kind == "binary" and not c.roles and name not in (roles.kpi or [])
        if free and running_step(frame, profile, roles, name) is not None:
            profile.columns[name].roles.append("arm")
            return name
    return None


NO_QUESTION = (
    "cannot answer a causal question from this table: no column says which units were treated "
    "(an arm, variant or 0/1 treatment column), it is not a panel with an intervention, and it "
    "has no date × channel-spend columns for a media mix model; name the treatment with "
    "--treatment (or the spend with --channels)."
)


def advise(
    frame: pd.DataFrame, roles: Roles | None = None, data: str = "data.csv"
) -> tuple[Profile, Advice]:
    """The profile of `frame` and the advice for it; `data` is the path the spec names.
    Refuses in one sentence (`UserInputError`) when the table cannot answer a causal
    question, saying what is missing."""
    roles = roles or Roles()
    roles.check(frame)
    profile = profile_frame(frame)
    apply_overrides(profile, frame, roles)
    design = roles.design
    treatment = choose_treatment(profile, roles)
    if design == "mmm" or (
        design is None and roles.treatment is None and mmm_shaped(profile, roles)
    ):
        return profile, mmm_advice(frame, profile, roles, data)
    if design in PANEL_DESIGNS or (
        design is None
        and profile.panel
        and treatment
        and has_timing(frame, profile, roles, treatment)
    ):
        if not profile.panel or not profile.date:
            raise UserInputError(
                "a panel design needs one row per unit and date; name them with --unit (or "
                "--geo) and --date-column."
            )
        if treatment is None:
            raise UserInputError(
                "the panel has no treatment column saying which units were treated and when; "
                "name a 0/1 column with --treatment."
            )
        return profile, panel_advice(frame, profile, roles, treatment, data)
    if treatment is None and roles.running_variable is None:
        treatment = stepped_treatment(frame, profile, roles)
    step = running_step(frame, profile, roles, treatment)
    if design == "rdd" or (design is None and step is not None):
        if step is None:
            raise UserInputError(
                "a regression discontinuity needs a running variable and its cutoff; give "
                "--running-variable and --cutoff."
            )
        column = profile.columns[step.column]
        column.roles.append("running variable")
        column.note = f"treatment switches on at ≥ {step.cutoff:g} ({step.agreement:.0%} of rows)"
        return profile, rdd_advice(frame, profile, roles, step, treatment, data)
    if treatment is None:
        scores = [n for n, c in profile.columns.items() if v.named(v.RUNNING, n) and c.numeric]
        if scores:
            raise UserInputError(
                NO_QUESTION.removesuffix(".")
                + f"; for a regression discontinuity on {scores[0]!r}, give --running-variable "
                f"{scores[0]} --cutoff C."
            )
        raise UserInputError(NO_QUESTION)
    return profile, cross_section(frame, profile, roles, treatment, data)

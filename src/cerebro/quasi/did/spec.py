"""`DiDSpec`: what a difference-in-differences estimate needs to know (kind ``did``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from cerebro.core.design_fields import (
    Aggregation,
    Bootstrap,
    Cluster,
    Control,
    ControlGroup,
    DiDModel,
    Lags,
    Leads,
    Post,
    Seed,
    SmallSample,
    Time,
    Treated,
    TreatStart,
    Unit,
    Weights,
)
from cerebro.core.errors import UserInputError
from cerebro.core.event_source import (
    Db,
    EventEngine,
    PanelFreq,
    SparkMaster,
    Table,
    check_event_source,
)
from cerebro.quasi.design import QuasiSpec

if TYPE_CHECKING:
    from cerebro.core.results import Finding


class DiDSpec(QuasiSpec):
    """The effect on the treated of a treatment that starts at a known time: a 2×2 design
    (`post`), one adoption date (two-way fixed effects) or staggered adoption
    (Callaway–Sant'Anna), from a panel (`unit`, `time`) or repeated cross-sections."""

    kind: Literal["did"] = "did"
    treatment: str | None = Field(
        None,
        description="The treated group (with post/treat_start) or 0/1 treated-this-period.",
    )
    treated: Treated
    control: Control
    unit: Unit
    time: Time
    post: Post
    treat_start: TreatStart
    cluster: Cluster
    small_sample: SmallSample
    weights: Weights
    did_model: DiDModel
    control_group: ControlGroup
    aggregation: Aggregation
    leads: Leads
    lags: Lags
    bootstrap: Bootstrap
    seed: Seed
    panel_freq: PanelFreq
    engine: EventEngine
    spark_master: SparkMaster
    db: Db
    table: Table

    @model_validator(mode="after")
    def _design(self) -> DiDSpec:
        # The design's columns (post, or unit and time) may be read off the data: they are
        # checked when the data are there (`with_roles`, `check_roles`).
        if self.treatment is None:
            self.needs(["--treatment"])
        self.check_outcome()
        check_event_source(self)
        if self.panel_freq and not (self.unit and self.time):
            raise ValueError(
                "--panel-freq totals the events per unit and period: give --unit and --time"
            )
        return self

    def event_columns(self) -> tuple[str | None, str, list[str], list[str]] | None:
        """With `panel_freq`: the outcome is summed per unit and period; the treatment, post,
        cluster and confounder columns describe the unit in that period (constant there)."""
        if not self.panel_freq:
            return None
        assert self.unit and self.time
        kept = [c for c in self.columns() if c not in (self.unit, self.time, self.outcome)]
        return self.unit, self.time, [self.outcome], kept

    def roles_missing(self) -> bool:
        return self.post is None and not (self.unit and self.time)

    def with_roles(self, frame: Any) -> tuple[DiDSpec, list[Finding]]:
        """A 0/1 column named `post` (any case) is the post-period of a 2×2 design."""
        from cerebro.core.results import Finding
        from cerebro.data.roles import binary_named

        column = binary_named(frame, ("post",))
        if column is None:
            return self, []
        note = Finding(
            "warning",
            "inferred_role",
            f"post-period column: {column!r}, a 0/1 column so named – a 2×2 design (override "
            "with --post, or give --unit and --time for a panel).",
        )
        return self.model_copy(update={"post": column}), [note]

    def check_roles(self) -> None:
        if self.roles_missing():
            raise UserInputError(
                "--method did needs --post (a 0/1 post-period column, for a 2×2 design) or "
                "--unit and --time (a panel; add --treat-start if --treatment marks the treated "
                "group)."
            )

    def design_columns(self) -> list[str | None]:
        return [self.unit, self.time, self.post, self.cluster, self.weights]

"""Specs of the two kinds that use a saved media mix model for weeks after its data:
`mmm_predict` (the KPI under a spend plan) and `mmm_optimize` (the best split of a budget).

Light on purpose (no numerics) so that the command line builds its options from the fields
without importing numpy's model code. The fields both kinds share are defined once here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.spec import Alpha, SpecBase, cli

ModelFile = Annotated[
    str | None,
    Field(
        description="A model saved by cerebro mmm --save (e.g. mmm.cerebro).",
        json_schema_extra=cli(argument=True, required=True),
    ),
]
ControlsAt = Annotated[
    Literal["mean", "last"],
    Field(
        description="Controls in the plan window when no plan file gives them: mean (their "
        "mean over the fitted weeks) or last (the model's last week); a model without controls "
        "ignores it.",
    ),
]
LEVEL = "1 − credible level (0.1: 90% intervals)."


def bounds_from_text(text: str | None) -> dict[str, tuple[float, float]] | None:
    """``"tv=0.5:1.5,search=0.8:2"`` → {"tv": (0.5, 1.5), "search": (0.8, 2.0)}; the channel
    names are checked against the model's when it is loaded."""
    from cerebro.mmm.optimize import parse_bounds

    if not text:
        return None
    names = [item.partition("=")[0].strip() for item in text.split(",") if item.strip()]
    return parse_bounds(text, names)


class MMMPredictSpec(SpecBase):
    """What-if: the KPI a saved media mix model predicts for the weeks of a spend plan that
    follow its data, with the adstock carry-over of the last fitted weeks' spend.

    Estimates (posterior mean and equal-tailed credible interval at level 1 − `alpha`): the
    KPI over the plan's weeks, the incremental KPI (the prediction minus the prediction with no
    media in the plan's weeks), the plan's ROI (incremental KPI ÷ the plan's spend) and each
    channel's contribution in the plan's weeks.
    """

    kind: Literal["mmm_predict"] = "mmm_predict"
    model: ModelFile = None
    plan: str | None = Field(
        None,
        description="Spend plan (CSV, Parquet or JSON): one row per week, starting the week "
        "after the model's last week, a date column named as the model's and one spend column "
        "per channel (and one per control, if the model has controls).",
        json_schema_extra=cli(required=True),
    )
    controls_at: ControlsAt = "mean"
    alpha: Alpha = Field(0.1, description=LEVEL)


class MMMOptimizeSpec(SpecBase):
    """The split of a budget over the next `periods` weeks across the channels that maximises a
    saved media mix model's expected incremental KPI (or profit), within per-channel bounds.

    The current plan is the last `periods` fitted weeks' spend; each channel keeps that weekly
    pattern and only its total moves. Estimates: the expected incremental KPI of the current and
    the optimal plan and the paired uplift (credible intervals at level 1 − `alpha`), and the
    optimal spend per channel.
    """

    kind: Literal["mmm_optimize"] = "mmm_optimize"
    model: ModelFile = None
    budget: float | None = Field(
        None,
        description="Total spend over the `periods` weeks; default: the current plan's total.",
    )
    periods: int = Field(13, description="Weeks of the plan, after the model's last week.")
    bounds: dict[str, tuple[float, float]] | None = Field(
        None,
        description="Per-channel spend bounds as multiples of the current spend, "
        "CHANNEL=LOW:HIGH comma-separated (e.g. 'tv=0.5:1.5,search=0.8:2'); other channels "
        "0 to unlimited.",
        json_schema_extra=cli(raw=True),
    )
    objective: Literal["kpi", "profit"] = Field(
        "kpi",
        description="kpi: maximise the expected incremental KPI, spending the whole budget; "
        "profit: maximise `kpi_value` × KPI − spend, spending at most the budget.",
    )
    kpi_value: float = Field(
        1.0, description="Value of one KPI unit in spend units (for profit and the ROI floor)."
    )
    roi_floor: float | None = Field(
        None, description="Keep `kpi_value` × expected KPI ≥ this × spend (optional)."
    )
    by_geo: bool = Field(
        False,
        description="Geo models: optimise every geo × channel pair's spend (bounds apply to "
        "each pair), not only the channel totals split across geos by their historical share.",
    )
    geo_budgets: dict[str, float] | str | None = Field(
        None,
        description="Geo models: a fixed budget per geo – a CSV with columns geo,budget (or, "
        "from Python, a mapping geo → budget) naming every geo of the model; each geo's "
        "channel split is optimised under its own budget and the bounds. The budgets sum to "
        "`budget`, or `budget` is left out and taken as their sum.",
    )
    controls_at: ControlsAt = "mean"
    alpha: Alpha = Field(0.1, description=LEVEL)
    seed: int = Field(0, description="Seed of the optimiser's random starting plans.")
    plan_output: str | None = Field(
        None,
        description="Write the optimal weekly plan here as CSV (the columns of a cerebro "
        "mmm-predict --plan file).",
        json_schema_extra=cli(output=True),
    )

    @field_validator("bounds", mode="before")
    @classmethod
    def _bounds_text(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return bounds_from_text(value)
        except ValueError as err:  # one sentence; the spec error adds its own full stop
            raise ValueError(str(err).rstrip(".")) from None

    @model_validator(mode="after")
    def _check(self) -> MMMOptimizeSpec:
        if self.periods < 1:
            raise ValueError(f"periods must be a whole number of weeks ≥ 1, got {self.periods}")
        return self

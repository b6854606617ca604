"""The `geotest` spec: which geos were treated, when, and how to estimate the lift."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cerebro.core.event_source import (
    Db,
    EventEngine,
    PanelFreq,
    SparkMaster,
    Table,
    check_event_source,
)
from cerebro.core.spec import Alpha, SpecBase, cli, data_file, split_list

GeoMethod = Literal["augmented_synthetic_control", "synthetic_control", "tbr", "matched_markets"]


def split_cells(value: Any) -> Any:
    """``"a,b;c,d"`` → [["a", "b"], ["c", "d"]]; a flat list is one cell."""
    if isinstance(value, str):
        return [split_list(cell) for cell in value.split(";") if cell.strip()]
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return [list(value)]
    return value


class GeoTestSpec(SpecBase):
    """A geo lift test: treated geos (one list per cell), the test window, the method.

    Each cell is analysed against the shared control pool (`control_geos`, default every geo
    in no cell), with the other cells' geos excluded.
    """

    kind: Literal["geotest"] = "geotest"
    data: str | None = data_file(
        "Long panel (CSV, Parquet or JSON): one row per geo and date (raw events with "
        "`panel_freq`).",
        required=False,
    )
    geo_column: str | None = Field(
        None,
        description="Column naming the geo (market); default: the one column named dma, geo, "
        "region, market, location, state or city.",
    )
    date_column: str = Field("date", description="Column with the date (or period number).")
    outcome: str | None = Field(
        None,
        description="Outcome column (units, sales, conversions); default: the one numeric "
        "column no other role takes.",
    )
    treatment_geos: list[list[str]] = Field(
        default_factory=list,
        description="Treated geos, comma-separated; several cells separated by ';' (\"a,b;c,d\"). "
        "Default: read off a 0/1 treated column; none with --method matched_markets proposes "
        "matched pairs.",
        json_schema_extra=cli(raw=True),
    )
    control_geos: list[str] | None = Field(
        None,
        description="Control pool (default: all others).",
        json_schema_extra=cli(keep_empty=True),
    )
    treatment_start: str | None = Field(
        None,
        description="First date of the test window (e.g. 2021-04-01); default: the first date "
        "a 0/1 treated column is 1.",
    )
    treatment_end: str | None = Field(None, description="Last date of the test (default: last).")
    method: GeoMethod = "augmented_synthetic_control"
    matching_vars: list[str] = Field(
        default_factory=list, description="Per-geo columns to match markets on (matched_markets)."
    )
    covariates: list[str] = Field(
        default_factory=list,
        description="Covariate columns (GeoLift's X): each geo's pre-test mean is balanced by "
        "the synthetic control beside the pre-test outcomes, scaled to weigh like one date "
        "(augsynth's Y ~ D | X); synthetic-control methods only.",
    )
    donor_weights: str | None = Field(
        None,
        description="synthetic_control: fixed weights of the control geos instead of fitted "
        "ones – 'geo=weight,…' (e.g. Austin=0.6,Denver=0.4) or a CSV file of unit,weight rows "
        "(the weights table of a previous run); ≥ 0, summing to 1, controls not named weigh 0.",
    )
    spend: str | None = Field(None, description="Spend column: cost per incremental unit, iROAS.")
    alternative: Literal["two-sided", "greater", "less"] = Field(
        "two-sided", description="two-sided, greater (lift > 0) or less."
    )
    alpha: Alpha = Field(0.1, description="Significance level (CI is 1 − alpha).")
    seed: int = Field(0, description="Seed for iid permutations.")
    permutation: Literal["block", "iid"] = Field(
        "block", description="Conformal permutations: moving blocks (default) or iid (GeoLift)."
    )
    fixed_effects: bool = Field(True, description="Remove each geo's pre-period mean (GeoLift).")
    panel_freq: PanelFreq
    engine: EventEngine
    spark_master: SparkMaster
    db: Db
    table: Table

    _cells = field_validator("treatment_geos", mode="before")(split_cells)

    @field_validator("method", mode="before")
    @classmethod
    def _geolift(cls, value: Any) -> Any:
        """`geolift` – the users' name for GeoLift's default – is its augmented synthetic
        control (ridge-augmented, per-geo fixed effects, conformal inference)."""
        return "augmented_synthetic_control" if value == "geolift" else value

    @field_validator("control_geos", "matching_vars", "covariates", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("treatment_start", "treatment_end", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @model_validator(mode="after")
    def _cells_ok(self) -> GeoTestSpec:
        if self.covariates and self.method not in (
            "augmented_synthetic_control",
            "synthetic_control",
        ):
            raise ValueError(
                f"--covariates enter the synthetic controls (GeoLift's X); --method {self.method} "
                "does not take them – use augmented_synthetic_control or synthetic_control"
            )
        if self.donor_weights is not None:
            self._donor_weights()
        check_event_source(self)
        if self.panel_freq and not (self.geo_column and self.outcome):
            raise ValueError(
                "--panel-freq totals the events per geo: name --geo-column and --outcome"
            )
        if any(not cell for cell in self.treatment_geos):
            raise ValueError("treatment_geos needs at least one geo in every cell")
        seen: dict[str, int] = {}
        for i, cell in enumerate(self.treatment_geos):
            for geo in cell:
                key = " ".join(geo.split()).casefold()
                if key in seen and seen[key] != i:
                    raise ValueError(
                        f"geo {geo!r} is in cells {seen[key] + 1} and {i + 1}; cells must not "
                        "overlap"
                    )
                seen[key] = i
        return self

    def _donor_weights(self) -> None:
        """Fixed weights replace the simplex fit of --method synthetic_control; given inline,
        they are checked here (a file is read with the panel)."""
        from cerebro.core.errors import UserInputError
        from cerebro.data.donor_weights import check_weights, parse_inline

        if self.method != "synthetic_control":
            raise ValueError(
                f"--donor-weights replaces the fitted weights of --method synthetic_control; "
                f"--method {self.method} fits its own – add --method synthetic_control or drop "
                "--donor-weights"
            )
        if self.covariates:
            raise ValueError(
                "--covariates are balanced by fitting the weights; fixed --donor-weights fit "
                "nothing – drop one of them"
            )
        if len(self.treatment_geos) > 1:
            raise ValueError(
                "--donor-weights describe the synthetic control of one treated cell; this test "
                f"has {len(self.treatment_geos)} – analyse the cells one at a time"
            )
        inline = parse_inline(self.donor_weights)
        if inline is not None:
            try:
                check_weights(inline, "--donor-weights")
            except UserInputError as err:
                raise ValueError(str(err).rstrip(".")) from None

"""`SyntheticControlSpec`: what a synthetic-control estimate needs to know (kind
``synthetic_control``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cerebro.core.design_fields import DonorWeights, SCModel, Time, TreatedUnit, TreatStart, Unit
from cerebro.quasi.design import QuasiSpec


class SyntheticControlSpec(QuasiSpec):
    """The effect on treated unit(s) of a panel: their outcome against a weighted combination of
    donor units fitted on the pre-treatment periods (Abadie, Diamond & Hainmueller 2010; ridge-
    augmented, Ben-Michael et al. 2021; synthetic DiD, Arkhangelsky et al. 2021)."""

    kind: Literal["synthetic_control"] = "synthetic_control"
    treatment: str | None = Field(
        None, description="0/1 treated-this-period column (instead of treated_unit)."
    )
    unit: Unit
    time: Time
    treat_start: TreatStart
    treated_unit: TreatedUnit
    sc_model: SCModel
    donor_weights: DonorWeights

    @model_validator(mode="after")
    def _design(self) -> SyntheticControlSpec:
        missing = [
            f"{flag} ({what})"
            for value, flag, what in (
                (self.unit, "--unit", "the unit column"),
                (self.time, "--time", "the time column"),
            )
            if not value
        ]
        if not self.treated_unit and self.treatment is None:
            missing.append("--treated-unit (or a 0/1 --treatment per unit-period)")
        self.needs(missing)
        self.check_outcome()
        if self.donor_weights is not None:
            self._donor_weights()
        return self

    def _donor_weights(self) -> None:
        """Fixed weights replace ADH's fitted ones; given inline, they are checked here."""
        from cerebro.core.errors import UserInputError
        from cerebro.data.donor_weights import check_weights, parse_inline

        if self.sc_model != "adh":
            raise ValueError(
                f"--donor-weights replaces the fitted weights of --sc-model adh; --sc-model "
                f"{self.sc_model} fits its own – drop one of them"
            )
        inline = parse_inline(self.donor_weights or "")
        if inline is not None:
            try:
                check_weights(inline, "--donor-weights")
            except UserInputError as err:
                raise ValueError(str(err).rstrip(".")) from None

    def design_columns(self) -> list[str | None]:
        return [self.unit, self.time]

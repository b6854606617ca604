"""The names users' spec files already use (MISSION: GeoTestSpec(…, method), UpliftSpec(…,
model_type)) are read as Cerebro's own, so their files run unchanged."""

from __future__ import annotations

import pytest

from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec

GEO = {
    "kind": "geotest", "data": "panel.csv", "geo_column": "location", "outcome": "Y",
    "treatment_geos": "chicago,portland", "treatment_start": "2021-04-01",
}  # fmt: skip


def test_method_geolift_is_the_augmented_synthetic_control():
    spec = parse_spec({**GEO, "method": "geolift"})
    assert spec.method == "augmented_synthetic_control"
    assert spec == parse_spec({**GEO, "method": "augmented_synthetic_control"})


@pytest.mark.parametrize("given", ["t_learner", "T-Learner", "t learner"])
def test_uplift_model_type_names_the_model(given):
    spec = parse_spec(
        {"kind": "uplift", "data": "d.csv", "treatment": "t", "outcome": "y", "model_type": given}
    )
    assert spec.model == "t_learner"


def test_an_unknown_model_type_is_one_sentence():
    with pytest.raises((UserInputError, ValueError), match="unknown model 'k_learner'"):
        parse_spec(
            {"kind": "uplift", "data": "d.csv", "treatment": "t", "outcome": "y",
             "model_type": "k_learner"}
        )  # fmt: skip

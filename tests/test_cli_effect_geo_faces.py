"""`cerebro causal`, `geotest` and `geo-design` take their options from their specs; what each
command line gives the spec (and the spinner it shows) is what the hand-written commands gave."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from typer.testing import CliRunner

import cerebro
from cerebro.cli import spec_options
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec
from cerebro.observational.spec import CausalSpec

runner = CliRunner()
CAUSAL = ["causal", "obs.csv", "--treatment", "t", "--outcome", "y", "--confounders", "a,b"]
GEOTEST = ["geotest", "geo.csv", "--geo-column", "geo", "--outcome", "Y", "--treatment-start",
           "2021-04-01", "--treatment-geos", "a,b"]  # fmt: skip
GEO_DESIGN = ["geo-design", "pre.csv"]


@pytest.fixture
def captured(monkeypatch) -> list[tuple[dict[str, Any], str]]:
    """The fields and spinner message each command hands to `run_fields` (which then stops)."""
    calls: list[tuple[dict[str, Any], str]] = []

    def fake(fields: dict[str, Any], message: str):
        calls.append((fields, message))
        raise UserInputError("stopped")

    monkeypatch.setattr(spec_options, "run_fields", fake)
    return calls


def fields_of(captured, args: list[str]) -> dict[str, Any]:
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "stopped" in out.output, out.output
    return captured[-1][0]


def test_causal_spinner_names_the_data_file(captured):
    fields_of(captured, ["causal", "some/dir/obs.csv", *CAUSAL[2:]])
    assert captured[-1][1] == "estimating the effect in obs.csv …"


def test_causal_fields_as_the_spec_reads_them(captured):
    fields = fields_of(captured, CAUSAL)
    assert fields["kind"] == "causal" and fields["data"] == "obs.csv"
    assert fields["confounders"] == ["a", "b"]
    assert fields["interactions"] is None  # not given: one outcome model per arm
    assert fields["debiased"] is False and fields["replace"] is True
    assert fields_of(captured, [*CAUSAL, "--interactions", ""])["interactions"] == []
    assert fields_of(captured, [*CAUSAL, "--interactions", "a"])["interactions"] == ["a"]
    assert fields_of(captured, [*CAUSAL, "--debiased"])["debiased"] is True
    assert fields_of(captured, [*CAUSAL, "--no-replace"])["replace"] is False
    assert fields_of(captured, [*CAUSAL, "--confounders", ""])["confounders"] == []
    for text, read in [("0.05", 0.05), ("crump", "crump")]:
        trim = fields_of(captured, [*CAUSAL, "--trim", text])["trim"]
        assert trim == text  # text: the spec parses it
        assert parse_spec({**captured[-1][0], "method": "ipw"}).trim == read


def test_causal_lone_debiased_flag_has_no_off_switch():
    out = runner.invoke(app, [*CAUSAL, "--no-debiased"])
    assert out.exit_code == 2 and "No such option" in out.output


def test_geotest_cells_go_to_the_spec_as_text(captured):
    fields = fields_of(captured, [*GEOTEST[:-1], "chicago, portland;atlanta,miami"])
    assert fields["treatment_geos"] == "chicago, portland;atlanta,miami"
    spec = parse_spec({k: v for k, v in fields.items() if v is not None})
    assert spec.treatment_geos == [["chicago", "portland"], ["atlanta", "miami"]]
    assert captured[-1][1] == "Estimating the geo lift…"
    assert fields["fixed_effects"] is True and fields["control_geos"] is None
    assert fields_of(captured, [*GEOTEST, "--no-fixed-effects"])["fixed_effects"] is False
    assert fields_of(captured, [*GEOTEST, "--control-geos", ""])["control_geos"] == []


def test_geo_design_shows_the_spinner_and_keeps_its_off_switch(captured):
    """geo-design runs like every command (its simulation bars sit under the spinner)."""

    def spec_of(args: list[str]):
        return parse_spec(fields_of(captured, [*GEO_DESIGN, *args]))

    for args, fixed in [([], True), (["--no-fixed-effects"], False), (["--fixed-effects"], True)]:
        assert spec_of(args).fixed_effects is fixed
    assert captured[-1][1] == "searching geo designs in pre.csv …"
    spec = spec_of(["--markets", "2-4", "--durations", "5", "--effects", "0,0.2"])
    assert spec.markets == [2, 3, 4]
    assert spec.durations == [5] and spec.effects == [0.0, 0.2]
    spec = spec_of([])
    assert spec.markets == [2, 3, 4, 5] and spec.durations == [10, 15]
    assert len(spec.effects) == 10
    with pytest.raises(UserInputError, match="runs backwards"):
        spec_of(["--markets", "5-2"])


def test_python_causal_face_is_generated_from_the_spec():
    face = cerebro.causal
    parameters = inspect.signature(face).parameters
    assert next(iter(parameters)) == "data"
    assert set(parameters) == set(CausalSpec.model_fields) - {"kind"}
    assert parameters["method"].default == "aipw" and parameters["replace"].default is True
    assert "Parameters" in face.__doc__ and "dml_model : " in face.__doc__
    with pytest.raises(TypeError, match="did you mean 'confounders'"):
        face(treatment="t", outcome="y", confounder=["a"])

"""The CLI and Python faces are derived from the spec fields: no face restates a default.

For every converted command: each spec field (except `kind` and fields hinted `skip`) has an
option whose default is the spec's, `cerebro <cmd> --help` lists it with that default, and the
Python function's signature has the same parameters and defaults.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import typer
from pydantic_core import PydanticUndefined
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.cli.spec_options import field_options, spec_command
from cerebro.core.errors import UserInputError
from cerebro.core.spec import SpecBase, face_hints
from cerebro.experiments.abtest.spec import ABTestSpec
from cerebro.experiments.bandit.spec import BanditSpec
from cerebro.experiments.design.spec import DesignSpec
from cerebro.experiments.power.analysis import PowerSpec
from cerebro.experiments.sequential.spec import SequentialDesignSpec
from cerebro.geo.design_spec import GeoDesignSpec
from cerebro.geo.lift_spec import GeoTestSpec
from cerebro.longitudinal.spec import LongitudinalSpec
from cerebro.mmm.plan_spec import MMMOptimizeSpec, MMMPredictSpec
from cerebro.observational.spec import CausalSpec
from cerebro.sensitivity.spec import SensitivitySpec
from cerebro.survival.spec import SurvivalSpec
from cerebro.uplift.spec import UpliftSpec

COMMANDS = {
    "power-analysis": (PowerSpec, "power_analysis"),
    "sequential-design": (SequentialDesignSpec, "sequential_design"),
    "design": (DesignSpec, "design"),
    "bandit": (BanditSpec, "bandit"),
    "causal": (CausalSpec, "causal"),
    "geotest": (GeoTestSpec, None),  # Python: cerebro.geo.analysis.geotest (not generated yet)
    "geo-design": (GeoDesignSpec, None),  # Python: cerebro.geo.design.geo_design (idem)
    "abtest": (ABTestSpec, "abtest"),
    # Python: cerebro.uplift.analysis.uplift (tests/test_uplift_faces.py): `cerebro.uplift` is
    # the subpackage once anything imported it, as the CLI now does.
    "uplift": (UpliftSpec, None),
    "mmm-predict": (MMMPredictSpec, "mmm_predict"),
    "mmm-optimize": (MMMOptimizeSpec, "mmm_optimize"),
    # Python: cerebro.survival.analysis.survival and cerebro.longitudinal.analysis.longitudinal
    # (as uplift: the attribute is the subpackage once anything imported it)
    "survival": (SurvivalSpec, None),
    "longitudinal": (LongitudinalSpec, None),
    # Python: cerebro.sensitivity.analysis.sensitivity (`cerebro.sensitivity` is a callable
    # package, as uplift's)
    "sensitivity": (SensitivitySpec, None),
}
PYTHON_FACES = [command for command, (_, function) in COMMANDS.items() if function]
runner = CliRunner()


def row_flags(line: str) -> list[str]:
    """The flags of a `--help` row: after its border and the required mark ``*``, with
    ``--type,--test-type`` (a flag and its alias) as two."""
    words = line[1:].split()
    words = words[1:] if words[:1] == ["*"] else words
    return [flag for word in words for flag in word.split(",")]


def spec_default(field):
    if field.default_factory is not None:
        return field.default_factory()
    return None if field.default is PydanticUndefined else field.default


def cli_fields(spec_type: type[SpecBase]) -> dict:
    return {
        name: field
        for name, field in spec_type.model_fields.items()
        if name != "kind" and not face_hints(field, "cli").get("skip")
    }


def click_params(command_name: str) -> dict[str, Any]:
    """The click parameters typer builds for a command, by name."""
    group = typer.main.get_command(app)
    return {p.name: p for p in group.commands[command_name].params}  # type: ignore[attr-defined]


def cli_value_as_spec(field, param: Any):
    """The command line's default read the way the spec reads it (a list is comma text)."""
    default = param.default
    if isinstance(default, str) and isinstance(spec_default(field), list):
        return [type(v)(x) for v, x in zip(spec_default(field), default.split(","), strict=False)]
    return default


def default_mismatches(params: dict[str, Any], spec_type: type[SpecBase]) -> list:
    """Spec fields whose option is missing or whose CLI default differs from the spec's."""
    wrong = []
    for name, field in cli_fields(spec_type).items():
        param = params.get(name)
        if param is None:
            wrong.append((name, "no option"))
        elif face_hints(field, "cli").get("required"):  # the command line must name the file
            if not (param.required and spec_default(field) is None):
                wrong.append((name, "not required"))
        elif field.is_required():  # no default anywhere: every face must name it
            if not param.required:
                wrong.append((name, "not required"))
        elif param.required or cli_value_as_spec(field, param) != spec_default(field):
            wrong.append((name, param.default, spec_default(field)))
    return wrong


@pytest.mark.parametrize("command", COMMANDS)
def test_every_spec_field_is_an_option_with_the_spec_default(command):
    spec_type, _ = COMMANDS[command]
    assert default_mismatches(click_params(command), spec_type) == []


def option_row(text: str, flag: str) -> str | None:
    """The help row of `flag`, with the lines a long help wraps onto."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if row_flags(line)[:1] == [flag]:
            row = [line]
            for more in lines[i + 1 :]:
                words = more[1:].replace("*", " ").split()
                if not words or words[0].startswith("-") or more.startswith("╰"):
                    break
                row.append(more)
            return " ".join(row)
    return None


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_option_with_its_default(command):
    spec_type, _ = COMMANDS[command]
    out = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250", "TERMINAL_WIDTH": "250"})
    assert out.exit_code == 0, out.output
    text = out.output
    params = click_params(command)
    for name in cli_fields(spec_type):
        param = params[name]
        if param.param_type_name == "argument":
            assert name in text
            continue
        row = option_row(text, param.opts[0])
        assert row is not None, f"{param.opts[0]} not in `{command} --help`"
        shown = param.default
        if shown is True and param.secondary_opts:  # typer shows an on/off switch by its name
            shown = param.opts[0].removeprefix("--")
        if shown not in (None, "", False):
            assert f"[default: {shown}]" in row, row
        if param.secondary_opts:
            assert param.secondary_opts[0] in row


@pytest.mark.parametrize("command", PYTHON_FACES)
def test_python_face_has_every_field_with_the_spec_default(command):
    spec_type, function = COMMANDS[command]
    face = getattr(cerebro, function)
    parameters = inspect.signature(face).parameters
    fields = {n: f for n, f in spec_type.model_fields.items() if n != "kind"}
    assert set(parameters) == set(fields)
    for name, field in fields.items():
        default = parameters[name].default
        if field.is_required():
            assert default is inspect.Parameter.empty, name
        else:
            assert default == spec_default(field), name
        assert re.search(rf"^{name} : ", face.__doc__, re.M), f"{name} missing from the docstring"
        if field.description and name != "data":
            first_words = re.sub(r"`", "", field.description)[:20]
            assert first_words in face.__doc__.replace("`", "")


def test_flags_short_names_and_aliases_of_the_converted_commands_are_kept():
    """The command lines of README.md and docs/*.md: exactly these names."""
    expected = {
        "power-analysis": {"relative": ["--relative"], "daily_traffic": ["--daily-traffic"]},
        "sequential-design": {
            "binding": ["--binding", "--non-binding"],
            "info_fractions": ["--info-fractions"],
        },
        "design": {"covariates": ["--balance-covariates"], "output": ["--output", "-o"]},
        "bandit": {"simulate": ["--simulate"], "output": ["--output", "-o"]},
        "causal": {
            "debiased": ["--debiased"],
            "replace": ["--replace", "--no-replace"],
            "treat_start": ["--treat-start"],
            "output": ["--output", "-o"],
        },
        "geotest": {
            "treatment_geos": ["--treatment-geos"],
            "fixed_effects": ["--fixed-effects", "--no-fixed-effects"],
            "output": ["--output", "-o"],
        },
        "geo-design": {
            "fixed_effects": ["--fixed-effects", "--no-fixed-effects"],
            "markets": ["--markets"],
            "output": ["--output", "-o"],
        },
        "abtest": {
            "treatment": ["--treatment", "-t"],
            "outcome": ["--outcome", "-y"],
            "test_type": ["--type", "--test-type"],
            "test_name": ["--name"],
            "bayes_model": ["--model"],
            "time_column": ["--time"],
            "from_summary": ["--from-summary"],
            "yates": ["--yates"],
            "binding": ["--binding", "--non-binding"],
            "expected_allocation": ["--expected-allocation"],
            "cluster": ["--cluster"],
            "srm_alpha": ["--srm-alpha"],
            "output": ["--output", "-o"],
        },
        "uplift": {
            "value_per_outcome": ["--value"],
            "cost_per_treatment": ["--cost"],
            "outcome_type": ["--outcome-type"],
            "predictions": ["--predictions"],
            "save": ["--save"],
            "output": ["--output", "-o"],
        },
    }
    for command, names in expected.items():
        params = click_params(command)
        for name, flags in names.items():
            assert params[name].opts + params[name].secondary_opts == flags, (command, name)


def test_a_default_changed_in_the_cli_path_is_caught(monkeypatch):
    """The default check can fail: a command whose --alpha default drifted to 0.1."""
    from cerebro.cli import spec_options

    original = spec_options.field_options

    def drifted(spec_type):
        return [
            spec_options.FieldOption(**{**o.__dict__, "default": 0.1}) if o.name == "alpha" else o
            for o in original(spec_type)
        ]

    monkeypatch.setattr(spec_options, "field_options", drifted)
    local = typer.Typer()
    spec_command(local, "power-analysis", PowerSpec, help="x")
    spec_command(local, "other", SequentialDesignSpec, help="y")  # two commands: a group
    group = typer.main.get_command(local)
    params = {p.name: p for p in group.commands["power-analysis"].params}
    assert default_mismatches(params, PowerSpec) == [("alpha", 0.1, 0.05)]


def test_list_options_split_on_commas_and_empty_means_default():
    options = {o.name: o for o in field_options(DesignSpec)}
    assert options["strata"].to_spec("region, spline(age, 4)") == ["region", "spline(age, 4)"]
    assert options["allocation"].to_spec("") is None  # the default: equal shares
    assert options["covariates"].to_spec("") == []  # keep_empty: no balance covariates
    assert options["strata"].to_spec("") == []


def test_literal_choices_are_listed_and_fields_referenced_as_flags():
    options = {o.name: o for o in field_options(PowerSpec)}
    assert "One of: two-sided, greater, less." in options["alternative"].help
    assert "with --sd." in options["baseline"].help
    assert "see --relative" in options["mde"].help
    sequential = {o.name: o for o in field_options(SequentialDesignSpec)}
    assert "needs --power and --sides 1" in sequential["futility"].help


def test_python_face_names_the_field_of_a_bad_value_and_of_a_typo():
    with pytest.raises(UserInputError, match="looks"):
        cerebro.sequential_design(looks="many")
    with pytest.raises(TypeError, match="did you mean 'alpha'"):
        cerebro.power_analysis(baseline=0.05, mde=0.01, alhpa=0.1)


def test_cli_and_python_faces_agree():
    out = runner.invoke(
        app, ["sequential-design", "--looks", "4", "--info-fractions", "0.4,0.7,0.9,1"]
    )
    assert out.exit_code == 0, out.output
    via_python = cerebro.sequential_design(looks=4, info_fractions=[0.4, 0.7, 0.9, 1])
    assert f"{via_python.estimates[0].value:.3f}" in out.output


def test_python_face_accepts_a_fields_other_names():
    """A spec's validation aliases (as ABTestSpec's treatment_column) keep working."""
    from pydantic import AliasChoices, Field

    from cerebro.core.python_face import python_face

    class Tiny(SpecBase):
        kind: str = "tiny"
        treatment: str = Field(validation_alias=AliasChoices("treatment", "treatment_column"))
        alpha: float = Field(0.05, description="Level.")

    face = python_face(Tiny, lambda spec, data: spec, name="tiny", summary="A test face.")
    assert list(inspect.signature(face).parameters) == ["treatment", "alpha"]
    assert face(treatment_column="arm").treatment == "arm"
    assert face(treatment="arm", alpha=0.1).alpha == 0.1
    with pytest.raises(UserInputError, match="treatment"):
        face(alpha=0.1)

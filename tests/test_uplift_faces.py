"""`cerebro uplift` and the Python `uplift` are derived from `UpliftSpec`.

`tests/test_cli_from_specs.py` checks the command's options; the Python face is checked here
from its module, because `cerebro.uplift` resolves to the subpackage once any module under
`cerebro.uplift` has been imported (the CLI imports `cerebro.uplift.spec` to build its options).
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys

from pydantic_core import PydanticUndefined
from typer.main import get_command

from cerebro.cli.main import app
from cerebro.uplift.analysis import uplift
from cerebro.uplift.spec import UpliftSpec


def test_python_face_has_every_field_with_the_spec_default():
    parameters = inspect.signature(uplift).parameters
    fields = {n: f for n, f in UpliftSpec.model_fields.items() if n != "kind"}
    assert set(parameters) == set(fields)
    for name, field in fields.items():
        default = parameters[name].default
        if field.is_required():
            assert default is inspect.Parameter.empty, name
        else:
            expected = field.default_factory() if field.default_factory else field.default
            assert default == (None if expected is PydanticUndefined else expected), name
        assert re.search(rf"^{name} : ", uplift.__doc__, re.M), name


def test_the_command_keeps_its_options_in_their_order():
    """The order of `cerebro uplift --help` before the options were derived from the spec."""
    command = get_command(app).commands["uplift"]
    assert [p.name for p in command.params] == [
        *["data", "treatment", "outcome", "features", "model", "control", "learner"],
        *["propensity", "outcome_type", "unit", "aggregate", "folds", "tiers"],
        "value_per_outcome",
        *["cost_per_treatment", "budget", "alpha", "seed", "jobs", "predictions", "save"],
        *["as_json", "output", "plot", "report"],
    ]


def test_cerebro_uplift_stays_the_function_after_the_subpackage_is_imported():
    code = "import cerebro, cerebro.uplift.spec; print(callable(cerebro.uplift))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_the_python_face_is_reachable_from_cerebro_before_the_subpackage_is_imported():
    code = "import cerebro; print(cerebro.uplift.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == importlib.import_module("cerebro.uplift.analysis").__name__

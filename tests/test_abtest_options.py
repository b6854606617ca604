"""`cerebro abtest` and `cerebro.abtest` from `ABTestSpec`: the options of one test type.

`abtest_spec.OPTIONS` names the test type that takes each Bayesian and sequential option; an
option set to anything but its default with another test type is refused by the spec – so by
every face – in one sentence naming the option and the test type that takes it.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec
from cerebro.experiments.abtest.spec import (
    BAYESIAN,
    OPTIONS,
    SEQUENTIAL,
    TEST_TYPES,
    ABTestSpec,
    flag_of,
    parse_allocation,
)

runner = CliRunner()
BASE = {"kind": "abtest", "treatment": "arm", "outcome": ["y"]}
# A value other than the default for every option of one test type: (spec value, CLI words).
GIVEN = {
    "prior": ([1, 1], ["--prior", "1,1"]),
    "rope": ([-0.01, 0.01], ["--rope=-0.01,0.01"]),
    "loss_threshold": (0.001, ["--loss-threshold", "0.001"]),
    "draws": (1000, ["--draws", "1000"]),
    "bayes_model": ("hurdle_lognormal", ["--model", "hurdle_lognormal"]),
    "chains": (2, ["--chains", "2"]),
    "mcmc_samples": (500, ["--mcmc-samples", "500"]),
    "time_column": ("day", ["--time", "day"]),
    "mixing_sd": (0.1, ["--mixing-sd", "0.1"]),
    "sequential_tuning": (5000.0, ["--sequential-tuning", "5000"]),
    "planned_n": (5000, ["--planned-n", "5000"]),
    "rho": (2.0, ["--rho", "2"]),
    "spending": ("pocock", ["--spending", "pocock"]),
    "futility": ("obf", ["--futility", "obf"]),
    "binding": (True, ["--binding"]),
}
SHOWN = {
    "prior": "--prior 1,1",
    "rope": "--rope=-0.01,0.01",
    "loss_threshold": "--loss-threshold 0.001",
    "draws": "--draws 1000",
    "bayes_model": "--model hurdle_lognormal",
    "chains": "--chains 2",
    "mcmc_samples": "--mcmc-samples 500",
    "time_column": "--time day",
    "mixing_sd": "--mixing-sd 0.1",
    "sequential_tuning": "--sequential-tuning 5000",
    "planned_n": "--planned-n 5000",
    "rho": "--rho 2",
    "spending": "--spending pocock",
    "futility": "--futility obf",
    "binding": "--binding",
}
# For each option: test types that must refuse it (another type, and the automatic choice).
WRONG = {name: ("welch", None, "bayesian" if t == "sequential" else "sequential")
         for name, t in OPTIONS.items()}  # fmt: skip


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    rng = np.random.default_rng(4)
    n = 400
    frame = pd.DataFrame(
        {
            "arm": np.repeat(["control", "B"], n // 2),
            "y": rng.normal(10, 2, n),
            "day": np.tile(np.arange(1, 5), n // 4),
        }
    )
    path = tmp_path_factory.mktemp("options") / "ab.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_table_names_spec_fields_and_test_types():
    assert set(OPTIONS) == set(BAYESIAN) | set(SEQUENTIAL)
    assert not set(BAYESIAN) & set(SEQUENTIAL)
    assert set(OPTIONS) <= set(ABTestSpec.model_fields)
    assert set(OPTIONS.values()) <= set(TEST_TYPES)
    assert set(GIVEN) == set(OPTIONS)
    # the descriptions say whose option it is, in each face
    for name, test_type in OPTIONS.items():
        assert ABTestSpec.model_fields[name].description.lower().startswith(test_type), name
    assert flag_of("time_column") == "--time" and flag_of("binding") == "--binding"


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.rstrip(".").count(". ") == 0, message


@pytest.mark.parametrize(
    ("name", "test_type"), [(n, t) for n, types in WRONG.items() for t in types]
)
def test_an_option_of_another_test_type_is_refused_by_the_spec(name, test_type):
    value, _ = GIVEN[name]
    fields = {**BASE, name: value, **({"test_type": test_type} if test_type else {})}
    with pytest.raises(UserInputError, match="invalid abtest spec") as caught:
        parse_spec(fields)
    message = str(caught.value)
    wanted = OPTIONS[name]
    current = f"--type {test_type}" if test_type else "the test chosen by the metric type"
    assert f"{SHOWN[name]} applies to --type {wanted} only, not to {current}" in message
    assert f"add --type {wanted} or drop it" in message
    one_sentence(message)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_an_option_of_another_test_type_is_refused_by_the_python_face(name):
    value, _ = GIVEN[name]
    frame = pd.DataFrame({"arm": ["control", "B"] * 5, "y": np.arange(10.0)})
    with pytest.raises(UserInputError, match=f"applies to --type {OPTIONS[name]} only"):
        cerebro.abtest(frame, treatment="arm", outcome="y", test_type="welch", **{name: value})


@pytest.mark.parametrize(
    ("name", "test_type"), [(n, t) for n, types in WRONG.items() for t in types[:2]]
)
def test_an_option_of_another_test_type_is_refused_on_the_command_line(csv, name, test_type):
    _, words = GIVEN[name]
    args = ["abtest", str(csv), "-t", "arm", "-y", "y", *words]
    out = runner.invoke(app, [*args, *(["--type", test_type] if test_type else [])])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert f"{SHOWN[name]} applies to --type {OPTIONS[name]} only" in text, text
    assert "Traceback" not in out.output
    one_sentence(text.removeprefix("error: "))


def test_several_options_of_one_type_are_named_together():
    fields = {**BASE, "test_type": "welch", "planned_n": 5000, "mixing_sd": 0.2}
    with pytest.raises(UserInputError) as caught:
        parse_spec(fields)
    message = str(caught.value)
    assert "--mixing-sd 0.2 and --planned-n 5000 apply to --type sequential only" in message
    assert (
        "(--time, --mixing-sd, --sequential-tuning, --planned-n, --spending, --rho, --futility "
        "and --binding all apply to "
        "--type sequential only)" in message
    )


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"planned_n": 5000, "binding": True}, "--binding applies to futility bounds"),
        ({"planned_n": 5000, "futility": "obf"}, "--futility needs --planned-n"),
        ({"futility": "obf", "mde": 1.0}, "--futility needs --planned-n"),
        ({"spending": "pocock"}, "--spending pocock applies to group-sequential boundaries only"),
    ],
)
def test_sequential_options_that_need_another_are_refused(csv, fields, words):
    spec = {**BASE, "test_type": "sequential", "time_column": "day", **fields}
    with pytest.raises(UserInputError, match="invalid abtest spec") as caught:
        parse_spec(spec)
    assert words in str(caught.value)
    one_sentence(str(caught.value))
    args = ["abtest", str(csv), "-t", "arm", "-y", "y", "--type", "sequential", "--time", "day"]
    for name, value in fields.items():
        if name not in ("time_column",):
            args += GIVEN[name][1] if name in GIVEN and value == GIVEN[name][0] else []
    if "mde" in fields:
        args += ["--mde", "1"]
    if "planned_n" in fields:
        args += GIVEN["planned_n"][1]
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.output
    assert words in " ".join(out.output.split()), out.output


@pytest.mark.parametrize("name", ["chains", "mcmc_samples"])
def test_mcmc_options_need_the_model_based_test(csv, name):
    value, words = GIVEN[name]
    with pytest.raises(UserInputError, match=rf"{SHOWN[name]} applies to --model hurdle_lognormal"):
        parse_spec({**BASE, "test_type": "bayesian", name: value})
    out = runner.invoke(app, ["abtest", str(csv), "-t", "arm", "-y", "y", "--type", "bayesian",
                              *words])  # fmt: skip
    assert out.exit_code == 2 and "applies to --model hurdle_lognormal only" in out.output


def test_defaults_and_each_types_own_options_pass():
    """The CLI sends every option at its default: those never count as given."""
    defaults = {n: ABTestSpec.model_fields[n].get_default(call_default_factory=True)
                for n in OPTIONS}  # fmt: skip
    for test_type in (None, *TEST_TYPES):
        parse_spec({**BASE, **defaults, "test_type": test_type})
    bayesian = {n: GIVEN[n][0] for n in BAYESIAN}
    assert parse_spec({**BASE, "test_type": "bayesian", **bayesian}).chains == 2
    # the mSPRT's options together; GrowthBook's sequence and power spending's ρ on their own
    alone = ("sequential_tuning", "rho")
    sequential = {n: GIVEN[n][0] for n in SEQUENTIAL if n not in alone}
    spec = parse_spec({**BASE, "test_type": "sequential", "mde": 1.0, **sequential})
    assert spec.binding and spec.spending == "pocock"
    tuned = parse_spec({**BASE, "test_type": "sequential", "sequential_tuning": 5000})
    assert tuned.sequential_tuning == 5000
    power = {"planned_n": 500, "spending": "power", "rho": 2.0, "time_column": "day"}
    assert parse_spec({**BASE, "test_type": "sequential", **power}).rho == 2.0


def test_own_options_run_on_the_command_line(csv):
    base = ["abtest", str(csv), "-t", "arm", "-y", "y", "--json"]
    out = runner.invoke(app, [*base, "--type", "bayesian", "--prior", "0,1,1,1", "--draws", "2000"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["spec"]["prior"] == [0, 1, 1, 1]
    out = runner.invoke(
        app,
        [*base, "--type", "sequential", "--time", "day", "--planned-n", "400", "--mde", "1",
         "--futility", "obf", "--binding", "--spending", "pocock"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    spec = json.loads(out.output)["spec"]
    assert spec["binding"] is True and spec["spending"] == "pocock" and spec["time_column"] == "day"


def test_expected_allocation_srm_alpha_and_cluster_none_on_the_command_line(csv):
    base = ["abtest", str(csv), "-t", "arm", "-y", "y", "--json"]
    out = runner.invoke(app, [*base, "--expected-allocation", "control=0.2,B=0.8"])
    payload = json.loads(out.output)
    assert payload["spec"]["expected_allocation"] == {"control": 0.2, "B": 0.8}
    srm = next(f for f in payload["findings"] if f["code"] == "srm")
    assert srm["level"] == "error" and "< 0.001" in srm["message"]
    out = runner.invoke(app, [*base, "--expected-allocation", "control=0.2,B=0.8",
                              "--srm-alpha", "1e-300"])  # fmt: skip
    payload = json.loads(out.output)
    assert payload["spec"]["srm_alpha"] == 1e-300
    assert next(f for f in payload["findings"] if f["code"] == "srm")["level"] == "info"
    out = runner.invoke(app, [*base, "--cluster", "none"])
    assert json.loads(out.output)["spec"]["cluster"] == "none"
    out = runner.invoke(app, [*base, "--expected-allocation", "control:1"])
    assert out.exit_code == 2 and "is not ARM=WEIGHT" in out.output
    out = runner.invoke(app, [*base, "--srm-alpha", "2"])
    assert out.exit_code == 2 and "srm_alpha must be strictly between 0 and 1" in out.output


def test_parse_allocation():
    assert parse_allocation("A=1, B=1,C=2") == {"A": 1.0, "B": 1.0, "C": 2.0}
    assert parse_allocation("") is None and parse_allocation(None) is None
    with pytest.raises(UserInputError, match="'B' is not ARM=WEIGHT"):
        parse_allocation("A=1,B")


def test_python_face_shows_every_field_and_keeps_todays_calls(csv):
    parameters = inspect.signature(cerebro.abtest).parameters
    assert set(parameters) == set(ABTestSpec.model_fields) - {"kind"}
    # optional since one-sample tests (`mu`); the spec names it when neither is given
    assert parameters["treatment"].default is None
    assert "srm_alpha : float, default 0.001" in cerebro.abtest.__doc__
    frame = pd.read_csv(csv)
    via_frame = cerebro.abtest(frame, treatment="arm", outcome="y")
    via_path = cerebro.abtest(str(csv), treatment_column="arm", outcome=["y"])
    assert via_frame.estimates[0].value == pytest.approx(via_path.estimates[0].value, rel=1e-12)
    out = runner.invoke(app, ["abtest", str(csv), "-t", "arm", "-y", "y", "--json"])
    assert json.loads(out.output)["estimates"][0]["value"] == pytest.approx(
        via_frame.estimates[0].value, rel=1e-12
    )
    # the spec's other names (model=, type=, time=) are still accepted
    res = cerebro.abtest(frame, treatment="arm", outcome="y", type="sequential", time="day")
    assert res.spec.test_type == "sequential" and res.spec.time_column == "day"
    summary = pd.DataFrame(
        {"arm": ["control", "B"], "n": [100, 100], "sum": [10, 14], "sum_sq": [10, 14]}
    )
    assert cerebro.abtest(summary, treatment="arm", outcome=None, from_summary=True).estimates
    with pytest.raises(TypeError, match="did you mean 'srm_alpha'"):
        cerebro.abtest(frame, treatment="arm", outcome="y", srm_alpah=0.01)

"""The designs as registered kinds: `kind: did|rdd|iv|synthetic_control` and
`cerebro causal --method <design>` reach one runner and give the same numbers; each design's spec
holds exactly the options `CausalSpec.OPTIONS` gives its method; an option given with a method that
does not take it is refused in one sentence naming both."""

from __future__ import annotations

import json
import time
from importlib import import_module

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import cerebro
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.core.registry import get_method
from cerebro.core.results import Result
from cerebro.core.spec import parse_spec
from cerebro.observational.spec import COMMON, OPTIONS, QUASI, CausalSpec, options_of

runner = CliRunner()
DESIGNS = {
    "did": "DiDSpec",
    "rdd": "RDDSpec",
    "iv": "IVSpec",
    "synthetic_control": "SyntheticControlSpec",
}


def _example(kind: str):
    module, function = str(get_method(kind).example).split(":")
    return getattr(import_module(module), function)()


def _flags(fields: dict) -> list[str]:
    args = []
    for name, value in fields.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        args += ["--" + name.replace("_", "-"), text]
    return args


@pytest.mark.parametrize("kind", QUASI)
def test_each_design_spec_holds_exactly_its_options(kind):
    """The table the causal spec checks options against and the design's own spec agree."""
    spec_type = get_method(kind).spec_type
    assert spec_type.__name__ == DESIGNS[kind]
    assert set(spec_type.model_fields) - {"kind"} == set(options_of(kind))
    assert set(COMMON) <= set(options_of(kind)) and set(OPTIONS) <= set(CausalSpec.model_fields)


@pytest.mark.parametrize("kind", QUASI)
def test_run_yaml_kind_and_causal_method_agree(kind, tmp_path):
    """`cerebro run` with `kind: <design>`, `kind: causal` + `method`, and `cerebro causal
    --method` give the same estimates; JSON says kind causal, method the design, and the spec
    restores as the design's own spec."""
    fields, frame = _example(kind)
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    payloads = []
    for head in ({"kind": kind}, {"kind": "causal", "method": kind}):
        spec_file = tmp_path / f"{head['kind']}.yaml"
        spec_file.write_text(yaml.safe_dump({**head, "data": str(csv), **fields}))
        out = runner.invoke(app, ["run", str(spec_file), "--json"])
        assert out.exit_code == 0, out.output
        payloads.append(json.loads(out.stdout))
    out = runner.invoke(app, ["causal", str(csv), *_flags(fields), "--method", kind, "--json"])
    assert out.exit_code == 0, out.output
    payloads.append(json.loads(out.stdout))
    values = [[e["value"] for e in p["estimates"]] for p in payloads]
    assert values[0] == pytest.approx(values[1], rel=1e-12)
    assert values[0] == pytest.approx(values[2], rel=1e-12)
    for payload in payloads:
        assert payload["kind"] == "causal" and payload["method"] == kind
        assert payload["spec"]["kind"] == kind
        restored = Result.from_dict(payload)
        assert type(restored.spec).__name__ == DESIGNS[kind]
        assert restored.to_dict()["estimates"] == payload["estimates"]


@pytest.mark.parametrize("kind", QUASI)
def test_python_function_equals_causal_route_and_example_is_small(kind):
    fields, frame = _example(kind)
    via_causal = cerebro.causal(frame, method=kind, **fields)
    started = time.perf_counter()
    own = getattr(cerebro, kind)(frame, **fields)
    assert time.perf_counter() - started < 2  # the example is small (≈0.1 s once imported)
    assert own.kind == via_causal.kind == "causal" and own.method == via_causal.method == kind
    assert [e.value for e in own.estimates] == [e.value for e in via_causal.estimates]
    assert type(own.spec) is type(via_causal.spec) is get_method(kind).spec_type
    head = own.estimates[0]
    assert head.ci_low <= head.value <= head.ci_high


@pytest.mark.parametrize("kind", QUASI)
def test_design_result_plots_through_its_kind(kind):
    fields, frame = _example(kind)
    result = getattr(cerebro, kind)(frame, **fields)
    assert result.plot() is not None
    restored = Result.from_dict(json.loads(json.dumps(result.to_dict())))
    assert restored.plot() is not None


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"method": "ipw", "running_variable": "age"},
         "--running-variable is not for --method ipw: --running-variable, --cutoff, --kernel, "
         "--order and --bandwidth apply to --method rdd only"),
        ({"method": "rdd", "running_variable": "age", "post": "p"},
         "--post is not for --method rdd: --post, --did-model"),
        ({"method": "iv", "instrument": "z", "sc_model": "sdid"},
         "--sc-model is not for --method iv"),
        ({"method": "synthetic_control", "unit": "u", "time": "t", "treated_unit": "a",
          "cluster": "c"},
         "--cluster is not for --method synthetic_control: --cluster applies to --method did, "
         "rdd and iv only"),
        ({"method": "aipw", "interactions": ["age"]},
         "--interactions is not for --method aipw: --interactions applies to --method gcomp and "
         "regression only"),
        ({"method": "ipw", "interactions": ["age"]}, "--interactions is not for"),
        ({"method": "aipw", "truncate": 99},
         "--truncate is not for --method aipw: --ipw-weights and --truncate apply to --method ipw "
         "only"),
        ({"method": "regression", "truncate": 99}, "--truncate is not for --method regression"),
        ({"method": "aipw", "ipw_weights": "ht"}, "--ipw-weights is not for --method aipw"),
        ({"method": "regression", "ipw_weights": "ht"}, "--ipw-weights is not for --method regression"),
        ({"method": "aipw", "weights": "pop"},
         "--weights is not for --method aipw: --weights applies to --method regression and did only"),
        ({"method": "ipw", "se": "classical"}, "--se is not for --method ipw"),
        ({"method": "regression", "weights": "pop", "regress_on": "propensity"},
         "--weights apply to the plain regression y ~ treatment + confounders"),
        ({"method": "regression", "weights": "pop", "sensitivity": True},
         "--sensitivity's robustness values are for unweighted least squares"),
        ({"method": "ipw", "weights": "hajek", "ipw_weights": "ht"},
         "--weights hajek is the old name of --ipw-weights hajek; give --ipw-weights only"),
        ({"method": "rdd", "running_variable": "r", "small_sample": "statsmodels"},
         "--small-sample is not for --method rdd"),
        ({"method": "ipw", "strata": 4}, "--strata is not for --method ipw"),
        ({"method": "aipw", "replace": False}, "--replace is not for --method aipw"),
        ({"method": "aipw", "dml_model": "plr"}, "--dml-model is not for --method aipw"),
        ({"method": "gcomp", "folds": 3}, "--folds is not for --method gcomp"),
        ({"method": "aipw", "folds": 3, "clip": 0.05},
         "--folds and --clip set the cross-fitting of dml and --propensity lightgbm"),
        ({"method": "did", "unit": "u", "time": "t", "estimand": "att"},
         "--estimand is not for --method did"),
        ({"method": "rdd", "running_variable": "age", "seed": 3}, "--seed is not for --method rdd"),
    ],
)  # fmt: skip
def test_an_option_of_another_method_is_refused(fields, words):
    base = {"kind": "causal", "treatment": "a", "outcome": "y", "confounders": ["x"]}
    with pytest.raises(UserInputError, match="invalid causal spec") as caught:
        parse_spec({**base, **fields})
    assert words in str(caught.value)


def test_defaults_and_the_methods_own_options_pass():
    """The CLI sends every option at its default: those never count as given."""
    base = {"kind": "causal", "treatment": "a", "outcome": "y", "confounders": ["x"]}
    defaults = {name: CausalSpec.model_fields[name].get_default(call_default_factory=True)
                for name in OPTIONS}  # fmt: skip
    for method in ("ipw", "aipw", "gcomp", "regression", "psm", "dml", "stratification"):
        parse_spec({**base, **defaults, "method": method})
    parse_spec({**base, "method": "ipw", "ipw_weights": "ht", "truncate": 99})
    legacy = parse_spec({**base, "method": "ipw", "weights": "ht", "truncate": 99})
    assert legacy.ipw_normalisation == "ht" and legacy.legacy_ipw_weights
    # specs written before the rename hold `weights: hajek` whatever their method
    assert parse_spec({**base, "method": "aipw", "weights": "hajek"}).legacy_ipw_weights
    parse_spec({**base, "method": "regression", "weights": "hajek", "regress_on": "propensity"})
    parse_spec({**base, "method": "regression", "weights": "pop", "se": "classical"})
    parse_spec({**base, "method": "gcomp", "interactions": ["x"]})
    parse_spec({**base, "method": "aipw", "propensity": "lightgbm", "folds": 3, "clip": 0.05})
    parse_spec({**base, "method": "dml", "folds": 3, "clip": 0.05})
    spec = parse_spec({**base, **defaults, "method": "rdd", "running_variable": "r"})
    assert (
        spec.design_spec().model_dump()
        == parse_spec(
            {
                "kind": "rdd",
                "treatment": "a",
                "outcome": "y",
                "confounders": ["x"],
                "running_variable": "r",
            }
        ).model_dump()
    )


def test_cli_refuses_design_flag_with_adjustment_method(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,y,x\n0,1,2\n1,2,3\n")
    args = ["causal", str(csv), "--treatment", "a", "--outcome", "y", "--confounders", "x"]
    for extra, words in (
        (["--method", "ipw", "--running-variable", "x"], "--running-variable is not for --method ipw"),
        (["--method", "aipw", "--interactions", "x"], "--interactions is not for --method aipw"),
        (["--method", "regression", "--truncate", "99"], "--truncate is not for --method regression"),
        (["--method", "aipw", "--ipw-weights", "ht"], "--ipw-weights is not for --method aipw"),
        (["--method", "aipw", "--weights", "x"], "--weights is not for --method aipw"),
    ):  # fmt: skip
        out = runner.invoke(app, [*args, *extra])
        assert out.exit_code == 2, out.output
        assert words in " ".join(out.output.split()) and "Traceback" not in out.output


def test_did_without_post_or_panel_is_refused_once_the_data_are_read():
    """`post` may be read off the data (a 0/1 column named post), so its absence is refused
    when the data are there – still one sentence, before any number."""
    frame = pd.DataFrame({"g": [0, 1] * 10, "y": np.arange(20.0)})
    with pytest.raises(UserInputError, match="--method did needs --post"):
        cerebro.did(frame, treatment="g", outcome="y")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": "did", "outcome": "y", "post": "p"}, "--method did needs --treatment"),
        ({"kind": "rdd", "outcome": "y"}, "--method rdd needs --running-variable"),
        ({"kind": "iv", "outcome": "y", "treatment": "d"}, "--method iv needs --instrument"),
        ({"kind": "synthetic_control", "outcome": "y"}, "--method synthetic_control needs --unit"),
        ({"kind": "rdd", "outcome": "y", "running_variable": "r", "bandwidth": -1},
         "bandwidth must be positive"),
        ({"kind": "iv", "outcome": "y", "treatment": "d", "instrument": "d"},
         "cannot be both the treatment and an instrument"),
        ({"kind": "did", "outcome": "y", "post": "p", "treatment": "a", "running_variable": "r"},
         "running_variable"),
    ],
)  # fmt: skip
def test_design_kind_refuses_bad_specs(fields, words):
    with pytest.raises(UserInputError, match=f"invalid {fields['kind']} spec") as caught:
        parse_spec(fields)
    assert words in str(caught.value)

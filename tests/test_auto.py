"""`cerebro auto`: the advisor picks the right design, method and traps on a zoo of synthetic
tables (tests/advisor_zoo.py), refuses what no design can answer in one sentence, and writes a
spec and a pipeline that reproduce its run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from advisor_zoo import ZOO, cases, mmm_weekly
from cerebro.advisor import Roles, advise
from cerebro.cli.main import app
from cerebro.core.errors import UserInputError
from cerebro.core.spec import parse_spec

CASES = cases()


def test_the_zoo_covers_every_design_and_trap_the_issue_lists():
    kinds = {c.kind for c in CASES}
    assert kinds >= {
        "abtest",
        "causal",
        "did",
        "synthetic_control",
        "geotest",
        "rdd",
        "uplift",
        "mmm",
    }
    traps = {t for c in CASES for t in c.traps}
    assert traps >= {
        "repeated_units",
        "not_randomised",
        "pre_trend",
        "post_treatment",
        "single_treated_unit",
    }
    assert len(CASES) >= 12 and len(ZOO) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_advisor_chooses_the_right_design_and_names_the_traps(case):
    _profile, advice = advise(case.frame, Roles(**case.roles), data="zoo.csv")
    assert advice.kind == case.kind, advice.explanation()
    for field, value in case.spec.items():
        assert advice.spec.get(field) == value, (field, advice.spec)
    found = {t.code for t in advice.traps}
    assert set(case.traps) <= found, advice.explanation()
    text = advice.explanation()
    for trap in advice.traps:
        assert f"[{trap.code}]" in text
    assert advice.assumptions and advice.rejected  # what to believe, and what was not chosen
    parse_spec(advice.spec)  # a valid spec of its kind


def by_name(name: str):
    return next(c for c in CASES if c.name.startswith(name))


def test_trap_messages_name_the_columns_they_are_about():
    cases = {
        "randomised test with repeated": "'user_id'",
        "randomised test with a post-treatment": "'sessions_after'",
        "confounded": "age",
        "a column that leaks": "'revenue_eur'",
        "A/B/n as user × day rows": "'usage'",
    }
    for name, column in cases.items():
        case = by_name(name)
        _profile, advice = advise(case.frame, Roles(**case.roles))
        assert column in advice.explanation(), name


def test_the_same_table_gets_the_same_advice_twice():
    case = by_name("confounded")
    first = advise(case.frame, Roles(**case.roles))[1]
    again = advise(case.frame.copy(), Roles(**case.roles))[1]
    assert first.spec == again.spec and first.explanation() == again.explanation()


def test_a_forced_design_keeps_the_warning_the_data_gives():
    """--design abtest on a confounded table runs the A/B test but names the confounding;
    --design causal on a randomised one adjusts without claiming an imbalance."""
    confounded = by_name("confounded")
    _p, advice = advise(confounded.frame, Roles(kpi=["spend_next_month"], design="abtest"))
    assert advice.kind == "abtest"
    assert [t.code for t in advice.traps] == ["not_randomised"]
    assert "age" in advice.explanation() and "asked for" in advice.explanation()
    _p, advice = advise(by_name("A/B/n with").frame, Roles(design="causal"))
    assert advice.kind == "causal" and advice.traps == []
    assert advice.why.startswith("Asked for adjustment")


def test_overrides_win_over_the_profile():
    case = by_name("panel with an intervention")
    _p, advice = advise(case.frame, Roles(design="synthetic_control"))
    assert advice.kind == "synthetic_control"
    case = by_name("randomised A/B")
    with pytest.raises(UserInputError, match="--date-column"):
        advise(case.frame, Roles(design="sequential"))
    with pytest.raises(
        UserInputError, match="column 'nope' not found in the data; available columns"
    ):
        advise(case.frame, Roles(kpi=["nope"]))


@pytest.mark.parametrize(
    ("content", "words", "options"),
    [
        ("", "is empty", []),
        ("a,b\n1,x\n1,x\n1,x\n", "no usable column", []),
        (
            "x,y\n" + "".join(f"{i},{i * 2 % 7}\n" for i in range(50)),
            "cannot answer a causal question",
            [],
        ),
        (
            "score,y\n" + "".join(f"{i / 7:.3f},{i % 5}.5\n" for i in range(60)),
            "give --running-variable score --cutoff C",
            [],
        ),
        (
            "variant,revenue\n" + "".join(f"control,{i * 1.5}\n" for i in range(30)),
            "one value only",
            ["--treatment", "variant"],
        ),
    ],
    ids=["empty file", "no usable column", "no treatment", "a score, no treatment", "one arm"],
)
def test_bad_input_is_one_sentence_exit_2_and_no_file(
    tmp_path, monkeypatch, content, words, options
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text(content)
    outputs = ["--output", "p.py", "--spec", "s.yaml", "--notebook", "p.ipynb"]
    result = CliRunner().invoke(app, ["auto", "data.csv", *outputs, *options])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_auto_runs_and_writes_a_spec_and_a_pipeline_that_reproduce_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name("randomised test with a post-treatment").frame.to_csv("ab.csv", index=False)
    result = CliRunner().invoke(app, ["auto", "ab.csv", "--output", "ab.py", "--spec", "ab.yaml"])
    assert result.exit_code == 0, result.output
    for words in ("Profile: 3000 rows", "randomised A/B test", "[post_treatment]", "new_checkout"):
        assert words in result.output
    spec = yaml.safe_load(Path("ab.yaml").read_text())
    assert spec["covariates"] == ["pre_orders"] and "# CUPED on" in Path("ab.yaml").read_text()
    script = Path("ab.py").read_text()
    assert "# CUPED on the pre-period column(s) pre_orders" in script
    assert "from ab.yaml" in script  # the header names the spec it came from
    assert CliRunner().invoke(app, ["generate", "ab.yaml", "--output", "later.py"]).exit_code == 0
    # generated later from the spec file, the pipeline keeps the advisor's reasons
    assert "# CUPED on the pre-period column(s) pre_orders" in Path("later.py").read_text()
    assert CliRunner().invoke(app, ["run", "ab.yaml", "--output", "run.json"]).exit_code == 0
    done = subprocess.run([sys.executable, "ab.py"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(Path("ab.json").read_text()) == json.loads(Path("run.json").read_text())


def test_no_run_only_advises(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name("running variable").frame.to_csv("rd.csv", index=False)
    result = CliRunner().invoke(app, ["auto", "rd.csv", "--kpi", "gpa", "--no-run"])
    assert result.exit_code == 0, result.output
    assert "regression discontinuity" in result.output and "RD effect" not in result.output


@pytest.mark.slow
def test_the_seed_auto_on_mmm_data_runs_an_mmm_and_writes_its_pipeline(tmp_path):
    mmm_weekly(np.random.default_rng(7)).frame.to_csv(tmp_path / "data.csv", index=False)
    cli = Path(sys.executable).parent / "cerebro"
    done = subprocess.run(
        [str(cli), "auto", "data.csv", "--output", "mmm_pipeline.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "media mix model" in done.stdout and "Media mix model of revenue" in done.stdout
    script = (tmp_path / "mmm_pipeline.py").read_text()
    compile(script, "mmm_pipeline.py", "exec")
    assert "result = cerebro.mmm(" in script
    assert 'channels=["tv_spend", "search_spend", "social_spend"],' in script
    # that the script reproduces `cerebro run` on an mmm spec is test_codegen's (slow) test

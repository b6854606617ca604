"""A corpus of bad inputs through the CLI: every one must end in exit code 2 with one sentence
naming the real problem and no traceback – or in a correct answer where the input is valid.

The corpus is a table of three parts, so that other commands can join it later (today: causal
with its seven adjustment methods, and the designs did, rdd, iv and synthetic_control, each on a
well-formed table of its own – `Command.frame` – whose first columns are t, y, x):

- a *command*: its name, its variants (the causal methods) and an argument builder that maps
  the generic columns ``t`` (treatment / arm), ``y`` (outcome) and ``x`` (covariate) of the
  data file to its flags;
- a *data builder*: writes one file into tmp_path (a well-formed one, with the defect of its
  category) and returns its path;
- the *expectation*: a regex the error output must match (whitespace collapsed), ``None`` for
  a valid input that must give exit code 0, or a dict of those by variant.

To add a command, append a `Command` to COMMANDS; the cases run for it unchanged, and a case
whose expectation differs for it can say so in `Case.expect_by_command`. A case a command fails
today in a family this branch may not edit is listed in KNOWN (a strict xfail with the reason),
never loosened.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning", "error::UserWarning")

Expectation = str | None | dict[str, str | None]


@dataclass(frozen=True)
class Command:
    """`frame` builds the well-formed table (columns t, y, x first, then the command's own),
    `answer` is a regex a valid input's output must match."""

    name: str
    variants: tuple[str, ...]
    args: Callable[[Path, str], list[str]]
    frame: Callable[[], pd.DataFrame] = field(default=lambda: frame())
    answer: str = "Estimated ATE of"


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path, Command], Path]
    expect: Expectation
    expect_by_command: dict[str, Expectation] = field(default_factory=dict)
    # command → why it fails today, in a family this branch may not edit (strict xfail)
    known_failures: dict[str, str] = field(default_factory=dict)


def _causal_args(path: Path, method: str) -> list[str]:
    return ["causal", str(path), "--treatment", "t", "--outcome", "y", "--confounders", "x",
            "--method", method]  # fmt: skip


def _design_args(path: Path, method: str) -> list[str]:
    common = ["causal", str(path), "--outcome", "y", "--confounders", "x", "--method", method]
    return (
        common
        + {
            "did": ["--treatment", "t", "--unit", "id", "--time", "period"],
            "rdd": ["--treatment", "t", "--running-variable", "r", "--cutoff", "0"],
            "iv": ["--treatment", "t", "--instrument", "z"],
            "synthetic_control": ["--treatment", "t", "--unit", "id", "--time", "period"],
        }[method]
    )


COMMANDS = [
    Command(
        "causal",
        ("ipw", "aipw", "regression", "psm", "stratification", "gcomp", "dml"),
        _causal_args,
    ),
    Command(
        "abtest",
        ("abtest",),
        lambda path, _: [
            "abtest",
            str(path),
            "--treatment",
            "t",
            "--outcome",
            "y",
            "--covariates",
            "x",
        ],
        answer=r"A/B test — \d arms",
    ),
    Command(
        "uplift",
        ("uplift",),
        lambda path, _: [
            "uplift",
            str(path),
            "--treatment",
            "t",
            "--outcome",
            "y",
            "--features",
            "x",
            "--learner",
            "linear",
        ],
        answer=r"Uplift of t on y",
    ),
    Command(
        "sensitivity",
        ("regression", "aipw"),
        lambda path, method: [
            "sensitivity",
            str(path),
            "--treatment",
            "t",
            "--outcome",
            "y",
            "--confounders",
            "x",
            "--method",
            method,
            "--no-refute",
        ],
        answer=r"Sensitivity of the effect of t on y",
    ),
    Command("did", ("did",), _design_args, lambda: did_frame(), "Estimated effect of t on y"),
    Command("rdd", ("rdd",), _design_args, lambda: rdd_frame(), "Regression discontinuity"),
    Command("iv", ("iv",), _design_args, lambda: iv_frame(), "instrumental variables"),
    Command(
        "synthetic_control",
        ("synthetic_control",),
        _design_args,
        lambda: synth_frame(),
        "Synthetic control",
    ),
    Command(
        "counterfactual",
        ("mediation",),
        lambda path, _: [
            "counterfactual",
            str(path),
            "--treatment",
            "t",
            "--outcome",
            "y",
            "--confounders",
            "x",
            "--mediator",
            "m",
            "--bootstrap",
            "50",
        ],
        lambda: frame().assign(m=lambda f: 0.5 * f.t + f.x + np.cos(np.arange(len(f)))),
        r"Natural indirect effect \(NIE\)",
    ),
]


def frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A well-formed table: binary treatment t confounded by x, outcome y with effect 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    return pd.DataFrame({"t": t, "y": 1 + t + x + rng.normal(size=n), "x": x})


def did_frame(n_units: int = 50, periods: int = 8, seed: int = 0) -> pd.DataFrame:
    """A panel of 400 unit-periods: half the units treated from period 4 (t = treated in this
    period), effect 1, a time-varying covariate x."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), periods)
    period = np.tile(np.arange(periods), n_units)
    t = ((unit % 2 == 1) & (period >= 4)).astype(int)
    x = rng.normal(size=len(unit))
    y = rng.normal(size=n_units)[unit] + 0.2 * period + t + x + rng.normal(size=len(unit))
    return pd.DataFrame({"t": t, "y": y, "x": x, "id": unit, "period": period})


def rdd_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A fuzzy RD at r = 0: take-up t jumps from 0.1 to 0.9, effect 1."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(-1, 1, n)
    t = (rng.random(n) < np.where(r >= 0, 0.9, 0.1)).astype(int)
    x = rng.normal(size=n)
    return pd.DataFrame({"t": t, "y": 1 + t + r + 0.5 * x + rng.normal(size=n), "x": x, "r": r})


def iv_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A binary instrument z moving a binary treatment t, confounded by u; effect 1."""
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < 0.5).astype(int)
    u = rng.normal(size=n)
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(2 * z - 1 + u)))).astype(int)
    return pd.DataFrame({"t": t, "y": 1 + t + x + u + rng.normal(size=n), "x": x, "z": z})


def synth_frame(n_units: int = 20, periods: int = 20, seed: int = 0) -> pd.DataFrame:
    """400 unit-periods; unit 0 treated from period 12 (t = treated in this period)."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), periods)
    period = np.tile(np.arange(periods), n_units)
    t = ((unit == 0) & (period >= 12)).astype(int)
    level = rng.normal(size=n_units)
    x = level[unit] + rng.normal(scale=0.1, size=len(unit))
    y = (
        level[unit]
        + np.sin(period / 3) * (1 + level[unit])
        + t
        + rng.normal(scale=0.2, size=len(unit))
    )
    return pd.DataFrame({"t": t, "y": y, "x": x, "id": unit, "period": period})


def csv(change: Callable[[pd.DataFrame], pd.DataFrame] = lambda f: f, name: str = "data.csv"):
    def write(folder: Path, command: Command) -> Path:
        path = folder / name
        change(command.frame()).to_csv(path, index=False)
        return path

    return write


def raw(text: str | bytes | Callable[[Command], str | bytes], name: str = "data.csv"):
    def write(folder: Path, command: Command) -> Path:
        path = folder / name
        content = text(command) if callable(text) else text
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return write


def lines(
    sep: str = ",",
    extra: Callable[[int], str] | None = None,
    header: Callable[[list[str]], list[str]] | None = None,
    encoding: str = "utf-8",
):
    """The command's well-formed table as text, with another separator or an extra column;
    `header` rewrites the header's names."""

    def text(command: Command) -> bytes:
        f = command.frame()
        names = list(f.columns) + (["extra"] if extra else [])
        head = sep.join(header(names) if header else names)
        body = [
            sep.join([repr(float(v)) if isinstance(v, float | np.floating) else str(v) for v in row]
                     + ([extra(i)] if extra else []))
            for i, row in enumerate(f.itertuples(index=False))
        ]  # fmt: skip
        return ("\n".join([head, *body]) + "\n").encode(encoding)

    return text


def assign(**columns):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f = f.copy()
        for name, value in columns.items():
            f[name] = value(f) if callable(value) else value
        return f

    return change


def _one_treated(f: pd.DataFrame) -> pd.DataFrame:
    """One treated unit: one row, or in a panel the treated rows of one unit."""
    f = f.copy()
    if "id" in f:
        f["t"] = f.t.where(f.id == f.id[f.t == 1].iloc[0], 0)
        return f
    f["t"] = 0
    f.loc[0, "t"] = 1
    return f


def _garbage(f: pd.DataFrame) -> pd.DataFrame:
    f = f.astype({"y": object})
    f.loc[7, "y"] = "n/a?"
    return f


def _inf(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f.loc[5, "y"] = np.inf
    return f


def _latin1_arms(folder: Path, command: Command) -> Path:
    path = folder / "data.csv"
    f = command.frame()
    f["t"] = np.where(f.t == 1, "café", "thé")
    path.write_bytes(f.to_csv(index=False).encode("latin-1"))
    return path


CONSTANT_BY_FAMILY = {
    "abtest": r"y has no variation within the arms compared",
    "uplift": r"outcome 'y' takes a single value in the complete rows",
}
THREE_ARMS_REFUSED = r"'t' has 3 arms; the ATE of every arm needs ipw, gcomp, aipw or dml"

CASES = [
    Case("valid", csv(), None),
    Case("missing column", csv(lambda f: f.rename(columns={"y": "outcome"})),
         r"column 'y' not found in data\.csv; available columns: t, outcome, x"),
    Case("empty file", raw(b""), r"'data\.csv' is empty \(0 bytes\)"),
    Case("blank lines only", raw("\n\n"), r"'data\.csv' has no header and no data rows"),
    Case("header only", raw(lambda c: ",".join(c.frame().columns) + "\n"), r"'data\.csv' has a header but no data rows"),
    Case("garbage text in numeric column", csv(_garbage),
         r"outcome column 'y' has non-numeric values \(e\.g\. 'n/a\?'\)",
         {"abtest": r"column 'y' is not numeric \(type VARCHAR\); recode it as numbers"}),
    Case("latin-1 text in a column used", _latin1_arms,
         r"'data\.csv' is not UTF-8 text \(column 't'\); convert it to UTF-8"),
    Case("latin-1 text in a column not used",
         raw(lines(extra=lambda i: "café", encoding="latin-1")), None),
    # abtest's reader (DuckDB) detects the separator: the same answer as the comma file
    Case("semicolon-separated", raw(lines(";")),
         r"'data\.csv' looks separated by semicolons, not commas", {"abtest": None}),
    Case("tab-separated .csv", raw(lines("\t")),
         r"'data\.csv' looks separated by tabs, not commas .*rename it to \.tsv", {"abtest": None}),
    Case("constant outcome", csv(assign(y=3.0)),
         r"outcome column 'y' is constant \(3\) in all 400 complete rows",
         {"synthetic_control": r"outcome column 'y' is constant \(3\) in all 400 unit-periods of "
                               r"the balanced panel", **CONSTANT_BY_FAMILY}),
    Case("constant 0/1 outcome", csv(assign(y=1)), r"outcome column 'y' is constant \(1\)",
         CONSTANT_BY_FAMILY),
    Case("all-NaN outcome", csv(assign(y=np.nan)),
         r"all values missing in column 'y' of 'data\.csv'"),
    Case("inf outcome", csv(_inf), r"infinite values in outcome column 'y' \(1, the first in row 6",
         {"abtest": r"infinite values in 'y'; remove them"}),
    Case("huge outcome", csv(assign(y=lambda f: f.y * 1e300)),
         r"values too large to compute with in outcome column 'y' .*below 1e150\); rescale"),
    Case("huge confounder", csv(assign(x=lambda f: f.x * 1e200)),
         r"values too large to compute with in confounder column 'x'",
         {"abtest": r"values too large to compute with in covariate column 'x' .*below 1e150\); "
                    r"rescale",
          "uplift": r"values too large to compute with in feature column 'x' .*below 1e150\); "
                    r"rescale"}),
    Case("one unit in an arm", csv(_one_treated),
         r"treatment arm '1' has only 1 complete row; each arm of 't' needs at least 2",
         {"did": r"group 'treated' has only 1 unit; each group of 't' needs at least 2",
          "rdd": r"take-up value '1' has only 1 complete row; each value of 't' needs at least 2",
          "abtest": r"each arm needs at least 2 units to estimate a variance",
          "uplift": r"the treated arm has 1 rows, fewer than 2 × folds = 10",
          "synthetic_control": None}),  # one treated unit is the synthetic-control design
    Case("continuous treatment", csv(assign(t=lambda f: np.round(f.x * 3 + 10, 1))),
         r"treatment column 't' is numeric with \d+ distinct values, a continuous treatment",
         {"did": r"treatment column 't' has \d+ values; difference-in-differences needs a 0/1 "
                 r"treatment",
          # a dose is a valid fuzzy-RD take-up and IV treatment: answered, with the weak first
          # stage (the dose does not jump / move with z) as a warning
          "rdd": None, "iv": None,
          "synthetic_control": r"--treatment 't' must be 0/1 \(treated in this period\)"}),
    Case("three text arms", csv(assign(t=lambda f: np.array(["a", "b", "c"])[np.arange(len(f)) % 3])),
         {"ipw": None, "aipw": None, "gcomp": None, "dml": None, "regression": THREE_ARMS_REFUSED,
          "psm": THREE_ARMS_REFUSED, "stratification": THREE_ARMS_REFUSED},
         {"did": r"treatment column 't' has 3 values; difference-in-differences needs a 0/1 "
                 r"treatment",
          "rdd": r"treatment column 't' has non-numeric values \(e\.g\. 'a'\); give numbers",
          "iv": r"treatment column 't' is text with 3 values; iv needs a numeric treatment",
          "synthetic_control": r"--treatment 't' must be 0/1 \(treated in this period\)",
          "counterfactual": r"mediation \(--mediator\) needs a binary treatment, but 't' has 3",
          "abtest": None, "uplift": None,  # several arms are A/B and uplift designs
          "sensitivity": r"treatment column 't' has 3 values; sensitivity analysis needs a "
                         r"binary treatment"}),
    Case("duplicate headers", raw(lines(header=lambda names: [*names[:-1], "x"], extra=lambda i: str(i))),
         r"column 'x' appears 2 times in the header of 'data\.csv'; rename the copies"),
    Case("inf treatment", csv(lambda f: f.assign(t=f.t.astype(float).where(f.index != 4, np.inf))),
         r"infinite values in treatment column 't' \(1, the first in row 5"),
    Case("all-missing treatment", csv(assign(t=np.nan)),
         r"all values missing in column 't' of 'data\.csv'",
         {"abtest": r"treatment column 't' has 0 level; an A/B test needs at least two arms"}),
]  # fmt: skip


def _expected(case: Case, command: Command, variant: str) -> str | None:
    expect = case.expect_by_command.get(command.name, case.expect)
    return expect.get(variant) if isinstance(expect, dict) else expect


# (command, case) → why it fails today, where the fix lies outside the branch adding the case:
# a strict xfail with the reason, removed with the fix. Empty: every case passes.
KNOWN: dict[tuple[str, str], str] = {}
CASES = [
    Case(c.name, c.write, c.expect, c.expect_by_command,
         {command: why for (command, name), why in KNOWN.items() if name == c.name})
    for c in CASES
]  # fmt: skip


def _param(command: Command, variant: str, case: Case):
    why = case.known_failures.get(command.name)
    marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
    return pytest.param(command, variant, case, id=f"{command.name}-{variant}-{case.name}",
                        marks=marks)  # fmt: skip


PARAMS = [
    _param(command, variant, case)
    for command in COMMANDS
    for case in CASES
    for variant in command.variants
]


@pytest.mark.parametrize(("command", "variant", "case"), PARAMS)
def test_bad_input(tmp_path, command, variant, case):
    path = case.write(tmp_path, command)
    result = runner.invoke(app, command.args(path, variant))
    check_outcome(result, _expected(case, command, variant), command.answer, tmp_path, path)


def check_outcome(result, expect: str | None, answer: str, folder: Path, path: Path) -> None:
    """No traceback or warning; then exit 0 with `answer` in the output (`expect` None), or exit
    2 with one sentence matching `expect` that shows no path under `folder` but the user's."""
    output = " ".join(result.output.split())
    assert "Traceback" not in output and "Warning" not in output, output
    if expect is None:
        assert result.exit_code == 0, output
        assert re.search(answer, output), output
        return
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    assert re.search(expect, output), output
    assert output.startswith("error:") and str(folder) not in output.replace(str(path), "")


@pytest.fixture(scope="module")
def nhefs_csv(tmp_path_factory):
    import causaldata

    frame = causaldata.nhefs_complete.load_pandas().data
    folder = tmp_path_factory.mktemp("nhefs")
    frame.to_csv(folder / "nhefs.csv", index=False)
    # the same doses as text, leaving out the doses of one unit: 48 arms that pass every
    # data check, whose multinomial propensity diverges to NaN
    counts = frame.smkintensity82_71.value_counts()
    text = frame[frame.smkintensity82_71.isin(counts[counts >= 2].index)].copy()
    text["dose"] = "d" + text.smkintensity82_71.astype(str)
    text.to_csv(folder / "doses.csv", index=False)
    return folder


def test_nhefs_continuous_treatment_is_refused(nhefs_csv):
    """Before: 58 text-sorted arms, NaN propensities, exit 0 with blank estimates and a
    positivity finding that said all was well."""
    result = runner.invoke(
        app,
        ["causal", str(nhefs_csv / "nhefs.csv"), "--treatment", "smkintensity82_71",
         "--outcome", "wt82_71", "--confounders", "age,sex", "--method", "ipw"],
    )  # fmt: skip
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert re.search(
        r"treatment column 'smkintensity82_71' is numeric with 58 distinct values, a continuous "
        r"treatment \(a dose\) that --method ipw does not model; use --method msm --treatment-density "
        r"normal",
        output,
    )


@pytest.mark.parametrize("method", ["ipw"])  # aipw and gcomp fit the same model (20 s each)
def test_diverged_propensity_is_an_error_not_a_blank_answer(nhefs_csv, method):
    result = runner.invoke(
        app,
        ["causal", str(nhefs_csv / "doses.csv"), "--treatment", "dose", "--outcome", "wt82_71",
         "--confounders", "age,sex", "--method", method],
    )  # fmt: skip
    output = " ".join(result.output.split())
    assert result.exit_code == 2, output
    assert "multinomial propensity model's scores came out NaN" in output
    assert "Traceback" not in output and "Warning" not in output

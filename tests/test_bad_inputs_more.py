"""The bad-input corpus of `tests/test_bad_inputs.py`, extended to the commands it leaves out:
geotest, geo-design, bandit, design, uplift-score and `run`, and the commands that take no data
file (power-analysis, sequential-design, bandit --simulate).

Every case ends in exit code 2 with one sentence naming the real problem (a regex naming the
column or value) and no traceback or warning – or in a correct answer. Three tables:

- FILE_CASES × FILE_COMMANDS: file-level defects and bad values of one numeric column, run for
  every data-file command (the builders and the check come from `test_bad_inputs`);
- OPTION_CASES: impossible parameters, each a command line (``{data}`` is the command's
  well-formed file);
- OUTPUT_CASES: output paths that would destroy a file or cannot be written.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from test_bad_inputs import Case, Command, _expected, assign, check_outcome, csv, frame, lines, raw

runner = CliRunner()

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning", "error::UserWarning")

GEO = Path(__file__).parent / "data" / "geolift"


@dataclass(frozen=True)
class FileCommand(Command):
    """A data-file command with the columns the cases break: `number` a numeric column it reads,
    `text` a text column it reads (None: it reads none)."""

    number: str = "y"
    text: str | None = None


def geo_test() -> pd.DataFrame:
    return pd.read_csv(GEO / "GeoLift_Test.csv")


def geo_pre() -> pd.DataFrame:
    return pd.read_csv(GEO / "GeoLift_PreTest.csv")


def mmm_frame() -> pd.DataFrame:
    """60 weeks of revenue, two channels and two controls, from the MMM simulator."""
    from cerebro.mmm.synthetic import simulate_mmm

    return simulate_mmm(60, 2, None, seed=0)[0]


def survival_frame() -> pd.DataFrame:
    """300 units, 12 periods: follow-up, event, a text treatment and a confounder x."""
    from cerebro.survival.synthetic import simulate

    units = simulate(n=300, periods=12, seed=0)
    return units.assign(group=np.where(units.pop("a") == 1, "offer", "none"))


def longitudinal_frame() -> pd.DataFrame:
    """100 customers × 3 periods with text ids."""
    from cerebro.longitudinal.synthetic import simulate

    rows = simulate(n=100, periods=3, seed=0)
    return rows.assign(id="c" + rows["id"].astype(str))


SURVIVAL = ["--time", "time", "--event", "event", "--treatment", "group", "--confounders", "x",
            "--bootstrap", "0"]  # fmt: skip
LONGITUDINAL = ["--unit", "id", "--time", "period", "--treatment", "campaign", "--confounders",
                "engagement", "--outcome", "revenue", "--bootstrap", "0", "--simulations",
                "500"]  # fmt: skip

# A fast fit (SVI, few steps): the corpus checks refusals and that a valid file runs.
MMM = ["--date-column", "week", "--kpi", "revenue", "--channels", "tv,search", "--controls",
       "price,promo", "--seasonality", "none", "--inference", "svi", "--svi-steps", "200"]  # fmt: skip


def bandit_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three arms a, b, c with 0/1 rewards."""
    rng = np.random.default_rng(seed)
    arm = np.array(list("abc"))[np.arange(n) % 3]
    return pd.DataFrame({"arm": arm, "reward": (rng.random(n) < 0.3).astype(int)})


def unit_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A unit table: an id, a covariate x and a text stratum s."""
    rng = np.random.default_rng(seed)
    region = np.array(["north", "south", "east"])[rng.integers(0, 3, n)]
    return pd.DataFrame({"id": range(n), "x": rng.normal(size=n), "s": region})


def score_frame(n: int = 50, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})


@functools.cache
def uplift_model() -> Path:
    """A T-learner on features x, z, saved once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="cerebro-model-"))
    rng = np.random.default_rng(0)
    train = score_frame(200).assign(t=rng.integers(0, 2, 200))
    train["y"] = (rng.random(200) < 0.3 + 0.1 * train.t).astype(int)
    train.to_csv(folder / "train.csv", index=False)
    model = folder / "model.cerebro"
    out = runner.invoke(app, ["uplift", str(folder / "train.csv"), "--treatment", "t",
                              "--outcome", "y", "--features", "x,z", "--model", "t_learner",
                              "--folds", "2", "--jobs", "1", "--save", str(model)])  # fmt: skip
    assert out.exit_code == 0, out.output
    return model


def cluster_frame(n_clusters: int = 100, size: int = 4, seed: int = 0) -> pd.DataFrame:
    """Clusters c of 4 rows randomised as wholes to t, outcome y, covariate x."""
    rng = np.random.default_rng(seed)
    c = np.repeat(np.arange(n_clusters), size)
    n = len(c)
    return pd.DataFrame({"c": c, "t": c % 2, "y": rng.normal(size=n), "x": rng.normal(size=n)})


def _run_spec(path: Path) -> list[str]:
    """`cerebro run` of an A/B spec next to the data file, the data given by --data."""
    spec = path.parent / "spec.yaml"
    spec.write_text("kind: abtest\ntreatment: t\noutcome: [y]\ncovariates: [x]\n")
    return ["run", str(spec), "--data", str(path)]


def chain_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """x -> y -> z, linear: what `graph-discover` searches."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "z": y + rng.normal(size=n)})


def _discover(path: Path) -> list[str]:
    return ["graph-discover", str(path), "--columns", "x,y,z", "-o", str(path.parent / "g.dot")]


GEOTEST = ["--geo-column", "location", "--outcome", "Y", "--treatment-start", "2021-04-01",
           "--treatment-geos", "chicago,portland"]  # fmt: skip
GEO_DESIGN = ["--geo-column", "location", "--outcome", "Y", "--markets", "2", "--durations", "10",
              "--effects", "0,0.1"]  # fmt: skip

FILE_COMMANDS = [
    FileCommand("geotest", ("geotest",), lambda p, _: ["geotest", str(p), *GEOTEST], geo_test,
                r"Geo test: Y", number="Y", text="location"),
    FileCommand("geo-design", ("geo-design",), lambda p, _: ["geo-design", str(p), *GEO_DESIGN],
                geo_pre, r"geo_design", number="Y", text="location"),
    FileCommand("bandit", ("bandit",), lambda p, _: ["bandit", str(p), "--arm", "arm",
                "--reward", "reward"], bandit_frame, r"Bandit allocation", number="reward",
                text="arm"),
    FileCommand("design", ("design",), lambda p, _: ["design", str(p), "--strata", "s",
                "--balance-covariates", "x"], unit_frame, r"Randomisation \(stratified\) of 60",
                number="x", text="s"),
    FileCommand("uplift-score", ("uplift-score",),
                lambda p, _: ["uplift-score", str(uplift_model()), str(p)], score_frame, r"cate",
                number="x"),
    FileCommand("run", ("run",), lambda p, _: _run_spec(p), frame, r"A/B test — 2 arms",
                text="t"),
    FileCommand("mmm", ("mmm",), lambda p, _: ["mmm", str(p), *MMM], mmm_frame,
                r"Media mix model of revenue", number="revenue", text="week"),
    FileCommand("survival", ("survival",), lambda p, _: ["survival", str(p), *SURVIVAL],
                survival_frame, r"Survival by group", number="time", text="group"),
    FileCommand("longitudinal", ("longitudinal",),
                lambda p, _: ["longitudinal", str(p), *LONGITUDINAL], longitudinal_frame,
                r"revenue under treatment strategies", number="engagement", text="id"),
    # `t` is confounded by `x` in this table: the advisor chooses adjustment (AIPW)
    FileCommand("auto", ("auto",), lambda p, _: ["auto", str(p), "--treatment", "t", "--kpi", "y"],
                frame, r"observational adjustment .* AIPW", number="y"),
    FileCommand("graph-discover", ("graph-discover",), lambda p, _: _discover(p), chain_frame,
                r"Discovered edges", number="y"),
]  # fmt: skip


def _garbage(command: FileCommand) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype({command.number: object})
        f.loc[7, command.number] = "n/a?"
        return f

    return change


def _at(row: int, value: float) -> Callable[[FileCommand], Callable]:
    """Set one row of the command's numeric column."""

    def change(command: FileCommand) -> Callable[[pd.DataFrame], pd.DataFrame]:
        return lambda f: f.astype({command.number: float}).assign(
            **{command.number: lambda g: g[command.number].where(g.index != row, value)}
        )

    return change


def _whole(value: Callable[[pd.Series], object]) -> Callable[[FileCommand], Callable]:
    """Replace the command's numeric column by `value(column)`."""
    return lambda command: assign(**{command.number: lambda f: value(f[command.number])})


def _by_command(change: Callable[[FileCommand], Callable]):
    """A csv writer whose change depends on the command (its columns)."""

    def write(folder: Path, command: FileCommand) -> Path:
        return csv(change(command))(folder, command)

    return write


def _latin1_used(folder: Path, command: FileCommand) -> Path:
    f = command.frame()
    f[command.text] = np.where(np.arange(len(f)) % 2, "café", "thé")
    path = folder / "data.csv"
    path.write_bytes(f.to_csv(index=False).encode("latin-1"))
    return path


def _rename(folder: Path, command: FileCommand) -> Path:
    return csv(lambda f: f.rename(columns={command.number: command.number + "_typo"}))(
        folder, command
    )


def _missing_file(folder: Path, command: FileCommand) -> Path:
    return folder / "nope.csv"


def _duplicate(folder: Path, command: FileCommand) -> Path:
    """The well-formed file with an extra column named like the numeric column."""
    text = lines(header=lambda names: [*names[:-1], command.number], extra=lambda i: str(i))
    return raw(text)(folder, command)


INFINITE = {
    "geotest": r"infinite values in 'Y' \(1 row\(s\), e\.g\. geo '.+' on 2021-",
    "geo-design": r"infinite values in 'Y' \(1 row\(s\), e\.g\. geo '.+' on 2021-",
    "bandit": r"reward column 'reward' has 1 infinite value",
    "design": r"balance covariate 'x' has 1 infinite value",
    "uplift-score": r"infinite values in feature column 'x' \(1, the first in row 6",
    "run": r"infinite values in 'y'; remove them",
    "mmm": r"infinite values in KPI column 'revenue' \(1, the first in row 6: \+inf\)",
    "survival": r"infinite values in time column 'time' \(1, the first in row 6: \+inf\)",
    "longitudinal": r"infinite values in confounder column 'engagement' \(1, the first in row 6",
    "auto": r"infinite values in outcome column 'y' \(1, the first in row 6: \+inf\)",
    "graph-discover": r"infinite values in discovery column 'y' \(1, the first in row 6",
}
CONSTANT = {
    "geotest": r"'Y' is constant \(every value is 3\), so there is nothing to measure a lift",
    "geo-design": r"'Y' is constant \(every value is 3\)",
    "bandit": r"reward column 'reward' is constant \(3\) in all 300 complete rows",
    "design": None,  # balance on a constant covariate: an SMD of 0, an answer
    "uplift-score": None,  # a constant feature scores every row alike, an answer
    "run": r"y has no variation within the arms compared",
    "mmm": r"KPI column 'revenue' is constant \(3\) in all 60 fitted weeks",
    # every unit followed for 3 periods, every event in the third: no hazard in periods 1–2
    "survival": r"the IP-weighted hazards model separates the data perfectly: some periods or "
    r"an arm have no events",
    "longitudinal": r"confounder column 'engagement' is constant \(3\) in all 300 complete unit-",
    "auto": r"outcome column 'y' is constant \(3\) in all 400 complete rows",
    "graph-discover": r"column 'y' is constant in the complete rows; leave it out of --columns",
}
ALL_MISSING = r"all values missing in column '{n}' of 'data\.csv'"

FILE_CASES = [
    Case("valid", csv(), None),
    Case("missing file", _missing_file, r"data file '.*nope\.csv' does not exist; check the path"),
    Case("empty file", raw(b""), r"'data\.csv' is empty \(0 bytes\)"),
    Case("blank lines only", raw("\n\n"), r"'data\.csv' has no header and no data rows"),
    Case("header only", raw(lambda c: ",".join(c.frame().columns) + "\n"),
         r"'data\.csv' has a header but no data rows"),
    Case("semicolon-separated", raw(lines(";")),
         r"'data\.csv' looks separated by semicolons, not commas",
         {"run": None}),  # the A/B test's reader (DuckDB) detects the separator: same answer
    Case("latin-1 text in a column used", _latin1_used,
         r"'data\.csv' is not UTF-8 text \(column '{t}'\); convert it to UTF-8"),
    # design writes the whole table back, so it reads (and refuses) every column
    Case("latin-1 text in a column not used",
         raw(lines(extra=lambda i: "café", encoding="latin-1")), None,
         {"design": r"'data\.csv' is not UTF-8 text \(column 'extra'\)",
          "auto": r"'data\.csv' is not UTF-8 text \(column 'extra'\)"}),  # auto profiles every column
    Case("typo'd column", _rename, r"column '{n}' not found in data\.csv; available columns: ",
         {"design": r"column 'x' not found in the unit table; available columns: id, x_typo, s"}),
    Case("duplicate headers", _duplicate,
         r"column '{n}' appears 2 times in the header of 'data\.csv'; rename the copies"),
    Case("garbage text in the numeric column", _by_command(_garbage),
         r"column '{n}' has non-numeric values \(e\.g\. 'n/a\?'\)",
         {"bandit": r"reward column 'reward' is not numeric; recode it as numbers",
          "design": r"balance covariate 'x' is not numeric \(e\.g\. 'n/a\?'\)",
          "run": r"column 'y' is not numeric \(type VARCHAR\); recode it as numbers"}),
    Case("constant numeric column", _by_command(_whole(lambda c: 3.0)), None, CONSTANT),
    Case("all-NaN numeric column", _by_command(_whole(lambda c: np.nan)), ALL_MISSING,
         {"design": r"all values missing in balance covariate column 'x'"}),
    Case("inf", _by_command(_at(5, np.inf)), None, INFINITE),
    Case("huge values", _by_command(_whole(lambda c: c * 1e300)),
         r"values too large to compute with in (\w+ )*column '{n}' .*below 1e150\); rescale"),
]  # fmt: skip


def _file_params():
    for command in FILE_COMMANDS:
        for case in FILE_CASES:
            if case.name == "latin-1 text in a column used" and command.text is None:
                continue  # uplift-score reads numeric features only
            yield pytest.param(command, case, id=f"{command.name}-{case.name}")


@pytest.mark.parametrize(("command", "case"), list(_file_params()))
def test_bad_file(tmp_path, command: FileCommand, case: Case):
    path = case.write(tmp_path, command)
    expect = _expected(case, command, command.name)
    if expect is not None:
        expect = expect.replace("{n}", command.number).replace("{t}", command.text or "")
    result = runner.invoke(app, command.args(path, command.name))
    check_outcome(result, expect, command.answer, tmp_path, path)


# -- impossible parameters ---------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """A command line (``{data}``: the well-formed file of `data`) and its expected end:
    `expect` a regex of the error, or None with `answer` a regex of the output."""

    args: tuple[str, ...]
    expect: str | None
    data: Callable[[], pd.DataFrame] | None = None
    answer: str = ""
    extra: dict[str, str] = field(default_factory=dict)


ABTEST_CLUSTERS = ("abtest", "{data}", "--treatment", "t", "--outcome", "y", "--covariates", "x",
                   "--cluster", "c")  # fmt: skip
POWER = ("power-analysis", "--baseline", "0.1")
SEQUENTIAL = ("sequential-design",)
SIMULATE = ("bandit", "--simulate", "--means", "0.05,0.06", "--horizon", "100", "--runs", "2")
GEOTEST_ARGS = ("geotest", "{data}", *GEOTEST)
DESIGN_ARGS = ("design", "{data}")
GEO_DESIGN_ARGS = ("geo-design", "{data}", "--geo-column", "location", "--outcome", "Y")

OPTION_CASES = {
    # abtest's cluster scan (the corpus of test_bad_inputs runs its row scan)
    "abtest clusters, huge outcome": Option(
        ABTEST_CLUSTERS, r"values too large to compute with in outcome column 'y' .*below 1e150",
        lambda: cluster_frame().assign(y=lambda f: f.y * 1e300)),
    "abtest clusters, huge covariate": Option(
        ABTEST_CLUSTERS, r"values too large to compute with in covariate column 'x'",
        lambda: cluster_frame().assign(x=lambda f: f.x * 1e200)),
    "abtest clusters, valid": Option(ABTEST_CLUSTERS, None, cluster_frame,
                                     answer=r"A/B test — 2 arms"),
    # power-analysis
    "power alpha 0": Option((*POWER, "--mde", "0.01", "--alpha", "0"),
                            r"alpha must be strictly between 0 and 1, got 0 "),
    "power alpha 1.5": Option((*POWER, "--mde", "0.01", "--alpha", "1.5"),
                              r"alpha must be strictly between 0 and 1, got 1\.5"),
    "power power 1": Option((*POWER, "--mde", "0.01", "--power", "1"),
                            r"power must be strictly between 0 and 1, got 1 "),
    "power mde 0": Option((*POWER, "--mde", "0"), r"mde must be a non-zero effect, got 0 "),
    "power mde nan": Option((*POWER, "--mde", "nan"), r"mde must be a non-zero effect, got nan"),
    "power mde 1e-12": Option((*POWER, "--mde", "1e-12"),
                              r"mde 1e-12 is 3\.3e-12 standard deviations .*too small to plan"),
    "power mde 1e200 sds": Option(("power-analysis", "--baseline", "10", "--sd", "1", "--mde",
                                   "1e200"),
                                  r"mde 1e\+200 is 1e\+200 standard deviations of the outcome, "
                                  r"more than any outcome moves; check that mde and sd"),
    "power sd inf": Option(("power-analysis", "--baseline", "10", "--sd", "inf", "--mde", "1"),
                           r"sd must be finite, got inf"),
    "power sd 0": Option(("power-analysis", "--baseline", "10", "--sd", "0", "--mde", "1"),
                         r"sd must be positive, got 0"),
    "power negative n": Option((*POWER, "--n", "-5"),
                               r"n must be at least 2 users in the control group, got -5"),
    "power arms 100000": Option((*POWER, "--mde", "0.01", "--arms", "100000"),
                                r"arms must be at most 1,000 .*got 100,000"),
    "power arms 1": Option((*POWER, "--mde", "0.01", "--arms", "1"),
                           r"arms must be at least 2 \(control and one variant\), got 1"),
    "power ratio inf": Option((*POWER, "--mde", "0.01", "--ratio", "inf"),
                              r"ratio must be positive, got inf"),
    "power daily traffic 0": Option((*POWER, "--mde", "0.01", "--daily-traffic", "0"),
                                    r"daily_traffic must be positive, got 0"),
    "power cuped correlation 1": Option((*POWER, "--mde", "0.01", "--cuped-correlation", "1"),
                                        r"cuped_correlation must be strictly between -1 and 1"),
    "power baseline 1": Option(("power-analysis", "--baseline", "1", "--mde", "0.01"),
                               r"baseline must be a conversion rate strictly between 0 and 1, "
                               r"got 1"),
    "power variant rate above 1": Option((*POWER, "--mde", "0.95"),
                                         r"variant rate of 1\.05, outside \[0, 1\]"),
    "power n, mde and power": Option((*POWER, "--n", "1000", "--mde", "0.01", "--power", "0.8"),
                                     r"give at most two of n, mde and power"),
    "power valid": Option((*POWER, "--mde", "0.01"), None, answer=r"sample size"),
    # sequential-design
    "sequential alpha 0": Option((*SEQUENTIAL, "--alpha", "0"),
                                 r"alpha must be between 0 and 0\.5, got 0\.0"),
    "sequential alpha 1.5": Option((*SEQUENTIAL, "--alpha", "1.5"),
                                   r"alpha must be between 0 and 0\.5, got 1\.5"),
    "sequential power 1": Option((*SEQUENTIAL, "--power", "1"),
                                 r"power must be between 0\.5 and 1, got 1\.0"),
    "sequential looks 0": Option((*SEQUENTIAL, "--looks", "0"),
                                 r"--looks must be at least 1, got 0"),
    "sequential looks 100000": Option((*SEQUENTIAL, "--looks", "100000"),
                                      r"looks must be at most 50, got 100,000"),
    "sequential fractions not increasing": Option(
        (*SEQUENTIAL, "--looks", "3", "--info-fractions", "0.5,0.3,1"),
        r"--info-fractions must increase strictly from above 0 and end at 1, got \[0\.5, 0\.3, "
        r"1\.0\]"),
    "sequential fractions not ending at 1": Option(
        (*SEQUENTIAL, "--looks", "3", "--info-fractions", "0.3,0.6,0.9"),
        r"must increase strictly from above 0 and end at 1, got \[0\.3, 0\.6, 0\.9\]"),
    "sequential fractions NaN": Option(
        (*SEQUENTIAL, "--looks", "3", "--info-fractions", "nan,0.5,1"),
        r"must increase strictly from above 0 and end at 1, got \[nan, 0\.5, 1\.0\]"),
    "sequential fractions per look": Option(
        (*SEQUENTIAL, "--looks", "3", "--info-fractions", "0.5,1"),
        r"--info-fractions has 2 values for 3 looks"),
    "sequential rho inf": Option((*SEQUENTIAL, "--spending", "power", "--rho", "inf"),
                                 r"rho must be a positive number, got inf"),
    "sequential futility without power": Option(
        (*SEQUENTIAL, "--futility", "obf", "--sides", "1"), r"futility bounds need --power"),
    "sequential valid": Option((*SEQUENTIAL, "--looks", "3"), None,
                               answer=r"Group-sequential design"),
    # bandit --simulate
    "bandit horizon × runs too large": Option(
        ("bandit", "--simulate", "--means", "0.05,0.06", "--horizon", "100000", "--runs",
         "10000"), r"100,000 × 10,000 = 1,000,000,000 steps, more than the simulation's limit"),
    "bandit horizon 0": Option((*SIMULATE[:4], "--horizon", "0"),
                               r"--horizon must be at least 2 and --runs at least 1, got 0"),
    "bandit negative runs": Option((*SIMULATE[:4], "--runs", "-1"),
                                   r"--runs at least 1, got 10000 and -1"),
    "bandit one mean": Option(("bandit", "--simulate", "--means", "0.05"),
                              r"a bandit needs at least two arms"),
    "bandit mean above 1": Option(("bandit", "--simulate", "--means", "0.05,2"),
                                  r"Bernoulli arm means must lie in \[0, 1\], got \[0\.05, 2\.0\]"),
    "bandit infinite mean": Option(("bandit", "--simulate", "--means", "0.05,inf"),
                                   r"means must be finite"),
    "bandit epsilon 2": Option(("bandit", "{data}", "--arm", "arm", "--reward", "reward",
                                "--policy", "epsilon_greedy", "--epsilon", "2"),
                               r"epsilon must lie in \[0, 1\], got 2\.0", bandit_frame),
    "bandit simulation valid": Option(SIMULATE, None, answer=r"Bandit regret simulation"),
    # bandit data
    "bandit one arm": Option(("bandit", "{data}", "--arm", "arm", "--reward", "reward"),
                             r"column 'arm' has 1 arm\(s\); a bandit needs at least two",
                             lambda: bandit_frame().assign(arm="a")),
    "bandit arm is a measurement": Option(
        ("bandit", "{data}", "--arm", "x", "--reward", "reward"),
        r"arm column 'x' is numeric with 300 distinct values, a continuous treatment",
        lambda: bandit_frame().assign(x=np.linspace(0, 1, 300))),
    "bandit infinite arm": Option(
        ("bandit", "{data}", "--arm", "a", "--reward", "reward"),
        r"infinite values in arm column 'a' \(1, the first in row 5: \+inf\)",
        lambda: bandit_frame().assign(a=np.where(np.arange(300) == 4, np.inf, np.arange(300) % 2))),
    "bandit one 0/1 reward per arm": Option(
        ("bandit", "{data}", "--arm", "arm", "--reward", "reward"), None,
        lambda: pd.DataFrame({"arm": ["a", "b"], "reward": [1, 0]}),
        answer=r"a +1 +1 +0\.6667"),  # Beta(2, 1): a proper posterior from one reward
    "bandit one continuous reward per arm": Option(
        ("bandit", "{data}", "--arm", "arm", "--reward", "reward"),
        r"arm 'a' has only 1 row; each arm of 'arm' needs at least 3",
        lambda: pd.DataFrame({"arm": ["a", "b"], "reward": [1.5, 2.5]})),
    # design
    "design arms 100000": Option((*DESIGN_ARGS, "--arms", "100000"),
                                 r"arms must be at most 1,000, got 100,000", unit_frame),
    "design arms 1": Option((*DESIGN_ARGS, "--arms", "1"), r"--arms must be at least 2, got 1",
                            unit_frame),
    "design more arms than units": Option((*DESIGN_ARGS, "--arms", "31"),
                                          r"the unit table has 60 unit\(s\), too few for 31 arms",
                                          unit_frame),
    "design one unit": Option(DESIGN_ARGS, r"has 1 unit\(s\), too few for 2 arms",
                              lambda: unit_frame().head(1)),
    "design a tiny share": Option((*DESIGN_ARGS, "--allocation", "0.99,0.01"),
                                  r"arm 'treatment_1' drew 1 unit\(s\); each arm needs at least 2",
                                  unit_frame),
    "design NaN shares": Option((*DESIGN_ARGS, "--allocation", "nan,nan"),
                                r"--allocation shares must be positive and sum to 1, got "
                                r"\[nan, nan\] \(sum nan\)", unit_frame),
    "design shares not summing to 1": Option((*DESIGN_ARGS, "--allocation", "0.5,0.6"),
                                             r"sum to 1, got \[0\.5, 0\.6\] \(sum 1\.1\)",
                                             unit_frame),
    "design bins 0": Option((*DESIGN_ARGS, "--strata", "x", "--bins", "0"),
                            r"bins must be at least 2, got 0", unit_frame),
    "design max-smd 0": Option((*DESIGN_ARGS, "--method", "rerandomise", "--max-smd", "0"),
                               r"max_smd must be positive, got 0\.0", unit_frame),
    "design arm column exists": Option((*DESIGN_ARGS, "--arm-column", "x"),
                                       r"the unit table already has a column 'x'", unit_frame),
    "design all-missing stratum": Option((*DESIGN_ARGS, "--strata", "s"),
                                         r"stratum column 's' has 60 missing values",
                                         lambda: unit_frame().assign(s=np.nan)),
    # geotest
    "geotest alpha 0": Option((*GEOTEST_ARGS, "--alpha", "0"),
                              r"alpha must be strictly between 0 and 1, got 0 ", geo_test),
    "geotest alpha 1.5": Option((*GEOTEST_ARGS, "--alpha", "1.5"),
                                r"alpha must be strictly between 0 and 1, got 1\.5", geo_test),
    "geotest impossible start date": Option(
        ("geotest", "{data}", *GEOTEST[:4], "--treatment-start", "2021-13-45",
         "--treatment-geos", "chicago"),
        r"--treatment-start '2021-13-45' is not a date like those of the data", geo_test),
    "geotest start after the data": Option(
        ("geotest", "{data}", *GEOTEST[:4], "--treatment-start", "2030-01-01",
         "--treatment-geos", "chicago"),
        r"--treatment-start '2030-01-01' is after the last date of the data \(2021-04-15\)",
        geo_test),
    "geotest end before start": Option((*GEOTEST_ARGS, "--treatment-end", "2021-03-01"),
                                       r"--treatment-end '2021-03-01' is before --treatment-start",
                                       geo_test),
    "geotest a date that is no date": Option(
        GEOTEST_ARGS, r"date column 'date' has values that are neither dates nor numbers "
        r"\(e\.g\. 'yesterday'\)",
        lambda: geo_test().assign(date=lambda f: f.date.where(f.index != 3, "yesterday"))),
    "geotest one treated geo": Option(("geotest", "{data}", *GEOTEST[:-1], "chicago"), None,
                                      geo_test, answer=r"Geo test: Y"),
    "geotest two rows of a geo-date": Option(
        GEOTEST_ARGS, r"geo 'new york' has several rows for date 2021-01-01",
        lambda: pd.concat([geo_test(), geo_test().head(1)])),
    "geotest huge spend": Option((*GEOTEST_ARGS, "--spend", "spend"),
                                 r"values too large to compute with in column 'spend'",
                                 lambda: geo_test().assign(spend=1e300)),
    # geo-design
    "geo-design alpha 0": Option((*GEO_DESIGN_ARGS, "--alpha", "0"),
                                 r"alpha must be strictly between 0 and 1, got 0 ", geo_pre),
    "geo-design durations 0": Option((*GEO_DESIGN_ARGS, "--durations", "0"),
                                     r"durations must be at least 1 period, got 0", geo_pre),
    "geo-design markets backwards": Option((*GEO_DESIGN_ARGS, "--markets", "5-2"),
                                           r"markets range '5-2' runs backwards", geo_pre),
    "geo-design effects NaN": Option((*GEO_DESIGN_ARGS, "--effects", "nan"),
                                     r"effects must be relative lifts above -1 .*got nan", geo_pre),
    "geo-design cpic inf": Option((*GEO_DESIGN_ARGS, "--cpic", "inf"),
                                  r"cpic must be a positive cost per incremental unit, got inf",
                                  geo_pre),
    "geo-design too many cells": Option(
        (*GEO_DESIGN_ARGS, "--markets", "2", "--durations", "10", "--cells", "100"),
        r"needs 200 treatable geos but the data has 40", geo_pre),
    "geo-design a date that is no date": Option(
        (*GEO_DESIGN_ARGS, "--markets", "2", "--durations", "10"),
        r"date column 'date' has values that are neither dates nor numbers \(e\.g\. 'yesterday'\)",
        lambda: geo_pre().assign(date=lambda f: f.date.where(f.index != 3, "yesterday"))),
}  # fmt: skip


@pytest.mark.parametrize("name", list(OPTION_CASES))
def test_impossible_option(tmp_path, name: str):
    case = OPTION_CASES[name]
    path = tmp_path / "data.csv"
    if case.data is not None:
        case.data().to_csv(path, index=False)
    args = [str(path) if a == "{data}" else a for a in case.args]
    result = runner.invoke(app, args)
    check_outcome(result, case.expect, case.answer, tmp_path, path)


# -- output paths ------------------------------------------------------------------------------
def _output_args(command: FileCommand, path: Path, flag: str, target: Path) -> list[str]:
    return [*command.args(path, command.name), flag, str(target)]


OUTPUT_CASES = {
    # name: (target given the input path, expected error)
    "output is the input": (lambda p: p, r"--output is the input file data\.csv; choose another"),
    "output is a folder": (lambda p: p.parent, r"--output .* is a folder"),
    "output under a file": (lambda p: p / "out.json",
                            r"--output .*data\.csv.* is a file, not a folder"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(OUTPUT_CASES))
@pytest.mark.parametrize("command", FILE_COMMANDS, ids=lambda c: c.name)
def test_output_that_would_destroy_or_cannot_be_written(tmp_path, command: FileCommand, case):
    """Checked before the run: the input keeps its bytes."""
    target, expect = OUTPUT_CASES[case]
    path = csv()(tmp_path, command)
    before = path.read_bytes()
    result = runner.invoke(app, _output_args(command, path, "-o", target(path)))
    check_outcome(result, expect, "", tmp_path / "none", path)
    assert path.read_bytes() == before


def test_the_corpus_covers_every_data_file_command():
    """Every command of the CLI that reads a data file is in one of the two corpora."""
    from test_bad_inputs import COMMANDS

    names = {c.name for c in FILE_COMMANDS} | {c.name for c in COMMANDS}
    listed = re.findall(r"^│ (\S+)", runner.invoke(app, ["--help"]).output, re.M)
    commands = {n for n in listed if n not in ("methods", "datasets", "--help", "--version")}
    readers = {n for n in commands if "{data}" in _usage(n) or "[data]" in _usage(n)}
    assert readers <= names, readers - names


def _usage(command: str) -> str:
    return runner.invoke(app, [command, "--help"]).output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
@pytest.mark.parametrize("command", FILE_COMMANDS, ids=lambda c: c.name)
def test_output_in_a_read_only_folder_is_refused(tmp_path, command: FileCommand):
    path = csv()(tmp_path, command)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = runner.invoke(app, _output_args(command, path, "-o", locked / "out.json"))
        check_outcome(result, r"is not writable", "", tmp_path / "none", path)
    finally:
        locked.chmod(0o755)


PLOTTING = [c for c in FILE_COMMANDS if c.name in ("geotest", "geo-design", "bandit", "design")]


@pytest.mark.parametrize("command", PLOTTING, ids=lambda c: c.name)
def test_clashing_outputs_are_refused_before_the_run(tmp_path, command: FileCommand):
    """--output and --plot on one path, and a plot over the input: nothing is written."""
    path = csv()(tmp_path, command)
    before = path.read_bytes()
    figure = tmp_path / "result.png"
    args = [*command.args(path, command.name), "-o", str(figure), "--plot", str(figure)]
    check_outcome(runner.invoke(app, args),
                  r"--output and --plot are the same file .*result\.png; give each its own path",
                  "", tmp_path / "none", figure)  # fmt: skip
    assert not figure.exists()
    args = [*command.args(path, command.name), "--plot", str(path)]
    check_outcome(runner.invoke(app, args), r"--plot is the input file data\.csv", "",
                  tmp_path / "none", path)  # fmt: skip
    assert path.read_bytes() == before

"""Degenerate inputs to the four designs (did, rdd, iv, synthetic_control): each must end in exit
code 2 with one sentence naming the column or group and the fix – never a traceback and never a
confident answer (a standard error of 1e-15, a p-value from a constant outcome) – or, where the
input is valid, in a correct answer with a finding.

Each case records what it did before the fix (see the docstring of the parameter table).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning", "error::UserWarning")


def panel(n_units: int = 40, periods: int = 6, start: int = 3, treated: float = 0.5, seed=0):
    """A balanced panel: units id, period, t (treated this period), g (treated group), y, x,
    w (constant within a unit), c (pairs of units)."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), periods)
    time = np.tile(np.arange(periods), n_units)
    group = (np.arange(n_units) < n_units * treated).astype(int)[unit]
    d = group * (time >= start)
    y = rng.normal(size=n_units)[unit] + 0.3 * time + d + rng.normal(size=len(unit))
    return pd.DataFrame(
        {"id": unit, "period": time, "t": d, "g": group, "y": y, "x": rng.normal(size=len(unit)),
         "w": unit % 3, "c": unit // 2}
    )  # fmt: skip


def two_by_two(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < 0.5).astype(int)
    post = (rng.random(n) < 0.5).astype(int)
    return pd.DataFrame({"g": g, "post": post, "y": g + post + g * post + rng.normal(size=n)})


def rdd_frame(n: int = 600) -> pd.DataFrame:
    from cerebro.quasi.rdd.synthetic import make_rdd

    return make_rdd(n=n)[0]


def iv_data() -> pd.DataFrame:
    from cerebro.quasi.iv.synthetic import iv_frame

    return iv_frame(n=500)[0]


def sc_frame() -> pd.DataFrame:
    from cerebro.quasi.synth.synthetic import synthetic_panel

    return synthetic_panel(n_units=12, n_periods=16, n_pre=10, effect=1.0, noise=0.2, seed=1)[0]


DID = ["--method", "did", "--treatment", "t", "--outcome", "y", "--unit", "id", "--time", "period"]
DID_START = ["--method", "did", "--treatment", "g", "--outcome", "y", "--unit", "id",
             "--time", "period", "--treat-start", "3"]  # fmt: skip
DID_2X2 = ["--method", "did", "--treatment", "g", "--outcome", "y", "--post", "post"]
RDD = ["--method", "rdd", "--outcome", "outcome", "--running-variable", "score", "--cutoff", "0"]
IV = ["--method", "iv", "--outcome", "y", "--treatment", "d", "--instrument", "z1"]
SC = ["--method", "synthetic_control", "--outcome", "y", "--unit", "unit", "--time", "period",
      "--treated-unit", "u00", "--treat-start", "10"]  # fmt: skip


def _at(column: str, row: int, value: float):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype({column: float})
        f.loc[row, column] = value
        return f

    return change


def _staggered(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f["t"] = ((f.id < 10) & (f.period >= 2)) | ((f.id >= 10) & (f.id < 20) & (f.period >= 4))
    f["t"] = f.t.astype(int)
    return f


# (id, data, change, args, expected error regex) – the comment says what happened before.
REFUSED = [
    # 1. ZeroDivisionError
    ("did 2x2 one row per group and period",
     lambda: pd.DataFrame({"g": [0, 0, 1, 1], "post": [0, 1, 0, 1], "y": [1.0, 2.0, 3.0, 5.0]}),
     None, DID_2X2,
     r"the control group has only 1 row in the pre period; one row per group and period cannot "
     r"give a standard error – give unit-level rows"),
    # exit 0, SE from the treated rows only (the control cells fitted exactly)
    ("did 2x2 one control row per period",
     lambda: pd.DataFrame({"g": [0, 0, 1, 1, 1, 1], "post": [0, 1, 0, 1, 0, 1],
                           "y": [1.0, 2.0, 3.0, 5.0, 3.5, 5.2]}),
     None, DID_2X2, r"the control group has only 1 row in the pre period"),
    # 3. exit 0, DiD -1.8e-16 with SE 7.9e-16
    ("did 2x2 constant outcome", two_by_two, lambda f: f.assign(y=3.0), DID_2X2,
     r"outcome column 'y' is constant \(3\) in all 200 complete rows"),
    # 3. LinAlgError
    ("did panel constant outcome", panel, lambda f: f.assign(y=3.0), DID,
     r"outcome column 'y' is constant \(3\) in all 240 complete rows"),
    # 4. exit 0, SE 4.9e-16
    ("did one unit per group", lambda: panel(n_units=2), None, DID,
     r"group 'never-treated' has only 1 unit; each group of 't' needs at least 2"),
    ("did one unit per group, --treat-start", lambda: panel(n_units=2), None, DID_START,
     r"group 'never-treated' has only 1 unit; each group of 'g' needs at least 2"),
    # exit 0: one comparison unit for 39 treated ones
    ("did one never-treated unit", lambda: panel(treated=39 / 40), None, DID,
     r"group 'never-treated' has only 1 unit"),
    # 4. with clusters: exit 0, SE 2e-16 (each group one cluster)
    ("did one cluster per group", panel, lambda f: f.assign(c=f.g), [*DID, "--cluster", "c"],
     r"the never-treated units lie in only 1 cluster of 'c'; cluster-robust standard errors "
     r"need at least 2 clusters per group"),
    ("did 2x2 one cluster per group",
     lambda: pd.DataFrame({"g": [0, 0, 1, 1] * 3, "post": [0, 1, 0, 1] * 3,
                           "id": [0, 0, 1, 1] * 3, "y": np.arange(12.0) ** 1.5}),
     None, [*DID_2X2, "--cluster", "id"],
     r"the control group \('g' = 0\) lies in only 1 cluster of 'id'"),
    # 5. inf in the time column: refused as "no never-treated units" (a wrong reason)
    ("did inf time", panel, _at("period", 3, np.inf), DID,
     r"infinite values in time column 'period' \(1, the first in row 4"),
    ("did inf outcome", panel, _at("y", 3, np.inf), DID,
     r"infinite values in outcome column 'y' \(1, the first in row 4"),
    # 6. exit 0 with SE 2.2e17: every unit treated at once, no comparison units
    ("did all units treated", lambda: panel(treated=1.0), None, DID,
     r"every unit of 'id' is treated by period 3; there are no comparison units that stay "
     r"untreated"),
    # 6. LinAlgError
    ("did no pre-period", lambda: panel(start=0), None, DID,
     r"every treated unit is treated from the first period \(0\) of 'period'; with no period "
     r"before treatment"),
    ("did only one period", lambda: panel(periods=1, start=0), None, DID,
     r"time column 'period' has one period \(0\) in the complete rows"),
    # 3. exit 0 with p = 0.0256
    ("sc constant outcome", sc_frame, lambda f: f.assign(y=2.0), SC,
     r"outcome column 'y' is constant \(2\) in all 192 unit-periods of the balanced panel"),
    # 3. ValueError zero-size array
    ("sc constant outcome augmented", sc_frame, lambda f: f.assign(y=2.0),
     [*SC, "--sc-model", "augmented"], r"outcome column 'y' is constant \(2\)"),
    ("sc constant outcome sdid", sc_frame, lambda f: f.assign(y=2.0),
     [*SC, "--sc-model", "sdid"], r"outcome column 'y' is constant \(2\)"),
    # exit 0: every donor identical, the weights and placebos mean nothing
    ("sc constant donors", sc_frame, lambda f: f.assign(y=np.where(f.unit != "u00", 1.0, f.y)),
     SC, r"outcome column 'y' is constant \(1\) in all 176 donor unit-periods"),
    # 5. ValueError: array must not contain infs
    ("sc inf outcome", sc_frame, _at("y", 3, np.inf), SC,
     r"infinite values in outcome column 'y' \(1, the first in row 4"),
    # 5. exit 0
    ("sc huge outcome", sc_frame, lambda f: f.assign(y=f.y * 1e200), SC,
     r"values too large to compute with in outcome column 'y'"),
    # 5. refused as a treated unit with missing periods (a wrong reason)
    ("sc inf time", sc_frame, _at("period", 5, np.inf), SC,
     r"infinite values in time column 'period' \(1, the first in row 6"),
    ("sc treated unit missing", sc_frame, None, [*SC[:-3], "zz", "--treat-start", "10"],
     r"--treated-unit 'zz' is not a value of 'unit'"),
    ("sc no pre-period", sc_frame, None, [*SC[:-1], "0"],
     r"--treat-start 0 leaves 0 pre-period\(s\)"),
    # 6. a bandwidth message, not the constant outcome
    ("rdd constant outcome", rdd_frame, lambda f: f.assign(outcome=2.0), RDD,
     r"outcome column 'outcome' is constant \(2\) in all 600 complete rows"),
    # 6. "no values on the left of the cutoff"
    ("rdd constant running variable", rdd_frame, lambda f: f.assign(score=0.5), RDD,
     r"running variable column 'score' is constant \(0\.5\)"),
    # 6. ZeroDivisionError
    ("rdd constant take-up", rdd_frame, lambda f: f.assign(tk=1.0), [*RDD, "--treatment", "tk"],
     r"treatment column 'tk' is constant \(1\) in all 600 complete rows"),
    # 6. a bandwidth message
    ("rdd one cluster", rdd_frame, lambda f: f.assign(cluster=1), [*RDD, "--cluster", "cluster"],
     r"the rows below the cutoff 0 lie in only 1 cluster of 'cluster'"),
    ("rdd cutoff outside the data", rdd_frame, None, [*RDD[:-1], "5"],
     r"'score' has no values on the right of the cutoff 5"),
    ("rdd inf running variable", rdd_frame, _at("score", 3, np.inf), RDD,
     r"infinite values in running variable column 'score' \(1, the first in row 4"),
    # 5. LinAlgError with RuntimeWarnings
    ("iv inf treatment", iv_data, _at("d", 3, np.inf), IV,
     r"infinite values in treatment column 'd' \(1, the first in row 4"),
    ("iv huge treatment", iv_data, lambda f: f.assign(d=f.d * 1e200), IV,
     r"values too large to compute with in treatment column 'd'"),
    # 5. named the instrument a "confounder column"
    ("iv inf instrument", iv_data, _at("z1", 3, np.inf), IV,
     r"infinite values in instrument column 'z1' \(1, the first in row 4"),
    ("iv constant instrument", iv_data, lambda f: f.assign(z1=1.0), IV,
     r"instrument 'z1' is constant or explained by the controls"),
    # RuntimeWarning (divide by zero: no take-up jump within the bandwidth), exit 1
    ("rdd one take-up row", rdd_frame, lambda f: f.assign(tk=(f.index == 0).astype(float)),
     [*RDD, "--treatment", "tk"],
     r"take-up value '1' has only 1 complete row; each value of 'tk' needs at least 2"),
    # exit 0: 2SLS of a treatment taken by one row
    ("iv one treated row", iv_data, lambda f: f.assign(d=(f.index == 0).astype(float)), IV,
     r"treatment arm '1' has only 1 complete row; each arm of 'd' needs at least 2"),
    # refused as a treatment with 3 values, 'inf' one of them
    ("did inf treatment", panel, _at("t", 3, np.inf), DID,
     r"infinite values in treatment column 't' \(1, the first in row 4"),
    # refused as "must be 0/1 … it has ['0.0', '1.0', 'inf']"
    ("sc inf treatment", sc_frame, _at("treated", 3, np.inf),
     [*SC[:-4], "--treatment", "treated"],
     r"infinite values in treatment column 'treated' \(1, the first in row 4"),
    # 6. exit 0, 2SLS from one row with z = 1 (SE 0.026)
    ("iv binary instrument one unit", iv_data, lambda f: f.assign(z1=(f.index == 0).astype(int)),
     IV, r"instrument value '1' has only 1 complete row; each value of 'z1' needs at least 2"),
]  # fmt: skip


def _invoke(tmp_path, make, change, args):
    frame = make()
    if change is not None:
        frame = change(frame)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["causal", str(path), *args])
    return result, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("make", "change", "args", "expect"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
def test_degenerate_design_is_refused(tmp_path, make, change, args, expect):
    result, output = _invoke(tmp_path, make, change, args)
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    assert output.startswith("error:") and re.search(expect, output), output


@pytest.mark.parametrize("model", ["auto", "twfe", "event_study"])
def test_did_covariate_constant_within_unit_is_absorbed(tmp_path, model):
    """Before: LinAlgError (singular matrix). A covariate constant within each unit is absorbed
    by the unit fixed effects: dropped from the TWFE regression with a finding, and the estimate
    equals the one without it."""
    f = panel()
    args = [*DID, "--json", "--did-model", model]
    with_w, _ = _invoke(tmp_path, lambda: f, None, [*args, "--confounders", "w,x"])
    without, _ = _invoke(tmp_path, lambda: f, None, [*args, "--confounders", "x"])
    assert with_w.exit_code == 0 and without.exit_code == 0, with_w.output
    import json

    a, b = json.loads(with_w.output), json.loads(without.output)
    assert a["estimates"][0]["value"] == pytest.approx(b["estimates"][0]["value"], rel=1e-9)
    assert a["estimates"][0]["se"] == pytest.approx(b["estimates"][0]["se"], rel=1e-9)
    (note,) = [x for x in a["findings"] if x["code"] == "absorbed_covariates"]
    assert "w are constant within each unit" in note["message"]


def test_did_staggered_covariate_constant_within_unit(tmp_path):
    """Before: LinAlgError in the TWFE comparison; Callaway–Sant'Anna takes the covariate at the
    base period, the TWFE comparison drops it."""
    result, output = _invoke(tmp_path, panel, _staggered, [*DID, "--confounders", "w", "--json"])
    assert result.exit_code == 0, output
    import json

    payload = json.loads(result.output)
    assert payload["estimates"][0]["label"].startswith("ATT (Callaway–Sant'Anna")
    assert any(x["code"] == "absorbed_covariates" for x in payload["findings"])


def test_did_two_rows_per_cell_is_valid(tmp_path):
    """Two rows per group and period: a valid (small) 2×2, answered."""
    frame = pd.DataFrame({"g": [0, 0, 1, 1] * 2, "post": [0, 1, 0, 1] * 2,
                          "y": [1.0, 2.0, 3.0, 5.0, 1.1, 2.3, 3.2, 5.5]})  # fmt: skip
    result, output = _invoke(tmp_path, lambda: frame, None, DID_2X2)
    assert result.exit_code == 0, output
    # (5.0 + 5.5)/2 − (3.0 + 3.2)/2 − ((2.0 + 2.3)/2 − (1.0 + 1.1)/2) = 2.15 − 1.1
    assert "+1.05" in output

"""The bad-input corpus of `tests/test_bad_inputs.py` run through `cerebro counterfactual`
(mediation of t on y through m, adjusting for x): exit code 2 with one sentence, or a correct
answer where the input is valid. Where mediation answers differently from the adjustment
estimators (it needs a binary treatment and three rows per arm) the expectation says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.cli.main import app
from test_bad_inputs import CASES, Command, check_outcome, frame, runner

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning", "error::UserWarning")


def mediation_frame() -> pd.DataFrame:
    base = frame()
    rng = np.random.default_rng(1)
    return base.assign(m=0.5 * base.t + base.x + rng.normal(size=len(base)))


COMMAND = Command(
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
    mediation_frame,
    answer=r"Natural indirect effect \(NIE\)",
)
BINARY = r"mediation \(--mediator\) needs a binary treatment, but 't' has \d+ distinct values"
OURS = {
    "one unit in an arm": r"treatment arm 'treated' has only 1 complete row; each arm of 't' "
    r"needs at least 3",
    "continuous treatment": BINARY,
    "three text arms": BINARY,
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(tmp_path, case):
    path = case.write(tmp_path, COMMAND)
    result = runner.invoke(app, COMMAND.args(path, "mediation"))
    expect = OURS.get(case.name, case.expect)
    expect = expect.get("ipw") if isinstance(expect, dict) else expect
    check_outcome(result, expect, COMMAND.answer, tmp_path, path)

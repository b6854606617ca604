"""`cerebro datasets staggered|rdd|iv` write data and truth that `cerebro causal` recovers."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

CASES = {
    "staggered": (
        ["--method", "did", "--treatment", "treated", "--outcome", "sales", "--unit", "unit",
         "--time", "period"],
        "simple_att",
    ),
    "rdd": (["--method", "rdd", "--outcome", "outcome", "--running-variable", "score"], "effect"),
    "iv": (
        ["--method", "iv", "--treatment", "d", "--outcome", "y", "--instrument", "z1,z2",
         "--confounders", "x1"],
        "effect",
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(CASES))
def test_generated_data_recovered_within_4_se(tmp_path, kind):
    runner = CliRunner()
    path = tmp_path / f"{kind}.csv"
    made = runner.invoke(app, ["datasets", kind, "-o", str(path), "--seed", "3"])
    assert made.exit_code == 0, made.output
    truth = json.loads((tmp_path / f"{kind}_truth.json").read_text())
    options, key = CASES[kind]
    res = runner.invoke(app, ["causal", str(path), *options, "--json"])
    assert res.exit_code == 0, res.output
    head = json.loads(res.stdout)["estimates"][0]
    assert abs(head["value"] - truth[key]) < 4 * head["se"], (head, truth[key])
    again = runner.invoke(app, ["datasets", kind, "-o", str(tmp_path / "again.csv"), "--seed", "3"])
    assert again.exit_code == 0
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()

"""The users' own commands with a role left out (MISSION): a 0/1 `post` column for
`--method did`, and the covariates of `--method psm` – read off the data, said in a warning
naming what was chosen and the flag that overrides it, and equal to giving them explicitly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.data.roles import looks_like_id, pre_treatment_columns

runner = CliRunner()


def _run(path, *args: str) -> dict:
    out = runner.invoke(app, ["causal", str(path), *args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def two_by_two(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 2000
    campaign, post = rng.integers(0, 2, n), rng.integers(0, 2, n)
    age, income, history = rng.normal(40, 10, n), rng.normal(50, 15, n), rng.poisson(3, n)
    sales = 2 + campaign + 0.5 * post + 1.5 * campaign * post + 0.02 * age + rng.normal(0, 1, n)
    frame = pd.DataFrame({"campaign": campaign, "post": post, "age": age, "income": income,
                          "history": history, "sales": sales})  # fmt: skip
    path = tmp_path_factory.mktemp("did") / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_did_reads_a_post_column_off_the_data(two_by_two):
    """`cerebro causal data.csv --treatment campaign --outcome sales --confounders
    age,income,history --method did` as the users' document writes it."""
    seed = ["--treatment", "campaign", "--outcome", "sales", "--confounders", "age,income,history",
            "--method", "did"]  # fmt: skip
    inferred = _run(two_by_two, *seed)
    explicit = _run(two_by_two, *seed, "--post", "post")
    assert inferred["estimates"] == explicit["estimates"]
    assert inferred["estimates"][0]["value"] == pytest.approx(1.5, abs=0.25)
    assert any(f["code"] == "inferred_role" and "'post'" in f["message"] and "--post" in f["message"]
               for f in inferred["findings"])  # fmt: skip
    assert inferred["spec"]["post"] == "post"


def test_did_without_a_post_column_still_names_the_flags(tmp_path):
    frame = pd.DataFrame({"g": [0, 1] * 50, "y": np.arange(100.0), "after": [0, 1] * 50})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    out = runner.invoke(app, ["causal", str(path), "--treatment", "g", "--outcome", "y",
                              "--method", "did"])  # fmt: skip
    assert out.exit_code == 2 and "--method did needs --post" in " ".join(out.output.split())


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 1500
    age, income = rng.normal(40, 10, n), rng.normal(50, 15, n)
    region = rng.choice(["north", "south", "east"], n)
    policy = (rng.random(n) < 1 / (1 + np.exp(-(age - 40) / 10 - (income - 50) / 30))).astype(int)
    outcome = 1.0 * policy + 0.05 * age + 0.03 * income + rng.normal(0, 1, n)
    frame = pd.DataFrame({
        "user_id": np.arange(n), "signup_date": "2024-01-01", "age": age, "income": income,
        "region": region, "policy": policy, "post_visits": outcome * 2, "outcome": outcome,
    })  # fmt: skip
    path = tmp_path_factory.mktemp("psm") / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_psm_matches_on_the_pre_treatment_columns(matched):
    """`cerebro causal data.csv --treatment policy --outcome outcome --method psm --estimand
    ate`: matched on age, income, region – never the id, the date or the post-treatment
    column – and equal to naming them."""
    seed = ["--treatment", "policy", "--outcome", "outcome", "--method", "psm", "--estimand", "ate"]
    inferred = _run(matched, *seed)
    explicit = _run(matched, *seed, "--confounders", "age,income,region")
    assert inferred["estimates"] == explicit["estimates"]
    assert inferred["spec"]["confounders"] == ["age", "income", "region"]
    note = next(f["message"] for f in inferred["findings"] if f["code"] == "inferred_role")
    for words in ("age, income, region", "user_id (an identifier)", "signup_date (a date",
                  "post_visits (named like a post-treatment", "--confounders"):  # fmt: skip
        assert words in note


def test_other_methods_still_need_confounders(matched):
    out = runner.invoke(app, ["causal", str(matched), "--treatment", "policy", "--outcome",
                              "outcome", "--method", "aipw"])  # fmt: skip
    assert out.exit_code == 2 and "name the confounders" in out.output


@pytest.mark.parametrize(
    ("name", "is_id"),
    [("id", True), ("user_id", True), ("customerId", True), ("paid", False), ("valid", False),
     ("grid", False), ("age", False)],
)  # fmt: skip
def test_identifiers_by_name_but_not_words_ending_in_id(name, is_id):
    assert looks_like_id(name, pd.Series([1.5, 2.5, 1.5])) is is_id


def test_lifetime_is_not_a_date():
    frame = pd.DataFrame({"lifetime_value": [1.0, 2.0, 3.0], "t": [0, 1, 0], "y": [1, 2, 3]})
    assert pre_treatment_columns(frame, ["t", "y"])[0] == ["lifetime_value"]

"""The users' own commands (the project brief's list), each run exactly as written on a data file
that has the columns it names: exit code 0 and a result. Roles a command leaves out (the `post`
column of `--method did`, psm's covariates, the geo test's start and outcome) are read off the
data (tests/test_inferred_roles.py, tests/test_geo_roles.py check the numbers); this file holds
the list itself, so a command that stops running as written fails here.
"""

from __future__ import annotations

import shlex

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()
RNG = np.random.default_rng(0)


def _ab(n: int = 600) -> pd.DataFrame:
    variant = np.repeat(["control", "treatment"], n // 2)
    return pd.DataFrame({"variant": variant,
                         "conversion": (RNG.random(n) < np.where(variant == "control", 0.1, 0.13)).astype(int)})  # fmt: skip


def _two_by_two(n: int = 800) -> pd.DataFrame:
    campaign, post = RNG.integers(0, 2, n), RNG.integers(0, 2, n)
    age, income, history = RNG.normal(40, 10, n), RNG.gamma(2, 20, n), RNG.normal(size=n)
    sales = 10 + campaign + post + 2 * campaign * post + 0.05 * age + history + RNG.normal(size=n)
    return pd.DataFrame({"campaign": campaign, "post": post, "age": age, "income": income,
                         "history": history, "sales": sales})  # fmt: skip


def _observational(n: int = 800) -> pd.DataFrame:
    age, income = RNG.normal(40, 10, n), RNG.gamma(2, 20, n)
    policy = (RNG.random(n) < 1 / (1 + np.exp(-(age - 40) / 10))).astype(int)
    return pd.DataFrame({"age": age, "income": income, "policy": policy,
                         "outcome": 1 + 2 * policy + 0.1 * age + RNG.normal(size=n)})  # fmt: skip


def _geo_panel(geos: list[str], days: int = 60, start: int = 45) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=days)
    level = RNG.normal(100, 10, len(geos))
    trend = np.cumsum(RNG.normal(size=days))
    rows = []
    for g, geo in enumerate(geos):
        for t, date in enumerate(dates):
            treated = int(geo in ("NY", "CA") and t >= start)
            rows.append(
                (geo, date.date(), level[g] + trend[t] + RNG.normal() + 5 * treated, treated)
            )
    return pd.DataFrame(rows, columns=["dma", "date", "sales", "treated"])


def _markets() -> pd.DataFrame:
    frame = _geo_panel([f"m{i:02d}" for i in range(12)]).drop(columns="treated")
    per_geo = {g: (RNG.gamma(5, 1e5), RNG.normal(5e4, 5e3)) for g in frame.dma.unique()}
    frame["population"] = frame.dma.map(lambda g: per_geo[g][0])
    frame["income"] = frame.dma.map(lambda g: per_geo[g][1])
    return frame


def _uplift(n: int = 1500) -> pd.DataFrame:
    age, history, value = RNG.normal(40, 10, n), RNG.normal(size=n), RNG.gamma(2, 50, n)
    offer = RNG.integers(0, 2, n)
    p = 1 / (1 + np.exp(-(-2 + 0.5 * history + offer * (0.5 + 0.5 * (history > 0)))))
    return pd.DataFrame({"age": age, "history": history, "value": value, "offer": offer,
                         "purchase": (RNG.random(n) < p).astype(int)})  # fmt: skip


def _mediation(n: int = 800) -> pd.DataFrame:
    age, gender = RNG.normal(40, 10, n), RNG.integers(0, 2, n)
    intervention = RNG.integers(0, 2, n)
    engagement = 1 + intervention + 0.02 * age + RNG.normal(size=n)
    result = 2 + 0.5 * intervention + engagement + 0.3 * gender + RNG.normal(size=n)
    return pd.DataFrame({"age": age, "gender": gender, "intervention": intervention,
                         "engagement": engagement, "result": result})  # fmt: skip


def _sensitivity() -> pd.DataFrame:
    frame = _observational()
    return frame.rename(columns={"policy": "campaign", "outcome": "sales"})


def _mmm() -> pd.DataFrame:
    from cerebro.mmm.synthetic import simulate_mmm

    return simulate_mmm(weeks=104, channels=3, seed=0)[0]


SPEC = "kind: abtest\ndata: data.csv\ntreatment: variant\noutcome: conversion\n"
# (the command as the users write it, the data file it reads, whether it is slow)
COMMANDS = [
    ("cerebro abtest data.csv --treatment variant --outcome conversion --type bayesian", _ab),
    ("cerebro power-analysis --baseline 0.05 --mde 0.01 --alpha 0.05 --power 0.8", None),
    ("cerebro causal data.csv --treatment campaign --outcome sales --confounders "
     "age,income,history --method did", _two_by_two),
    ("cerebro causal data.csv --treatment policy --outcome outcome --method psm --estimand ate",
     _observational),
    ('cerebro geotest data.csv --geo-column dma --treatment-geos "NY,CA" --control-geos "TX,FL" '
     "--outcome sales --method synthetic_control",
     lambda: _geo_panel(["NY", "CA", "TX", "FL", "WA", "OR"])),
    ("cerebro geotest data.csv --method matched_markets --matching-vars population,income",
     _markets),
    ("cerebro uplift data.csv --treatment offer --outcome purchase --features age,history,value "
     "--model x_learner", _uplift),
    ("cerebro counterfactual data.csv --treatment intervention --outcome result --mediator "
     "engagement --confounders age,gender", _mediation),
    ("cerebro sensitivity data.csv --treatment campaign --outcome sales "
     "--unobserved-confounder-strength 0.3", _sensitivity),
    ("cerebro run spec.yaml", _ab),
    ("cerebro generate spec.yaml --output pipeline.py", _ab),
    ("cerebro serve --help", None),
    pytest.param("cerebro mmm data.csv --date-column week --kpi revenue --channels tv,search,social",
                 _mmm, marks=pytest.mark.slow),
]  # fmt: skip
# `cerebro auto data.csv --output mmm_pipeline.py` on MMM data runs as written in
# tests/test_auto.py::test_the_seed_auto_on_mmm_data_runs_an_mmm_and_writes_its_pipeline.


@pytest.mark.parametrize(("command", "data"), COMMANDS)
def test_the_users_command_runs_as_written(tmp_path, monkeypatch, command, data):
    monkeypatch.chdir(tmp_path)
    if data is not None:
        data().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "spec.yaml").write_text(SPEC)
    argv = shlex.split(command)[1:]
    out = runner.invoke(app, argv)
    assert out.exit_code == 0, out.output
    assert out.output.strip()
    if argv[0] == "generate":
        assert "cerebro" in (tmp_path / "pipeline.py").read_text()

"""Roles a geo command may leave out (geo column, outcome, treated geos and test start), and
the matched-market design proposed when no geo is treated yet."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.geo.market_pairs import pair_distances, propose_pairs

DATA = Path(__file__).parent / "data" / "geolift" / "GeoLift_Test.csv"
runner = CliRunner()


def _run(*args: str) -> dict:
    out = runner.invoke(app, ["geotest", *args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _numbers(payload: dict) -> dict[str, float]:
    return {e["label"]: e["value"] for e in payload["estimates"]}


def test_geo_column_and_outcome_read_off_the_data():
    """GeoLift's data name its geo column `location` and have one numeric column `Y`: the
    command without --geo-column and --outcome gives GeoLift's numbers, with warnings."""
    args = ["--treatment-geos", "chicago,portland", "--treatment-start", "2021-04-01",
            "--method", "synthetic_control"]  # fmt: skip
    inferred = _run(str(DATA), *args)
    explicit = _run(str(DATA), "--geo-column", "location", "--outcome", "Y", *args)
    assert _numbers(inferred) == _numbers(explicit)
    assert _numbers(inferred)["lift"] == pytest.approx(0.05423, abs=5e-5)
    roles = [f["message"] for f in inferred["findings"] if f["code"] == "inferred_role"]
    assert "geo column: 'location' (override with --geo-column)." in roles
    assert "outcome: 'Y' (override with --outcome)." in roles
    assert inferred["spec"]["geo_column"] == "location" and inferred["spec"]["outcome"] == "Y"


def test_treated_geos_and_start_read_off_a_treated_column(tmp_path):
    frame = pd.read_csv(DATA)
    frame["treated"] = (
        frame.location.isin(["chicago", "portland"]) & (frame.date >= "2021-04-01")
    ).astype(int)
    path = tmp_path / "treated.csv"
    frame.to_csv(path, index=False)
    inferred = _run(str(path), "--method", "synthetic_control")
    assert _numbers(inferred)["lift"] == pytest.approx(0.05423, abs=5e-5)
    assert any("treated geos chicago, portland from 2021-04-01" in f["message"]
               for f in inferred["findings"])  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "args", "message"),
    [
        (["dma", "region"], [], "name the geo column with --geo-column: several look like one"),
        (["dma"], ["--method", "synthetic_control"], "give --treatment-geos"),
    ],
)
def test_ambiguous_or_missing_roles_are_one_sentence(tmp_path, columns, args, message):
    frame = pd.read_csv(DATA).rename(columns={"location": columns[0]})
    if len(columns) > 1:
        frame[columns[1]] = "x"
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    out = runner.invoke(app, ["geotest", str(path), *args])
    assert out.exit_code == 2 and message in out.output and "Traceback" not in out.output


@pytest.fixture(scope="module")
def market_data(tmp_path_factory):
    rng = np.random.default_rng(1)
    n, days = 21, 60
    base = rng.lognormal(3, 0.5, n)
    wave = np.sin(np.arange(days) / 7)
    rows = []
    for i in range(n):
        y = base[i] * (1 + 0.2 * wave * (1 if i % 2 else 0.5)) + rng.normal(0, 1, days)
        pop, income = base[i] * 1000 * rng.lognormal(0, 0.1), rng.normal(50, 10)
        for t in range(days):
            rows.append(
                (f"2024-{1 + t // 28:02d}-{1 + t % 28:02d}", f"g{i:02d}", y[t], pop, income)
            )
    frame = pd.DataFrame(rows, columns=["date", "dma", "sales", "population", "income"])
    path = tmp_path_factory.mktemp("markets") / "geo.csv"
    frame.to_csv(path, index=False)
    return frame, path


def test_matched_markets_without_treated_geos_proposes_pairs(market_data):
    """`cerebro geotest data.csv --method matched_markets --matching-vars population,income`
    as users type it: 10 pairs of the 21 geos, each geo at most once, balanced proposal."""
    _, path = market_data
    payload = _run(str(path), "--method", "matched_markets", "--matching-vars", "population,income")
    pairs = payload["tables"]["pairs"]
    rows = [dict(zip(pairs["columns"], r, strict=True)) for r in pairs["rows"]]
    assert len(rows) == 10
    used = [r["treatment"] for r in rows] + [r["control"] for r in rows]
    assert len(set(used)) == 20
    smd = {e["label"]: e["value"] for e in payload["estimates"] if e["label"].startswith("SMD")}
    assert set(smd) == {"SMD sales (mean)", "SMD population", "SMD income"}
    assert max(abs(v) for v in smd.values()) < 0.1
    assert payload == _run(str(path), "--method", "matched_markets", "--matching-vars",
                           "population,income")  # fmt: skip


def _perfect_matchings(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for k, partner in enumerate(rest):
        for tail in _perfect_matchings(rest[:k] + rest[k + 1 :]):
            yield [(first, partner), *tail]


def test_pairing_minimises_the_total_distance(market_data):
    """On 8 geos the proposed pairing has the smallest total distance of all 105 pairings."""
    frame, _ = market_data
    wide = frame.pivot(index="dma", columns="date", values="sales").iloc[:8]
    geos, Y = list(wide.index), wide.to_numpy()
    covariates = {
        c: frame.groupby("dma")[c].mean().iloc[:8].to_numpy() for c in ("population", "income")
    }
    distance = pair_distances(Y, covariates)
    rows, _, left_out = propose_pairs(geos, Y, covariates, seed=0)
    assert left_out is None
    chosen = sum(r["distance"] for r in rows)
    best = min(sum(distance[a, b] for a, b in m) for m in _perfect_matchings(list(range(8))))
    assert chosen == pytest.approx(best, rel=1e-12)
    assert sum(1 for _ in itertools.islice(_perfect_matchings(list(range(8))), 200)) == 105

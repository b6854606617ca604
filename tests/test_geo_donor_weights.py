"""`cerebro geotest --method synthetic_control --donor-weights`: a geo lift test against a
synthetic control whose weights were fixed beforehand (a design agreed before the test, a
previous run's `weights` table). Checked against a hand computation – counterfactual
μ₁ + Σⱼ wⱼ(Yⱼₜ − μⱼ), ATT, incremental, lift, and the conformal block-permutation p-value of
residuals that nothing refits – and by feeding a fitted run's weights back: the same ATT, lift
and counterfactual. Every refusal is one sentence with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cerebro
from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test
from cli_refusals import invoke, refused

START = "2021-02-10"  # 40 pre-test days, then 8 test days


@pytest.fixture(scope="module")
def geo(tmp_path_factory) -> tuple[pd.DataFrame, str]:
    frame = geo_test_frame(simulate_geo_test(n_geos=12, n_pre=40, n_post=8, n_treated=1,
                                             lift=0.05, seed=3))  # fmt: skip
    path = tmp_path_factory.mktemp("geo") / "geo.csv"
    frame.to_csv(path, index=False)
    return pd.read_csv(path), str(path)


def _args(path: str, *extra: str) -> list[str]:
    return ["geotest", path, "--geo-column", "geo", "--date-column", "date", "--outcome", "sales",
            "--treatment-geos", "geo 00", "--treatment-start", START, *extra]  # fmt: skip


def _json(args: list[str]) -> dict:
    out = invoke(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _value(payload: dict, key: str) -> dict:
    return next(e for e in payload["estimates"] if e["label"].startswith(key))


def test_hand_given_weights_give_the_hand_computed_lift_and_conformal_p(geo) -> None:
    frame, path = geo
    weights = {"geo 07": 0.5, "geo 09": 0.3, "geo 03": 0.2}
    text = ",".join(f"{g}={w}" for g, w in weights.items())
    payload = _json(_args(path, "--method", "synthetic_control", "--donor-weights", text))
    wide = frame.pivot(index="geo", columns="date", values="sales")
    n_pre = int((wide.columns < START).sum())
    y1 = wide.loc["geo 00"].to_numpy()
    Y0 = wide.loc[list(weights)].to_numpy()
    w = np.array(list(weights.values()))
    # The counterfactual: treated pre-mean plus the weighted donors' deviations from their own.
    cf = y1[:n_pre].mean() + w @ (Y0 - Y0[:, :n_pre].mean(axis=1, keepdims=True))
    att = float(np.mean(y1[n_pre:] - cf[n_pre:]))
    incremental = float(np.sum(y1[n_pre:] - cf[n_pre:]))
    lift = incremental / float(np.sum(cf[n_pre:]))
    assert _value(payload, "ATT")["value"] == pytest.approx(att, rel=1e-10)
    assert _value(payload, "incremental")["value"] == pytest.approx(incremental, rel=1e-10)
    assert _value(payload, "lift")["value"] == pytest.approx(lift, rel=1e-10)
    # Conformal p under H0 (no effect): the fixed weights' residuals over all dates, centred on
    # the full-period means, and the share of the T cyclic shifts whose post-period Σ|u| is at
    # least the observed one (Chernozhukov, Wüthrich & Zhu 2021).
    u = (y1 - y1.mean()) - w @ (Y0 - Y0.mean(axis=1, keepdims=True))
    T = len(u)
    observed = np.abs(u[n_pre:]).sum()
    shifted = [np.abs(np.roll(u, -k)[n_pre:]).sum() for k in range(T)]
    p = float(np.mean(np.array(shifted) >= observed - 1e-12 * observed))
    assert _value(payload, "ATT")["p_value"] == pytest.approx(p, abs=1e-12)
    assert any(f["code"] == "donor_weights" for f in payload["findings"])
    table = payload["tables"]["weights"]
    got = {row[1]: row[2] for row in table["rows"]}
    assert got == pytest.approx(weights, abs=1e-12)


def test_a_fitted_runs_weights_fed_back_reproduce_its_estimate(geo, tmp_path) -> None:
    _, path = geo
    fitted = _json(_args(path, "--method", "synthetic_control"))
    table = fitted["tables"]["weights"]
    file = tmp_path / "weights.csv"
    pd.DataFrame(table["rows"], columns=table["columns"]).to_csv(file, index=False)
    fixed = _json(_args(path, "--method", "synthetic_control", "--donor-weights", str(file)))
    for key in ("ATT", "incremental", "lift"):
        assert _value(fixed, key)["value"] == pytest.approx(_value(fitted, key)["value"],
                                                             rel=1e-9)  # fmt: skip
    same = cerebro.geotest(path, geo_column="geo", date_column="date", outcome="sales",
                           treatment_geos="geo 00", treatment_start=START,
                           method="synthetic_control", donor_weights=str(file))  # fmt: skip
    assert same.estimates[0].value == pytest.approx(_value(fitted, "lift")["value"], rel=1e-9)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--donor-weights", "geo 07=1"], ["--method synthetic_control", "drop --donor-weights"]),
        (["--method", "synthetic_control", "--donor-weights", "geo 07=0.5,geo 09=0.4"],
         ["sum to 0.9", "not 1"]),
        (["--method", "synthetic_control", "--donor-weights", "geo 07=1.2,geo 09=-0.2"],
         ["'geo 09'", "negative"]),
        (["--method", "synthetic_control", "--donor-weights", "geo 00=1"],
         ["'geo 00'", "a treated geo"]),
        (["--method", "synthetic_control", "--donor-weights", "Atlantis=1"],
         ["'Atlantis'", "not a geo of the panel"]),
        (["--method", "synthetic_control", "--donor-weights", "missing.csv"],
         ["neither 'geo=weight,…' nor a file"]),
    ],
)  # fmt: skip
def test_bad_donor_weights_refused_in_one_sentence(geo, extra, words) -> None:
    _, path = geo
    refused(invoke(*_args(path, *extra)), *words)


def test_donor_weights_refused_beside_covariates_or_several_cells(geo) -> None:
    _, path = geo
    both = ["--method", "synthetic_control", "--donor-weights", "geo 07=1"]
    refused(invoke(*_args(path, *both, "--covariates", "sales")), "drop one of them")
    cells = [a if a != "geo 00" else "geo 00;geo 01" for a in _args(path, *both)]
    refused(invoke(*cells), "one treated cell")

"""`cerebro causal --method rdd`: CLI table, JSON contract, RD plot, Python face, user errors."""

from __future__ import annotations

import json
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cerebro.cli.main import app
from cerebro.core.results import Result
from cerebro.observational.analysis import run_causal
from cerebro.observational.spec import CausalSpec
from cerebro.quasi.rdd.analysis import bin_means
from cerebro.quasi.rdd.synthetic import make_rdd

runner = CliRunner()
Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def senate(tmp_path_factory):
    path = tmp_path_factory.mktemp("rdd") / "senate.csv"
    source = resources.files("rdrobust") / "data" / "rdrobust_RDsenate.csv"
    path.write_bytes(source.read_bytes())
    return path


@pytest.fixture(scope="module")
def fuzzy_csv(tmp_path_factory):
    frame, _ = make_rdd(3000, 1.0, seed=7, fuzzy=True)
    frame.loc[5, "outcome"] = np.nan  # one incomplete row
    path = tmp_path_factory.mktemp("rdd") / "fuzzy.csv"
    frame.to_csv(path, index=False)
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


SEED = ["--outcome", "vote", "--running-variable", "margin", "--cutoff", "0", "--method", "rdd"]


def test_sharp_table_json_and_plot(senate, tmp_path):
    out = invoke("causal", senate, *SEED)
    assert out.exit_code == 0, out.output
    assert "7.414" in out.output and "robust" in out.output
    png = tmp_path / "rd.png"
    out = invoke("causal", senate, *SEED, "--json", "--plot", png)
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["kind"] == "causal" and payload["method"] == "rdd"
    head = payload["estimates"][0]
    assert head["value"] == pytest.approx(7.4141, abs=1e-4)
    assert head["ci_low"] == pytest.approx(4.094, abs=1e-3)
    assert head["ci_high"] == pytest.approx(10.919, abs=1e-3)
    assert head["h"] == pytest.approx(17.754, abs=1e-3)
    codes = {f["code"] for f in payload["findings"]}
    assert {"design", "method", "effective_n", "manipulation", "placebo_cutoffs",
            "dropped_missing"} <= codes  # fmt: skip
    tables = payload["tables"]
    assert {"effects", "sides", "density_test", "placebo_cutoffs", "rdplot_bins",
            "rdplot_fit"} <= set(tables)  # fmt: skip
    sides = dict(zip(tables["sides"]["columns"], zip(*tables["sides"]["rows"], strict=True),
                     strict=True))  # fmt: skip
    assert sides["n_within_h"] == (360, 323)
    assert png.stat().st_size > 10_000
    # The JSON restores losslessly and plots the same way.
    restored = Result.from_dict(payload)
    from cerebro.quasi.rdd.analysis import plot

    assert plot(restored) is not None


def test_fuzzy_covariates_clusters_and_options(fuzzy_csv):
    out = invoke(
        "causal", fuzzy_csv, "--outcome", "outcome", "--running-variable", "score",
        "--treatment", "takeup", "--confounders", "x1,x2", "--cluster", "cluster",
        "--kernel", "epanechnikov", "--order", "2", "--method", "rdd", "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    spec = payload["spec"]
    assert (spec["kernel"], spec["order"], spec["cluster"]) == ("epanechnikov", 2, "cluster")
    labels = [e["label"] for e in payload["estimates"]]
    assert labels[0].startswith("RD effect (fuzzy") and "first stage (take-up jump)" in labels
    head = payload["estimates"][0]
    assert head["ci_low"] < 1.0 < head["ci_high"]  # the true effect of take-up is 1
    codes = {f["code"]: f for f in payload["findings"]}
    assert "fuzzy design" in codes["design"]["message"]
    assert "cluster-robust" in codes["method"]["message"]
    assert codes["dropped_missing"]["level"] == "warning"
    assert codes["covariate_balance"]["level"] == "info"  # x1, x2 are smooth at the cutoff
    balance = payload["tables"]["covariate_balance"]
    assert [r[0] for r in balance["rows"]] == ["x1", "x2"]
    # Same numbers as rdrobust on the same complete rows.
    import rdrobust as rdrobust

    d = pd.read_csv(fuzzy_csv).dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = rdrobust.rdrobust(d.outcome, d.score, fuzzy=d.takeup, covs=d[["x1", "x2"]],
                              cluster=d.cluster, kernel="epa", p=2)  # fmt: skip
    assert head["value"] == pytest.approx(o.coef.iloc[0, 0], rel=1e-6)
    assert head["ci_low"] == pytest.approx(o.ci.iloc[2, 0], rel=1e-6)


def test_treatment_equal_to_the_rule_is_sharp_and_manual_bandwidth(tmp_path):
    frame, _ = make_rdd(2000, 0.5, seed=1)
    frame["treated"] = (frame.score >= 0).astype(int)
    path = tmp_path / "sharp.csv"
    frame.to_csv(path, index=False)
    out = invoke("causal", path, "--outcome", "outcome", "--running-variable", "score",
                 "--treatment", "treated", "--bandwidth", "0.3", "--kernel", "uniform",
                 "--method", "rdd", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    design = next(f for f in payload["findings"] if f["code"] == "design")
    assert design["message"].startswith("sharp design: treated equals 1{score ≥ 0}")
    head = payload["estimates"][0]
    assert head["h"] == 0.3 and head["b"] == 0.3
    assert len(payload["estimates"]) == 2  # no first stage in a sharp design


def test_python_face_with_a_frame():
    frame, truth = make_rdd(4000, 0.5, seed=2, cutoff=10.0)
    spec = CausalSpec(outcome="outcome", running_variable="score", cutoff=10.0, method="rdd")
    res = run_causal(spec, frame)
    head = res.estimates[0]
    # One draw: within 4 robust SEs of the truth (a 95% CI misses 1 in 20 draws; coverage is
    # checked in test_quasi_rdd_simulation.py).
    assert abs(head.extra["tau_bias_corrected"] - truth["effect"]) < 4 * head.se
    assert res.summary["cutoff"] == 10.0
    assert "Crossing the cutoff" in res.narrative()


def test_bin_means_evenly_spaced_and_quantile():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 1000)
    y = x + (x >= 0)
    es = bin_means(x, y, 0.0, "es", per_side=10)
    assert sum(es["n"]) == 1000 and len(es["n"]) == 20
    qs = bin_means(x, y, 0.0, "qs", per_side=10)
    left = [n for s, n in zip(qs["side"], qs["n"], strict=True) if s == "left"]
    assert max(left) - min(left) <= 2  # quantile bins hold (almost) equal counts
    # bin means are the means of y in each bin
    mask = (x >= es["x_low"][0]) & (x < es["x_high"][0])
    assert es["mean"][0] == pytest.approx(y[mask].mean())


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--running-variable", "margin", "--cutoff", "500"], "set --cutoff inside its range"),
        (["--running-variable", "state"], "non-numeric"),
        (["--running-variable", "margin", "--bandwidth", "0.01"], "use a larger --bandwidth"),
        ([], "--running-variable"),
        (["--running-variable", "margin", "--bandwidth", "-1"], "bandwidth must be positive"),
    ],
)
def test_user_errors_exit_2(senate, extra, words):
    out = invoke("causal", senate, "--outcome", "vote", "--method", "rdd", *extra)
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert words in text and "Traceback" not in out.output

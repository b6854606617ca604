"""Observation weights (`--weights COL`), classical SEs (`--se classical`) and the two small-sample
conventions of clustered TWFE (`--small-sample fixest|statsmodels`), through the command line.

Published target: Cheng & Hoekstra (2013)'s Castle-doctrine panel as Cunningham's *Causal
Inference: The Mixtape* (ch. 9) fits it – log homicides on `post`, state and year fixed effects,
weighted by state population, clustered by state: coefficient 0.0755, clustered SE 0.0348 with
statsmodels' CR1 (every dummy in K) and 0.0332 with fixest's (fixed effects nested in the clusters
counted as one). The data are the `castle` set of the causaldata package (MIT licence; a test
dependency). References: statsmodels WLS (1e-8 on the estimate, 1e-8 relative on SEs) and
pyfixest's feols with weights.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from typer.testing import CliRunner

from cerebro.cli.main import app

runner = CliRunner()
CASTLE = ["--treatment", "post", "--outcome", "l_homicide", "--unit", "sid", "--time", "year",
          "--did-model", "twfe", "--weights", "popwt"]  # fmt: skip


@pytest.fixture(scope="module")
def castle(tmp_path_factory) -> tuple[pd.DataFrame, str]:
    causaldata = pytest.importorskip("causaldata")
    frame = causaldata.castle.load_pandas().data[["sid", "year", "l_homicide", "post", "popwt"]]
    path = tmp_path_factory.mktemp("castle") / "castle.csv"
    frame.to_csv(path, index=False)
    # The references read the file the CLI reads (the package stores some columns as float32).
    return pd.read_csv(path), str(path)


def _json(args: list[str]) -> dict:
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def _head(payload: dict) -> dict:
    return payload["estimates"][0]


@pytest.fixture(scope="module")
def statsmodels_wls(castle):
    frame, _ = castle
    return smf.wls("l_homicide ~ post + C(sid) + C(year)", frame, weights=frame.popwt)


@pytest.mark.parametrize(("convention", "published"), [("statsmodels", 0.0348), ("fixest", 0.0332)])
def test_castle_population_weighted_twfe(castle, statsmodels_wls, convention, published):
    """Mixtape ch. 9: 0.0755 (SE 0.0348 statsmodels, 0.0332 fixest), through `cerebro did`."""
    _, path = castle
    head = _head(_json(["causal", path, "--method", "did", *CASTLE,
                        "--small-sample", convention]))  # fmt: skip
    assert head["value"] == pytest.approx(0.0755, abs=1e-4)
    assert head["se"] == pytest.approx(published, abs=1e-4)
    fit = statsmodels_wls.fit(cov_type="cluster", cov_kwds={"groups": castle[0].sid})
    assert head["value"] == pytest.approx(fit.params["post"], abs=1e-8)
    if convention == "statsmodels":
        assert head["se"] == pytest.approx(fit.bse["post"], rel=1e-8)


def test_castle_fixest_convention_equals_pyfixest(castle):
    pyfixest = pytest.importorskip("pyfixest")
    frame, path = castle
    fit = pyfixest.feols("l_homicide ~ post | sid + year", frame, weights="popwt",
                         vcov={"CRV1": "sid"})  # fmt: skip
    head = _head(_json(["causal", path, "--method", "did", *CASTLE]))  # fixest is the default
    assert head["value"] == pytest.approx(fit.coef()["post"], abs=1e-8)  # its demeaning's tolerance
    assert head["se"] == pytest.approx(fit.se()["post"], rel=1e-6)


def test_weighted_regression_equals_statsmodels_wls(castle, statsmodels_wls):
    """`causal --method regression --weights popwt` with the fixed effects as confounders: the
    same WLS; HC1 (default) and classical SEs equal statsmodels' to 1e-10 (relative)."""
    _, path = castle
    args = ["causal", path, "--method", "regression", "--treatment", "post", "--outcome",
            "l_homicide", "--confounders", "C(sid),C(year)", "--weights", "popwt"]  # fmt: skip
    for se, cov_type in (("hc1", "HC1"), ("classical", "nonrobust")):
        payload = _json([*args, "--se", se])
        fit = statsmodels_wls.fit(cov_type=cov_type)
        assert _head(payload)["value"] == pytest.approx(fit.params["post"], abs=1e-10)
        assert _head(payload)["se"] == pytest.approx(fit.bse["post"], rel=1e-10)
    codes = [f["code"] for f in payload["findings"]]
    assert "propensity" in codes  # the state dummies separate `post`: diagnostics skipped


def test_classical_and_hc_ses_of_unweighted_regression_equal_statsmodels_ols(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    y = 1 + 0.5 * a + x + rng.normal(size=n) * (1 + a)
    frame = pd.DataFrame({"a": a, "x": x, "y": y})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    for se, cov_type in (("classical", "nonrobust"), ("hc3", "HC3"), ("hc0", "HC0")):
        head = _head(_json(["causal", str(path), "--method", "regression", "--treatment", "a",
                            "--outcome", "y", "--confounders", "x", "--se", se]))  # fmt: skip
        fit = smf.ols("y ~ a + x", frame).fit(cov_type=cov_type)
        assert head["value"] == pytest.approx(fit.params["a"], abs=1e-10)
        assert head["se"] == pytest.approx(fit.bse["a"], rel=1e-10)


def test_weighted_two_by_two_equals_statsmodels_wls(tmp_path):
    rng = np.random.default_rng(7)
    n = 600
    g, post = rng.integers(0, 2, n), rng.integers(0, 2, n)
    w = rng.gamma(2.0, 1.0, n)
    cluster = rng.integers(0, 40, n)
    y = 1 + 0.3 * g + 0.2 * post + 0.8 * g * post + rng.normal(size=n)
    frame = pd.DataFrame({"g": g, "post": post, "w": w, "c": cluster, "y": y})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    head = _head(_json(["causal", str(path), "--method", "did", "--treatment", "g", "--outcome",
                        "y", "--post", "post", "--weights", "w", "--cluster", "c"]))  # fmt: skip
    fit = smf.wls("y ~ g * post", frame, weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": cluster}
    )
    assert head["value"] == pytest.approx(fit.params["g:post"], abs=1e-10)
    assert head["se"] == pytest.approx(fit.bse["g:post"], rel=1e-10)


def test_zero_weights_leave_rows_out(tmp_path):
    """A row of weight 0 is left out (fixest's rule), with a note; the estimate equals the fit on
    the other rows."""
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=n)
    a = rng.integers(0, 2, n)
    frame = pd.DataFrame({"a": a, "x": x, "y": a + x + rng.normal(size=n),
                          "w": np.where(np.arange(n) < 20, 0.0, rng.gamma(2, 1, n))})  # fmt: skip
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    payload = _json(["causal", str(path), "--method", "regression", "--treatment", "a",
                     "--outcome", "y", "--confounders", "x", "--weights", "w"])  # fmt: skip
    rest = frame[frame.w > 0]
    fit = smf.wls("y ~ a + x", rest, weights=rest.w).fit(cov_type="HC1")
    assert _head(payload)["value"] == pytest.approx(fit.params["a"], abs=1e-10)
    assert _head(payload)["se"] == pytest.approx(fit.bse["a"], rel=1e-10)
    assert any(f["code"] == "zero_weights" and "20 rows" in f["message"]
               for f in payload["findings"])  # fmt: skip


@pytest.mark.parametrize(
    ("weights", "words"),
    [
        ("missing_col", "column 'missing_col' not found in d.csv"),
        ("text", "weights column 'text' has non-numeric values"),
        ("holes", "weights column 'holes' has 1 missing value(s) (the first in row 2)"),
        ("negative", "weights column 'negative' has 1 negative value(s)"),
        ("zeros", "weights column 'zeros' is zero in every row"),
    ],
)
def test_bad_weights_are_one_sentence(tmp_path, weights, words):
    n = 8
    frame = pd.DataFrame({
        "a": [0, 1] * 4, "x": np.arange(n, dtype=float), "y": np.arange(n, dtype=float) ** 1.5,
        "text": ["a"] * n, "holes": [1.0, None, *[1.0] * 6], "negative": [1.0, -1.0, *[1.0] * 6],
        "zeros": [0.0] * n,
    })  # fmt: skip
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    for method in (["--method", "regression", "--confounders", "x"],
                   ["--method", "did", "--post", "x"]):  # fmt: skip
        if method[1] == "did":
            frame.assign(x=[0, 0, 1, 1] * 2).to_csv(path, index=False)
        out = runner.invoke(app, ["causal", str(path), "--treatment", "a", "--outcome", "y",
                                  *method, "--weights", weights])  # fmt: skip
        assert out.exit_code == 2, out.output
        assert words in " ".join(out.output.split()) and "Traceback" not in out.output


def test_old_weights_hajek_runs_ipw_with_a_deprecation_warning(tmp_path):
    """`--weights ht` (the IPW normalisation's old name) still runs ipw, as --ipw-weights ht."""
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    frame = pd.DataFrame({"a": a, "x": x, "y": a + x + rng.normal(size=n)})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    args = ["causal", str(path), "--method", "ipw", "--treatment", "a", "--outcome", "y",
            "--confounders", "x"]  # fmt: skip
    old = _json([*args, "--weights", "ht"])
    new = _json([*args, "--ipw-weights", "ht"])
    hajek = _json(args)
    assert _head(old)["value"] == _head(new)["value"] != _head(hajek)["value"]
    deprecated = [f for f in old["findings"] if f["code"] == "deprecated"]
    assert deprecated and "--ipw-weights ht" in deprecated[0]["message"]
    assert not any(f["code"] == "deprecated" for f in new["findings"])


def test_castle_population_weighted_callaway_santanna(castle):
    """Staggered adoption with --weights: Callaway–Sant'Anna weighted by the states' population
    (constant within a state) equals csdid with weights_name='popwt' for every aggregation, and
    the TWFE line beside it is the weighted 0.0755 of Mixtape ch. 9."""
    import warnings

    import csdid.att_gt as att_gt_mod

    frame, path = castle
    args = [a for a in CASTLE if a not in ("--did-model", "twfe")]
    payload = _json(["causal", path, "--method", "did", *args])
    got = {e["aggregation"]: e for e in payload["estimates"][:3]}
    first = frame[frame.post == 1].groupby("sid").year.min()
    data = frame.assign(gname=frame.sid.map(first).fillna(0).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = att_gt_mod.ATTgt(yname="l_homicide", tname="year", idname="sid", gname="gname",
                               data=data, weights_name="popwt").fit(bstrap=False)  # fmt: skip
        for how in ("simple", "dynamic", "group"):
            agg = ref.aggte(typec=how, bstrap=False).atte
            assert got[how]["value"] == pytest.approx(agg["overall_att"], rel=1e-9)
            assert got[how]["se"] == pytest.approx(agg["overall_se"], rel=1e-9)
    assert got["dynamic"]["value"] == pytest.approx(0.10736, abs=5e-6)  # unweighted: 0.0591
    twfe_line = payload["estimates"][3]
    assert twfe_line["label"] == "ATT (TWFE, for comparison)"
    assert twfe_line["value"] == pytest.approx(0.0755, abs=5e-5)


def test_weights_changing_within_a_unit_refused_by_callaway_santanna(castle, tmp_path):
    frame, _ = castle
    varying = frame.assign(popwt=frame.popwt * (1 + 0.01 * (frame.year - 2000)))
    path = tmp_path / "varying.csv"
    varying.to_csv(path, index=False)
    args = [a for a in CASTLE if a not in ("--did-model", "twfe")]
    out = runner.invoke(app, ["causal", str(path), "--method", "did", *args])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert "--weights 'popwt' changes within a unit" in text and "Traceback" not in text


def test_regression_without_propensity_diagnostics_keeps_its_sensitivity(castle):
    """Unit and year dummies separate the treatment, so the diagnostic propensity cannot be
    fitted; --sensitivity still reports the regression's partial R² (Cinelli & Hazlett 2020:
    t²/(t² + dof) of the classical OLS t), equal to statsmodels'."""
    frame, path = castle
    payload = _json(["causal", path, "--method", "regression", "--treatment", "post",
                     "--outcome", "l_homicide", "--confounders", "C(sid),C(year)",
                     "--sensitivity"])  # fmt: skip
    fit = smf.ols("l_homicide ~ post + C(sid) + C(year)", frame).fit()
    t, dof = fit.tvalues["post"], fit.df_resid
    r2 = next(e for e in payload["estimates"] if e["label"].startswith("partial R²"))
    assert r2["value"] == pytest.approx(t**2 / (t**2 + dof), rel=1e-8)


def test_an_old_spec_with_weights_hajek_still_runs(tmp_path):
    """Specs written before the rename hold `weights: hajek` whatever their method: with
    regression and no column so named it is dropped (a deprecation warning), not a missing
    column; a column that is so named is used as observation weights."""
    rng = np.random.default_rng(4)
    n = 200
    x = rng.normal(size=n)
    a = rng.integers(0, 2, n)
    frame = pd.DataFrame({"a": a, "x": x, "y": a + x + rng.normal(size=n)})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    spec = tmp_path / "old.yaml"
    spec.write_text(f"kind: causal\ndata: {path}\ntreatment: a\noutcome: y\nconfounders: [x]\n"
                    "method: regression\nweights: hajek\n")  # fmt: skip
    out = runner.invoke(app, ["run", str(spec), "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    fit = smf.ols("y ~ a + x", frame).fit(cov_type="HC1")
    assert _head(payload)["value"] == pytest.approx(fit.params["a"], abs=1e-10)
    assert payload["findings"][0]["code"] == "deprecated"
    frame.assign(hajek=rng.gamma(2, 1, n)).to_csv(path, index=False)
    weighted = json.loads(runner.invoke(app, ["run", str(spec), "--json"]).output)
    assert not any(f["code"] == "deprecated" for f in weighted["findings"])
    assert _head(weighted)["value"] != pytest.approx(fit.params["a"], abs=1e-6)

"""`--benchmark` for the AIPW/DML long-story-short bounds (Chernozhukov, Cinelli, Newey, Sharma &
Syrgkanis 2022): the gain statistics of an observed covariate equal DoubleML's
`sensitivity_benchmark` (its `gain_statistics`) given the same nuisance predictions, and the
bounds of `kd`/`ky` multiples equal DoubleML's `sensitivity_analysis` at those strengths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cerebro.core.errors import UserInputError
from cerebro.sensitivity.analysis import run_sensitivity
from cerebro.sensitivity.spec import SensitivitySpec
from cerebro.stats.sensitivity import (
    RieszElements,
    dml_benchmark,
    dml_benchmark_strengths,
    dml_bounds,
    riesz_elements_ate,
)


def _frame(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    """x2 confounds strongly (treatment and outcome), x3 weakly, x1 only the outcome."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    logit = 0.3 * x[:, 0] + 0.8 * x[:, 1] - 0.2 * x[:, 2]
    d = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    y = 1.0 * d + 0.7 * x[:, 0] + 0.6 * x[:, 1] + 0.3 * x[:, 2] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "d": d, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})


def _nuisances(frame: pd.DataFrame, columns: list[str]) -> dict[str, np.ndarray]:
    """In-sample logistic propensity and per-arm linear outcome models (Cerebro's aipw), from
    scikit-learn – fitted independently of Cerebro."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    x, d, y = frame[columns].to_numpy(), frame["d"].to_numpy(), frame["y"].to_numpy()
    e = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, d)
    g = [LinearRegression().fit(x[d == k], y[d == k]).predict(x) for k in (0, 1)]
    return {"ml_g0": g[0][:, None], "ml_g1": g[1][:, None], "ml_m": e.predict_proba(x)[:, 1:]}


def _elements(frame: pd.DataFrame, p: dict[str, np.ndarray]) -> RieszElements:
    d, y = frame["d"].to_numpy(), frame["y"].to_numpy()
    e, g0, g1 = p["ml_m"][:, 0], p["ml_g0"][:, 0], p["ml_g1"][:, 0]
    score = g1 - g0 + d * (y - g1) / e - (1 - d) * (y - g0) / (1 - e)
    el = riesz_elements_ate(y, d, e, g0, g1)
    return RieszElements(float(score.mean()), score - score.mean(), *el["sigma2"], *el["nu2"])


@pytest.fixture(scope="module")
def doubleml_reference():
    """DoubleML's IRM on the same data and the same (external) nuisance predictions, long and
    short, its benchmark of x2 and its bounds at 1x and 2x that benchmark."""
    dml = pytest.importorskip("doubleml")
    from sklearn.linear_model import LinearRegression, LogisticRegression

    frame = _frame()
    long_p = _nuisances(frame, ["x1", "x2", "x3"])
    short_p = _nuisances(frame, ["x1", "x3"])
    model = dml.DoubleMLIRM(dml.DoubleMLData(frame, "y", "d", ["x1", "x2", "x3"]),
                            LinearRegression(), LogisticRegression(), n_folds=2)  # fmt: skip
    model.fit(external_predictions={"d": long_p})
    bench = model.sensitivity_benchmark(
        ["x2"], fit_args={"external_predictions": {"d": short_p}}
    ).loc["d"]
    bounds = {}
    for k in (1.0, 2.0):
        model.sensitivity_analysis(cf_y=min(k * bench["cf_y"], 1.0), cf_d=k * bench["cf_d"],
                                   rho=1.0, level=0.95)  # fmt: skip
        bounds[k] = {key: float(model.sensitivity_params["theta"][key][0])
                     for key in ("lower", "upper")}  # fmt: skip
    return frame, long_p, short_p, float(model.coef[0]), bench, bounds


def test_gain_statistics_equal_doubleml_given_the_same_predictions(doubleml_reference) -> None:
    frame, long_p, short_p, theta, ref, _ = doubleml_reference
    long, short = _elements(frame, long_p), _elements(frame, short_p)
    assert long.theta == pytest.approx(theta, abs=1e-10)
    b = dml_benchmark(long, short)
    for name in ("cf_y", "cf_d", "rho", "delta_theta"):
        assert getattr(b, name) == pytest.approx(float(ref[name]), abs=1e-8), name
    assert 0.05 < b.cf_d < 0.9 and 0.05 < b.cf_y < 0.9  # x2 matters on both sides
    assert b.delta_theta > 0.2  # dropping the confounder biases the ATE up, as simulated


def test_bounds_of_benchmark_multiples_equal_doubleml(doubleml_reference) -> None:
    frame, long_p, short_p, _, _, ref = doubleml_reference
    long = _elements(frame, long_p)
    bench = dml_benchmark(long, _elements(frame, short_p))
    for label, cf_d, cf_y in dml_benchmark_strengths("x2", bench, [1.0, 2.0], [1.0, 2.0]):
        k = float(label.split("x")[0])
        b = dml_bounds(long, cf_y, cf_d, 0.05)
        assert (b.lower, b.upper) == (pytest.approx(ref[k]["lower"], abs=1e-8),
                                      pytest.approx(ref[k]["upper"], abs=1e-8))  # fmt: skip


def test_cerebro_aipw_benchmark_equals_doubleml_end_to_end(doubleml_reference) -> None:
    """`cerebro sensitivity --method aipw --benchmark x2`: its own nuisance fits (unpenalised
    logistic, per-arm OLS), refit without x2, gain statistics and bounds equal DoubleML's to
    1e-7 (measured 3e-10: the two logistic fits agree to their convergence tolerance)."""
    frame, _, _, theta, ref, bounds = doubleml_reference
    spec = SensitivitySpec(treatment="d", outcome="y", confounders=["x1", "x2", "x3"],
                           method="aipw", benchmark=["x2"], kd=[1, 2], refute=False)  # fmt: skip
    result = run_sensitivity(spec, frame)
    assert result.estimates[0].value == pytest.approx(theta, abs=1e-6)
    table = result.tables.columns("benchmarks")
    assert table["covariate"] == ["x2"]
    for name in ("cf_y", "cf_d", "rho", "delta_theta"):
        assert table[name][0] == pytest.approx(float(ref[name]), abs=1e-7), name
    rows = result.tables.columns("bounds")
    assert rows["confounder"] == ["1x x2", "2x x2"]
    for i, k in enumerate((1.0, 2.0)):
        assert rows["lower"][i] == pytest.approx(bounds[k]["lower"], abs=1e-7)
        assert rows["upper"][i] == pytest.approx(bounds[k]["upper"], abs=1e-7)
    # the truth (1.0) lies inside the 1x bounds; the estimate without x2 would not
    assert rows["lower"][0] < 1.0 < rows["upper"][0]
    flips = [lo <= 0 <= hi for lo, hi in zip(rows["lower"], rows["upper"], strict=True)]
    note = next(f for f in result.findings if f.code == "robustness_value")
    assert ("as strong as 2x x2" in note.message) == flips[1] and "1x x2" not in note.message


def test_dml_benchmark_with_cross_fitted_learners_runs_and_is_consistent() -> None:
    """--method dml: the short refit shares the long fit's folds (same seed); a covariate that
    does not confound (x1 only drives the outcome) has Cf_D near 0."""
    frame = _frame(seed=1, n=1500)
    spec = SensitivitySpec(treatment="d", outcome="y", confounders=["x1", "x2", "x3"],
                           method="dml", benchmark=["x1", "x2"], kd=[1], refute=False)  # fmt: skip
    table = run_sensitivity(spec, frame).tables.columns("benchmarks")
    assert table["covariate"] == ["x1", "x2"]
    assert table["cf_d"][0] < 0.05 < table["cf_d"][1]
    assert table["cf_y"][0] > 0.2 and table["cf_y"][1] > 0.2


def test_bad_benchmarks_say_so_in_one_sentence() -> None:
    frame = _frame(n=400)
    only = SensitivitySpec(treatment="d", outcome="y", confounders=["x2"], method="aipw",
                           benchmark=["x2"], refute=False)  # fmt: skip
    with pytest.raises(UserInputError, match="only confounder"):
        run_sensitivity(only, frame)
    huge = SensitivitySpec(treatment="d", outcome="y", confounders=["x1", "x2", "x3"],
                           method="aipw", benchmark=["x2"], kd=[100], refute=False)  # fmt: skip
    with pytest.raises(UserInputError, match="smaller --kd"):
        run_sensitivity(huge, frame)
    with pytest.raises(ValueError, match="drop --benchmark"):
        SensitivitySpec(treatment="d", outcome="y", confounders=["x2"], method="psm",
                        benchmark=["x2"])  # fmt: skip

"""`cerebro survival` against reference implementations on the same data.

- Kaplan–Meier survival, its exponential-Greenwood interval and the log-rank test against
  lifelines 0.30.3 (numbers produced by `tests/reference/lifelines_survival.py` on
  `tests/data/survival_synthetic.csv`; lifelines needs pandas < 3 so it is not a test
  dependency): agreement to 1e-10.
- The pooled logistic hazards done by hand in statsmodels: the person-month table built with
  pandas (`np.repeat` of each unit by its follow-up), `sm.GLM(Binomial)` of the event on
  1, A, t, t², A·t, A·t² (+ x for the g-formula), with `freq_weights` = the stabilised weights
  from `sm.Logit` for IP weighting, survival as the cumulative product of one minus the
  predicted hazards: agreement to 1e-7 at every period.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebro.survival.analysis import survival

DATA = Path(__file__).parent / "data" / "survival_synthetic.csv"

# lifelines 0.30.3: (arm, period) → (survival, CI low, CI high); log-rank χ² and p
LIFELINES_KM = {
    (0, 6): (0.8764774791618147, 0.8086062632086451, 0.9214342867175496),
    (0, 12): (0.8223014513162711, 0.743726852707048, 0.878725460819824),
    (0, 24): (0.6497932758854507, 0.5466189271478918, 0.7351404072089077),
    (1, 6): (0.8976625549428224, 0.8329737540310381, 0.938213468310444),
    (1, 12): (0.8098010740548685, 0.7286706690084547, 0.8688303811579291),
    (1, 24): (0.6602103881229596, 0.5540880303356813, 0.7467909705560096),
}
LIFELINES_LOGRANK = (0.32950782725048094, 0.5659490410270127)


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(DATA)


@pytest.mark.parametrize("horizon", [6, 12, 24])
def test_kaplan_meier_equals_lifelines(frame, horizon):
    res = survival(frame, time="time", event="event", treatment="a", method="km", horizon=horizon)
    for arm, key in ((0, "survival_control"), (1, "survival_treated")):
        est = res.estimate(key)
        expected = LIFELINES_KM[(arm, horizon)]
        assert (est.value, est.ci_low, est.ci_high) == pytest.approx(expected, abs=1e-10)
    log_rank = res.estimate("log_rank")
    assert (log_rank.value, log_rank.p_value) == pytest.approx(LIFELINES_LOGRANK, abs=1e-10)


def _person_months(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame.loc[frame.index.repeat(frame["time"])].copy()
    rows["k"] = rows.groupby(level=0).cumcount()
    rows["d"] = ((rows["k"] == rows["time"] - 1) & (rows["event"] == 1)).astype(float)
    rows["u"] = rows["k"] / frame["time"].max()
    return rows.reset_index(drop=True)


def _terms(rows: pd.DataFrame, covariates: list[str]) -> np.ndarray:
    a, u = rows["a"].to_numpy(float), rows["u"].to_numpy(float)
    extra = [rows[c].to_numpy(float) for c in covariates]
    return np.column_stack([np.ones(len(rows)), a, u, u**2, a * u, a * u**2, *extra])


def test_pooled_logistic_hazards_equal_statsmodels_by_hand(frame):
    import statsmodels.api as sm

    K = int(frame["time"].max())
    rows = _person_months(frame)
    # IP weighting: stabilised weights from a statsmodels logistic propensity
    X = sm.add_constant(frame[["x"]].to_numpy())
    p = sm.Logit(frame["a"], X).fit(disp=0).predict(X)
    sw = np.where(frame["a"] == 1, frame["a"].mean() / p, (1 - frame["a"].mean()) / (1 - p))
    rows["sw"] = np.repeat(sw, frame["time"])
    ipw = sm.GLM(rows["d"], _terms(rows, []), family=sm.families.Binomial(),
                 freq_weights=rows["sw"]).fit()  # fmt: skip
    gform = sm.GLM(rows["d"], _terms(rows, ["x"]), family=sm.families.Binomial()).fit()
    grid = pd.DataFrame({"k": np.arange(K)})
    grid["u"] = grid["k"] / K
    expected = {}
    for arm in (0, 1):
        grid["a"] = arm
        expected["ipw", arm] = np.r_[1, np.cumprod(1 - ipw.predict(_terms(grid, [])))]
        per_unit = [
            np.cumprod(1 - gform.predict(_terms(grid.assign(x=x), ["x"]))) for x in frame["x"]
        ]
        expected["gformula", arm] = np.r_[1, np.mean(per_unit, axis=0)]
    for method in ("ipw", "gformula"):
        res = survival(frame, time="time", event="event", treatment="a", confounders=["x"],
                       method=method, bootstrap=0)  # fmt: skip
        curves = res.tables["curves"]
        for arm, column in ((0, "survival_control"), (1, "survival_treated")):
            np.testing.assert_allclose(curves[column], expected[method, arm], atol=1e-7)

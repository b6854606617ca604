"""What-if predictions (`cerebro counterfactual --set`): the parsing of an intervention, the
g-formula against statsmodels' fitted models (linear and logistic), groups, and a simulated
intervention with a known effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import cerebro
from cerebro.core.errors import UserInputError
from cerebro.counterfactual.spec import parse_intervention


@pytest.mark.parametrize(
    ("text", "how", "value"),
    [
        ("treatment=1", "level", 1.0),
        ("price=(-2.5)", "level", -2.5),
        ("spend=+10%", "percent", 10.0),
        ("spend=-5%", "percent", -5.0),
        ("spend=-5", "shift", -5.0),
        ("spend=+1e3", "shift", 1000.0),
        ("spend=*1.1", "scale", 1.1),
    ],
)
def test_parse_intervention(text, how, value):
    item = parse_intervention(text)
    assert (item.how, item.value) == (how, value)


def test_parse_text_level_and_refusals():
    assert parse_intervention("channel=email").text == "email"
    for bad in ("spend", "spend=", "=3", "spend=+10%%", "spend=*x", "spend=10*"):
        with pytest.raises(ValueError):
            parse_intervention(bad)


def marketing(n: int = 1_500, seed: int = 0) -> tuple[pd.DataFrame, float]:
    """Spend depends on region size (a confounder); sales = 5 + 0.3·spend + 4·size + noise."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(1, 3, n)
    region = np.where(size > 2, "big", "small")
    spend = 10 + 5 * size + rng.normal(0, 2, n)
    campaign = (rng.random(n) < 0.5).astype(int)
    sales = 5 + 0.3 * spend + 4 * size + 2 * campaign + rng.normal(0, 1, n)
    frame = pd.DataFrame({"sales": sales, "spend": spend, "size": size, "region": region,
                          "campaign": campaign})  # fmt: skip
    return frame, 0.3


def test_linear_g_formula_equals_the_fitted_model():
    frame, _ = marketing()
    result = cerebro.counterfactual(frame, outcome="sales", confounders="size",
                                    interventions="spend=+10%", bootstrap=100)  # fmt: skip
    fit = sm.OLS(frame.sales, sm.add_constant(frame[["size", "spend"]])).fit()
    expected = fit.params["spend"] * 0.1 * frame.spend.mean()
    assert result.estimate("change").value == pytest.approx(expected, abs=1e-9)
    assert result.estimate("as_observed").value == pytest.approx(frame.sales.mean(), abs=1e-9)
    for text, change in (("spend=-5", -5.0), ("spend=*1.1", 0.1 * frame.spend.mean())):
        other = cerebro.counterfactual(frame, outcome="sales", confounders="size",
                                       interventions=text, bootstrap=100)  # fmt: skip
        assert other.estimate("change").value == pytest.approx(fit.params["spend"] * change, 1e-9)


def test_known_effect_is_recovered_within_its_interval():
    frame, slope = marketing(seed=1)
    result = cerebro.counterfactual(frame, outcome="sales", confounders="size",
                                    interventions="spend=+2", bootstrap=300)  # fmt: skip
    change = result.estimate("change")
    assert change.ci_low <= 2 * slope <= change.ci_high
    assert any(f.code == "what_if_assumptions" for f in result.findings)


def test_groups_and_a_binary_treatment():
    frame, _ = marketing()
    result = cerebro.counterfactual(frame, treatment="campaign", outcome="sales",
                                    confounders="size,spend", interventions="campaign=1",
                                    by="region", bootstrap=100)  # fmt: skip
    fit = sm.OLS(frame.sales, sm.add_constant(frame[["campaign", "size", "spend"]])).fit()
    table = result.tables["what_if"]
    assert list(table.group) == ["big", "small", "overall"]
    for group, rows in [("big", frame.region == "big"), ("small", frame.region == "small")]:
        expected = fit.params["campaign"] * (1 - frame.campaign[rows]).mean()
        got = table.loc[table.group == group, "change"].iloc[0]
        assert got == pytest.approx(expected, abs=1e-9)
    assert result.estimate("change_big").ci_low <= result.estimate("change_big").value


def test_logistic_outcome_predictions_equal_statsmodels_logit():
    rng = np.random.default_rng(4)
    n = 2_000
    x = rng.normal(size=n)
    t = (rng.random(n) < 0.4).astype(int)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.8 * t + 0.5 * x)))).astype(int)
    frame = pd.DataFrame({"t": t, "x": x, "y": y})
    result = cerebro.counterfactual(frame, treatment="t", outcome="y", confounders="x",
                                    interventions="t=1", bootstrap=100)  # fmt: skip
    X = sm.add_constant(frame[["t", "x"]])
    fit = sm.Logit(frame.y, X).fit(disp=0)
    assert result.estimate("under_intervention").value == pytest.approx(
        fit.predict(X.assign(t=1)).mean(), abs=1e-8
    )


def test_text_level_and_extrapolation_warning():
    rng = np.random.default_rng(5)
    channel = rng.choice(["email", "search", "social"], 600)
    spend = rng.uniform(0, 10, 600)
    sales = 1 + (channel == "email") * 2 + 0.5 * spend + rng.normal(0, 1, 600)
    frame = pd.DataFrame({"channel": channel, "spend": spend, "sales": sales})
    result = cerebro.counterfactual(frame, outcome="sales", interventions="channel=email",
                                    confounders="spend", bootstrap=100)  # fmt: skip
    share_not_email = (channel != "email").mean()
    assert result.estimate("change").value == pytest.approx(2 * share_not_email, abs=0.15)
    doubled = cerebro.counterfactual(frame, outcome="sales", interventions="spend=*2",
                                     bootstrap=100)  # fmt: skip
    assert any(f.code == "extrapolation" for f in doubled.findings)
    with pytest.raises(UserInputError, match="text column"):
        cerebro.counterfactual(frame, outcome="sales", interventions="channel=tv", bootstrap=100)
    with pytest.raises(UserInputError, match="numeric"):
        cerebro.counterfactual(frame, outcome="sales", interventions="spend=high", bootstrap=100)

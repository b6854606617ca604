"""Results in the statsmodels habit: `.params`, `.bse`, `.pvalues`, `.conf_int(alpha)`,
`.summary()`, and ASCII spellings of the labels."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cerebro
from cerebro.core.errors import UserInputError
from cerebro.core.fit_view import ascii_label
from cerebro.core.results import Estimate, Result


@pytest.fixture(scope="module")
def welch():
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 2, 300), rng.normal(10.4, 3, 280)
    frame = pd.DataFrame({"arm": ["A"] * a.size + ["B"] * b.size, "y": np.r_[a, b]})
    return a, b, cerebro.abtest(frame, treatment="arm", outcome="y", control="A", test_type="welch")


def test_params_bse_pvalues_and_conf_int_at_another_level(welch):
    a, b, result = welch
    label = "y: B − A"
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert result.params[label] == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    assert result.pvalues[label] == pytest.approx(ref.pvalue, rel=1e-10)
    assert result.bse[label] == pytest.approx(
        np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size), rel=1e-12
    )
    own = result.conf_int()
    assert own.loc[label, "lower"] == result.estimate(label).ci_low
    low, high = ref.confidence_interval(confidence_level=0.9)
    ninety = result.conf_int(alpha=0.1)
    assert ninety.loc[label, "lower"] == pytest.approx(low, rel=1e-10)
    assert ninety.loc[label, "upper"] == pytest.approx(high, rel=1e-10)


def test_summary_is_a_table_and_still_the_mapping(welch):
    _, _, result = welch
    table = result.summary()
    assert list(table.columns) == ["coef", "std err", "p", "[95% lower", "95% upper]"]
    assert list(table.index) == [e.label for e in result.estimates]
    assert result.summary["title"].startswith("A/B test")
    assert result.to_dict()["summary"] == dict(result.summary)
    for other in (copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert other.summary().equals(table)
    restored = Result.from_dict(result.to_dict())
    assert restored.summary()["coef"].tolist() == table["coef"].tolist()


def test_ascii_labels_find_the_same_estimate(welch):
    _, _, result = welch
    assert ascii_label("y: B − A") == "y: B - A"
    assert result.estimate("y: B - A") is result.estimate("y: B − A")
    assert ascii_label("Δ revenue × 2 ≥ τ²") == "delta revenue x 2 >= tau^2"


def test_no_interval_at_another_level_without_a_standard_error():
    result = Result(
        "x", "y", None, [Estimate("boot", 1.0, None, 0.5, 1.5)], summary={"alpha": 0.05}
    )
    assert result.conf_int().loc["boot", "upper"] == 1.5
    with pytest.raises(UserInputError, match="has no standard error"):
        result.conf_int(0.1)
    with pytest.raises(UserInputError, match="strictly between 0 and 1"):
        result.conf_int(1.5)

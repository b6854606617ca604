"""The result vocabulary: stable estimate keys, the in-memory fit, typed metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cerebro.core.results import Estimate, Fit, Result, estimate_key


def test_estimate_keys_are_stable_and_address_estimates() -> None:
    e = Estimate("revenue: B_adaptive_v1 - A_control", 1.5)
    assert e.key == "revenue_b_adaptive_v1_a_control" == estimate_key(e.label)
    short = Estimate("ATE of a on y", 0.2, key="ate")
    result = Result("causal", "aipw", None, [e, short])
    assert result.estimate("ate") is short
    assert result.estimate("revenue: B_adaptive_v1 - A_control") is e
    with pytest.raises(KeyError, match="no estimate labelled or keyed 'nope'"):
        result.estimate("nope")
    again = Estimate.from_dict(json.loads(json.dumps(short.to_dict())))
    assert again == short


def test_fit_stays_out_of_json_unless_asked_and_gives_covariances() -> None:
    rng = np.random.default_rng(0)
    psi = rng.normal(size=(500, 2))
    fit = Fit(influence={"a": psi[:, 0], "b": psi[:, 1]}, residual_variance={"y": 2.0})
    result = Result("causal", "aipw", None, [Estimate("a", 0.0)], fit=fit)
    assert "fit" not in result.to_dict()
    assert set(result.to_dict(include_fit=True)["fit"]) == {"influence", "residual_variance"}
    cov = fit.covariance(["a", "b"])
    assert cov == pytest.approx(psi.T @ psi / 500**2, rel=1e-12)
    with pytest.raises(KeyError, match="no influence function"):
        fit.covariance(["c"])


def test_meta_is_the_typed_view_of_the_summary() -> None:
    result = Result("power", "x", None, summary={"title": "T", "alpha": 0.05, "units": 10})
    assert (result.meta.title, result.meta.alpha, result.meta.units) == ("T", 0.05, 10)
    assert result.meta.narrative == "" and result.meta.headline_table is None


def test_causal_result_carries_the_influence_function_of_its_estimate() -> None:
    """AIPW's in-memory fit reproduces its reported SE: √(Σψ²)/n."""
    import cerebro
    from cerebro.observational.examples import causal

    fields, frame = causal()
    result = cerebro.causal(frame, **fields)
    head = result.estimates[0]
    psi = result.fit.influence[head.key]
    assert len(psi) == len(frame)
    assert np.sqrt(result.fit.covariance([head.key])[0, 0]) == pytest.approx(head.se, rel=1e-12)
    assert "fit" not in result.to_dict()

"""Cerebro's media transforms reproduce PyMC-Marketing's on its reference grid to 1e-9.

`tests/data/mmm/pymc_marketing_transforms.json` holds the outputs of pymc-marketing 0.19.2's
adstock and saturation functions on a grid of parameters and three 20-week inputs (how it was
made: `tests/data/mmm/README.md`). Every case must match under at least one setting of
Cerebro's functions; where the conventions differ the mapping is spelled out here and in
docs/mmm.md ("Transforms"):

- names: the same (alpha, theta, lam, k, slope, kappa); PyMC-Marketing's Hill and logistic
  components multiply by a coefficient ``beta``, Cerebro's model does that outside the curve
  (the composed cases multiply by it here);
- ``normalize``: both tools take it per call; PyMC-Marketing's bare functions default to
  False, its MMM components to True, Cerebro's model to True (``--normalize``) for geometric and
  delayed. Cerebro's model never normalises the Weibull kernels (the PDF kernel is already
  rescaled to peak 1); the functions take ``normalize`` so that both of PyMC-Marketing's settings
  are checked;
- Weibull CDF: both use l_max + 1 taps (w_0 = 1, then the survival products);
- binomial adstock: a function here (`binomial_weights`), not yet a model choice;
- Michaelis–Menten: PyMC-Marketing's ceiling alpha is the function's ``alpha``; in the model it
  is 1 and the channel's beta scales it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cerebro.mmm import transforms as tf

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "mmm" / "pymc_marketing_transforms.json").read_text()
)
INPUTS = {name: np.asarray(v, float) for name, v in REFERENCE["inputs"].items()}
TOLERANCE = 1e-9


def weights(function: str, p: dict, l_max: int, normalize: bool) -> np.ndarray:
    """Cerebro's lag weights for one reference case, PyMC-Marketing's settings mapped."""
    if function == "geometric":
        return tf.geometric_weights(p["alpha"], l_max, normalize)
    if function == "delayed":
        return tf.delayed_weights(p["alpha"], p["theta"], l_max, normalize)
    if function == "binomial":
        return tf.binomial_weights(p["alpha"], l_max, normalize)
    if function == "weibull_pdf":
        return tf.weibull_pdf_weights(p["lam"], p["k"], l_max, normalize=normalize)
    return tf.weibull_cdf_weights(p["lam"], p["k"], l_max, normalize=normalize)


def saturation(function: str, x: np.ndarray, p: dict) -> np.ndarray:
    if function == "michaelis_menten":
        return tf.michaelis_menten(x, p["alpha"], p["lam"])
    return tf.saturate(function, x, p)


def _id(case: dict) -> str:
    extra = f"-l{case['l_max']}-norm{case['normalize']}" if "l_max" in case else ""
    params = ",".join(f"{k}={v}" for k, v in case["params"].items())
    return f"{case['function']}-{case['input']}{extra}-{params}"


def test_the_grid_is_the_expected_one():
    assert REFERENCE["versions"]["pymc-marketing"] == "0.19.2"
    counts = (len(REFERENCE["adstock"]), len(REFERENCE["saturation"]), len(REFERENCE["composed"]))
    assert counts == (180, 63, 2)  # 245 cases
    assert {c["mode"] for c in REFERENCE["adstock"]} == {"After"}


@pytest.mark.parametrize("case", REFERENCE["adstock"], ids=_id)
def test_adstock_matches_pymc_marketing(case):
    w = weights(case["function"], case["params"], case["l_max"], case["normalize"])
    out = tf.convolve_lags(INPUTS[case["input"]], w)
    np.testing.assert_allclose(out, case["output"], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("case", REFERENCE["saturation"], ids=_id)
def test_saturation_matches_pymc_marketing(case):
    out = saturation(case["function"], INPUTS[case["input"]], case["params"])
    np.testing.assert_allclose(out, case["output"], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("case", REFERENCE["composed"], ids=_id)
def test_adstock_then_saturation_matches_pymc_marketing(case):
    p = case["params"]
    kind = case["function"].split("+")[1]
    adstocked = tf.convolve_lags(
        INPUTS[case["input"]], weights("geometric", p, case["l_max"], case["normalize"])
    )
    out = p["beta"] * tf.saturate(kind, adstocked, p)
    np.testing.assert_allclose(out, case["output"], rtol=0, atol=TOLERANCE)


def test_the_model_form_is_pymc_marketings_default_geometric():
    """The model's geometric adstock with --normalize (its default) is PyMC-Marketing's
    GeometricAdstock component default (normalize=True)."""
    from cerebro.mmm.posterior import ModelForm

    form = ModelForm("geometric", "hill", 8, True, "normal")
    for case in REFERENCE["adstock"]:
        if case["function"] == "geometric" and case["normalize"] and case["l_max"] == 8:
            out = tf.convolve_lags(INPUTS[case["input"]], form.weights(case["params"]))
            np.testing.assert_allclose(out, case["output"], rtol=0, atol=TOLERANCE)

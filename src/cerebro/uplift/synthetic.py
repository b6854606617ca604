"""Uplift data with a known conditional average treatment effect (CATE) for every row.

`uplift_data` draws n units with features ``x1 … xp`` (independent standard normals) and one
text feature ``segment`` (levels ``a``, ``b``, ``c`` with shares 0.5 / 0.3 / 0.2), a treatment
(``0`` = control, ``1 … n_arms − 1`` = treatments) and an outcome (continuous, or 0/1). The
treatment is randomised (equal shares, or ``treated_share`` for two arms) or, with
``confounded=True``, assigned by a logistic (softmax for several arms) model in x1, x2 and the
segment (logit 0.5·x1 − 0.4·x2 + 0.3·1{segment = b}; propensities within about [0.05, 0.95]), which also drive the outcome – the setting where ignoring the propensity biases
naive contrasts. Only x1 … x4 and the segment matter; x5 … xp are noise features.

The generating model (for arm a, τ_a the CATE of arm a versus control):

- baseline μ₀(x) = x1 + 0.5·x2 + 0.5·sin(2·x3) + 0.25·x4² + s(segment), s = (0, 0.5, −0.5);
- base effect τ(x) = 0.5 + 0.5·x1 + 0.5·1{x2 > 0} + r(segment), r = (0, 0.25, −0.25);
- arm a: τ_a(x) = τ(x)/(1 + 0.25·(a − 1)) + 0.4·(a − 1)/(n_arms − 1)·x3, so the best arm
  varies by unit when there are several;
- continuous: Y = μ₀(x) + τ_A(x) + ε, ε ~ N(0, 1), and the CATE is τ_a(x) exactly;
- binary: P(Y = 1) = expit(−1.5 + 0.6·μ₀(x) + 0.5·τ_A(x)) (control conversion about 0.23), and
  the CATE is the difference of the two probabilities, expit(η₀ + 0.5·τ_a) − expit(η₀), η₀ = −1.5 + 0.6·μ₀(x).

The truth is the per-row CATE (``truth["cate"]``; for several arms also ``cate_<arm>`` and a
(n, arms − 1) matrix under ``cate``), the **sample** average treatment effect
``truth["ate"]`` = mean of the per-row CATE over the drawn units (what an estimator of the ATE
on this sample targets; ``ate_<arm>`` for several arms), the propensity of every row
(``propensity``: P(treatment = 1), or an (n, arms) matrix), and the expected control outcome
``mu0``.

This is the design family of Künzel, Sekhon, Bickel & Yu (2019, PNAS 116(10), "Metalearners
for estimating heterogeneous treatment effects using machine learning", §4 simulations):
a smooth nonlinear baseline, a simpler effect function with a step, and optional confounding.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from cerebro.core.errors import UserInputError

SEGMENTS = ("a", "b", "c")
SEGMENT_SHARES = (0.5, 0.3, 0.2)
SEGMENT_BASELINE = np.array([0.0, 0.5, -0.5])
SEGMENT_EFFECT = np.array([0.0, 0.25, -0.25])
BINARY_INTERCEPT = -1.5
BINARY_BASELINE_SCALE = 0.6
BINARY_EFFECT_SCALE = 0.5


def uplift_data(
    n: int,
    p: int = 10,
    kind: Literal["binary", "continuous"] = "binary",
    n_arms: int = 2,
    seed: int = 0,
    *,
    confounded: bool = False,
    treated_share: float = 0.5,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A seeded uplift data set and its truth (see the module docstring for the model)."""
    if n < 10:
        raise UserInputError(f"uplift_data needs n of at least 10, got {n}.")
    if p < 4:
        raise UserInputError(f"uplift_data needs p of at least 4 features (x1…x4), got {p}.")
    if kind not in ("binary", "continuous"):
        raise UserInputError(f"kind must be 'binary' or 'continuous', got {kind!r}.")
    if n_arms < 2:
        raise UserInputError(
            f"n_arms must be at least 2 (control and one treatment), got {n_arms}."
        )
    if not 0 < treated_share < 1:
        raise UserInputError(
            f"treated_share must be strictly between 0 and 1, got {treated_share}."
        )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    x1, x2, x3, x4 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]

    mu0 = x1 + 0.5 * x2 + 0.5 * np.sin(2 * x3) + 0.25 * x4**2 + SEGMENT_BASELINE[segment]
    tau = 0.5 + 0.5 * x1 + 0.5 * (x2 > 0) + SEGMENT_EFFECT[segment]
    arms = np.arange(1, n_arms)
    # (n, arms − 1): the effect function of each treatment arm on the latent scale.
    latent_effect = (
        tau[:, None] / (1 + 0.25 * (arms - 1))[None, :]
        + (0.4 * (arms - 1) / max(n_arms - 1, 1))[None, :] * x3[:, None]
    )

    # Assignment: equal shares (or treated_share) when randomised, a logistic / softmax model
    # in the outcome's own drivers when confounded.
    if confounded:
        logits = np.zeros((n, n_arms))
        logits[:, 1:] = (0.5 * x1 - 0.4 * x2 + 0.3 * (segment == 1))[:, None] * (
            1 + 0.25 * (arms - 1)
        )[None, :]
        if n_arms == 2:
            logits[:, 1] += special.logit(treated_share)
        propensity = special.softmax(logits, axis=1)
    elif n_arms == 2:
        propensity = np.tile([1 - treated_share, treated_share], (n, 1))
    else:
        propensity = np.full((n, n_arms), 1 / n_arms)
    u = rng.random(n)
    treatment = (u[:, None] > np.cumsum(propensity, axis=1)[:, :-1]).sum(axis=1)

    noise = rng.standard_normal(n)
    draw = rng.random(n)
    effect_received = np.where(
        treatment > 0, latent_effect[np.arange(n), np.maximum(treatment - 1, 0)], 0.0
    )
    if kind == "continuous":
        cate = latent_effect
        outcome = mu0 + effect_received + noise
        expected_control = mu0
    else:
        eta0 = BINARY_INTERCEPT + BINARY_BASELINE_SCALE * mu0
        expected_control = special.expit(eta0)
        cate = (
            special.expit(eta0[:, None] + BINARY_EFFECT_SCALE * latent_effect)
            - (expected_control[:, None])
        )
        prob = special.expit(eta0 + BINARY_EFFECT_SCALE * effect_received)
        outcome = (draw < prob).astype(np.int64)

    frame = pd.DataFrame({f"x{j + 1}": x[:, j] for j in range(p)})
    frame["segment"] = np.asarray(SEGMENTS)[segment]
    frame["treatment"] = treatment.astype(np.int64)
    frame["outcome"] = outcome
    truth: dict[str, Any] = {
        "kind": kind,
        "confounded": confounded,
        "seed": seed,
        "estimand": "per-row CATE of each arm versus control (0); ate = its sample mean",
        "mu0": expected_control,
    }
    if n_arms == 2:
        truth["cate"] = cate[:, 0]
        truth["ate"] = float(cate[:, 0].mean())
        truth["propensity"] = propensity[:, 1]
    else:
        truth["cate"] = cate
        truth["ate"] = {int(a): float(cate[:, a - 1].mean()) for a in arms}
        truth["propensity"] = propensity
        for a in arms:
            truth[f"cate_{a}"] = cate[:, a - 1]
            truth[f"ate_{a}"] = float(cate[:, a - 1].mean())
    return frame, truth


def design_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The numeric features of an `uplift_data` frame: x1…xp and the segment one-hot (b, c)."""
    xs = [c for c in frame.columns if c.startswith("x") and c[1:].isdigit()]
    seg = frame["segment"].to_numpy()
    dummies = np.column_stack([(seg == level).astype(float) for level in SEGMENTS[1:]])
    return np.column_stack([frame[xs].to_numpy(float), dummies])

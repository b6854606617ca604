"""Mediation data with known natural direct and indirect effects (tests, docs, the example).

Covariates: age ~ N(0, 1) (standardised) and gender ~ Bernoulli(0.5); the treatment
`intervention` ~ Bernoulli(expit(0.4·age − 0.2)), so age confounds everything; the mediator
`engagement` and the outcome `result`:

- ``linear``: engagement = 0.5 + a·T + 0.6·age + 0.3·gender + N(0, 1);
  result = 1 + b·T + g·engagement + i·T·engagement + 0.5·age − 0.4·gender + N(0, 1),
  so NDE = b + i·E[M(0)] and NIE = a·(g + i) in closed form;
- ``binary_outcome``: the same mediator, result ~ Bernoulli(expit(−0.5 + b·T + g·M + 0.5·age
  − 0.4·gender)); the truth integrates expit over the normal law of the linear predictor
  (Gauss–Hermite, exact to ~1e-12);
- ``binary_mediator``: engagement ~ Bernoulli(expit(−0.3 + a·T + 0.6·age)) and the linear
  outcome with interaction, whose truth needs E[expit(·)] over age (Gauss–Hermite).

Truths are population values (over the covariate distribution), the estimand the intervals
cover. Everything is drawn from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

_Z, _W = np.polynomial.hermite.hermgauss(80)


def _normal_expit(mean: float, sd: float) -> float:
    """E[expit(N(mean, sd²))]."""
    return float(np.sum(_W * special.expit(mean + np.sqrt(2) * sd * _Z)) / np.sqrt(np.pi))


def _gender_avg(function: Any) -> float:
    return 0.5 * function(0.0) + 0.5 * function(1.0)


def mediation_frame(
    n: int = 1_000,
    *,
    design: str = "linear",
    a: float = 0.8,
    b: float = 0.5,
    g: float = 0.7,
    i: float = 0.0,
    seed: int = 0,
) -> tuple[Any, dict[str, float]]:
    """A data set of `design` and its truth {nde, nie, total_effect, proportion_mediated}."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.standard_normal(n)
    gender = rng.integers(0, 2, n).astype(float)
    t = (rng.random(n) < special.expit(0.4 * age - 0.2)).astype(float)
    if design == "binary_mediator":
        m = (rng.random(n) < special.expit(-0.3 + a * t + 0.6 * age)).astype(float)
    else:
        m = 0.5 + a * t + 0.6 * age + 0.3 * gender + rng.standard_normal(n)
    if design == "binary_outcome":
        eta = -0.5 + b * t + g * m + 0.5 * age - 0.4 * gender
        y = (rng.random(n) < special.expit(eta)).astype(float)
    else:
        y = 1 + b * t + g * m + i * t * m + 0.5 * age - 0.4 * gender + rng.standard_normal(n)
    frame = pd.DataFrame(
        {"intervention": t, "engagement": m, "result": y, "age": age, "gender": gender}
    )
    q = _truth_q(design, a, b, g, i)
    truth = {
        "nde": q[(1, 0)] - q[(0, 0)],
        "nie": q[(1, 1)] - q[(1, 0)],
        "total_effect": q[(1, 1)] - q[(0, 0)],
    }
    truth["proportion_mediated"] = truth["nie"] / truth["total_effect"]
    return frame, truth


def _truth_q(design: str, a: float, b: float, g: float, i: float) -> dict[tuple[int, int], float]:
    """Q(t, t') = E[Y(t, M(t'))] over the population."""
    q = {}
    for t in (0, 1):
        for tm in (0, 1):
            if design == "linear":
                mean_m = 0.5 + a * tm + 0.3 * 0.5
                q[(t, tm)] = 1 + b * t + (g + i * t) * mean_m - 0.4 * 0.5
            elif design == "binary_outcome":
                # η = −0.5 + b t + g M + 0.5 age − 0.4 gender, M = 0.5 + a t' + 0.6 age + 0.3 gender + e
                def given_gender(sex: float, t: int = t, tm: int = tm) -> float:
                    mean = -0.5 + b * t + g * (0.5 + a * tm + 0.3 * sex) - 0.4 * sex
                    sd = np.sqrt((0.6 * g + 0.5) ** 2 + g**2)
                    return _normal_expit(mean, sd)

                q[(t, tm)] = _gender_avg(given_gender)
            else:  # binary mediator, linear outcome with interaction
                p = _normal_expit(-0.3 + a * tm, 0.6)
                q[(t, tm)] = 1 + b * t + (g + i * t) * p - 0.4 * 0.5
    return q


def example() -> tuple[dict[str, Any], Any]:
    """A small seeded mediation data set (400 rows) asked all three questions."""
    frame, _ = mediation_frame(400, seed=3)
    lo, hi = float(np.floor(frame["result"].min())), float(np.ceil(frame["result"].max()))
    options = {
        "treatment": "intervention",
        "outcome": "result",
        "mediator": "engagement",
        "confounders": ["age", "gender"],
        "interventions": ["intervention=1"],
        "by": "gender",
        "bounds": ["manski", "mtr"],
        "outcome_bounds": [lo, hi],
        "bootstrap": 200,
    }
    return options, frame

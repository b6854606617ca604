"""Double machine learning (Chernozhukov et al. 2018, "Double/debiased machine learning for
treatment and structural parameters", Econometrics Journal 21): nuisance functions fitted by
machine-learning learners with K-fold cross-fitting, plugged into Neyman-orthogonal scores.

- `plr` (partially linear model y = θ·a + g(x) + ε): ỹ = y − ℓ̂(x), ã = a − m̂(x) with ℓ = E[Y|X],
  m = E[A|X] predicted out of fold; θ = Σ ã ỹ / Σ ã² ("partialling out"), SE from the score
  ψ = (ỹ − θ ã) ã. A constant effect; it is the ATE only if effects do not vary with x.
- `irm` (interactive model, any effect heterogeneity): the AIPW score with out-of-fold
  g_a(x) = E[Y | A = a, X] (fitted on arm a of the training folds) and m(x), the propensity
  clipped to [clip, 1 − clip]; ATE, ATT or ATC.

Learners, folds and cross-fitting come from `cerebro.ml.crossfit`.
"""

from __future__ import annotations

import numpy as np

from cerebro.data.validate import require_finite_result
from cerebro.ml.crossfit import Nuisance, cross_fit_all, fold_ids
from cerebro.observational.data import CausalData
from cerebro.observational.estimators import ArmMeans, aipw_scores


def dml_plr(
    data: CausalData, learner: str, folds: int, seed: int, jobs: int = 1
) -> tuple[float, float]:
    """θ of the partially linear model and its SE (partialling-out score)."""
    ids = fold_ids(len(data.y), folds, seed)
    nuisances = [Nuisance(data.y, False), Nuisance(data.a, True)]
    ell, m = cross_fit_all(learner, data.X, nuisances, ids, seed, jobs)
    y_res, a_res = data.y - ell, data.a - m
    theta = float(np.sum(a_res * y_res) / np.sum(a_res**2))
    psi = (y_res - theta * a_res) * a_res
    jacobian = np.mean(a_res**2)
    return theta, float(np.sqrt(np.mean(psi**2) / jacobian**2 / len(psi)))


def clipping_note(clipped: int, clip: float) -> str:
    """The note for cross-fitted propensities clipped to [clip, 1 − clip]: where that happens
    overlap is thin, and the estimate leans on the clipping rather than on the data."""
    return (
        f"{clipped:,} cross-fitted propensities were clipped to [{clip:g}, "
        f"{1 - clip:g}]: overlap is thin there."
    )


def dml_irm(
    data: CausalData, learner: str, folds: int, seed: int, estimand: str, clip: float,
    jobs: int = 1,
) -> tuple[ArmMeans, int]:  # fmt: skip
    """AIPW means with cross-fitted nuisances; also how many propensities were clipped."""
    ids = fold_ids(len(data.y), folds, seed)
    nuisances = [Nuisance(data.a, True)] + [
        Nuisance(data.y, data.binary_outcome, data.a == arm) for arm in (0, 1)
    ]
    e, g0, g1 = cross_fit_all(learner, data.X, nuisances, ids, seed, jobs)
    require_finite_result(  # a NaN would pass the clipping count and np.clip unchanged
        np.c_[e, g0, g1], f"the cross-fitted {learner} nuisance predictions",
        "rescale extreme confounders or outcomes, or try another --learner.",
    )  # fmt: skip
    clipped = int(np.sum((e < clip) | (e > 1 - clip)))
    e = np.clip(e, clip, 1 - clip)
    return aipw_scores(data, e, g0, g1, estimand), clipped

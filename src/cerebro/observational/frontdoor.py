"""The front-door estimator of `kind: causal`, `method: frontdoor`.

Estimand: the ATE E[Y | do(T=1)] − E[Y | do(T=0)] of a binary treatment T, identified through
mediators M that satisfy the front-door criterion (M carries every effect of T on Y, nothing
unobserved confounds T and M, and T blocks every back-door path from M to Y) even when T and Y
share an unobserved cause. Pearl's front-door formula (Pearl 2009, *Causality*, Thm 3.3.4):

    E[Y | do(t)] = Σ_m P(m | t) Σ_t' P(t') E[Y | m, t'].

Plug-in: when the mediators are discrete (at most `MAX_CELLS` distinct value combinations),
P(m | t), P(t') and E[Y | m, t'] are sample shares and cell means. Otherwise models: each
mediator column linear in T (M = α + β·T + residual, residuals pooled across arms), the outcome
linear (or logistic for a 0/1 outcome) in T and M, and the sum over m an average over the
units' residuals (m̂(t) + r_i). With linear models this equals β·γ, the product of the T → M and
M → Y coefficients. CIs: a seeded nonparametric bootstrap (percentile).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result, effect_result
from cerebro.data.validate import require_values
from cerebro.observational.bootstrap import bootstrap
from cerebro.observational.data import CausalData, prepare
from cerebro.observational.models import fit_glm
from cerebro.observational.spec import CausalSpec
from cerebro.stats.intervals import interval_from

MAX_CELLS = 20  # distinct mediator value combinations the plug-in takes
DEFAULT_REPLICATES = 999


def _cells(X: np.ndarray) -> np.ndarray:
    """The mediator cell of each row, 0 … k − 1 (mixed-radix codes of the columns' levels:
    several times faster than np.unique(axis=0), which the bootstrap calls per resample)."""
    codes = np.zeros(len(X), dtype=np.int64)
    for column in X.T:
        levels, inverse = np.unique(column, return_inverse=True)
        codes = codes * len(levels) + inverse
    return np.unique(codes, return_inverse=True)[1]


def is_discrete(X: np.ndarray) -> bool:
    """Few enough mediator value combinations for the nonparametric plug-in."""
    return len(np.unique(X, axis=0)) <= MAX_CELLS


def plugin_means(data: CausalData) -> np.ndarray:
    """[E[Y|do(0)], E[Y|do(1)]] by the plug-in formula over mediator cells."""
    cells = _cells(data.X)
    k = cells.max() + 1
    p_arm = np.array([np.mean(data.a == 0), np.mean(data.a == 1)])
    count = np.zeros((k, 2))
    total = np.zeros((k, 2))
    np.add.at(count, (cells, data.a.astype(int)), 1)
    np.add.at(total, (cells, data.a.astype(int)), data.y)
    if (count == 0).any():
        cell = int(np.argwhere(count == 0)[0][0])
        raise UserInputError(
            f"mediator value {data.X[cells == cell][0].tolist()} occurs in one treatment arm "
            "only, so E[outcome | mediator, arm] is unknown for the other (no overlap); "
            "coarsen the mediator or use a continuous one."
        )
    outcome = total / count  # E[Y | m, t'] per cell and arm
    p_cell = count / count.sum(axis=0)  # P(m | t)
    inner = outcome @ p_arm  # Σ_t' P(t') E[Y | m, t']
    return p_cell.T @ inner


def model_means(data: CausalData) -> np.ndarray:
    """[E[Y|do(0)], E[Y|do(1)]] with linear mediator models and a linear/logistic outcome."""
    n = len(data.y)
    arm_design = np.column_stack([np.ones(n), data.a])
    coef, *_ = np.linalg.lstsq(arm_design, data.X, rcond=None)  # (2, mediators)
    residuals = data.X - arm_design @ coef
    outcome_design = np.column_stack([np.ones(n), data.a, data.X])
    if data.binary_outcome:
        predict = fit_glm(outcome_design, data.y, True).mean
    else:  # least squares directly: the bootstrap refits it hundreds of times
        gamma = np.linalg.lstsq(outcome_design, data.y, rcond=None)[0]

        def predict(design: np.ndarray) -> np.ndarray:
            return design @ gamma

    p1 = float(np.mean(data.a))
    means = []
    for t in (0, 1):
        m = coef[0] + coef[1] * t + residuals  # draws from P(m | t)
        mean = 0.0
        for t_prime, weight in ((0, 1 - p1), (1, p1)):
            design = np.column_stack([np.ones(n), np.full(n, t_prime), m])
            mean += weight * float(np.mean(predict(design)))
        means.append(mean)
    return np.array(means)


def frontdoor_point(data: CausalData, discrete: bool) -> np.ndarray:
    """[effect, E[Y|do(0)], E[Y|do(1)]] of one sample (the bootstrap's statistic)."""
    means = plugin_means(data) if discrete else model_means(data)
    return np.array([means[1] - means[0], means[0], means[1]])


def frontdoor_result(
    frame: Any, spec: CausalSpec, mediators: list[str], findings: list[Finding]
) -> Result:
    """The front-door ATE with a bootstrap CI, the do-means of both arms and the method said."""
    for name in mediators:  # in the mediator's words before `prepare` checks it as a column
        require_values(frame[name], name, "mediator")
        if frame[name].nunique(dropna=True) < 2:
            raise UserInputError(
                f"mediator {name!r} takes one value only; the front door needs a mediator that "
                "varies with the treatment."
            )
    data = prepare(frame, spec.model_copy(update={"confounders": mediators}))
    if len(data.arms) != 2:
        raise UserInputError(
            f"--method frontdoor takes a binary treatment; {spec.treatment!r} has "
            f"{len(data.arms)} arms (pick two with --treated and --control)."
        )
    findings = [*findings, *data.findings]
    discrete = is_discrete(data.X)
    point = frontdoor_point(data, discrete)
    replicates = spec.bootstrap or DEFAULT_REPLICATES
    reps = bootstrap(data, partial(frontdoor_point, discrete=discrete), replicates, spec.seed,
                     spec.jobs)  # fmt: skip
    how = (
        "plug-in of Pearl's front-door formula over the mediator's observed values"
        if discrete
        else "Pearl's front-door formula with linear mediator models and a "
        + ("logistic" if data.binary_outcome else "linear")
        + " outcome model in treatment and mediators"
    )
    findings.append(
        Finding(
            "info",
            "method",
            f"front-door adjustment through {', '.join(mediators)}: {how}; percentile CI from "
            f"{replicates} bootstrap resamples (seed {spec.seed}). Valid if the mediators "
            "carry the whole effect, nothing unobserved confounds treatment and mediators, and "
            "the treatment blocks every back-door path from the mediators to the outcome.",
        )
    )
    measure = "risk difference" if data.binary_outcome else "difference in means"
    rows: dict[str, list[Any]] = {
        k: [] for k in ("estimand", "measure", "estimate", "se", "ci_low", "ci_high", "p_value")
    }
    se, low, high, p = interval_from(float(point[0]), np.nan, spec.alpha, reps[:, 0])
    for key, value in zip(rows, ["ATE", measure, float(point[0]), se, low, high, p], strict=True):
        rows[key].append(value)
    estimate = Estimate(f"ATE ({measure})", float(point[0]), se, low, high, p,
                        {"estimand": "ate", "measure": measure, "method": "frontdoor"})  # fmt: skip
    potential = {"arm": [data.control, data.treated], "mean": point[1:].tolist(),
                 "se": np.std(reps[:, 1:], axis=0, ddof=1).tolist()}  # fmt: skip
    narrative = (
        f"Estimated ATE of {spec.treatment} ({data.treated!r} vs {data.control!r}) on "
        f"{spec.outcome}: {point[0]:+.4g} ({1 - spec.alpha:.0%} CI {low:+.4g} to {high:+.4g}), "
        f"by the front-door formula through {', '.join(mediators)}. This is causal only if the "
        "front-door conditions hold (see the method finding)."
    )
    return effect_result(
        spec,
        "frontdoor",
        [estimate],
        findings,
        {"effects": rows, "potential_outcomes": potential},
        title=f"Causal effect of {spec.treatment} on {spec.outcome} — front-door through "
        f"{', '.join(mediators)}, ATE, {len(data.y):,} units",
        narrative=narrative,
        units=len(data.y),
    )

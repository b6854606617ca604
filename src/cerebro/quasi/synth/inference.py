"""Inference for synthetic controls: placebos in space, leave-one-out, placebo standard errors.

Placebo-in-space permutation test (Abadie, Diamond & Hainmueller 2010, §2.4; Abadie 2021, JEL
59:391–425, §7): refit the synthetic control with each donor in turn as the "treated" unit and
the remaining donors (never the actually treated unit) as its pool, with the same procedure –
V re-optimised for each placebo unless fixed. The statistic is the ratio of post- to
pre-period RMSPE, which scales every unit's post-period gap by how well its synthetic control
fits before treatment. Under the sharp null of no effect and exchangeable assignment of the
treatment across units, the treated unit's rank among the J + 1 ratios is uniform, so

    p = #{units whose ratio ≥ the treated unit's ratio, the treated unit included} / (J + 1)

is an exact permutation p-value (its smallest value is 1/(J + 1)). ADH also discard placebos
whose pre-period MSPE exceeds a multiple of the treated unit's (their figures 5–7 use 20, 5
and 2): those placebos fit so badly that their post-period gaps say nothing.

Leave-one-out (Abadie, Diamond & Hainmueller 2015, AJPS 59:495–510): refit dropping each donor
with positive weight, one at a time, to show how much the estimate leans on any single donor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cerebro.stats.synth_weights import SynthFit, fit_synth

# A fitter maps (outcomes, treated rows, donor rows) to a SynthFit; run() binds the options.
Fitter = Callable[[np.ndarray, np.ndarray, np.ndarray], SynthFit]


def adh_fitter(
    n_pre: int,
    predictors: np.ndarray | None = None,
    v: np.ndarray | None = None,
    fit_periods: np.ndarray | None = None,
) -> Fitter:
    """The ADH fit with these options, as a function of (outcomes, treated, donors)."""

    def fit(Y: np.ndarray, treated: np.ndarray, donors: np.ndarray) -> SynthFit:
        return fit_synth(Y, treated, n_pre, predictors, donors, v, fit_periods)

    return fit


@dataclass
class Placebos:
    """In-space placebo results: one row per donor refitted as if treated."""

    units: np.ndarray  # row indices of the placebo units (the donors)
    gaps: np.ndarray  # (placebos × periods)
    pre_rmspe: np.ndarray
    post_rmspe: np.ndarray
    att: np.ndarray  # mean post-period gap of each placebo

    @property
    def ratio(self) -> np.ndarray:
        return self.post_rmspe / np.where(self.pre_rmspe > 0, self.pre_rmspe, np.nan)


def rmspe(gaps: np.ndarray, n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    """Pre- and post-period root mean squared prediction error of each row of gaps."""
    g = np.atleast_2d(gaps)
    return np.sqrt(np.mean(g[:, :n_pre] ** 2, axis=1)), np.sqrt(np.mean(g[:, n_pre:] ** 2, axis=1))


def placebos_in_space(
    Y: np.ndarray, treated: np.ndarray, donors: np.ndarray, n_pre: int, fitter: Fitter
) -> Placebos:
    """Refit with each donor as the treated unit and the other donors as its pool."""
    donors = np.asarray(donors, int)
    gaps = np.empty((len(donors), Y.shape[1]))
    for i, unit in enumerate(donors):
        pool = np.delete(donors, i)
        gaps[i] = fitter(Y, np.array([unit]), pool).gaps
    pre, post = rmspe(gaps, n_pre)
    return Placebos(donors, gaps, pre, post, gaps[:, n_pre:].mean(axis=1))


def permutation_p_value(
    treated_gaps: np.ndarray,
    placebos: Placebos,
    n_pre: int,
    mspe_cutoff: float | None = None,
    statistic: str = "ratio",
) -> tuple[float, int]:
    """ADH's permutation p-value and the number of placebos it used.

    statistic "ratio": post/pre RMSPE; "post": post-period RMSPE; "att": |mean post gap|.
    mspe_cutoff: drop placebos whose pre-period MSPE exceeds this multiple of the treated
    unit's (None keeps all).
    """
    pre_t, post_t = (float(x[0]) for x in rmspe(treated_gaps, n_pre))
    keep = np.ones(len(placebos.units), bool)
    if mspe_cutoff is not None:
        keep = placebos.pre_rmspe**2 <= mspe_cutoff * pre_t**2
    if statistic == "ratio":
        own, others = post_t / pre_t if pre_t > 0 else np.inf, placebos.ratio[keep]
    elif statistic == "post":
        own, others = post_t, placebos.post_rmspe[keep]
    else:
        own, others = abs(float(np.mean(treated_gaps[n_pre:]))), np.abs(placebos.att[keep])
    # Ties count against the treated unit (≥), so the test never over-rejects; a relative
    # slack of 1e-12 keeps floating-point noise from breaking exact ties.
    at_least = int(np.sum(others >= own * (1 - 1e-12)))
    return (1 + at_least) / (1 + int(keep.sum())), int(keep.sum())


def placebo_se(placebo_att: np.ndarray) -> float:
    """Placebo standard error (Arkhangelsky et al. 2021, Algorithm 4, with every donor used
    once as the placebo treated unit): the spread of the placebo ATTs. Valid when the
    treated unit's noise is like the donors' (homoskedasticity across units)."""
    att = np.asarray(placebo_att, float)
    if len(att) < 2:
        return float("nan")
    return float(np.sqrt(np.mean((att - att.mean()) ** 2)))


@dataclass
class LeaveOneOut:
    dropped: np.ndarray  # row index of the dropped donor
    att: np.ndarray
    gaps: np.ndarray  # (dropped × periods)
    synthetic: np.ndarray  # (dropped × periods)
    pre_rmspe: np.ndarray


def leave_one_out(
    Y: np.ndarray,
    treated: np.ndarray,
    donors: np.ndarray,
    weights: np.ndarray,
    n_pre: int,
    fitter: Fitter,
    threshold: float = 1e-6,
) -> LeaveOneOut:
    """Refit without each donor whose weight exceeds `threshold`, one at a time."""
    donors = np.asarray(donors, int)
    positive = np.flatnonzero(np.asarray(weights) > threshold)
    gaps = np.empty((len(positive), Y.shape[1]))
    synthetic = np.empty_like(gaps)
    for i, j in enumerate(positive):
        fit = fitter(Y, treated, np.delete(donors, j))
        gaps[i], synthetic[i] = fit.gaps, fit.synthetic
    pre, _ = rmspe(gaps, n_pre) if len(positive) else (np.empty(0), None)
    return LeaveOneOut(donors[positive], gaps[:, n_pre:].mean(axis=1), gaps, synthetic, pre)

"""Synthetic control with full placebo inference: Cerebro vs pysyncon, 50 units × 100 periods.

One run, same data, interleaved repetitions, medians. Predictors: the covariate x and the
outcome averaged over each third of the 80 pre-periods (k = 4), as `--confounders x` does.

A. Fixed V (the treated unit's V reused by every placebo): the treated fit plus 49 placebo
   refits – the inner QP's speed (Cerebro: exact NNLS reduction; pysyncon: SLSQP).
B. Nested V search (ADH/Synth: V chosen to minimise the pre-period MSPE) for the treated unit
   and every placebo. pysyncon's Nelder–Mead over SLSQP takes ~1–2 min per fit here, so it
   is timed on the treated fit and 2 placebos and its per-fit time multiplied by 50 (stated).

Run: .venv/bin/python bench/bench_synth.py [--reps 3]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np

from cerebro.quasi.synth.inference import adh_fitter, permutation_p_value, placebos_in_space
from cerebro.quasi.synth.synthetic import synthetic_panel

N_UNITS, N_PERIODS, N_PRE = 50, 100, 80


def data():
    frame, truth = synthetic_panel(N_UNITS, N_PERIODS, N_PRE, effect=1.0, seed=2024)
    Y = truth["outcomes"]
    units = sorted(frame.unit.unique())
    blocks = np.array_split(np.arange(N_PRE), 3)
    x = frame[frame.period < N_PRE].groupby("unit")["x"].mean().loc[units].to_numpy()
    P = np.column_stack([x] + [Y[:, b].mean(axis=1) for b in blocks])
    return frame, Y, P, units, blocks


def cerebro_run(Y, P, v=None):
    fitter = adh_fitter(N_PRE, P, v)
    donors = np.arange(1, N_UNITS)
    fit = fitter(Y, np.array([0]), donors)
    # Placebos re-search V unless V is fixed (then every placebo uses the treated unit's).
    fitter = adh_fitter(N_PRE, P) if v is None else adh_fitter(N_PRE, P, fit.v)
    placebos = placebos_in_space(Y, np.array([0]), donors, N_PRE, fitter)
    p, _ = permutation_p_value(fit.gaps, placebos, N_PRE)
    return fit, placebos, p


def pysyncon_setup(frame, units, blocks):
    from pysyncon import Dataprep

    periods = sorted(frame.period.unique())
    special = [("y", [periods[i] for i in b], "mean") for b in blocks]
    return Dataprep(
        foo=frame, predictors=["x"], predictors_op="mean",
        time_predictors_prior=range(0, N_PRE), special_predictors=special, dependent="y",
        unit_variable="unit", time_variable="period", treatment_identifier=units[0],
        controls_identifier=units[1:], time_optimize_ssr=range(0, N_PRE),
    )  # fmt: skip


def pysyncon_run(prep, units, n_placebos=None, custom_v=None):
    """Treated fit + placebos (each donor treated, the others as its pool), in-process."""
    from pysyncon import Synth

    options = {} if custom_v is None else {"custom_V": custom_v}
    gaps, ratios = [], []
    targets = [units[0], *units[1:][: n_placebos if n_placebos is not None else None]]
    for i, unit in enumerate(targets):
        p = copy.copy(prep)
        if i:
            p.treatment_identifier = unit
            p.controls_identifier = [u for u in units[1:] if u != unit]
        s = Synth()
        s.fit(p, **options)
        Z0, Z1 = p.make_outcome_mats(time_period=range(0, N_PERIODS))
        g = (Z1 - Z0 @ s.W).to_numpy()
        gaps.append(g)
        ratios.append(np.sqrt(np.mean(g[N_PRE:] ** 2)) / np.sqrt(np.mean(g[:N_PRE] ** 2)))
    ratios = np.array(ratios)
    p_value = np.mean(ratios >= ratios[0] * (1 - 1e-12)) if n_placebos is None else np.nan
    return np.array(gaps), p_value


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    frame, Y, P, units, blocks = data()
    prep = pysyncon_setup(frame, units, blocks)
    # A. fixed V: Cerebro's V for the treated unit, used by both.
    v = cerebro_run(Y, P)[0].v
    ta, tb, agree = [], [], []
    for _ in range(args.reps):
        t1, (fit, placebos, p) = timed(cerebro_run, Y, P, v)
        t2, (gaps, p_ref) = timed(pysyncon_run, prep, units, None, v)
        ta.append(t1)
        tb.append(t2)
        agree.append(
            (np.abs(gaps[0] - fit.gaps).max(), np.abs(gaps[1:] - placebos.gaps).max(), p, p_ref)
        )
    print(f"A. fixed V, treated + {N_UNITS - 1} placebos ({args.reps} interleaved reps, medians)")
    print(
        f"   cerebro  {np.median(ta):8.3f} s   pysyncon {np.median(tb):8.3f} s   ratio {np.median(tb) / np.median(ta):6.1f}x"
    )
    g0, gp, p, p_ref = agree[-1]
    print(
        f"   agreement: treated gaps max |diff| {g0:.2e}, placebo gaps {gp:.2e}; p-value {p:.3f} vs {p_ref:.3f}; ATT {fit.att:.4f}"
    )
    # B. nested V search everywhere.
    tc, tp = [], []
    for _ in range(args.reps):
        t1, (fit, placebos, p) = timed(cerebro_run, Y, P)
        tc.append(t1)
        t2, (gaps, _) = timed(pysyncon_run, prep, units, 2)
        tp.append(t2 / 3 * N_UNITS)
    mspe_ours = np.mean(fit.gaps[:N_PRE] ** 2)
    mspe_ref = np.mean(gaps[0][:N_PRE] ** 2)
    print(f"B. nested V search, treated + {N_UNITS - 1} placebos ({args.reps} reps, medians)")
    print(
        f"   cerebro  {np.median(tc):8.3f} s   pysyncon {np.median(tp):8.1f} s (3 fits timed, ×{N_UNITS}/3)   ratio {np.median(tp) / np.median(tc):6.0f}x"
    )
    print(
        f"   treated fit: ATT cerebro {fit.att:.4f} vs pysyncon {gaps[0][N_PRE:].mean():.4f}; pre-MSPE {mspe_ours:.4f} vs {mspe_ref:.4f}; permutation p {p:.3f}"
    )


if __name__ == "__main__":
    main()

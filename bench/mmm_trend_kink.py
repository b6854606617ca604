"""A kinked trend: the piecewise-linear trend (`--trend-changepoints`) against the straight line.

For each seed: simulate weekly data (`cerebro.mmm.synthetic.simulate_mmm`) and add a kink to
the KPI – from week `--kink-week` on, the trend's slope changes by `--kink` per week (true
slope before ≈ 0.3 · 200,000 / weeks from the simulator's trend, after it that plus the kink).
Fit the straight trend (K = 0) and the piecewise trend with K changepoints on the same data
and seed; print one JSON line per fit (the segments' posterior-mean slopes in KPI per week,
each channel's true ROI, posterior mean and whether its 90% interval covers it, R-hat/ESS
warnings, wall and CPU time) and a summary per K: ROI coverage and mean |ROI error|.

    PYTHONPATH=src python bench/mmm_trend_kink.py --seeds 1 2 3 --changepoints 0 2
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import cerebro
from cerebro.mmm.synthetic import BASE, simulate_mmm
from cerebro.mmm.trend import slopes


def kinked(seed: int, weeks: int, kink_week: int, kink: float):
    frame, truth = simulate_mmm(weeks=weeks, channels=3, seed=seed)
    t = np.arange(weeks, dtype=float)
    frame["revenue"] = frame["revenue"] + kink * np.maximum(t - kink_week, 0.0)
    before = 0.3 * BASE / weeks
    return frame, truth, (before, before + kink)


def one_fit(seed: int, k: int, args: argparse.Namespace) -> dict:
    frame, truth, true_slopes = kinked(seed, args.weeks, args.kink_week, args.kink)
    start, cpu = time.perf_counter(), time.process_time()
    result = cerebro.mmm(
        frame, date_column="week", kpi="revenue", channels=list(truth["channels"]),
        controls=["price", "promo"], chains=2, draws=args.draws, warmup=args.draws, seed=0,
        trend_changepoints=k,
    )  # fmt: skip
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    post, data = result.data, result.data.data
    delta = post.draws.get("trend_delta", np.zeros((post.n_draws, 0)))
    segment = slopes(post.draws["coef"][:, 0], delta, data.n_fit) * data.kpi_scale
    rois = {}
    for channel, info in truth["channels"].items():
        e = result.estimate(f"roi_{channel}")
        rois[channel] = {"true": info["roi"], "mean": e.value, "low": e.ci_low,
                         "high": e.ci_high, "covered": e.ci_low <= info["roi"] <= e.ci_high}  # fmt: skip
    return {
        "seed": seed,
        "K": k,
        "changepoint_weeks": [round(s * data.n_fit, 2) for s in data.changepoints],
        "true_slopes": true_slopes,
        "slopes": segment.mean(axis=0).round(1).tolist(),
        "roi": rois,
        "warnings": [f.code for f in result.findings if f.level == "warning"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--changepoints", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--kink-week", type=int, default=41)
    parser.add_argument("--kink", type=float, default=-1200.0)
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for k in args.changepoints:  # interleaved: both models on each seed in turn
            rows.append(one_fit(seed, k, args))
            print(json.dumps(rows[-1]), flush=True)
    for k in args.changepoints:
        mine = [r for r in rows if r["K"] == k]
        cells = [c for r in mine for c in r["roi"].values()]
        print(json.dumps({
            "K": k,
            "coverage": float(np.mean([c["covered"] for c in cells])),
            "mean_abs_roi_error": float(np.mean([abs(c["mean"] - c["true"]) for c in cells])),
            "cells": len(cells),
        }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Partial pooling against no pooling and complete pooling of the geo MMM's channel effects on
short series.

For each seed: `simulate_mmm(weeks, 2 channels, geos, seed, geo_sd)` (per-geo coefficients
the national one times exp(geo_sd · z), `--geo-sd`, default 0.2), fitted with NUTS 2 chains × 300 + 300 once per `geo_pooling`
(partial, none, complete) and, per fit, the RMSE and the mean absolute relative error of the
per-geo ROI posterior means (all geo × channel pairs, and per channel), the share of true per-geo ROIs inside their
90% intervals, the mean interval width, and the divergent transitions.

    PYTHONPATH=src python bench/mmm/geo_pooling.py --weeks 32 --geos 10 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from cerebro.core.spec import parse_spec
from cerebro.mmm.analysis import run_mmm
from cerebro.mmm.synthetic import simulate_mmm


def one(weeks: int, geos: int, seed: int, pooling: str, geo_sd: float = 0.2) -> dict:
    frame, truth = simulate_mmm(weeks=weeks, channels=2, geos=geos, seed=seed, geo_sd=geo_sd)
    spec = parse_spec(
        {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": ["tv", "search"],
         "controls": ["price", "promo"], "geo_column": "geo", "population_column": "population",
         "geo_pooling": pooling, "chains": 2, "draws": 300, "warmup": 300, "seed": 0}
    )  # fmt: skip
    res = run_mmm(spec, frame)
    g = res.tables.columns("geos")
    true = np.array(
        [truth["geos"]["roi"][a][c] for a, c in zip(g["geo"], g["channel"], strict=True)]
    )
    low, high = np.asarray(g["roi_low"]), np.asarray(g["roi_high"])
    err = np.abs(np.asarray(g["roi"]) / true - 1)
    return {
        "seed": seed,
        "pooling": pooling,
        "geo_sd": geo_sd,
        "mean_abs_rel_error": float(err.mean()),
        "rmse": float(np.sqrt(np.mean((np.asarray(g["roi"]) - true) ** 2))),
        "by_channel": {c: float(err[i::2].mean()) for i, c in enumerate(["tv", "search"])},
        "inside_90": float(np.mean((low <= true) & (true <= high))),
        "mean_width": float(np.mean(high - low)),
        "divergences": res.summary["divergences"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weeks", type=int, default=32)
    p.add_argument("--geos", type=int, default=10)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--poolings", default="partial,none,complete")
    p.add_argument("--geo-sd", type=float, default=0.2, help="SD of the log geo multipliers")
    args = p.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        for pooling in args.poolings.split(","):
            print(json.dumps(one(args.weeks, args.geos, seed, pooling, args.geo_sd)), flush=True)


if __name__ == "__main__":
    main()

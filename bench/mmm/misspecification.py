"""Misspecification: data made with Weibull-PDF adstock (a delayed peak), fitted with the
default geometric adstock – how far off the ROIs are.

Data: `simulate_mmm(weeks, channels, seed)` with every channel's media term rebuilt as
beta_c · hill(adstock_weibull(spend_c / mean)), Weibull PDF kernel (l_max 8, normalised to sum
1, scale lam = 3, shape k = 2: a peak two weeks after the spend), the same Hill parameters and
the same true ROI (beta chosen to give it exactly), the baseline and noise of the original draw.
Fit: `cerebro mmm` defaults (geometric adstock, Hill), NUTS 2 chains × 500 + 500, and for
contrast the correctly specified `--adstock weibull_pdf` fit.

    PYTHONPATH=src python bench/mmm/misspecification.py --seeds 0,1 --weeks 104 --channels 3
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from cerebro.core.spec import parse_spec
from cerebro.mmm.analysis import run_mmm
from cerebro.mmm.synthetic import L_MAX, simulate_mmm
from cerebro.mmm.transforms import convolve_lags, hill, weibull_pdf_weights

LAM, K = 3.0, 2.0


def weibull_data(weeks: int, channels: int, seed: int):
    frame, truth = simulate_mmm(weeks, channels, seed=seed)
    names = list(truth["channels"])
    old = sum(np.asarray(truth["contributions"][c]) for c in names)
    noise = frame["revenue"].to_numpy() - np.asarray(truth["baseline"]) - old
    w = weibull_pdf_weights(LAM, K, L_MAX)
    w = w / w.sum()
    media = 0.0
    for c in names:
        info, x = truth["channels"][c], frame[c].to_numpy()
        shape = hill(convolve_lags(x / x.mean(), w), info["slope"], info["kappa"])
        media = media + info["roi"] * x.sum() / shape.sum() * shape
    frame["revenue"] = np.asarray(truth["baseline"]) + media + noise
    return frame, {c: truth["channels"][c]["roi"] for c in names}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weeks", type=int, default=104)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--adstock", default="geometric,weibull_pdf")
    args = p.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        frame, roi = weibull_data(args.weeks, args.channels, seed)
        for adstock in args.adstock.split(","):
            spec = parse_spec(
                {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": list(roi),
                 "controls": ["price", "promo"], "adstock": adstock, "chains": 2, "draws": 500,
                 "warmup": 500, "seed": 0}
            )  # fmt: skip
            res = run_mmm(spec, frame)
            out = {}
            for c, true in roi.items():
                e = res.estimate(f"roi_{c}")
                out[c] = {"true": round(true, 3), "mean": round(e.value, 3),
                          "low": round(e.ci_low, 3), "high": round(e.ci_high, 3),
                          "inside": bool(e.ci_low <= true <= e.ci_high)}  # fmt: skip
            codes = [f.code for f in res.findings if f.level == "warning"]
            print(json.dumps({"seed": seed, "fitted_adstock": adstock, "roi": out,
                              "warnings": codes}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Memory and time of many MMM fits in one process (issue 16: the coverage study's process ran
out of memory for XLA's compiler after ~60 fits, and the service's workers fit model after model).

Fits `--fits` national models of `--weeks` × `--channels` (a new simulated data set and seed per
fit, as the coverage study does) in this process and prints, per fit, the resident set size
(VmRSS, MB) after the fit, the fit's wall and CPU seconds, then a summary line: RSS after the
first fit, after the last, the growth per fit over the second half (least squares), and the
median seconds per fit after the first.

    PYTHONPATH=src python bench/mmm_memory.py --fits 30 --weeks 52 --channels 3 \
        --chains 2 --draws 200
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cerebro.core.spec import parse_spec
from cerebro.mmm.analysis import run_mmm
from cerebro.mmm.synthetic import simulate_mmm


def rss_mb() -> float:
    """This process's resident set size in MB, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def one_fit(seed: int, args: argparse.Namespace) -> tuple[float, float]:
    frame, truth = simulate_mmm(args.weeks, args.channels, seed=seed)
    spec = parse_spec(
        {
            "kind": "mmm",
            "date_column": "week",
            "kpi": "revenue",
            "channels": list(truth["channels"]),
            "controls": ["price", "promo"],
            "chains": args.chains,
            "draws": args.draws,
            "warmup": args.draws,
            "seed": seed,
        }
    )
    wall, cpu = time.perf_counter(), time.process_time()
    run_mmm(spec, frame)
    return time.perf_counter() - wall, time.process_time() - cpu


def _use_mcmc_run() -> None:
    """Fit through `cerebro.stats.mcmc.run_chains` (a new `MCMC` and compile per fit)."""
    from numpyro.infer import NUTS

    import cerebro.mmm.inference as inference
    from cerebro.stats.mcmc import run_chains

    def run(model, form, inputs, *, dense_mass, target_accept, chains, draws, warmup, seed):
        kernel = NUTS(model, target_accept_prob=target_accept, dense_mass=dense_mass)
        return run_chains(kernel, (form, inputs), chains=chains, draws=draws, warmup=warmup,
                          seed=seed)  # fmt: skip

    inference.run_compiled = run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fits", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="NumPyro's MCMC.run per fit (the path before cerebro.mmm.compiled), for A/B",
    )
    args = parser.parse_args()
    if args.uncached:
        _use_mcmc_run()
    rows = []
    for seed in range(args.fits):
        wall, cpu = one_fit(seed, args)
        rows.append({"fit": seed, "rss_mb": round(rss_mb(), 1), "seconds": round(wall, 2),
                     "cpu_seconds": round(cpu, 2)})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    rss = np.array([r["rss_mb"] for r in rows])
    half = len(rows) // 2
    slope = float(np.polyfit(np.arange(half, len(rows)), rss[half:], 1)[0]) if half > 1 else 0.0
    print(
        json.dumps(
            {
                "fits": len(rows),
                "rss_first_mb": float(rss[0]),
                "rss_last_mb": float(rss[-1]),
                "rss_growth_mb_per_fit_second_half": round(slope, 2),
                "median_seconds_after_first": float(np.median([r["seconds"] for r in rows[1:]])),
                "median_cpu_seconds_after_first": float(
                    np.median([r["cpu_seconds"] for r in rows[1:]])
                ),
                "first_fit_seconds": rows[0]["seconds"],
            }
        )
    )


if __name__ == "__main__":
    main()

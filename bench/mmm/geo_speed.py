"""NUTS on the geo MMM at Meridian's scale under sampler variants, one process per fit, variants
interleaved (so that the shared machine's load hits each alike): wall and CPU seconds, leapfrog
steps per draw, slowest bulk ESS, R-hat, divergences and the national ROI posterior (mean, SD)
per channel – to tell a cheaper gradient from an easier posterior, and to check that a faster
variant samples the same posterior.

Variants: `mass` – NUTS's mass matrix, `diagonal` or `globals` (one dense block for the
parameters every geo shares, `cerebro.mmm.geo_model.global_sites`); `threads` – `one` sets
XLA's CPU backend to one thread per computation (chains are the parallelism), `xla` leaves
XLA's default intra-op thread pool.

    PYTHONPATH=src python bench/mmm/geo_speed.py --variants diagonal:xla,globals:one \
        --chains 4 --draws 300 --warmup 300 --output bench/results/mmm_geo_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def worker(args: argparse.Namespace) -> dict:
    """One fit in this process."""
    from dataclasses import replace

    import numpy as np

    from cerebro.core.spec import parse_spec
    from cerebro.mmm.geo import GeoPosterior, prepare_geo
    from cerebro.mmm.geo_model import GEO, geo_inputs, global_sites
    from cerebro.mmm.inference import fit_nuts
    from cerebro.mmm.posterior import ModelForm
    from cerebro.mmm.synthetic import simulate_mmm

    frame, truth = simulate_mmm(156, 6, geos=args.geos, seed=args.seed)
    channels = list(truth["channels"])
    spec = parse_spec(
        {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": channels,
         "controls": ["price", "promo"], "geo_column": "geo", "population_column": "population"}
    )  # fmt: skip
    data = prepare_geo(spec, frame, [])
    form = ModelForm(spec.adstock, spec.saturation, spec.l_max, spec.normalize, spec.likelihood)
    inputs = geo_inputs(data, "partial", spec.l_max)
    mass, _ = args.variant.split(":")
    sampling = replace(GEO, dense_mass=global_sites if mass == "globals" else lambda f, i: False)
    fit = fit_nuts(
        sampling,
        form,
        inputs,
        chains=args.chains,
        draws=args.draws,
        warmup=args.warmup,
        seed=args.seed,
        target_accept=spec.target_accept,
    )
    roi = GeoPosterior(form, data, fit.flat(), args.chains, {}).roi()
    free = {k: v for k, v in fit.ess_bulk.items() if k not in ("beta", "effect", "intercept")}
    slowest = min(free, key=lambda k: float(np.nanmin(free[k])))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "variant": args.variant,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "sample_seconds": fit.seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "load_average_1min_at_end": os.getloadavg()[0],
        "steps_per_draw": fit.steps_per_draw,
        "min_bulk_ess": float(np.nanmin(free[slowest])),
        "slowest_parameter": slowest,
        "ess_per_second": float(np.nanmin(free[slowest])) / fit.seconds,
        "rhat_max": float(max(np.nanmax(v) for v in fit.rhat.values())),
        "divergences": fit.divergences,
        "roi_mean": dict(zip(channels, roi.mean(axis=0).tolist(), strict=True)),
        "roi_sd": dict(zip(channels, roi.std(axis=0).tolist(), strict=True)),
        "true_roi": {c: truth["channels"][c]["roi"] for c in channels},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default="diagonal:xla,globals:one")
    p.add_argument("--variant", help=argparse.SUPPRESS)
    p.add_argument("--geos", type=int, default=40)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=300)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--output", type=Path)
    args = p.parse_args()
    if args.variant:
        print(json.dumps(worker(args)))
        return
    runs = []
    for _ in range(args.repeats):
        for variant in args.variants.split(","):
            env = {**os.environ}
            env.pop("XLA_FLAGS", None)
            if variant.endswith(":one"):
                env["XLA_FLAGS"] = ONE_THREAD
            command = [sys.executable, __file__, "--variant", variant, "--geos", str(args.geos),
                       "--chains", str(args.chains), "--draws", str(args.draws),
                       "--warmup", str(args.warmup), "--seed", str(args.seed)]  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode:
                runs.append({"variant": variant, "failed": done.stderr[-2000:]})
            else:
                runs.append({**json.loads(done.stdout.splitlines()[-1]),
                             "whole_process": time.perf_counter() - start})  # fmt: skip
            print(json.dumps(runs[-1]), flush=True)
    report = {"shape": {"geos": args.geos, "weeks": 156, "channels": 6},
              "sampler": {"chains": args.chains, "draws": args.draws, "warmup": args.warmup},
              "machine": {"cpus": os.cpu_count(), "note": "shared 2-core machine"}, "runs": runs}  # fmt: skip
    if args.output:
        args.output.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()

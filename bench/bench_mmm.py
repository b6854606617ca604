"""Speed and sampling quality of `cerebro mmm`'s national fit, side by side with PyMC-Marketing.

Why: "fast" for an MCMC fit means effective draws per second, not draws per second – a
sampler that takes short steps on a badly scaled posterior makes many draws and little
information. So each run records the wall time of the whole process (start → JSON, imports and
JIT compile included) and of the sampling call, CPU seconds (the machine is shared: wall time
alone depends on other work), the smallest bulk ESS over the free parameters, ESS/s, the largest
split R-hat, divergent transitions, mean leapfrog steps per draw and how many true ROIs lie
inside their 90% intervals.

Data: `tests/data/mmm/sim_national_hill.csv` (156 weeks × 6 channels, geometric adstock + Hill,
truth in its `.truth.json`; `bench/mmm/simulate.py`, seed 0). Cerebro's model: geometric
adstock (l_max 8, normalised) + Hill, its trend, yearly Fourier order 2 (period 365.25/7
weeks), controls price_index and promo, default priors, NUTS 4 chains × 1000 draws + 1000
warm-up, seed 0. When the PyMC-Marketing venv exists (`make bench-mmm-ref`) the same data go
through `bench/mmm/pymc_marketing_fit.py` (its default model; nutpie), alternating with
Cerebro's runs so both see the same machine load.

Each fit runs in its own process so that the JAX device count (chains in parallel or
vectorised) and the source tree (`--src`, e.g. an older commit exported with `git archive`,
for an interleaved A/B) can differ per run:

    PYTHONPATH=src python bench/bench_mmm.py                       # Cerebro ×1 (+ PyMC-Marketing)
    PYTHONPATH=src python bench/bench_mmm.py --repeats 2 --no-pymc --draws 300 --warmup 300 \
        --devices 2,4 --src src,/tmp/old/src                       # an interleaved A/B grid

Geo mode (`--geos 40`, Meridian's demo scale: 40 geos × 156 weeks × 6 channels, simulated by
`cerebro.mmm.synthetic.simulate_mmm(156, 6, geos=40, seed)` with known national and per-geo
ROI): the geo-hierarchical model with NUTS, then (`--svi`) the same data with SVI, and how far
SVI's national ROI means and SDs are from NUTS's:

    PYTHONPATH=src python bench/bench_mmm.py --geos 40 --svi --output bench/results/mmm_geo_bench.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

T_START = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "mmm" / "sim_national_hill.csv"
PYMC_PYTHON = ROOT / ".cache" / "pymc-venv" / "bin" / "python"
CHANNELS = ["tv", "search", "social", "display", "radio", "ooh"]
SEASONALITY = f"{365.25 / 7}:2"  # the simulator's yearly Fourier order 2 on day of year


def cerebro_fit(args: argparse.Namespace) -> dict:
    """One fit of Cerebro's model on the benchmark data (run inside a worker process)."""
    import numpy as np

    from cerebro.core.spec import parse_spec
    from cerebro.mmm.analysis import fit_posterior
    from cerebro.mmm.data import prepare

    t_imported = time.perf_counter()
    spec = parse_spec(
        {
            "kind": "mmm",
            "data": str(args.data),
            "date_column": "date",
            "kpi": "sales",
            "channels": CHANNELS,
            "controls": ["price_index", "promo"],
            "seasonality": SEASONALITY,
            "chains": args.chains,
            "draws": args.draws,
            "warmup": args.warmup,
            "seed": args.seed,
        }
    )
    data = prepare(spec, None, [])
    posterior, fit = fit_posterior(spec, data)
    import jax

    free = {k: v for k, v in fit.ess_bulk.items() if k not in ("beta", "theta")}
    slowest = min(free, key=lambda k: float(np.min(free[k])))
    min_ess = float(np.min(free[slowest]))
    roi = posterior.roi()
    truth = json.loads(args.data.with_suffix(".truth.json").read_text())["roi"]
    rois = {c: roi_summary(roi[:, i], truth[c]) for i, c in enumerate(data.channels)}
    inside = sum(r["true_in_90"] for r in rois.values())
    whole = time.perf_counter() - T_START
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {
        "tool": "cerebro",
        "src": str(args.src),
        "devices": jax.local_device_count(),
        "chain_method": "parallel" if jax.local_device_count() >= args.chains else "vectorized",
        "sampler": {"chains": args.chains, "draws": args.draws, "warmup": args.warmup},
        "timing_seconds": {
            "whole_process": whole,
            "imports": t_imported - T_START,
            "sample": fit.seconds,
            "cpu_user_plus_system": sum(u.ru_utime + u.ru_stime for u in usage),
            "load_average_1min_at_end": os.getloadavg()[0],
        },
        "diagnostics": {
            "min_bulk_ess": min_ess,
            "slowest_parameter": slowest,
            "ess_per_second_sampling": min_ess / fit.seconds,
            "ess_per_second_whole": min_ess / whole,
            "rhat_max": float(max(np.nanmax(v) for v in fit.rhat.values())),
            "divergences": fit.divergences,
            "steps_per_draw": fit.steps_per_draw,
        },
        "roi": rois,
        "true_roi_inside_90": f"{inside}/{len(rois)}",
    }


def geo_fit(args: argparse.Namespace) -> dict:
    """One fit of the geo model on simulated geo data (run inside a worker process)."""
    import numpy as np

    from cerebro.core.spec import parse_spec
    from cerebro.mmm.geo import prepare_geo
    from cerebro.mmm.geo_analysis import fit_geo_posterior
    from cerebro.mmm.synthetic import simulate_mmm

    t_imported = time.perf_counter()
    frame, truth = simulate_mmm(156, 6, geos=args.geos, seed=args.seed)
    channels = list(truth["channels"])
    spec = parse_spec(
        {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": channels,
         "controls": ["price", "promo"], "geo_column": "geo", "population_column": "population",
         "inference": args.inference, "chains": args.chains, "draws": args.draws,
         "warmup": args.warmup, "svi_steps": args.svi_steps, "seed": args.seed}
    )  # fmt: skip
    data = prepare_geo(spec, frame, [])
    posterior, fit = fit_geo_posterior(spec, data)
    import jax

    derived = ("beta", "effect", "intercept", "theta")
    free = {k: v for k, v in fit.ess_bulk.items() if k not in derived}
    roi = posterior.roi()
    rois = {c: roi_summary(roi[:, i], truth["channels"][c]["roi"]) for i, c in enumerate(channels)}
    geo_roi = posterior.geo_roi()  # (D, G, C)
    low, high = np.quantile(geo_roi, [0.05, 0.95], axis=0)
    true_geo = np.array([[truth["geos"]["roi"][g][c] for c in channels] for g in data.geos])
    whole = time.perf_counter() - T_START
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    out = {
        "tool": "cerebro-geo",
        "inference": args.inference,
        "shape": {"geos": args.geos, "weeks": 156, "channels": 6},
        "devices": jax.local_device_count(),
        "sampler": {
            "chains": args.chains,
            "draws": args.draws,
            "warmup": args.warmup,
            "svi_steps": args.svi_steps,
        },
        "timing_seconds": {
            "whole_process": whole,
            "imports": t_imported - T_START,
            "sample": fit.seconds,
            "cpu_user_plus_system": sum(u.ru_utime + u.ru_stime for u in usage),
            "load_average_1min_at_end": os.getloadavg()[0],
        },
        "roi": rois,
        "true_roi_inside_90": f"{sum(r['true_in_90'] for r in rois.values())}/{len(rois)}",
        "geo_roi_inside_90": float(((low <= true_geo) & (true_geo <= high)).mean()),
        "geo_roi_mean_abs_rel_error": float(np.mean(np.abs(geo_roi.mean(0) / true_geo - 1))),
    }
    if args.inference == "nuts":
        slowest = min(free, key=lambda k: float(np.nanmin(free[k])))
        min_ess = float(np.nanmin(free[slowest]))
        out["diagnostics"] = {
            "min_bulk_ess": min_ess,
            "slowest_parameter": slowest,
            "ess_per_second_sampling": min_ess / fit.seconds,
            "ess_per_second_whole": min_ess / whole,
            "rhat_max": float(max(np.nanmax(v) for v in fit.rhat.values())),
            "divergences": fit.divergences,
            "steps_per_draw": fit.steps_per_draw,
        }
    return out


def geo_main(args: argparse.Namespace) -> None:
    """NUTS (and with --svi, SVI) on the same geo data; SVI's ROI against NUTS's."""
    runs = []
    for inference in ["nuts", "svi"] if args.svi else ["nuts"]:
        command = [sys.executable, __file__, "--worker", "--geos", str(args.geos),
                   "--inference", inference, "--chains", str(args.chains),
                   "--draws", str(args.draws), "--warmup", str(args.warmup),
                   "--svi-steps", str(args.svi_steps), "--seed", str(args.seed)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": args.src.split(",")[0]}
        env.pop("XLA_FLAGS", None)
        runs.append(run_worker(command, env))
        print(json.dumps(runs[-1], indent=1), flush=True)
    report = {"machine": {"cpus": os.cpu_count(), "note": "shared 2-core machine"}, "runs": runs}
    ok = [r for r in runs if "failed" not in r]
    if len(ok) == 2:
        nuts, svi = ok[0]["roi"], ok[1]["roi"]
        report["svi_vs_nuts"] = {
            c: {"mean_shift_in_nuts_sd": (svi[c]["mean"] - nuts[c]["mean"])
                / ((nuts[c]["q95"] - nuts[c]["q05"]) / 3.29),
                "width_ratio": (svi[c]["q95"] - svi[c]["q05"]) / (nuts[c]["q95"] - nuts[c]["q05"])}
            for c in nuts
        }  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.output}")


def roi_summary(draws, true: float) -> dict:
    """Posterior mean and 90% equal-tailed interval of one channel's ROI, and the truth."""
    import numpy as np

    low, high = (float(q) for q in np.quantile(draws, [0.05, 0.95]))
    inside = low <= true <= high
    return {
        "mean": float(draws.mean()),
        "q05": low,
        "q95": high,
        "true": true,
        "true_in_90": inside,
    }


def run_worker(command: list[str], env: dict[str, str], output: Path | None = None) -> dict:
    """Run one fit in a child process; the JSON result is its last stdout line, or `output`."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        return {"failed": done.returncode, "command": command}
    if output is None:
        out = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        out = json.loads(output.read_text())
        output.unlink()
    out["wall_including_process_start"] = time.perf_counter() - start
    return out


def cerebro_command(args: argparse.Namespace, src: str, devices: str) -> tuple[list, dict]:
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("XLA_FLAGS", None)
    if devices != "auto":  # else Cerebro's own choice (stats.mcmc.import_numpyro)
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    command = [sys.executable, __file__, "--worker", "--src", src, "--data", str(args.data),
               "--chains", str(args.chains), "--draws", str(args.draws),
               "--warmup", str(args.warmup), "--seed", str(args.seed)]  # fmt: skip
    return command, env


def pymc_command(args: argparse.Namespace, output: Path) -> tuple[list, dict, Path]:
    command = [str(PYMC_PYTHON), str(ROOT / "bench" / "mmm" / "pymc_marketing_fit.py"),
               "--data", str(args.data), "--date-column", "date", "--kpi", "sales",
               "--channels", ",".join(CHANNELS), "--controls", "trend,price_index,promo",
               "--saturation", "hill", "--sampler", "nutpie", "--chains", str(args.chains),
               "--draws", str(args.draws), "--tune", str(args.warmup),
               "--seed", str(args.seed), "--output", str(output)]  # fmt: skip
    return command, dict(os.environ), output


def summary_line(r: dict) -> str:
    if "failed" in r:
        return f"FAILED ({r['failed']})"
    d, t = r["diagnostics"], r["timing_seconds"]
    what = r["tool"] + (f" devices={r['devices']} src={r['src']}" if r["tool"] == "cerebro" else "")
    steps = f", steps/draw {d['steps_per_draw']:.0f}" if "steps_per_draw" in d else ""
    return (
        f"{what}: whole {t['whole_process']:.1f}s, sample {t['sample']:.1f}s, "
        f"CPU {t['cpu_user_plus_system']:.1f}s, min ESS {d['min_bulk_ess']:.0f} "
        f"({d['slowest_parameter']}), ESS/s {d['ess_per_second_whole']:.2f} (whole), R-hat "
        f"{d['rhat_max']:.3f}, div {d['divergences']}{steps}, ROI inside "
        f"{r.get('true_roi_inside_90')}, load {t['load_average_1min_at_end']:.1f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--devices", default="auto",
                   help="comma-separated JAX host device counts to compare; auto: "
                   "Cerebro's default")  # fmt: skip
    p.add_argument("--src", default=str(ROOT / "src"), help="comma-separated source trees")
    p.add_argument("--no-pymc", action="store_true", help="skip PyMC-Marketing even if present")
    p.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "mmm_bench.json")
    p.add_argument("--geos", type=int, default=0, help="geo mode: simulated geos (e.g. 40)")
    p.add_argument("--svi", action="store_true", help="geo mode: also fit SVI and compare")
    p.add_argument("--inference", default="nuts", help=argparse.SUPPRESS)
    p.add_argument("--svi-steps", type=int, default=3000)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(geo_fit(args) if args.geos else cerebro_fit(args)))
        return
    if args.geos:
        geo_main(args)
        return
    with_pymc = PYMC_PYTHON.exists() and not args.no_pymc
    runs = []
    for rep in range(args.repeats):
        grid = itertools.product(args.src.split(","), args.devices.split(","))
        for src, devices in grid:
            runs.append(run_worker(*cerebro_command(args, src, devices)) | {"repeat": rep})
            print(summary_line(runs[-1]), flush=True)
        if with_pymc:
            output = args.output.with_name(f"{args.output.stem}_pymc_{rep}.json")
            runs.append(run_worker(*pymc_command(args, output)) | {"repeat": rep})
            print(summary_line(runs[-1]), flush=True)
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "note": "shared 2-core machine; other work runs at the same time"},
        "data": str(args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data),
        "runs": runs,
    }  # fmt: skip
    cerebro = [r for r in runs if r.get("tool") == "cerebro"]
    pymc = [r for r in runs if r.get("tool") == "pymc-marketing"]
    if cerebro and pymc:
        best = max(r["diagnostics"]["ess_per_second_whole"] for r in cerebro)
        ref = max(r["diagnostics"]["ess_per_second_whole"] for r in pymc)
        converged = all(r["diagnostics"]["rhat_max"] <= 1.01 for r in pymc)
        report["ess_per_second_ratio"] = {
            "cerebro_over_pymc_marketing": best / ref,
            "pymc_marketing_converged": converged,
            "note": "whole-process ESS/s, best run of each; not comparable when PyMC-Marketing "
            "did not converge (R-hat > 1.01): its ESS is then not an effective sample size",
        }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

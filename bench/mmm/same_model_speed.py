"""Same model, same data: `cerebro mmm --priors pymc-marketing` against PyMC-Marketing's samplers.

Why: issue 16's speed target is effective samples per second of the slowest parameter against
PyMC-Marketing with its fastest sampler *on the same model and data*. Cerebro's prior set
`pymc-marketing` (`cerebro.mmm.pymc_priors`) is the model PyMC-Marketing's default `MMM`
builds; the harness `bench/mmm/pymc_marketing_fit.py` fits that model in PyMC-Marketing 0.19.x.
Each run is a fresh whole process (imports and JIT compile included), interleaved – Cerebro,
then one PyMC-Marketing sampler, Cerebro, the next sampler … – so that both see the same
machine load, `--rounds` times. Per run: wall and CPU seconds (this process's children's
rusage), the sampling call's seconds, the smallest bulk ESS over all free parameters (ArviZ's
rank-normalised bulk ESS for both tools: `bench/mmm/saved_model_ess.py` reads Cerebro's saved
draws), ESS per whole-process second and per sampling second, max R-hat, divergences, leapfrog
steps per draw, and the 1-minute load average before and after. Then the ratio of Cerebro's
median ESS/s to the fastest PyMC-Marketing sampler's, and the agreement of the posterior means
of ROI and contribution per channel in Monte Carlo SEs (`bench/mmm/agreement.py`'s z).

Needs the PyMC venv (`make bench-mmm-ref`; `pip install blackjax` into it for that sampler).
On a quiet machine (the numbers in BENCHMARKS.md, "Same model"):

    PYTHONPATH=src python bench/mmm/same_model_speed.py --rounds 2 \
        --output bench/results/mmm_same_model_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "mmm"))
from agreement import CHANNELS, CONTROLS, PYMC_PYTHON, compare  # noqa: E402

DATA = ROOT / "tests" / "data" / "mmm" / "sim_national_logistic.csv"
SAMPLERS = ("nutpie", "numpyro", "pymc", "blackjax")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a whole process; its wall and CPU seconds and the load average around it."""
    load, cpu, start = os.getloadavg()[0], children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return done, {
        "whole_process": time.perf_counter() - start,
        "cpu_user_plus_system": children_cpu() - cpu,
        "load_average_1min_before": load,
        "load_average_1min_after": os.getloadavg()[0],
    }


def cerebro_run(args: argparse.Namespace, workdir: Path, index: int) -> dict:
    """`cerebro mmm --priors pymc-marketing` as a user runs it, then ArviZ ESS of its draws."""
    save = workdir / f"cerebro_{index}.cerebro"
    command = [
        sys.executable, "-c", "from cerebro.cli.main import main; main()", "mmm", str(args.data),
        "--date-column", "date", "--kpi", "sales", "--channels", ",".join(CHANNELS),
        "--controls", ",".join(CONTROLS), "--no-trend", "--seasonality", "52:2",
        "--adstock", "geometric", "--l-max", "8", "--saturation", args.saturation,
        "--priors", "pymc-marketing", "--chains", str(args.chains), "--draws", str(args.draws),
        "--warmup", str(args.warmup), "--seed", str(args.seed),
        "--target-accept", str(args.target_accept), "--save", str(save), "--json",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(args.src)}
    env.pop("XLA_FLAGS", None)
    done, timing = timed(command, env)
    if done.returncode:
        return {"tool": "cerebro", "failed": done.returncode, "stderr": done.stderr[-2000:]}
    result = json.loads(done.stdout)
    diag = json.loads(
        subprocess.run(
            [str(PYMC_PYTHON), str(ROOT / "bench" / "mmm" / "saved_model_ess.py"), str(save)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    ess = {k: min(v) for k, v in diag["ess_bulk"].items()}
    slowest = min(ess, key=ess.get)
    sample = float(result["summary"]["fit_seconds"])
    return {
        "tool": "cerebro",
        "sampler": f"cerebro NUTS (NumPyro, dense mass, target_accept {args.target_accept})",
        "timing_seconds": {**timing, "sample": sample},
        "diagnostics": {
            "min_bulk_ess": ess[slowest],
            "slowest_parameter": slowest,
            "min_bulk_ess_by_parameter": ess,
            "ess_per_second_whole": ess[slowest] / timing["whole_process"],
            "ess_per_second_sampling": ess[slowest] / sample,
            "rhat_max": max(max(v) for v in diag["rhat"].values()),
            "divergences": result["summary"]["divergences"],
            "steps_per_draw": result["summary"]["steps_per_draw"],
        },
        "posterior": cerebro_posterior(save),
    }


def cerebro_posterior(save: Path) -> dict:
    """ROI and contribution per channel (mean, sd, bulk ESS) of a saved Cerebro fit."""
    import numpy as np
    import pandas as pd
    from agreement import posterior_summary

    from cerebro.mmm.model_file import load_mmm

    posterior = load_mmm(save)
    spend = pd.read_csv(posterior.spec["data"])[CHANNELS].to_numpy(float).sum(axis=0)
    return posterior_summary(posterior, np.asarray(spend))


def pymc_run(args: argparse.Namespace, sampler: str, workdir: Path, index: int) -> dict:
    """PyMC-Marketing's default model through `pymc_marketing_fit.py` with one sampler."""
    output = workdir / f"pymc_{sampler}_{index}.json"
    command = [str(PYMC_PYTHON), str(ROOT / "bench" / "mmm" / "pymc_marketing_fit.py"),
               "--data", str(args.data), "--date-column", "date", "--kpi", "sales",
               "--channels", ",".join(CHANNELS), "--controls", ",".join(CONTROLS),
               "--saturation", args.saturation, "--sampler", sampler,
               "--chains", str(args.chains), "--draws", str(args.draws),
               "--tune", str(args.warmup), "--seed", str(args.seed), "--output", str(output)]  # fmt: skip
    done, timing = timed(command, dict(os.environ))
    if done.returncode:
        return {"tool": f"pymc-marketing/{sampler}", "failed": done.returncode,
                "stderr": done.stderr[-2000:]}  # fmt: skip
    ref = json.loads(output.read_text())
    d = ref["diagnostics"]
    sample = ref["timing_seconds"]["sample"]
    return {
        "tool": f"pymc-marketing/{sampler}",
        "sampler": sampler,
        "versions": ref["versions"],
        "timing_seconds": {
            **timing,
            "sample": sample,
            "sampler_reported": ref["timing_seconds"].get("sampler_reported"),
            "imports": ref["timing_seconds"]["imports"],
        },
        "diagnostics": {
            **{k: d[k] for k in ("min_bulk_ess", "slowest_parameter", "rhat_max", "divergences")},
            "min_bulk_ess_by_parameter": d["min_bulk_ess_by_parameter"],
            "ess_per_second_whole": d["min_bulk_ess"] / timing["whole_process"],
            "ess_per_second_sampling": d["min_bulk_ess"] / sample,
            "steps_per_draw": d.get("steps_per_draw"),
        },
        "posterior": {k: ref[k] for k in ("roi", "contribution_kpi_units")},
    }


def line(r: dict) -> str:
    if "failed" in r:
        return f"{r['tool']}: FAILED ({r['failed']}) {r.get('stderr', '')[-300:]}"
    t, d = r["timing_seconds"], r["diagnostics"]
    steps = d.get("steps_per_draw")
    return (
        f"{r['tool']:24s} wall {t['whole_process']:6.1f}s CPU {t['cpu_user_plus_system']:6.1f}s "
        f"sample {t['sample']:6.1f}s minESS {d['min_bulk_ess']:6.0f} ({d['slowest_parameter']}) "
        f"ESS/s whole {d['ess_per_second_whole']:6.2f} sampling {d['ess_per_second_sampling']:6.2f}"
        f" R-hat {d['rhat_max']:.3f} div {d['divergences']} steps "
        f"{'–' if steps is None else f'{steps:.1f}'} load {t['load_average_1min_before']:.1f}→"
        f"{t['load_average_1min_after']:.1f}"
    )


def summarise(runs: list[dict]) -> dict:
    """Median per tool, and Cerebro's median ESS/s over each sampler's and the fastest's."""
    tools: dict[str, list[dict]] = {}
    for r in runs:
        if "failed" not in r:
            tools.setdefault(r["tool"], []).append(r)
    med = {}
    for tool, rs in tools.items():
        med[tool] = {
            "runs": len(rs),
            **{
                key: statistics.median(r["timing_seconds"][key] for r in rs)
                for key in ("whole_process", "cpu_user_plus_system", "sample")
            },
            **{
                key: statistics.median(r["diagnostics"][key] for r in rs)
                for key in ("min_bulk_ess", "ess_per_second_whole", "ess_per_second_sampling")
            },
            "rhat_max": max(r["diagnostics"]["rhat_max"] for r in rs),
            "divergences": [r["diagnostics"]["divergences"] for r in rs],
        }
    out: dict = {"median": med}
    if "cerebro" in med and len(med) > 1:
        others = {k: v for k, v in med.items() if k != "cerebro"}
        fastest = max(others, key=lambda k: others[k]["ess_per_second_whole"])
        c = med["cerebro"]
        out["ratios"] = {
            k: {
                "ess_per_second_whole": c["ess_per_second_whole"] / v["ess_per_second_whole"],
                "ess_per_second_sampling": c["ess_per_second_sampling"]
                / v["ess_per_second_sampling"],
                "ess_per_cpu_second": (c["min_bulk_ess"] / c["cpu_user_plus_system"])
                / (v["min_bulk_ess"] / v["cpu_user_plus_system"]),
            }
            for k, v in others.items()
        }
        out["fastest_pymc_marketing"] = fastest
        out["cerebro_over_fastest_ess_per_second_whole"] = out["ratios"][fastest][
            "ess_per_second_whole"
        ]
    first = next((r for r in runs if r.get("tool") == "cerebro" and "posterior" in r), None)
    if first:
        out["agreement_with_first_cerebro_run"] = {
            r["tool"]: {
                k: v for k, v in compare(first["posterior"], r["posterior"]).items() if k != "rows"
            }
            for r in runs
            if r.get("tool", "").startswith("pymc") and "posterior" in r
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--saturation", choices=["logistic", "hill"], default="logistic")
    p.add_argument("--samplers", default=",".join(SAMPLERS))
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target-accept", type=float, default=0.9, help="Cerebro's (its default)")
    p.add_argument("--src", type=Path, default=ROOT / "src")
    p.add_argument("--output", type=Path, default=ROOT / "bench/results/mmm_same_model_speed.json")
    args = p.parse_args()
    runs: list[dict] = []
    report = {
        "data": str(args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data),
        "model": f"PyMC-Marketing's default MMM: geometric adstock l_max 8 (normalised) + "
        f"{args.saturation}, controls {','.join(CONTROLS)} unscaled, yearly Fourier order 2, "
        "KPI and spend / max; Cerebro: cerebro mmm --priors pymc-marketing",
        "settings": {k: str(v) for k, v in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "note": "shared machine unless stated"},
        "runs": runs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        index = 0
        for rnd in range(args.rounds):
            for sampler in args.samplers.split(","):
                for tool in ("cerebro", sampler):  # A, B, A, B …
                    if tool == "cerebro":
                        run = cerebro_run(args, Path(tmp), index)
                    else:
                        run = pymc_run(args, tool, Path(tmp), index)
                    runs.append(run | {"round": rnd})
                    index += 1
                    print(line(runs[-1]), flush=True)
                    report |= summarise(runs)
                    args.output.parent.mkdir(parents=True, exist_ok=True)
                    args.output.write_text(json.dumps(report, indent=1) + "\n")
    s = report.get("ratios")
    if s:
        print(json.dumps({k: report[k] for k in ("median", "ratios")}, indent=1))


if __name__ == "__main__":
    main()

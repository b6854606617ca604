"""Do Cerebro's MMM and PyMC-Marketing give the same posterior under the same model?

Why: the transforms agree to rounding (`tests/test_mmm_transforms_reference.py`), but the
posterior also depends on the scaling, the baseline terms, the priors and the sampler. Here
Cerebro fits PyMC-Marketing's default model with its own prior set `cerebro mmm --priors
pymc-marketing` (`cerebro.mmm.pymc_priors`: PyMC-Marketing's scaling – KPI and each channel
divided by its maximum, controls unscaled, Fourier order 2 on day of year / 365.25 – the trend
as a control column, and its default priors: intercept Normal(0, 2), controls Normal(0, 2),
Fourier Laplace(0, 1), alpha Beta(1, 3), logistic lam Gamma(3, 1), beta HalfNormal(2), sigma
HalfNormal(2)), sampled by Cerebro's NUTS. Cerebro's own defaults (`cerebro mmm`) differ on
purpose (docs/mmm.md, "Priors"); this checks that the same model gives the same posterior in
both tools.

Agreement: for every channel's ROI and contribution, z = (mean_cerebro − mean_pymc) /
sqrt(MCSE_cerebro² + MCSE_pymc²), MCSE = posterior SD / sqrt(bulk ESS); |z| < 3 for all 12
quantities is agreement within Monte Carlo error.

Data: `tests/data/mmm/sim_national_logistic.csv` (PyMC-Marketing converges on it; the Hill case
does not, see NOTES.md). Needs the PyMC venv for the reference side (`make bench-mmm-ref`), or
`--reference` with an earlier `pymc_marketing_fit.py` JSON that has `sd` and `ess_bulk`:

    PYTHONPATH=src python bench/mmm/agreement.py --output bench/results/mmm_agreement.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "mmm" / "sim_national_logistic.csv"
PYMC_PYTHON = ROOT / ".cache" / "pymc-venv" / "bin" / "python"
CHANNELS = ["tv", "search", "social", "display", "radio", "ooh"]
CONTROLS = ["trend", "price_index", "promo"]


def same_model_spec(data: Path, saturation: str, args: argparse.Namespace) -> dict:
    """The `cerebro mmm --priors pymc-marketing` spec of the harness's PyMC-Marketing fit: its
    trend as a control column (so Cerebro's own trend is off), yearly Fourier order 2."""
    return {
        "kind": "mmm",
        "data": str(data),
        "date_column": "date",
        "kpi": "sales",
        "channels": CHANNELS,
        "controls": CONTROLS,
        "trend": False,
        "seasonality": "52:2",
        "adstock": "geometric",
        "l_max": 8,
        "saturation": saturation,
        "priors": "pymc-marketing",
        "chains": args.chains,
        "draws": args.draws,
        "warmup": args.warmup,
        "seed": args.seed,
    }


def posterior_summary(posterior, spend: np.ndarray) -> dict:
    """Mean, SD and bulk ESS of each channel's ROI and contribution (KPI units, all weeks) –
    what `compare` needs – from an `MMMPosterior` (`cerebro mmm`'s draws, chains in order)."""
    from numpyro.diagnostics import effective_sample_size

    contribution = posterior.contributions().sum(axis=1)  # (D, C) KPI units
    roi = contribution / spend
    chains = posterior.chains
    out: dict = {"roi": {}, "contribution_kpi_units": {}}
    for name, values in (("roi", roi), ("contribution_kpi_units", contribution)):
        by_chain = values.reshape(chains, -1, values.shape[-1])
        ess = np.asarray(effective_sample_size(by_chain))
        for i, c in enumerate(posterior.data.channels):
            out[name][c] = {
                "mean": float(values[:, i].mean()),
                "sd": float(values[:, i].std()),
                "ess_bulk": float(ess[i]),
            }
    return out


def cerebro_side(frame: pd.DataFrame, args: argparse.Namespace) -> dict:
    """Fit `cerebro mmm --priors pymc-marketing` (the product's prior set); ROI and
    contribution per channel, and the fit's diagnostics."""
    from cerebro.core.spec import parse_spec
    from cerebro.mmm.analysis import fit_posterior
    from cerebro.mmm.data import prepare

    spec = parse_spec(same_model_spec(args.data, "logistic", args))
    start = time.perf_counter()
    posterior, fit = fit_posterior(spec, prepare(spec, frame, []))
    out = posterior_summary(posterior, frame[CHANNELS].to_numpy(float).sum(axis=0))
    out["diagnostics"] = {
        "seconds": fit.seconds,
        "wall_with_compile": time.perf_counter() - start,
        "rhat_max": float(max(np.max(v) for v in fit.rhat.values())),
        "min_bulk_ess": float(min(np.min(v) for v in fit.ess_bulk.values())),
        "divergences": fit.divergences,
        "steps_per_draw": fit.steps_per_draw,
    }
    return out


def compare(cerebro: dict, pymc: dict) -> dict:
    """z of the difference of posterior means in Monte Carlo SEs, per channel and quantity."""
    rows = {}
    for name in ("roi", "contribution_kpi_units"):
        for c in CHANNELS:
            a, b = cerebro[name][c], pymc[name][c]
            se = np.hypot(a["sd"] / np.sqrt(a["ess_bulk"]), b["sd"] / np.sqrt(b["ess_bulk"]))
            rows[f"{name}_{c}"] = {
                "cerebro": a["mean"],
                "pymc_marketing": b["mean"],
                "relative_difference": a["mean"] / b["mean"] - 1,
                "mcse_of_difference": float(se),
                "z": float((a["mean"] - b["mean"]) / se),
            }
    worst = max(abs(r["z"]) for r in rows.values())
    return {"rows": rows, "max_abs_z": worst, "agree_within_3_mcse": bool(worst < 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reference", type=Path, help="an existing pymc_marketing_fit.py JSON")
    p.add_argument("--output", type=Path, default=ROOT / "bench/results/mmm_agreement.json")
    args = p.parse_args()
    reference = args.reference or args.output.with_name(args.output.stem + "_pymc.json")
    if args.reference is None:
        subprocess.run(
            [str(PYMC_PYTHON), str(ROOT / "bench" / "mmm" / "pymc_marketing_fit.py"),
             "--data", str(args.data), "--date-column", "date", "--kpi", "sales",
             "--channels", ",".join(CHANNELS), "--controls", ",".join(CONTROLS),
             "--saturation", "logistic", "--sampler", "nutpie", "--chains", str(args.chains),
             "--draws", str(args.draws), "--tune", str(args.warmup), "--seed", str(args.seed),
             "--output", str(reference)],
            check=True,
        )  # fmt: skip
    pymc = json.loads(reference.read_text())
    cerebro = cerebro_side(pd.read_csv(args.data), args)
    report = {
        "data": str(args.data.relative_to(ROOT)),
        "model": "PyMC-Marketing's default MMM (geometric l_max 8 normalised + logistic), "
        "its scaling and priors; Cerebro side = cerebro mmm --priors pymc-marketing",
        "cerebro": cerebro,
        "pymc_marketing_diagnostics": pymc["diagnostics"],
        "comparison": compare(cerebro, pymc),
    }
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    cmp = report["comparison"]
    for key, r in cmp["rows"].items():
        print(f"{key:32s} cerebro {r['cerebro']:10.3f}  pymc {r['pymc_marketing']:10.3f}  "
              f"rel {r['relative_difference']:+.3f}  z {r['z']:+.2f}")  # fmt: skip
    print(f"max |z| {cmp['max_abs_z']:.2f}; agree within 3 MCSE: {cmp['agree_within_3_mcse']}")


if __name__ == "__main__":
    main()

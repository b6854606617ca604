"""Do Cerebro's MMM pieces and PyMC-Marketing give the same posterior under the same model?

Why: the transforms agree to rounding (`tests/test_mmm_transforms_reference.py`), but the
posterior also depends on the scaling, the baseline terms, the priors and the sampler. Here
PyMC-Marketing's default model (`bench/mmm/NOTES.md`, "The default model") is written as a
NumPyro model out of Cerebro's parts – `ModelForm.media` (adstock → saturation → coefficient),
`mean_terms`, `stats.mcmc.run_chains` (NUTS, dense mass matrix) – with PyMC-Marketing's
scaling (KPI and each channel divided by its maximum, controls and Fourier terms unscaled,
Fourier order 2 on day of year / 365.25, the trend as a control) and its default priors
(intercept Normal(0, 2), controls Normal(0, 2), Fourier Laplace(0, 1), alpha Beta(1, 3),
logistic lam Gamma(3, 1), beta HalfNormal(2), sigma HalfNormal(2)). Cerebro's own defaults
(`cerebro mmm`) are different on purpose (docs/mmm.md, "Priors"), so this is not a test of the
command, it is a test that the same model gives the same posterior in both tools.

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


def pymc_style_inputs(frame: pd.DataFrame) -> dict:
    """Arrays as PyMC-Marketing's default MMM sees them (NOTES.md, "Scaling")."""
    y_scale = float(frame["sales"].max())
    x_scale = frame[CHANNELS].max().to_numpy(float)
    phase = 2 * np.pi * pd.to_datetime(frame["date"]).dt.day_of_year.to_numpy() / 365.25
    fourier = [np.sin(i * phase) for i in (1, 2)] + [np.cos(i * phase) for i in (1, 2)]
    return {
        "y": frame["sales"].to_numpy(float) / y_scale,
        "x": frame[CHANNELS].to_numpy(float) / x_scale,
        "controls": frame[CONTROLS].to_numpy(float),
        "fourier": np.column_stack(fourier),
        "y_scale": y_scale,
    }


def pymc_priors_model(form, inputs: dict) -> None:
    """PyMC-Marketing's default priors around Cerebro's mean (intercept + features + media)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from cerebro.mmm.posterior import mean_terms

    intercept = numpyro.sample("intercept", dist.Normal(0.0, 2.0))
    n_control, n_fourier = inputs["controls"].shape[1], inputs["fourier"].shape[1]
    gamma_control = numpyro.sample("gamma_control", dist.Normal(0.0, 2.0).expand([n_control]))
    gamma_fourier = numpyro.sample("gamma_fourier", dist.Laplace(0.0, 1.0).expand([n_fourier]))
    with numpyro.plate("channel", inputs["x"].shape[1]):
        alpha = numpyro.sample("alpha", dist.Beta(1.0, 3.0))
        lam = numpyro.sample("lam", dist.Gamma(3.0, 1.0))
        beta = numpyro.sample("beta", dist.HalfNormal(2.0))
    params = {
        "intercept": intercept,
        "coef": jnp.concatenate([gamma_control, gamma_fourier]),
        "alpha": alpha,
        "lam": lam,
        "beta": beta,
    }
    features = jnp.asarray(np.column_stack([inputs["controls"], inputs["fourier"]]))
    baseline, media = mean_terms(form, params, jnp.asarray(inputs["x"]), features, jnp)
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.0))
    numpyro.sample("y", dist.Normal(baseline + media.sum(axis=-1), sigma), obs=inputs["y"])


def cerebro_side(frame: pd.DataFrame, args: argparse.Namespace) -> dict:
    """Fit the PyMC-priors model with Cerebro's sampler; ROI and contribution per channel."""
    from cerebro.mmm.posterior import ModelForm
    from cerebro.stats.mcmc import convergence, import_numpyro, run_chains

    import_numpyro("agreement bench")
    from numpyro.diagnostics import effective_sample_size
    from numpyro.infer import NUTS

    inputs = pymc_style_inputs(frame)
    form = ModelForm("geometric", "logistic", 8, True, "normal")
    start = time.perf_counter()
    samples, stats, seconds = run_chains(
        NUTS(pymc_priors_model, target_accept_prob=0.9, dense_mass=True),
        (form, inputs),
        chains=args.chains,
        draws=args.draws,
        warmup=args.warmup,
        seed=args.seed,
    )
    rhat, bulk, _ = convergence(samples)
    chains, draws = samples["beta"].shape[:2]
    flat = {k: v.reshape(chains * draws, *v.shape[2:]) for k, v in samples.items()}
    media = form.media(flat, inputs["x"][:, None, :])  # (T, D, C)
    contribution = media.sum(axis=0) * inputs["y_scale"]  # (D, C) KPI units
    roi = contribution / frame[CHANNELS].to_numpy(float).sum(axis=0)
    out = {"roi": {}, "contribution_kpi_units": {}}
    for name, values in (("roi", roi), ("contribution_kpi_units", contribution)):
        by_chain = values.reshape(chains, draws, -1)
        ess = np.asarray(effective_sample_size(by_chain))
        for i, c in enumerate(CHANNELS):
            out[name][c] = {
                "mean": float(values[:, i].mean()),
                "sd": float(values[:, i].std()),
                "ess_bulk": float(ess[i]),
            }
    out["diagnostics"] = {
        "seconds": seconds,
        "wall_with_compile": time.perf_counter() - start,
        "rhat_max": float(max(np.max(v) for v in rhat.values())),
        "min_bulk_ess": float(min(np.min(v) for v in bulk.values())),
        **stats,
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
        "its scaling and priors; Cerebro side = Cerebro's transforms, mean and NUTS",
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

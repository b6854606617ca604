"""Fit PyMC-Marketing's default MMM on a CSV and write timings, diagnostics and ROI as JSON.

Why: the reference side of Cerebro's MMM benchmark. It runs PyMC-Marketing exactly as a user
would (``pymc_marketing.mmm.multidimensional.MMM`` with its default priors and max scaling, then
``.fit``) and reports what the side-by-side compares: wall time of the whole process and of
the ``pm.sample`` call alone, bulk ESS of the slowest parameter and ESS/s, R-hat, divergences,
posterior means and 90% equal-tailed intervals of every transform parameter and channel
coefficient, and per-channel contribution (KPI units) and ROI = contribution / spend over the
sample. With ``--truth`` (default: the CSV's ``.truth.json`` sidecar from simulate.py) it also
says whether each true ROI lies inside its 90% interval.

Runs in the PyMC venv (``make bench-mmm-ref``), e.g.

    .cache/pymc-venv/bin/python bench/mmm/pymc_marketing_fit.py \
        --data tests/data/mmm/sim_national_hill.csv --date-column date --kpi sales \
        --channels tv,search,social,display,radio,ooh --controls trend,price_index,promo \
        --saturation hill --sampler numpyro --output bench/results/mmm_pymc_marketing.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
import warnings
from importlib.metadata import version
from pathlib import Path

T_START = time.perf_counter()  # before the heavy imports (done in main): "whole" includes them
SATURATIONS = {"hill": "HillSaturation", "logistic": "LogisticSaturation"}


def timed_sample(pm, record: dict) -> None:
    """Wrap pm.sample so the sampling call alone is timed inside MMM.fit (which also builds,
    recomputes deterministics and stores fit data). Includes the sampler's own JIT compile."""
    original = pm.sample

    def sample(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            record["sample_seconds"] = time.perf_counter() - t0

    pm.sample = sample


import numpy as np  # noqa: E402  (light; the summaries need it)


def summarize(draws: np.ndarray, truth: float | None = None) -> dict:
    """Mean, SD, 90% equal-tailed interval of draws flattened over chains and draws, and the
    bulk ESS of draws shaped (chain, draw) – with the SD, the Monte Carlo error of the mean that
    an agreement check (bench/mmm/agreement.py) needs."""
    import arviz as az

    by_chain = np.asarray(draws).reshape(np.shape(draws)[0], -1)
    lo, hi = (float(q) for q in np.quantile(draws, [0.05, 0.95]))
    out = {"mean": float(draws.mean()), "sd": float(np.std(draws)), "q05": lo, "q95": hi,
           "ess_bulk": float(az.ess(by_chain, method="bulk"))}  # fmt: skip
    if truth is not None:
        out |= {"true": truth, "true_in_90": bool(lo <= truth <= hi)}
    return out


def per_coord(da, truth: dict | None = None) -> dict | list | float:
    """Summaries of a posterior variable, keyed by its non-(chain, draw) coordinate if any."""
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not dims:
        return summarize(da.transpose("chain", "draw").values)
    if len(dims) == 1:
        return {
            str(k): summarize(
                da.sel({dims[0]: k}).transpose("chain", "draw").values, (truth or {}).get(str(k))
            )
            for k in da[dims[0]].values
        }
    return {"dims": dims, "note": "multi-dimensional, not summarized"}


def steps_per_draw(stats) -> float | None:
    """Mean leapfrog steps per kept draw, from whichever statistic the sampler records."""
    for name in ("n_steps", "num_steps", "tree_size"):
        if name in stats:
            return float(stats[name].mean())
    if "tree_depth" in stats:  # a lower bound when only the depth is known
        return float((2.0 ** stats["tree_depth"] - 1).mean())
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--date-column", default="date")
    p.add_argument("--kpi", required=True)
    p.add_argument("--channels", required=True, help="comma-separated spend columns")
    p.add_argument("--controls", default="", help="comma-separated control columns")
    p.add_argument("--adstock", choices=["geometric"], default="geometric")
    p.add_argument("--l-max", type=int, default=8)
    p.add_argument("--saturation", choices=sorted(SATURATIONS), default="hill")
    p.add_argument("--yearly-seasonality", type=int, default=2, help="Fourier order; 0 = none")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--cores", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--sampler", choices=["numpyro", "nutpie", "pymc", "blackjax"],
                   default="numpyro")  # fmt: skip
    p.add_argument("--chain-method", default="parallel",
                   help="numpyro only: parallel (falls back to sequential without enough "
                        "devices) or vectorized")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truth", type=Path, help="simulate.py sidecar (default: DATA.truth.json)")
    p.add_argument("--output", type=Path, required=True)
    args = p.parse_args()
    import arviz as az
    import pandas as pd
    import pymc as pm
    import pymc_marketing.mmm as pmm
    import xarray as xr
    from pymc_marketing.mmm.multidimensional import MMM

    t_imported = time.perf_counter()
    saturation = getattr(pmm, SATURATIONS[args.saturation])()

    channels = args.channels.split(",")
    controls = [c for c in args.controls.split(",") if c]
    df = pd.read_csv(args.data, parse_dates=[args.date_column])
    X, y = df.drop(columns=[args.kpi]), df[args.kpi]
    truth_path = args.truth or args.data.with_suffix(".truth.json")
    truth = json.loads(truth_path.read_text()) if truth_path.exists() else None

    mmm = MMM(
        date_column=args.date_column,
        channel_columns=channels,
        target_column=args.kpi,
        control_columns=controls or None,
        yearly_seasonality=args.yearly_seasonality or None,
        adstock=pmm.GeometricAdstock(l_max=args.l_max),  # normalize=True: the class default
        saturation=saturation,
    )
    timing: dict = {}
    timed_sample(pm, timing)
    kwargs = {"chains": args.chains, "draws": args.draws, "tune": args.tune,
              "cores": args.cores, "nuts_sampler": args.sampler}  # fmt: skip
    if args.sampler in ("numpyro", "blackjax"):
        kwargs["nuts_sampler_kwargs"] = {"chain_method": args.chain_method}
    t_fit = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        idata = mmm.fit(X, y, progressbar=False, random_seed=args.seed, **kwargs)
    fit_seconds = time.perf_counter() - t_fit

    post = idata.posterior
    free = [rv.name for rv in mmm.model.free_RVs]
    ess = az.ess(post[free], method="bulk")
    ess_min = {v: float(ess[v].min()) for v in free}
    slowest = min(ess_min, key=ess_min.get)
    rhat = az.rhat(post[free])
    target_scale = float(mmm.scalers["_target"])
    channel_scale = {str(k): float(v) for k, v in mmm.scalers["_channel"].to_series().items()}
    contribution = post["channel_contribution"].sum("date") * target_scale  # KPI units
    spend = X[channels].sum()
    roi = contribution / xr.DataArray(
        spend[contribution["channel"].values].to_numpy(),
        coords={"channel": contribution["channel"].values},
    )
    whole = time.perf_counter() - T_START
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    sample_s = timing["sample_seconds"]
    t = truth or {}
    sat_truth = t.get("saturation_params", {})
    result = {
        "tool": "pymc-marketing",
        "versions": {
            k: version(k)
            for k in ["pymc-marketing", "pymc", "pytensor", "numpyro", "jax", "nutpie", "arviz"]
            + (["blackjax"] if args.sampler == "blackjax" else [])
        },
        "python": platform.python_version(),
        "model": {
            "class": "pymc_marketing.mmm.multidimensional.MMM (default priors)",
            "adstock": f"GeometricAdstock(l_max={args.l_max}, normalize=True)",
            "saturation": f"{SATURATIONS[args.saturation]}()",
            "yearly_seasonality": args.yearly_seasonality,
            "controls": controls,
            "likelihood": "Normal on KPI / max(KPI)",
        },
        "data": {"path": str(args.data), "rows": len(df), "channels": channels},
        "sampler": {
            "nuts_sampler": args.sampler,
            "chains": args.chains,
            "draws": args.draws,
            "tune": args.tune,
            "cores": args.cores,
            "seed": args.seed,
            **(
                {"chain_method": args.chain_method}
                if args.sampler in ("numpyro", "blackjax")
                else {}
            ),
        },
        "timing_seconds": {
            "whole_process": whole,
            "imports": t_imported - T_START,
            "fit": fit_seconds,
            "sample": sample_s,
            "sampler_reported": post.attrs.get("sampling_time"),
            "cpu_user_plus_system": sum(u.ru_utime + u.ru_stime for u in usage),
            "load_average_1min_at_end": os.getloadavg()[0],
            "note": "sample = the pm.sample call incl. the sampler's JIT compile; fit = MMM.fit "
            "(build + sample + deterministics); whole = script start to JSON; sampler_reported = "
            "PyMC's own sampling_time (numpyro: incl. JIT; nutpie: after its numba compile); "
            "the machine is shared, so CPU seconds and load average are recorded too",
        },
        "diagnostics": {
            "min_bulk_ess": ess_min[slowest],
            "slowest_parameter": slowest,
            "ess_per_second_sampling": ess_min[slowest] / sample_s,
            "ess_per_second_whole": ess_min[slowest] / whole,
            "rhat_max": float(max(float(rhat[v].max()) for v in free)),
            "divergences": int(idata.sample_stats["diverging"].sum()),
            "steps_per_draw": steps_per_draw(idata.sample_stats),
            "min_bulk_ess_by_parameter": ess_min,
        },
        "scaling": {
            "channel": "x / max over dates, per channel",
            "channel_scale": channel_scale,
            "target": "y / max over dates",
            "target_scale": target_scale,
            "controls": "not scaled",
        },
        "parameters": {
            "adstock_alpha": per_coord(post["adstock_alpha"], t.get("alpha")),
            **{
                f"saturation_{k}": per_coord(post[f"saturation_{k}"], sat_truth.get(k))
                for k in saturation.default_priors
            },
            "channel_coefficient_kpi_units": per_coord(
                post["saturation_beta"] * target_scale, t.get("beta_kpi_units")
            ),
            **{v: per_coord(post[v]) for v in free if not v.startswith(("adstock", "saturation"))},
        },
        "contribution_kpi_units": per_coord(contribution, t.get("contribution")),
        "roi": per_coord(roi, t.get("roi")),
        "spend": {c: float(spend[c]) for c in channels},
    }
    if truth:
        inside = [v["true_in_90"] for v in result["roi"].values()]
        result["true_roi_inside_90"] = f"{sum(inside)}/{len(inside)}"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    d = result["diagnostics"]
    print(f"{args.sampler}: whole {whole:.1f}s, sample {sample_s:.1f}s, min bulk ESS "
          f"{d['min_bulk_ess']:.0f} ({slowest}), ESS/s {d['ess_per_second_sampling']:.2f}, "
          f"R-hat max {d['rhat_max']:.3f}, divergences {d['divergences']}, "
          f"true ROI inside 90%: {result.get('true_roi_inside_90', 'n/a')}")  # fmt: skip


if __name__ == "__main__":
    main()

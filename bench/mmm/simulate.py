"""Seeded national weekly MMM data with known truth, for the PyMC-Marketing side-by-side.

Why: a reference fit is only informative when the true ROIs are known. The data-generating
process is written so that PyMC-Marketing's default MMM (and a "same model" mode in Cerebro)
can represent it exactly: each channel is divided by its max, passed through a *normalized*
geometric adstock (l_max 8) and a logistic or Hill saturation, times a coefficient; plus an
intercept, a linear trend (given to the model as the control column ``trend``), yearly Fourier
seasonality of order 2 on day-of-year / 365.25, two controls and Normal noise.

True ROI of a channel = its summed in-sample contribution / its summed spend (the same
in-sample definition the fit script reports). Coefficients are solved so the ROIs equal TRUE_ROI.
Bench-only data; Cerebro has its own simulator. Plain numpy, so it runs in any venv:

    python bench/mmm/simulate.py --saturation hill --output tests/data/mmm/sim_national_hill.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

WEEKS, L_MAX = 156, 8
CHANNELS = ["tv", "search", "social", "display", "radio", "ooh"]
MEAN_SPEND = np.array([50.0, 20.0, 15.0, 10.0, 8.0, 5.0])  # thousands per week
TRUE_ROI = np.array([1.2, 2.5, 1.8, 0.6, 0.9, 0.4])
ALPHA = np.array([0.7, 0.2, 0.4, 0.3, 0.6, 0.5])  # geometric adstock decay
HILL_SLOPE = np.array([1.5, 1.0, 2.0, 1.2, 1.8, 1.0])
HILL_KAPPA = np.array([0.4, 0.3, 0.5, 0.35, 0.45, 0.3])  # on the max-scaled, adstocked input
LOGISTIC_LAM = np.array([3.0, 4.0, 2.0, 5.0, 3.0, 2.0])
INTERCEPT, TREND, SIGMA = 1000.0, 200.0, 25.0  # KPI units (thousands of sales)
FOURIER = {"sin_1": 60.0, "cos_1": -40.0, "sin_2": 15.0, "cos_2": 10.0}
CONTROL_EFFECT = {"price_index": -30.0, "promo": 80.0}


def geometric_adstock(x: np.ndarray, alpha: float, l_max: int = L_MAX) -> np.ndarray:
    """Normalized geometric carryover: y[t] = sum_j alpha^j x[t-j] / sum_j alpha^j, j < l_max."""
    w = alpha ** np.arange(l_max)
    return np.convolve(x, w / w.sum())[: len(x)]


def saturate(x: np.ndarray, kind: str, c: int) -> np.ndarray:
    if kind == "hill":
        return x ** HILL_SLOPE[c] / (x ** HILL_SLOPE[c] + HILL_KAPPA[c] ** HILL_SLOPE[c])
    lam = LOGISTIC_LAM[c]
    return (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))


def simulate(kind: str, seed: int) -> tuple[dict[str, np.ndarray], dict]:
    rng = np.random.default_rng(seed)
    dates = np.datetime64("2023-01-02") + 7 * np.arange(WEEKS)  # Mondays
    t = np.arange(WEEKS) / (WEEKS - 1)
    doy = (dates - dates.astype("datetime64[Y]")).astype(int) + 1
    phase = 2 * np.pi * doy / 365.25
    modes = {f"{f}_{n}": getattr(np, f)(n * phase) for n in (1, 2) for f in ("sin", "cos")}
    season = sum(FOURIER[k] * modes[k] for k in FOURIER)
    # spend: gamma noise around a seasonal level; tv flighted (on ~60% of weeks)
    level = 1 + 0.3 * np.sin(phase)
    spend = rng.gamma(4.0, 0.25, (WEEKS, 6)) * MEAN_SPEND * level[:, None]
    spend[:, 0] *= rng.random(WEEKS) < 0.6
    controls = {
        "price_index": rng.normal(0, 1, WEEKS).round(3),
        "promo": (rng.random(WEEKS) < 0.1).astype(float),
    }
    shaped = np.column_stack([
        saturate(geometric_adstock(spend[:, c] / spend[:, c].max(), ALPHA[c]), kind, c)
        for c in range(6)
    ])  # fmt: skip
    beta = TRUE_ROI * spend.sum(0) / shaped.sum(0)  # KPI units at full saturation
    contribution = shaped * beta
    kpi = (INTERCEPT + TREND * t + season + contribution.sum(1)
           + sum(CONTROL_EFFECT[k] * v for k, v in controls.items())
           + rng.normal(0, SIGMA, WEEKS))  # fmt: skip
    columns = {"date": dates.astype(str), "sales": kpi.round(4), "trend": t.round(6)}
    columns |= {ch: spend[:, c].round(4) for c, ch in enumerate(CHANNELS)} | controls
    # ROI from the rounded spend the CSV holds (the fit only sees that)
    rounded = np.column_stack([columns[ch] for ch in CHANNELS])
    truth = {
        "seed": seed, "weeks": WEEKS, "saturation": kind, "adstock": "geometric",
        "l_max": L_MAX, "normalize": True, "kpi": "sales", "channels": CHANNELS,
        "controls": ["trend", *controls], "channel_scale": "spend / max(spend) per channel",
        "alpha": dict(zip(CHANNELS, ALPHA.tolist(), strict=True)),
        "saturation_params": (
            {"slope": dict(zip(CHANNELS, HILL_SLOPE.tolist(), strict=True)),
             "kappa": dict(zip(CHANNELS, HILL_KAPPA.tolist(), strict=True))}
            if kind == "hill" else {"lam": dict(zip(CHANNELS, LOGISTIC_LAM.tolist(), strict=True))}
        ),
        "beta_kpi_units": dict(zip(CHANNELS, beta.tolist(), strict=True)),
        "contribution": dict(zip(CHANNELS, contribution.sum(0).tolist(), strict=True)),
        "spend": dict(zip(CHANNELS, rounded.sum(0).tolist(), strict=True)),
        "roi": dict(zip(CHANNELS, (contribution.sum(0) / rounded.sum(0)).tolist(), strict=True)),
        "intercept": INTERCEPT, "trend": TREND, "fourier": FOURIER,
        "control_effect": CONTROL_EFFECT, "sigma": SIGMA,
    }  # fmt: skip
    return columns, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saturation", choices=["hill", "logistic"], default="hill")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    columns, truth = simulate(args.saturation, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    rows = zip(*columns.values(), strict=True)
    lines = [",".join(columns)] + [",".join(str(v) for v in row) for row in rows]
    args.output.write_text("\n".join(lines) + "\n")
    args.output.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {args.output} and its .truth.json; true ROI {truth['roi']}")


if __name__ == "__main__":
    main()

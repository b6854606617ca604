"""Reference outputs of PyMC-Marketing's adstock and saturation functions on a fixed grid.

Why: Cerebro's MMM reimplements these transforms in JAX/NumPyro; to claim "the same model" its
transforms must agree with PyMC-Marketing's to 1e-9. This script evaluates the installed
PyMC-Marketing functions (``pymc_marketing.mmm.transformers``) in float64 on a small grid of
inputs and parameters and writes the numbers to ``tests/data/mmm/pymc_marketing_transforms.json``
so Cerebro's tests can compare against them without PyMC installed.

Runs in the PyMC venv only (``make bench-mmm-ref`` builds it):

    .cache/pymc-venv/bin/python bench/mmm/reference_transforms.py
"""

from __future__ import annotations

import argparse
import itertools
import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
from pymc_marketing.mmm import transformers as tr
from pytensor.xtensor import as_xtensor

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "mmm" / "pymc_marketing_transforms.json"
T = 20  # length of every input series


def inputs() -> dict[str, list[float]]:
    """An impulse (shows the kernel), a ramp, and a seeded random spend series with zeros."""
    impulse = np.zeros(T)
    impulse[0] = 1.0
    ramp = np.linspace(0.0, 1.0, T)
    rng = np.random.default_rng(20261207)
    spend = rng.gamma(2.0, 0.25, T) * (rng.random(T) > 0.2)  # ~20% dark weeks
    return {"impulse": impulse.tolist(), "ramp": ramp.tolist(), "spend": spend.tolist()}


def compiled(fn, n_params: int, **static):
    """Compile fn(x, *scalars, **static) once; the numeric grid is then looped in Python."""
    x = pt.dvector("x")
    params = [pt.dscalar(f"p{i}") for i in range(n_params)]
    out = fn(as_xtensor(x, dims=("date",)), *params, **static)
    return pytensor.function([x, *params], out.values)


def adstock_cases(series: dict[str, list[float]]) -> list[dict]:
    """Every adstock on every input; normalize both ways; mode is PyMC-Marketing's default 'After'."""
    grids = [
        ("geometric", tr.geometric_adstock, ["alpha"], [[0.1, 0.5, 0.9]], [4, 8], {}),
        ("binomial", tr.binomial_adstock, ["alpha"], [[0.3, 0.7]], [8], {}),
        ("delayed", tr.delayed_adstock, ["alpha", "theta"], [[0.3, 0.7], [0.0, 2.5]], [8], {}),
        ("weibull_pdf", tr.weibull_adstock, ["lam", "k"], [[0.5, 2.0, 5.0], [0.8, 1.5, 3.0]],
         [8], {"type": "PDF"}),
        ("weibull_cdf", tr.weibull_adstock, ["lam", "k"], [[0.5, 2.0, 5.0], [0.8, 1.5, 3.0]],
         [8], {"type": "CDF"}),
    ]  # fmt: skip
    cases = []
    for name, fn, names, values, l_maxes, extra in grids:
        for l_max, normalize in itertools.product(l_maxes, [False, True]):
            f = compiled(fn, len(names), l_max=l_max, normalize=normalize, dim="date", **extra)
            for combo in itertools.product(*values):
                for input_name, x in series.items():
                    cases.append({
                        "function": name, "input": input_name, "l_max": l_max,
                        "normalize": normalize, "mode": "After",
                        "params": dict(zip(names, combo, strict=True)),
                        "output": f(np.asarray(x), *combo).tolist(),
                    })  # fmt: skip
    return cases


def saturation_cases(series: dict[str, list[float]]) -> list[dict]:
    """The bare saturation functions (no beta); the MMM multiplies by beta except for Michaelis–Menten."""
    grids = [
        ("logistic", tr.logistic_saturation, ["lam"], [[0.5, 2.0, 8.0]]),
        ("hill", tr.hill_function, ["slope", "kappa"], [[0.5, 1.0, 2.0, 4.0], [0.2, 0.5, 1.5]]),
        ("michaelis_menten", tr.michaelis_menten, ["alpha", "lam"], [[1.0, 2.0], [0.1, 0.5, 2.0]]),
    ]
    cases = []
    for name, fn, names, values in grids:
        f = compiled(fn, len(names))
        for combo in itertools.product(*values):
            for input_name, x in series.items():
                cases.append({
                    "function": name, "input": input_name,
                    "params": dict(zip(names, combo, strict=True)),
                    "output": f(np.asarray(x), *combo).tolist(),
                })  # fmt: skip
    return cases


def composed_cases(series: dict[str, list[float]]) -> list[dict]:
    """The MMM's default forward pass for one channel: normalized geometric adstock, then beta * saturation."""
    geo = {"l_max": 8, "normalize": True, "dim": "date"}
    logistic = compiled(lambda x, a, lam, b: b * tr.logistic_saturation(
        tr.geometric_adstock(x, a, **geo), lam), 3)  # fmt: skip
    hill = compiled(lambda x, a, s, k, b: b * tr.hill_function(
        tr.geometric_adstock(x, a, **geo), s, k), 4)  # fmt: skip
    x = np.asarray(series["spend"])
    return [
        {"function": "geometric+logistic", "input": "spend", "l_max": 8, "normalize": True,
         "params": {"alpha": 0.6, "lam": 3.0, "beta": 1.7},
         "output": logistic(x, 0.6, 3.0, 1.7).tolist()},
        {"function": "geometric+hill", "input": "spend", "l_max": 8, "normalize": True,
         "params": {"alpha": 0.6, "slope": 2.0, "kappa": 0.4, "beta": 1.7},
         "output": hill(x, 0.6, 2.0, 0.4, 1.7).tolist()},
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args()
    series = inputs()
    doc = {
        "source": "pymc_marketing.mmm.transformers, evaluated in float64 by "
        "bench/mmm/reference_transforms.py",
        "versions": {p: version(p) for p in ["pymc-marketing", "pymc", "pytensor", "numpy"]},
        "conventions": {
            "convolution": "mode 'After': y[t] = sum_j w[j] * x[t-j], x[t<0] = 0, same length",
            "weibull_cdf_kernel_length": "l_max + 1 taps (a leading 1 is prepended)",
        },
        "inputs": series,
        "adstock": adstock_cases(series),
        "saturation": saturation_cases(series),
        "composed": composed_cases(series),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()

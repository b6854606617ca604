"""Re-derive every case of tests/data/mmm/pymc_marketing_transforms.json from the formulas in
bench/mmm/NOTES.md, in plain numpy/scipy, and print the largest absolute difference.

Why: it proves the NOTES describe PyMC-Marketing's transforms exactly (kernel lengths,
normalization, Weibull rescaling), so Cerebro can implement from the notes and test against the
JSON. Runs in any venv with numpy and scipy (Cerebro's too):

    python bench/mmm/check_transforms.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import weibull_min

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "mmm"


def kernel(function: str, p: dict, l_max: int, normalize: bool) -> np.ndarray:
    j = np.arange(l_max)
    if function == "geometric":
        w = p["alpha"] ** j
    elif function == "binomial":
        w = (1 - j / (l_max + 1)) ** (1 / p["alpha"] - 1)
    elif function == "delayed":
        w = p["alpha"] ** ((j - p["theta"]) ** 2)
    elif function == "weibull_pdf":
        w = weibull_min.pdf(j + 1, p["k"], scale=p["lam"])
        w = (w - w.min()) / (w.max() - w.min())
    else:  # weibull_cdf: l_max + 1 taps
        w = np.cumprod(np.r_[1.0, weibull_min.sf(j + 1, p["k"], scale=p["lam"])])
    return w / w.sum() if normalize else w


def adstock(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mode 'After': zeros before the first week, same length out."""
    return np.convolve(x, w)[: len(x)]


SATURATION = {
    "logistic": lambda x, p: (1 - np.exp(-p["lam"] * x)) / (1 + np.exp(-p["lam"] * x)),
    "hill": lambda x, p: x ** p["slope"] / (x ** p["slope"] + p["kappa"] ** p["slope"]),
    "michaelis_menten": lambda x, p: p["alpha"] * x / (p["lam"] + x),
}


def main() -> None:
    ref = json.loads((DATA / "pymc_marketing_transforms.json").read_text())
    x = {k: np.asarray(v) for k, v in ref["inputs"].items()}
    worst = 0.0
    for c in ref["adstock"]:
        w = kernel(c["function"], c["params"], c["l_max"], c["normalize"])
        worst = max(worst, np.abs(adstock(x[c["input"]], w) - c["output"]).max())
    for c in ref["saturation"]:
        worst = max(worst, np.abs(SATURATION[c["function"]](x[c["input"]], c["params"]) - c["output"]).max())  # fmt: skip
    for c in ref["composed"]:
        p = c["params"]
        shaped = adstock(x[c["input"]], kernel("geometric", p, c["l_max"], c["normalize"]))
        curve = SATURATION[c["function"].split("+")[1]](shaped, p)
        worst = max(worst, np.abs(p["beta"] * curve - c["output"]).max())
    n = len(ref["adstock"]) + len(ref["saturation"]) + len(ref["composed"])
    print(
        f"{n} cases, max abs difference {worst:.2e} (pymc-marketing {ref['versions']['pymc-marketing']})"
    )
    if worst > 1e-12:
        raise SystemExit("the formulas in NOTES.md no longer match the reference")


if __name__ == "__main__":
    main()

"""Bulk ESS and R-hat of every parameter of a saved Cerebro MMM, computed with ArviZ.

Why: the same-model speed comparison (`bench/mmm/same_model_speed.py`) must measure both tools'
draws with one estimator. PyMC-Marketing's side uses ArviZ's rank-normalised bulk ESS and
R-hat (Vehtari et al. 2021), so this reads a `cerebro mmm --save` file (a zip of manifest.json
and arrays.npz; no Cerebro import, it runs in the PyMC venv) and applies the same functions to
Cerebro's draws (chains one after another on axis 0).

    .cache/pymc-venv/bin/python bench/mmm/saved_model_ess.py model.cerebro   # JSON on stdout
"""

from __future__ import annotations

import io
import json
import sys
import zipfile

import arviz as az
import numpy as np


def main() -> None:
    with zipfile.ZipFile(sys.argv[1]) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        arrays = np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False)
        draws = {k: arrays[f"draws/{k}"] for k in manifest["draws"]}
    chains = int(manifest["chains"])
    ess, rhat = {}, {}
    for name, values in draws.items():
        if values.size == 0:
            continue
        by_chain = values.reshape(chains, -1, *values.shape[1:])
        flat = by_chain.reshape(chains, by_chain.shape[1], -1)
        ess[name] = [float(az.ess(flat[:, :, j], method="bulk")) for j in range(flat.shape[2])]
        rhat[name] = [float(az.rhat(flat[:, :, j])) for j in range(flat.shape[2])]
    print(json.dumps({"ess_bulk": ess, "rhat": rhat}))


if __name__ == "__main__":
    main()

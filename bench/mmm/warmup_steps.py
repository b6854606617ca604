"""Leapfrog steps of Cerebro's NUTS in warm-up and sampling, by start and warm-up tree cap.

Why: on the same-model benchmark (`same_model_speed.py`) most of Cerebro's gradients went to
the warm-up. This runs 2 chains (vectorised) × 1000 + 1000 of `--priors pymc-marketing` on
`sim_national_logistic.csv` with one variant – `uniform` (NumPyro's default start), `value` (the
level at the mean scaled KPI, coefficients 0, sigma at the KPI's SD, effects 0.05), `median`,
`depthN` (max tree depth N in warm-up, 10 in sampling) – and prints the steps per chain in the
warm-up (and in its first 100 iterations), in sampling, the min bulk ESS and the CPU seconds.
Step counts do not depend on the machine's load.

    PYTHONPATH=src python bench/mmm/warmup_steps.py depth8
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ["tv", "search", "social", "display", "radio", "ooh"]


def main(variant: str) -> None:
    from cerebro.stats.mcmc import import_numpyro

    import_numpyro("warm-up bench")
    import jax
    from numpyro.diagnostics import effective_sample_size
    from numpyro.infer import MCMC, NUTS
    from numpyro.infer.initialization import init_to_median, init_to_uniform, init_to_value

    from cerebro.core.spec import parse_spec
    from cerebro.mmm.data import prepare
    from cerebro.mmm.posterior import ModelForm
    from cerebro.mmm.pymc_priors import pymc_inputs, pymc_marketing_data, pymc_marketing_model

    spec = parse_spec({"kind": "mmm", "data": str(ROOT / "tests/data/mmm/sim_national_logistic.csv"),
                       "date_column": "date", "kpi": "sales", "channels": CHANNELS,
                       "controls": ["trend", "price_index", "promo"], "trend": False,
                       "saturation": "logistic", "priors": "pymc-marketing"})  # fmt: skip
    data = pymc_marketing_data(prepare(spec, None, []))
    form = ModelForm("geometric", "logistic", 8, True, "normal")
    inputs = pymc_inputs(data)
    start = {"level": float(inputs.y.mean()), "coef": np.zeros(inputs.features.shape[1]),
             "sigma": float(inputs.y.std()), "effect": np.full(len(CHANNELS), 0.05)}  # fmt: skip
    options: dict = {"init_strategy": init_to_uniform, "max_tree_depth": 10}
    if variant == "median":
        options["init_strategy"] = init_to_median
    elif variant == "value":
        options["init_strategy"] = init_to_value(values=start)
    elif variant.startswith("depth"):
        options["max_tree_depth"] = (int(variant[5:]), 10)
    kernel = NUTS(pymc_marketing_model, target_accept_prob=0.9, dense_mass=True, **options)
    mcmc = MCMC(kernel, num_warmup=1000, num_samples=1000, num_chains=2,
                chain_method="vectorized", progress_bar=False)  # fmt: skip
    cpu = time.process_time()
    mcmc.warmup(jax.random.PRNGKey(1), form, inputs, collect_warmup=True,
                extra_fields=("num_steps",))  # fmt: skip
    warm = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["num_steps"])
    mcmc.run(mcmc.post_warmup_state.rng_key, form, inputs, extra_fields=("num_steps", "diverging"))
    kept = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["num_steps"])
    divergences = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    draws = mcmc.get_samples(group_by_chain=True)
    sites = ("coef", "alpha", "lam", "beta", "intercept", "sigma")
    ess = min(float(np.min(effective_sample_size(np.asarray(draws[k])))) for k in sites)
    print(f"{variant}: warmup steps/chain {warm.sum(1)} first100 {warm[:, :100].sum(1)} | "
          f"sampling steps/chain {kept.sum(1)} mean {kept.mean():.1f} | minESS(2 chains) "
          f"{ess:.0f} div {divergences} cpu {time.process_time() - cpu:.0f}s")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "uniform")

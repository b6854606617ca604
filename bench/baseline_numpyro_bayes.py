"""What users do today from the PyMC/NumPyro A/B examples: a Beta–Binomial model fitted by MCMC.

Reads the conversions with pandas, aggregates successes and trials per arm (the fastest form of
the model: a Binomial likelihood on counts rather than 10M Bernoulli terms), samples the rates
with NUTS (2 chains × 2,000 draws after 1,000 warm-up, the examples' scale) and summarises
P(variant beats control), P(best) and the lift's 95% interval from the draws.

Usage: python bench/baseline_numpyro_bayes.py data.parquet [--json]
"""

from __future__ import annotations

import json
import sys
import time

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
from numpyro.infer import MCMC, NUTS

numpyro.set_host_device_count(1)


def model(trials, successes=None):
    rate = numpyro.sample("rate", dist.Beta(1.0, 1.0).expand([len(trials)]))
    numpyro.sample("obs", dist.Binomial(trials, rate), obs=successes)


def main() -> None:
    frame = pd.read_parquet(sys.argv[1], columns=["arm", "converted"])
    counts = frame.groupby("arm")["converted"].agg(["sum", "count"]).sort_index()
    mcmc = MCMC(NUTS(model), num_warmup=1000, num_samples=2000, num_chains=2,
                chain_method="sequential", progress_bar=False)  # fmt: skip
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(0), counts["count"].to_numpy(), counts["sum"].to_numpy())
    seconds = time.perf_counter() - start  # the inference step alone, JIT compilation included
    rate = np.asarray(mcmc.get_samples()["rate"])
    control = rate[:, 0]
    out = {
        "arms": list(counts.index),
        "inference_seconds": seconds,
        "p_beat": [float((rate[:, i] > control).mean()) for i in range(1, rate.shape[1])],
        "p_best": np.bincount(rate.argmax(1), minlength=rate.shape[1]).astype(float) / len(rate),
        "lift_ci": [
            np.quantile(rate[:, i] - control, [0.025, 0.975]).tolist()
            for i in range(1, rate.shape[1])
        ],
    }
    out["p_best"] = out["p_best"].tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

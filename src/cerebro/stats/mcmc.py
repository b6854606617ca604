"""NumPyro on demand, MCMC chains run in parallel where the cores allow, and convergence numbers.

NumPyro and JAX are an optional extra (``pip install 'cerebro[bayes]'``): they are imported
only by the analyses that sample, and a missing install is one user error naming the extra.

Diagnostics follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat", Bayesian Analysis 16(2): split R-hat and bulk ESS
from NumPyro's implementation (`numpyro.diagnostics`), tail ESS as the smaller ESS of the
indicators of the 5% and 95% quantiles.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError

RHAT_LIMIT = 1.01  # Vehtari et al. (2021)'s recommended ceiling for split R-hat
ESS_FLOOR = 400  # their floor for bulk and tail ESS with four chains
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
PARALLEL_CHAINS = 8  # host devices at least: up to 8 chains run in parallel on any machine


def import_numpyro(feature: str) -> Any:
    """NumPyro in double precision, with a host device per core but at least
    `PARALLEL_CHAINS` (so that chains run in parallel) and one thread per XLA computation
    (these take effect only if JAX has not started yet, and keep a device count or threading
    flag the user set in XLA_FLAGS).

    More devices than cores is deliberate: each device is a thread, so 4 chains on 2 cores
    share them and each chain's tree is as long as it needs. With fewer devices than chains
    they run vectorised, where every step waits for the chain with the longest trajectory –
    measured on the MMM benchmark (156 weeks × 6 channels, 4 × 300 draws, 2 loaded cores):
    34 s wall and 35 CPU s in parallel on 4 devices, 70 s and 89 CPU s vectorised on 2."""
    try:
        import numpyro
    except ImportError as exc:  # pragma: no cover - exercised by a test that hides the module
        raise UserInputError(
            f"{feature} needs NumPyro and JAX; install them with pip install 'cerebro[bayes]'."
        ) from exc
    if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        numpyro.set_host_device_count(max(os.cpu_count() or 1, PARALLEL_CHAINS))
    if "xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
        # one thread per computation: the chains are the parallelism, and XLA's intra-op pool
        # only adds hand-offs – the geo MMM's gradient (40 geos × 156 weeks × 6 channels) took
        # 0.45–0.7 times as long with it off, on the shared 2-core machine
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD}".strip()
    # Double precision: single precision puts errors in the energy that NUTS's accept step
    # compares, and the same seed must give the same draws in every process.
    numpyro.enable_x64()
    return numpyro


def run_chains(
    kernel: Any, args: tuple, *, chains: int, draws: int, warmup: int, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, float], float]:
    """Run `chains` chains of `kernel` on the model's `args`: draws by site (chains, draws, …),
    sampler statistics of the kept draws (`divergences`, their number; `steps_per_draw`, the
    mean number of leapfrog steps – the cost of a draw, which a benchmark needs to tell a
    slower gradient from a harder posterior) and the wall time in seconds.

    Chains run in parallel, one per device, when JAX has a device per chain; otherwise
    vectorised in one process. Either way chain i starts from the same split of `seed`."""
    import jax
    from numpyro.infer import MCMC

    method = "parallel" if jax.local_device_count() >= chains else "vectorized"
    mcmc = MCMC(
        kernel,
        num_warmup=warmup,
        num_samples=draws,
        num_chains=chains,
        chain_method=method,
        progress_bar=False,
    )
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), *args, extra_fields=("diverging", "num_steps"))
    # JAX computes asynchronously: run() returns before the chains are done, so the clock
    # stops only once the draws are on the host
    samples = {k: np.asarray(v, float) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields()
    seconds = time.perf_counter() - start
    stats = {
        "divergences": int(np.asarray(extra["diverging"]).sum()),
        "steps_per_draw": float(np.asarray(extra["num_steps"]).mean()),
    }
    return samples, stats, seconds


def convergence(
    draws: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Split R-hat, bulk ESS and tail ESS of every parameter; draws are (chains, draws, …)."""
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    rhat, bulk, tail = {}, {}, {}
    for name, x in draws.items():
        if x.size == 0 or x.shape[1] < 4:
            continue
        rhat[name] = np.asarray(split_gelman_rubin(x))
        bulk[name] = np.asarray(effective_sample_size(x))
        low, high = np.quantile(x, [0.05, 0.95], axis=(0, 1))
        tail[name] = np.minimum(
            np.asarray(effective_sample_size((x <= low).astype(float))),
            np.asarray(effective_sample_size((x >= high).astype(float))),
        )
    return rhat, bulk, tail


def convergence_problems(
    rhat: dict[str, np.ndarray],
    ess_bulk: dict[str, np.ndarray],
    ess_tail: dict[str, np.ndarray],
    labels: dict[str, list[str]],
) -> list[str]:
    """One phrase per parameter element whose R-hat or ESS fails the usual thresholds;
    `labels[name]` names the elements of a vector parameter (channels, features)."""
    problems = []
    for name, values in rhat.items():
        names = labels.get(name) or [""]
        for i, (r, b, t) in enumerate(
            zip(np.ravel(values), np.ravel(ess_bulk[name]), np.ravel(ess_tail[name]), strict=True)
        ):
            what = f"{name}_{names[i]}" if names[i] else name
            if not r <= RHAT_LIMIT:
                problems.append(f"R-hat of {what} = {r:.3f} > {RHAT_LIMIT}")
            if not min(b, t) >= ESS_FLOOR:
                problems.append(f"ESS of {what} = {min(b, t):.0f} < {ESS_FLOOR}")
    return problems

"""NUTS chains of an MMM through a compiled sampler that is kept and reused across fits.

Why: NumPyro's `MCMC.run` traces the model with the data as constants and maps a new function
over the chains on every call, so every fit compiled a new XLA program, and the `MCMC` object
of every fit stayed reachable from JAX's caches with its draws. Fitting model after model in
one process (a coverage study, a service worker) grew the resident memory by about 50 MB a fit
(52 weeks × 3 channels, 2 × 200 + 200: 756 MB after the first fit, 2,013 MB after the 25th) until
XLA's compiler ran out of memory, and paid the compile (seconds) every fit.

Here the data enter the compiled program as arguments: the floating-point fields of the inputs
(spend, features, target, scales, prior parameters) are traced, everything else – the model
form, integer indices, flags, lift tests – is static and part of the key. One function per
chain builds its own single-chain `MCMC` inside the trace and runs warm-up and sampling; the
chains are mapped over devices (`jax.pmap`) when JAX has a device per chain, else vectorised
(`jax.vmap` under `jax.jit`). Chain i starts from split i of the seed's key, as `MCMC.run`
splits it, so the draws are those of the same NUTS kernel; a cached and a freshly compiled
sampler give bit-identical draws (tested).

The compiled samplers are kept in a small least-recently-used cache (`CACHE_SIZE` programs):
a process that fits many shapes holds at most that many. Fits with lift tests do not come here
(`cerebro.mmm.inference.fit_nuts` runs them through NumPyro's `MCMC.run`, as before); should
inputs with tests arrive, nothing of them is traced (the calibration code reads their scales
in Python) and they reuse a sampler only with the same tests and data.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

CACHE_SIZE = 4  # compiled samplers kept; ~10–40 MB each at the MMM sizes measured
_COMPILED: OrderedDict[tuple, Callable[..., Any]] = OrderedDict()
EXTRA_FIELDS = ("diverging", "num_steps")


def clear_compiled() -> None:
    """Drop every kept sampler (the next fit compiles again)."""
    _COMPILED.clear()


def compiled_count() -> int:
    """How many compiled samplers are kept."""
    return len(_COMPILED)


def _traced(inputs: Any) -> dict[str, Any]:
    """The inputs' fields that enter the program as arguments: floating-point arrays and
    numbers at the top level; none when the inputs carry lift tests (the calibration code
    reads their scales in Python)."""
    if getattr(inputs, "tests", None) is not None:
        return {}
    out = {}
    for f in dataclasses.fields(inputs):
        value = getattr(inputs, f.name)
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
            out[f.name] = np.asarray(value, np.float64)
        elif isinstance(value, float):
            out[f.name] = np.float64(value)
    return out


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a static field: arrays by dtype, shape and bytes."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value),
            tuple(_frozen(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _key(model: Callable, form: Any, inputs: Any, traced: dict, settings: tuple) -> tuple:
    static = tuple(
        (f.name, _frozen(getattr(inputs, f.name)))
        for f in dataclasses.fields(inputs)
        if f.name not in traced
    )
    shapes = tuple((k, v.shape) for k, v in traced.items())
    return (model, form, type(inputs), static, shapes, settings)


def _sampler(model: Callable, form: Any, template: Any, settings: tuple) -> Callable[..., Any]:
    """The chains as one compiled function of (chain keys, traced inputs)."""
    import jax
    from numpyro.infer import MCMC, NUTS

    dense_mass, target_accept, max_tree_depth, draws, warmup, parallel = settings

    def one_chain(key: Any, traced: dict[str, Any]) -> tuple[dict, dict]:
        inputs = dataclasses.replace(template, **traced)
        kernel = NUTS(model, target_accept_prob=target_accept, dense_mass=dense_mass,
                      max_tree_depth=max_tree_depth)  # fmt: skip
        mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=1,
                    progress_bar=False)  # fmt: skip
        mcmc.run(key, form, inputs, extra_fields=EXTRA_FIELDS)
        return mcmc.get_samples(), mcmc.get_extra_fields()

    if parallel:
        return jax.pmap(one_chain, in_axes=(0, None))
    return jax.jit(jax.vmap(one_chain, in_axes=(0, None)))


def _settings(dense_mass: Any, target_accept: float, max_tree_depth: int | tuple[int, int],
              draws: int, warmup: int, chains: int) -> tuple:  # fmt: skip
    import jax

    dense = (
        tuple(tuple(b) for b in dense_mass) if isinstance(dense_mass, list) else bool(dense_mass)
    )
    depth = (
        tuple(max_tree_depth) if isinstance(max_tree_depth, (tuple, list)) else int(max_tree_depth)
    )
    parallel = jax.local_device_count() >= chains
    return (dense, float(target_accept), depth, int(draws), int(warmup), parallel)


def run_compiled(
    model: Callable[..., None],
    form: Any,
    inputs: Any,
    *,
    dense_mass: Any,
    target_accept: float,
    chains: int,
    draws: int,
    warmup: int,
    seed: int,
    max_tree_depth: int | tuple[int, int] = 10,
) -> tuple[dict[str, np.ndarray], dict[str, float], float]:
    """Run `chains` NUTS chains of `model(form, inputs)` (`inputs` a dataclass): draws by site
    (chains, draws, …), sampler statistics of the kept draws (`divergences`;
    `steps_per_draw`, the mean number of leapfrog steps) and the wall time in seconds,
    compile included when this shape was not compiled before."""
    import jax

    traced = _traced(inputs)
    settings = _settings(dense_mass, target_accept, max_tree_depth, draws, warmup, chains)
    key = _key(model, form, inputs, traced, (*settings, int(chains)))
    start = time.perf_counter()
    sampler = _COMPILED.pop(key, None)
    if sampler is None:
        template = dataclasses.replace(inputs, **{k: None for k in traced})
        sampler = _sampler(model, form, template, settings)
    _COMPILED[key] = sampler  # most recently used last
    while len(_COMPILED) > CACHE_SIZE:
        _COMPILED.popitem(last=False)
    keys = jax.random.split(jax.random.PRNGKey(seed), chains)
    samples, extra = sampler(keys, traced)
    # JAX computes asynchronously: the clock stops once the draws are on the host
    draws_by_site = {k: np.asarray(v, float) for k, v in samples.items()}
    stats = {
        "divergences": int(np.asarray(extra["diverging"]).sum()),
        "steps_per_draw": float(np.asarray(extra["num_steps"]).mean()),
    }
    return draws_by_site, stats, time.perf_counter() - start

"""Cost of one gradient of the geo MMM's log density, and of NUTS's steps, at Meridian's scale.

Builds the geo model's inputs for `simulate_mmm(156, 6, geos=G, seed=0)` (the benchmark data),
then times, interleaved round by round in one process (so that the shared machine's load hits
every variant alike), one jitted value-and-gradient of the potential energy at the initial
point per variant – the Hill curve in its former power form and in its logistic form – and
checks that both give the same potential energy. Reports the median per variant and its ratio
to the first.

    PYTHONPATH=src python bench/mmm/profile_geo.py --geos 40 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import time


def inputs_for(geos: int, seed: int = 0):
    from cerebro.core.spec import parse_spec
    from cerebro.mmm.geo import prepare_geo
    from cerebro.mmm.posterior import ModelForm
    from cerebro.mmm.synthetic import simulate_mmm

    frame, truth = simulate_mmm(156, 6, geos=geos, seed=seed)
    spec = parse_spec(
        {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": list(truth["channels"]),
         "controls": ["price", "promo"], "geo_column": "geo", "population_column": "population"}
    )  # fmt: skip
    data = prepare_geo(spec, frame, [])
    form = ModelForm(spec.adstock, spec.saturation, spec.l_max, spec.normalize, spec.likelihood)
    return form, data, spec


def power_hill(x, slope, kappa, xp):
    """The Hill curve in its power form (what `transforms.hill` computed before), for timing."""
    x = xp.asarray(x, dtype=float)
    positive = x > 0
    xs = xp.where(positive, xp.where(positive, x, 1.0) ** slope, 0.0)
    return xs / (kappa**slope + xs)


def gradient(model, args):
    """A jitted value-and-gradient of the potential energy and the initial point."""
    import jax
    from numpyro.infer.util import initialize_model

    info = initialize_model(jax.random.PRNGKey(0), model, model_args=args)
    fn = jax.jit(jax.value_and_grad(info.potential_fn))
    z = info.param_info.z
    jax.block_until_ready(fn(z))
    return fn, z


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--geos", type=int, default=40)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=200)
    args = p.parse_args()
    from cerebro.stats.mcmc import import_numpyro

    import_numpyro("profile")
    import jax

    from cerebro.mmm import transforms
    from cerebro.mmm.geo_model import geo_inputs, geo_model

    form, data, spec = inputs_for(args.geos)
    inputs = geo_inputs(data, "partial", spec.l_max)
    logistic_hill = transforms.hill
    variants = {}
    # the Hill curve as it was written before (a power and a ratio), traced under a patch
    transforms.hill = power_hill
    variants["hill as x^s / (k^s + x^s)"] = gradient(geo_model, (form, inputs))
    transforms.hill = logistic_hill
    variants["hill as logistic(s (log x - log k))"] = gradient(geo_model, (form, inputs))
    z = variants["hill as x^s / (k^s + x^s)"][1]
    values = {k: float(fn(z)[0]) for k, (fn, _) in variants.items()}
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, (fn, z) in variants.items():
            start = time.perf_counter()
            for _ in range(args.calls):
                out = fn(z)
            jax.block_until_ready(out)
            times[name].append((time.perf_counter() - start) / args.calls * 1e3)
    import numpy as np

    first = float(np.median(next(iter(times.values()))))
    report = {
        name: {"ms_per_gradient": float(np.median(t)), "ratio": float(np.median(t)) / first}
        for name, t in times.items()
    }
    out = {"geos": args.geos, "load": os.getloadavg(), "xla_flags": os.environ.get("XLA_FLAGS"),
           "potential_energy": values, "variants": report}  # fmt: skip
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

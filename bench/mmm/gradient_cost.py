"""Cost of one log-density gradient of PyMC-Marketing's default MMM in each tool's backend.

Why: NUTS's time is (leapfrog steps per draw) × (time per gradient) + compile. The same-model
speed bench (`same_model_speed.py`) gives the steps; this gives the other factor, on the same
model and data (`sim_national_logistic.csv`, geometric l_max 8 + logistic, controls trend,
price_index, promo, yearly Fourier order 2): Cerebro's JAX function (`--tool cerebro`, main
venv; both parameterisations of `cerebro.mmm.pymc_priors`) and PyMC-Marketing's model compiled
as its samplers compile it (`--tool pymc`, PyMC venv): numba (nutpie), JAX (numpyro,
blackjax), PyTensor's C backend (PyMC's NUTS). Each function is evaluated at a fixed point
`--evals` times after a warm-up; CPU microseconds per value-and-gradient (process time, so that
other work on a shared machine matters less) and the wall time, median of `--repeats`. Called
from Python each time (nutpie's numba function as its Rust sampler calls it, with a few µs of
dispatch) and, for Cerebro's JAX function, also inside one XLA loop as NumPyro's NUTS runs it:
a JAX call from Python costs ~150 µs of dispatch, more than this model's gradient.

    PYTHONPATH=src python bench/mmm/gradient_cost.py --tool cerebro
    .cache/pymc-venv/bin/python bench/mmm/gradient_cost.py --tool pymc
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "mmm" / "sim_national_logistic.csv"
CHANNELS = ["tv", "search", "social", "display", "radio", "ooh"]
CONTROLS = ["trend", "price_index", "promo"]


def clock(fn, x, evals: int, repeats: int) -> dict:
    """µs per call (CPU and wall), median over repeats of `evals` calls."""
    for _ in range(20):
        fn(x)
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(evals):
            fn(x)
        cpu.append((time.process_time() - c0) / evals * 1e6)
        wall.append((time.perf_counter() - w0) / evals * 1e6)
    return {"cpu_us": statistics.median(cpu), "wall_us": statistics.median(wall)}


def cerebro(args: argparse.Namespace) -> dict:
    from cerebro.stats.mcmc import import_numpyro

    import_numpyro("gradient bench")
    import jax
    from numpyro.infer.util import initialize_model

    from cerebro.core.spec import parse_spec
    from cerebro.mmm.data import prepare
    from cerebro.mmm.posterior import ModelForm
    from cerebro.mmm.pymc_priors import pymc_inputs, pymc_marketing_data, pymc_marketing_model

    spec = parse_spec({"kind": "mmm", "data": str(DATA), "date_column": "date", "kpi": "sales",
                       "channels": CHANNELS, "controls": CONTROLS, "trend": False,
                       "saturation": "logistic", "priors": "pymc-marketing"})  # fmt: skip
    data = pymc_marketing_data(prepare(spec, None, []))
    form = ModelForm("geometric", "logistic", 8, True, "normal")
    out = {}
    for name, reparam in (("cerebro_jax_level_effect", True), ("cerebro_jax_direct", False)):
        info = initialize_model(
            jax.random.PRNGKey(0),
            pymc_marketing_model,
            model_args=(form, pymc_inputs(data, reparam)),
        )
        flat, unravel = jax.flatten_util.ravel_pytree(info.param_info.z)
        value_grad = jax.value_and_grad(lambda v: info.potential_fn(unravel(v)))  # noqa: B023
        grad = jax.jit(value_grad)
        fn = lambda v: jax.block_until_ready(grad(v))  # noqa: E731, B023
        out[name] = clock(fn, flat, args.evals, args.repeats) | {"dimension": int(flat.size)}
        out[name + " in a fori_loop"] = in_loop(value_grad, flat, args.evals, args.repeats)
    return out


def in_loop(value_grad, flat, evals: int, repeats: int) -> dict:
    """µs per value-and-gradient inside one XLA loop, as NUTS runs it (no Python dispatch,
    which costs more than the gradient itself for a model this small)."""
    import jax
    import jax.numpy as jnp

    @jax.jit
    def loop(v):
        def body(i, carry):
            value, g = value_grad(carry[0] + 1e-12 * carry[1])
            return carry[0], g + value

        return jax.lax.fori_loop(0, evals, body, (v, jnp.zeros_like(v)))

    jax.block_until_ready(loop(flat))
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        jax.block_until_ready(loop(flat))
        cpu.append((time.process_time() - c0) / evals * 1e6)
        wall.append((time.perf_counter() - w0) / evals * 1e6)
    return {"cpu_us": statistics.median(cpu), "wall_us": statistics.median(wall)}


def pymc(args: argparse.Namespace) -> dict:
    import pandas as pd
    import pymc_marketing.mmm as pmm
    from pymc_marketing.mmm.multidimensional import MMM

    df = pd.read_csv(DATA, parse_dates=["date"])
    mmm = MMM(date_column="date", channel_columns=CHANNELS, target_column="sales",
              control_columns=CONTROLS, yearly_seasonality=2,
              adstock=pmm.GeometricAdstock(l_max=8), saturation=pmm.LogisticSaturation())  # fmt: skip
    mmm.build_model(df.drop(columns=["sales"]), df["sales"])
    model = mmm.model
    point = model.initial_point()
    out = {}

    import nutpie

    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model, backend="numba")
    numba_compile = time.perf_counter() - t0
    jit = compiled.logp_func.vm.jit_fn
    x = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
    x = np.asarray(x, float)
    shared = [compiled.shared_data[v.name] for v in compiled.logp_func.get_shared()]
    out["nutpie_numba"] = clock(lambda v: jit(v, *shared), x, args.evals, args.repeats) | {
        "dimension": int(x.size), "compile_seconds": numba_compile}  # fmt: skip

    import jax
    from pymc.sampling.jax import get_jaxified_logp

    jax.config.update("jax_enable_x64", True)
    logp = get_jaxified_logp(model)
    values = [np.asarray(point[v.name], float) for v in model.value_vars]
    grad = jax.jit(jax.value_and_grad(lambda vs: logp(vs)))
    out["pymc_jax (numpyro, blackjax)"] = clock(
        lambda vs: jax.block_until_ready(grad(vs)), values, args.evals, args.repeats
    )

    fn = model.logp_dlogp_function(ravel_inputs=True)
    fn.set_extra_values({})
    out["pytensor_c (pymc)"] = clock(lambda v: fn(v), x, args.evals, args.repeats)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tool", choices=["cerebro", "pymc"], required=True)
    p.add_argument("--evals", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--output", type=Path)
    args = p.parse_args()
    import os

    result = {"tool": args.tool, "load_average_1min": os.getloadavg()[0],
              "functions": cerebro(args) if args.tool == "cerebro" else pymc(args)}  # fmt: skip
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()

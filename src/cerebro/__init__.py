"""Cerebro: did it work, by how much, and for whom?

The public API is re-exported here; see `docs/` for the user guide.
"""

from typing import Any

from cerebro.core.version import __version__
from cerebro.run import run, run_spec

# The core names and the analysis families load on first use (PEP 562), so `import cerebro` and
# every CLI start stay fast (`cerebro --help` imports neither numpy nor pydantic): every analysis
# function (`cerebro.abtest`, `cerebro.causal`, `cerebro.did`, …)
# and `cerebro.datasets` import on demand.
_LAZY = {
    "Estimate": ("cerebro.core.results", "Estimate"),
    "Finding": ("cerebro.core.results", "Finding"),
    "Result": ("cerebro.core.results", "Result"),
    "UserInputError": ("cerebro.core.errors", "UserInputError"),
    "parse_spec": ("cerebro.core.spec", "parse_spec"),
    "abtest": ("cerebro.experiments.abtest.analysis", "abtest"),
    "causal": ("cerebro.observational.analysis", "causal"),
    # not `graph`: that name is the shared package `cerebro.graph`
    "causal_graph": ("cerebro.observational.graph_analysis", "causal_graph"),
    "did": ("cerebro.quasi.did", "did"),
    "rdd": ("cerebro.quasi.rdd", "rdd"),
    "iv": ("cerebro.quasi.iv", "iv"),
    "synthetic_control": ("cerebro.quasi.synth", "synthetic_control"),
    "power_analysis": ("cerebro.experiments.power.analysis", "power_analysis"),
    "sequential_design": ("cerebro.experiments.sequential.design", "sequential_design"),
    "design": ("cerebro.experiments.design.analysis", "design"),
    "bandit": ("cerebro.experiments.bandit.analysis", "bandit"),
    "geotest": ("cerebro.geo.analysis", "geotest"),
    "geo_design": ("cerebro.geo.design", "geo_design"),
    "uplift": ("cerebro.uplift.analysis", "uplift"),
    "counterfactual": ("cerebro.counterfactual", "counterfactual"),
    "sensitivity": ("cerebro.sensitivity.analysis", "sensitivity"),
    "mmm": ("cerebro.mmm.analysis", "mmm"),
    "mmm_optimize": ("cerebro.mmm.allocate", "mmm_optimize"),
    "mmm_predict": ("cerebro.mmm.predict", "mmm_predict"),
    "survival": ("cerebro.survival.analysis", "survival"),
    "longitudinal": ("cerebro.longitudinal.analysis", "longitudinal"),
    "datasets": ("cerebro.datasets", None),
}

__all__ = [
    "Estimate",
    "Finding",
    "Result",
    "UserInputError",
    "__version__",
    "abtest",
    "bandit",
    "causal",
    "causal_graph",
    "counterfactual",
    "datasets",
    "design",
    "did",
    "geo_design",
    "geotest",
    "iv",
    "longitudinal",
    "mmm",
    "mmm_optimize",
    "mmm_predict",
    "parse_spec",
    "power_analysis",
    "rdd",
    "run",
    "run_spec",
    "sensitivity",
    "sequential_design",
    "survival",
    "synthetic_control",
    "uplift",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cerebro' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)

"""Where each analysis kind is registered: kind → the module whose import registers it.

The registry (`cerebro.core.registry`) imports a kind's module on the first look-up of that
kind, so a face that runs one kind (``cerebro power-analysis``) never imports the other
families; `methods()` imports them all, in this order.
"""

KINDS = {
    "abtest": "cerebro.experiments.abtest.analysis",
    "bandit": "cerebro.experiments.bandit.analysis",
    "design": "cerebro.experiments.design.analysis",
    "power": "cerebro.experiments.power.analysis",
    "sequential_design": "cerebro.experiments.sequential.design",
    "geotest": "cerebro.geo.analysis",
    "geo_design": "cerebro.geo.design",
    "mmm": "cerebro.mmm.analysis",
    "mmm_predict": "cerebro.mmm.predict",
    "mmm_optimize": "cerebro.mmm.allocate",
    "causal": "cerebro.observational.analysis",
    "graph": "cerebro.observational.graph_analysis",
    "did": "cerebro.quasi.did",
    "iv": "cerebro.quasi.iv",
    "rdd": "cerebro.quasi.rdd",
    "synthetic_control": "cerebro.quasi.synth",
    "uplift": "cerebro.uplift.analysis",
    "counterfactual": "cerebro.counterfactual",
    "survival": "cerebro.survival.analysis",
    "longitudinal": "cerebro.longitudinal.analysis",
    "sensitivity": "cerebro.sensitivity.analysis",
}

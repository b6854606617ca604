"""Example data sets with known truth: ``cerebro.datasets.saas_experiment(seed=0)``."""

from cerebro.data.synthetic import SaasEffects, saas_experiment

__all__ = ["SaasEffects", "saas_experiment"]

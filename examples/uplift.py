"""Uplift in Python: who gains most from the SaaS assistant, per user. Run:
python examples/uplift.py"""

import cerebro
from cerebro.datasets import saas_experiment

frame, truth = saas_experiment(n_users=1200, n_days=3, seed=2)
res = cerebro.uplift(
    frame, treatment="cohort", control="A_control", outcome="revenue", unit="user_id",
    aggregate="mean", features=["tenure_months", "baseline_productivity", "churn_risk", "plan"],
    value_per_outcome=30, cost_per_treatment=2.5, folds=3,
)  # fmt: skip
print(res)
print(res.tables["drivers"].head(6))
print("true drivers:", ", ".join(truth["uplift"]["drivers"]))

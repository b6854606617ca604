"""Observational causal effect in Python: the naive difference vs AIPW adjusted for the
confounders. Run: python examples/observational.py"""

import cerebro
from cerebro.data.synthetic import confounded_table

frame, truth = confounded_table(2000, seed=0)
res = cerebro.causal(
    frame, treatment="treated", outcome="spend", confounders=["age", "engagement"], method="aipw"
)
print(res)
ate = res.estimates[0]
print(
    f"naive {truth['naive_difference']:.2f}, AIPW {ate.value:.2f} [{ate.ci_low:.2f}, {ate.ci_high:.2f}], truth {truth['ate']}"
)

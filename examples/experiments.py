"""A/B/n test in Python: CUPED and clustering by user on the SaaS experiment, then the power
of the next test. Run: python examples/experiments.py"""

import cerebro
from cerebro.datasets import saas_experiment

frame, truth = saas_experiment(n_users=3000, n_days=7, seed=1)
res = cerebro.abtest(
    frame,
    treatment="cohort",
    control="A_control",
    outcome=["revenue", "retention_7d"],
    covariates=["pre_revenue"],
    cluster="user_id",
)
print(res)
lift = res.estimate("revenue: C_adaptive_v2 vs A_control (relative)")
true = truth["effects"]["revenue"]["C_adaptive_v2"]["relative"]
print(
    f"revenue lift of C: {lift.value:+.1%} [{lift.ci_low:+.1%}, {lift.ci_high:+.1%}], truth {true:+.1%}"
)
print(cerebro.power_analysis(baseline=0.05, mde=0.01, alpha=0.05, power=0.8))

"""Quasi-experiments in Python: staggered difference-in-differences (Callaway–Sant'Anna) on
a panel with known effects. Run: python examples/quasi.py"""

import cerebro
from cerebro.quasi.did.synthetic import staggered_panel

frame, truth = staggered_panel(200, 8, (2, 4, 6), seed=0)
res = cerebro.did(frame, treatment="treated", outcome="sales", unit="unit", time="period")
print(res)
simple = res.estimates[0]
print(
    f"simple ATT {simple.value:.3f} [{simple.ci_low:.3f}, {simple.ci_high:.3f}], truth {truth.simple:.3f}"
)

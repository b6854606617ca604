"""Media mix model in Python (small: 2 chains × 200 draws): ROI per channel with credible
intervals beside the true ROI. Run: python examples/mmm.py"""

import cerebro
from cerebro.mmm.synthetic import simulate_mmm

frame, truth = simulate_mmm(weeks=104, channels=3, seed=1)
res = cerebro.mmm(
    frame, date_column="week", kpi="revenue", channels=["tv", "search", "social"],
    controls=["price", "promo"], chains=2, draws=200, warmup=200,
)  # fmt: skip
print(res)
for channel, true in truth["channels"].items():
    roi = res.estimate(f"roi_{channel}")
    print(
        f"ROI {channel}: {roi.value:.2f} [{roi.ci_low:.2f}, {roi.ci_high:.2f}], truth {true['roi']:.2f}"
    )

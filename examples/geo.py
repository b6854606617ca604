"""Geo lift test in Python: the lift of two treated markets against a synthetic control of
the others, with conformal inference. Run: python examples/geo.py"""

import cerebro
from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test

sim = simulate_geo_test(n_geos=16, n_pre=60, n_post=15, lift=0.05, seed=0)
frame = geo_test_frame(sim)
start = sorted(frame["date"].unique())[sim.n_pre]
res = cerebro.geotest(
    frame, geo_column="geo", date_column="date", outcome="sales",
    treatment_geos="geo 00,geo 01", treatment_start=start,
)  # fmt: skip
print(res)
print(f"estimated lift {res.estimate('lift').value:+.1%}, truth {sim.lift:+.1%}")

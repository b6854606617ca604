"""Reference numbers for tests/test_survival_reference.py from lifelines (not installed in the
shared environment: lifelines 0.30 requires pandas < 3). Run with a Python that has lifelines:

    python tests/reference/lifelines_survival.py tests/data/survival_synthetic.csv
"""

import sys

import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

frame = pd.read_csv(sys.argv[1])
for arm in (0, 1):
    rows = frame[frame["a"] == arm]
    km = KaplanMeierFitter().fit(rows["time"], rows["event"], alpha=0.05)
    for k in (6, 12, 24):
        s = float(km.survival_function_at_times(k).iloc[0])
        ci = km.confidence_interval_survival_function_
        at = ci[ci.index <= k].iloc[-1]
        print(
            f"arm {arm} k {k} survival {s!r} low {float(at.iloc[0])!r} high {float(at.iloc[1])!r}"
        )
test = logrank_test(
    frame.loc[frame["a"] == 1, "time"],
    frame.loc[frame["a"] == 0, "time"],
    frame.loc[frame["a"] == 1, "event"],
    frame.loc[frame["a"] == 0, "event"],
)
print(f"logrank chi2 {test.test_statistic!r} p {test.p_value!r}")

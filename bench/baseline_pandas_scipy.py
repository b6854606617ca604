"""What users write today: pandas.read_csv, then scipy's Welch test per metric and variant.

Usage: python bench/baseline_pandas_scipy.py DATA.csv|DATA.parquet [--per-user]
With --per-user the rows are first averaged per user (the randomisation unit), the usual
way to respect the clustering of daily rows without cluster-robust errors.
"""

from __future__ import annotations

import sys

import pandas as pd
from scipy import stats

METRICS = ["ai_calls", "tasks_completed", "satisfaction_score", "retention_7d", "revenue"]


def main(path: str, per_user: bool) -> None:
    frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    if per_user:
        frame = frame.groupby(["user_id", "cohort"], as_index=False)[METRICS].mean()
    control = frame[frame.cohort == "A_control"]
    for metric in METRICS:
        for variant in ("B_adaptive_v1", "C_adaptive_v2"):
            treated = frame.loc[frame.cohort == variant, metric]
            result = stats.ttest_ind(treated, control[metric], equal_var=False)
            ci = result.confidence_interval()
            lift = treated.mean() - control[metric].mean()
            print(
                f"{metric:20s} {variant:14s} lift {lift:+.4f} [{ci.low:+.4f}, {ci.high:+.4f}] "
                f"rel {lift / control[metric].mean():+.2%} p {result.pvalue:.3g}"
            )


if __name__ == "__main__":
    main(sys.argv[1], "--per-user" in sys.argv[2:])
